package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/engine"
)

// loadingReply is Redis's reply to commands that need the dataset while
// it is being loaded.
const loadingReply = "LOADING Redis is loading the dataset in memory"

// errLoading is what the backend of a server not yet attached to its node
// returns.
var errLoading = errors.New(loadingReply)

// NewLoading returns a server listening on cfg.Addr before its node is
// open, so clients connecting while the node restores its snapshot get
// -LOADING rather than a refused or hanging connection. cfg.Loading must
// be the progress passed to cluster.Open; call Attach once Open returns.
// Commands Redis allows while loading (INFO, CONFIG, CLIENT, HELLO, ...)
// are served throughout; the others get -LOADING until cfg.Loading is
// done.
func NewLoading(cfg Config, logger *slog.Logger) (*Server, error) {
	if cfg.Loading == nil {
		return nil, errors.New("server: NewLoading needs Config.Loading")
	}
	return newServer(cfg, &lateBackend{}, logger)
}

// Attach connects a server made by NewLoading to its node.
func (s *Server) Attach(node *cluster.Node) error {
	lb, ok := s.be.(*lateBackend)
	if !ok || node == nil {
		return errors.New("server: Attach needs a server from NewLoading and a node")
	}
	if !lb.nb.CompareAndSwap(nil, &nodeBackend{node}) {
		return errors.New("server: attached twice")
	}
	node.FSM().SetSignal(s.waiters.notify)
	node.FSM().SetACLHook(s.aclChanged)
	node.SetRiders(s.waiters)
	s.unhook = func() { node.FSM().SetSignal(nil); node.FSM().SetACLHook(nil); node.SetRiders(nil) }
	return nil
}

// loading reports whether the node is still loading its data, or is not
// attached yet: the load can finish inside cluster.Open, before Open
// returns the node to Attach, and until then there is no state to serve.
func (s *Server) loading() bool {
	if lb, ok := s.be.(*lateBackend); ok && lb.nb.Load() == nil {
		return true
	}
	return s.cfg.Loading != nil && !s.cfg.Loading.Done()
}

// lateBackend is the backend of a server created before its node: until
// Attach it answers as a node that is loading.
type lateBackend struct{ nb atomic.Pointer[nodeBackend] }

type failedWrite struct{ err error }

func (w failedWrite) Wait(context.Context) (cluster.Reply, error) { return cluster.Reply{}, w.err }

func (b *lateBackend) Propose(cmd cluster.Command) pendingWrite {
	if n := b.nb.Load(); n != nil {
		return n.Propose(cmd)
	}
	return failedWrite{errLoading}
}

func (b *lateBackend) ReadBarrier(ctx context.Context) error {
	if n := b.nb.Load(); n != nil {
		return n.ReadBarrier(ctx)
	}
	return errLoading
}

func (b *lateBackend) Read(fn func(st *engine.State)) {
	if n := b.nb.Load(); n != nil {
		n.Read(fn)
		return
	}
	fn(engine.NewState())
}

func (b *lateBackend) Status() cluster.Status {
	if n := b.nb.Load(); n != nil {
		return n.Status()
	}
	return cluster.Status{State: "loading"}
}

// AppliedIndex is 0 until the node is attached: no state to show.
func (b *lateBackend) AppliedIndex() uint64 {
	if n := b.nb.Load(); n != nil {
		return n.AppliedIndex()
	}
	return 0
}

func (b *lateBackend) SyncThrough(index uint64) error {
	if n := b.nb.Load(); n != nil {
		return n.SyncThrough(index)
	}
	return nil
}

func (b *lateBackend) admin() (nodeBackend, error) {
	if n := b.nb.Load(); n != nil {
		return *n, nil
	}
	return nodeBackend{}, errLoading
}

func (b *lateBackend) Members() ([]cluster.Member, error) {
	n, err := b.admin()
	if err != nil {
		return nil, err
	}
	return n.Members()
}

func (b *lateBackend) AddMember(ctx context.Context, m cluster.NodeInfo) error {
	n, err := b.admin()
	if err != nil {
		return err
	}
	return n.AddMember(ctx, m)
}

func (b *lateBackend) RemoveMember(ctx context.Context, id string) error {
	n, err := b.admin()
	if err != nil {
		return err
	}
	return n.RemoveMember(ctx, id)
}

func (b *lateBackend) TransferLeadership(ctx context.Context, id string) error {
	n, err := b.admin()
	if err != nil {
		return err
	}
	return n.TransferLeadership(ctx, id)
}

func (b *lateBackend) Snapshot(ctx context.Context) error {
	n, err := b.admin()
	if err != nil {
		return err
	}
	return n.Snapshot(ctx)
}

func (b *lateBackend) Backup(ctx context.Context) (*cluster.BackupStream, error) {
	n, err := b.admin()
	if err != nil {
		return nil, err
	}
	return n.Backup(ctx)
}

func (b *lateBackend) Digest() (string, error) {
	n, err := b.admin()
	if err != nil {
		return "", err
	}
	return n.Digest()
}

func (b *lateBackend) ReadBarrierStale() error {
	n, err := b.admin()
	if err != nil {
		return err
	}
	return n.ReadBarrierStale()
}

func (b *lateBackend) WaitDurable(ctx context.Context, wantLocal bool, want int) cluster.Durability {
	n, err := b.admin()
	if err != nil {
		return cluster.Durability{}
	}
	return n.WaitDurable(ctx, wantLocal, want)
}

// infoLoading writes INFO persistence's loading fields, as Redis does
// while it loads; the ETA extrapolates the progress so far.
func (s *Server) infoLoading(b *infoBuilder) {
	st := s.cfg.Loading.Status()
	eta := int64(1)
	if st.Perc > 0 {
		elapsed := time.Since(st.Start).Seconds()
		eta = int64(elapsed * (100 - st.Perc) / st.Perc)
	}
	b.kv("loading_start_time", st.Start.Unix())
	b.kv("loading_total_bytes", st.TotalBytes)
	b.kv("loading_rdb_used_mem", 0)
	b.kv("loading_loaded_bytes", st.LoadedBytes)
	b.kv("loading_loaded_perc", fmt.Sprintf("%.2f", st.Perc))
	b.kv("loading_eta_seconds", eta)
}
