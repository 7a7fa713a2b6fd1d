package cluster

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/raftstream/raftstream/fsm"
)

const (
	snapshotsRetained = 2
	// logCacheSize is how many recent entries raft keeps in memory, for
	// replication and a follower's apply; the rest are read from the log.
	// It counts entries, and a group-committed entry can hold up to
	// MaxBatchBytes, so 1024 could reach 1 GiB; after a pipelined fill of
	// 10M stream entries the node's heap was 27.1 bytes per stream entry
	// with 1024 and 25.6 with 128 (docs/benchmarks.md). 128 covers the
	// entries in flight (MaxInflight 64) twice over.
	logCacheSize     = 128
	transportMaxPool = 3
	transportTimeout = 10 * time.Second
)

// Node is a running Raft member with its state machine. It composes the
// parts below, each declared with its fields in its own file ("Parts"
// in DESIGN.md). Where the data goes on a write or
// a read: docs/architecture.md.
type Node struct {
	cfg    Config
	log    *slog.Logger
	fsm    *fsm.FSM
	raft   *raft.Raft
	store  *logStores
	logs   *sizedLog
	stats  *nodeStats
	mux    *Mux
	stream *streamLayer
	addr   string
	// disk refuses writes while free space is under MinFreeDisk.
	disk *diskGuard
	// incarnation identifies this data dir (see NodeInfo.Incarnation).
	incarnation string

	// Cluster RPC on the Raft port: the pool of client connections to
	// peers, the server for MuxForward connections, and the forwarder of
	// follower writes (forward.go).
	pool *rpcPool
	rpc  *rpcServer
	fwd  *forwarder

	lifecycle   // node.go: Close, spawn, Failed
	proposer    // propose.go: queue, late packing, completer
	readIndex   // read.go: term barrier, leadership verification
	leaderWatch // leader.go: leader changes
	membership  // membership.go: follower progress, member metadata
	waitNudge   // wait.go: WAIT's commit nudge
	typedGate   // caps.go: whether the log may hold typed command kinds
}

// lifecycle is the node's start and stop state.
type lifecycle struct {
	// ctx is cancelled when Close starts; dead is closed when it ends.
	ctx    context.Context
	cancel context.CancelFunc
	dead   chan struct{}

	// goMu guards spawning background goroutines against Close's Wait.
	goMu     sync.Mutex
	goClosed bool
	wg       sync.WaitGroup

	// failed is closed, with failErr set, when the node can no longer be
	// a member (Failed).
	failOnce sync.Once
	failed   chan struct{}
	failErr  error

	closeOnce sync.Once
	closeErr  error
}

// Incarnation is the random identity of this node's data dir, made when
// the dir was first used.
func (n *Node) Incarnation() string { return n.incarnation }

// Info is what this node sends when it joins a cluster.
func (n *Node) Info() NodeInfo {
	return NodeInfo{ID: n.cfg.NodeID, RaftAddr: n.addr, ClientAddr: n.ClientAddr(), Incarnation: n.incarnation}
}

// ClientAddr is the client address this node advertises.
func (n *Node) ClientAddr() string {
	if p := n.clientAddr.Load(); p != nil {
		return *p
	}
	return ""
}

// SetClientAddr changes the advertised client address, e.g. once the
// client listener is bound when Config.ClientAddr could not be known in
// advance (port 0). The replicated metadata follows shortly.
func (n *Node) SetClientAddr(addr string) {
	n.clientAddr.Store(&addr)
	select {
	case n.metaPoke <- struct{}{}:
	default:
	}
}

// FSM returns the node's state machine, for reads.
func (n *Node) FSM() *fsm.FSM { return n.fsm }

// SyncThrough returns once the log entries up to index are on this node's
// device. A reply that shows the state at an applied index must wait for
// it first: a lone voter applies entries before they are flushed
// (logFlusher). It fails if the log could not be flushed, and then no
// reply may be sent.
func (n *Node) SyncThrough(index uint64) error { return n.store.flusher.SyncThrough(index) }

// RaftAddr is the address this node advertises for Raft traffic.
func (n *Node) RaftAddr() string { return n.addr }

// ReadBarrierStale is the barrier of a stale read (READONLY): none. The
// local state may lag the leader by the replication delay, and on a
// partitioned node by much more; it never goes backwards. It only fails
// once the node is closed.
func (n *Node) ReadBarrierStale() error {
	if n.ctx.Err() != nil {
		return ErrClosed
	}
	return nil
}

// Digest is a hash (40 hex digits) of the whole replicated state, equal
// on replicas that applied the same log prefix; all zeros for an empty
// keyspace, like Redis's DEBUG DIGEST. O(data): for debugging and tests.
func (n *Node) Digest() (string, error) { return n.fsm.Digest() }

// IsLeader reports whether this node currently believes it is the leader.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Snapshot asks raft for a snapshot now (and so for log truncation down
// to TrailingLogs) and waits for it.
func (n *Node) Snapshot(ctx context.Context) error {
	return waitFuture(ctx, n.raft.Snapshot())
}

// Open starts a node. An existing data dir resumes its cluster. A fresh
// one bootstraps a single-node cluster (or the Peers configuration),
// unless Join or BootstrapExpect is set: then the node starts without a
// configuration and joins or forms a cluster in the background.
func Open(cfg Config) (n *Node, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	log := cfg.Logger.With("node", cfg.NodeID)
	hlog := newHclog(log, "raft", hclog.Info)
	var undo undoStack
	defer func() {
		if err != nil {
			undo.run()
		}
	}()
	stats := newNodeStats()
	st, err := openStorage(cfg, stats, log, hlog, &undo)
	if err != nil {
		return nil, err
	}
	nw, err := openNetwork(cfg, log, hlog, &undo)
	if err != nil {
		return nil, err
	}
	rs, err := startRaft(cfg, st, nw, stats, log, hlog, &undo)
	if err != nil {
		return nil, err
	}
	n = newNode(cfg, log, st, nw, rs, stats)
	n.start(rs.existing)
	log.Info("raft node started", "raft_addr", n.addr, "client_addr", cfg.ClientAddr, "data_dir", cfg.DataDir, "existing_state", rs.existing)
	return n, nil
}

// undoStack holds what Open has started, to be stopped in reverse order
// if a later step fails.
type undoStack []func()

func (u *undoStack) push(f func()) { *u = append(*u, f) }

func (u undoStack) run() {
	for i := len(u) - 1; i >= 0; i-- {
		u[i]()
	}
}

// storage is a node's data dir opened: the log stores, the log as raft
// sees it (integrity, size, late packing, cache) and the snapshots.
type storage struct {
	store *logStores
	sized *sizedLog
	gate  *storeGate
	logs  raft.LogStore // what raft gets: cache, gate, sized log
	snaps *raft.FileSnapshotStore
}

// openStorage opens (or creates) the data dir and verifies its log.
func openStorage(cfg Config, stats *nodeStats, log *slog.Logger, hlog hclog.Logger, undo *undoStack) (*storage, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if err := refuseCopiedSnapshots(cfg.DataDir); err != nil {
		return nil, err
	}
	store, err := openLogStores(cfg.DataDir, cfg.LogStore, cfg.NoSync, cfg.walSegmentSize, stats.logFlush, log)
	if err != nil {
		return nil, err
	}
	undo.push(func() { _ = store.close() })
	sized := newSizedLog(store.log, cfg.SnapshotLogBytes)
	sized.storeTime = stats.logStore
	if err := verifyLog(sized, store.kind, store.path); err != nil {
		return nil, err
	}
	gate := newStoreGate(sized)
	cache := newLogCache(logCacheSize, gate)
	cache.beforeStore = cfg.beforeStore
	removePartialSnapshots(filepath.Join(cfg.DataDir, "snapshots"), log)
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.DataDir, snapshotsRetained, hlog)
	if err != nil {
		return nil, fmt.Errorf("open snapshot store: %w", err)
	}
	if err := checkSnapshotFallback(cfg.DataDir, snaps, store.log, log); err != nil {
		return nil, err
	}
	return &storage{
		store: store,
		sized: sized,
		gate:  gate,
		logs:  cachedSnapshotTermLogs{&snapshotTermLogs{LogStore: cache, snaps: snaps}, cache},
		snaps: snaps,
	}, nil
}

// network is the node's Raft port: one listener multiplexed between
// raft's transport and the cluster RPC, and how to dial peers.
type network struct {
	mux    *Mux
	stream *streamLayer
	trans  *raft.NetworkTransport
	rpcLn  net.Listener
	dialer peerDialer
}

// openNetwork listens on the Raft port (TLS and the cluster secret as
// configured) and starts raft's transport on it.
func openNetwork(cfg Config, log *slog.Logger, hlog hclog.Logger, undo *undoStack) (*network, error) {
	ln := cfg.Listener
	if ln == nil {
		var err error
		ln, err = net.Listen("tcp", cfg.RaftAddr)
		if err != nil {
			return nil, fmt.Errorf("listen for raft on %s: %w", cfg.RaftAddr, err)
		}
	}
	if cfg.PeerTLS != nil {
		ln = tls.NewListener(ln, cfg.PeerTLS.serverConfig())
	}
	mux := NewMuxWithLimits(ln, log, cfg.ClusterSecret, cfg.RaftLimits)
	undo.push(func() { _ = mux.Close() })
	advertise, err := advertiseAddr(cfg.RaftAdvertise, ln.Addr())
	if err != nil {
		return nil, err
	}
	raftLn, err := mux.Listen(MuxRaft)
	if err != nil {
		return nil, err
	}
	rpcLn, err := mux.Listen(MuxForward)
	if err != nil {
		return nil, err
	}
	dialer := peerDialer{secret: cfg.ClusterSecret, via: cfg.DialMap}
	if cfg.PeerTLS != nil {
		dialer.tls = cfg.PeerTLS.clientConfig()
	}
	stream := newStreamLayer(raftLn, advertise, dialer)
	undo.push(stream.closeAll)
	trans := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  stream,
		MaxPool: transportMaxPool,
		Timeout: transportTimeout,
		Logger:  hlog.Named("transport"),
	})
	undo.push(func() { _ = trans.Close() })
	return &network{mux: mux, stream: stream, trans: trans, rpcLn: rpcLn, dialer: dialer}, nil
}

// raftState is raft started over a node's storage and network.
type raftState struct {
	raft        *raft.Raft
	fsm         *fsm.FSM
	existing    bool // the data dir held a cluster's state
	incarnation string
}

// startRaft starts raft with a fresh state machine: it resumes an
// existing state (checking it may), or bootstraps a new cluster unless
// the node is to join or form one later.
func startRaft(cfg Config, st *storage, nw *network, stats *nodeStats, log *slog.Logger, hlog hclog.Logger, undo *undoStack) (*raftState, error) {
	existing, err := raft.HasExistingState(st.logs, st.store.stable, st.snaps)
	if err != nil {
		return nil, fmt.Errorf("inspect raft state: %w", err)
	}
	incarnation, err := loadIncarnation(st.store.stable)
	if err != nil {
		return nil, err
	}
	f := fsm.New(log)
	rfsm := observedFSM{FSM: f, stats: stats, load: cfg.Loading, flusher: st.store.flusher}
	if cfg.Loading != nil {
		if metas, err := st.snaps.List(); err == nil && len(metas) > 0 {
			cfg.Loading.restoring(metas[0].Size)
		}
	}
	st.store.flusher.SetConfiguration(raft.ServerID(cfg.NodeID), raft.Configuration{}, 0)
	r, err := raft.NewRaft(cfg.raftConfig(hlog), rfsm, st.logs, st.store.stable, st.snaps, nw.trans)
	if err != nil {
		return nil, fmt.Errorf("start raft: %w", err)
	}
	undo.push(func() { _ = r.Shutdown().Error() })
	if existing {
		if fut := r.GetConfiguration(); fut.Error() == nil {
			st.store.flusher.SetConfiguration(raft.ServerID(cfg.NodeID), fut.Configuration(), fut.Index())
		}
	}
	if existing {
		if err := checkResumable(cfg, r, nw.trans.LocalAddr(), st.store.stable, log); err != nil {
			return nil, err
		}
	}
	if cfg.Loading != nil {
		last, err := st.logs.LastIndex()
		if err != nil {
			return nil, fmt.Errorf("read the last log index: %w", err)
		}
		cfg.Loading.replaying(f, last, cfg.LeaderWait, func() (uint64, bool) {
			addr, _ := r.LeaderWithID()
			return r.CommitIndex(), addr != ""
		})
	}
	formLater := len(cfg.Join) > 0 || cfg.BootstrapExpect > 0
	if !existing && !formLater {
		conf := bootstrapConfig(cfg, nw.trans.LocalAddr())
		if err := r.BootstrapCluster(conf).Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			return nil, fmt.Errorf("bootstrap cluster: %w", err)
		}
		log.Info("bootstrapped new cluster", "voters", len(conf.Servers))
	}
	return &raftState{raft: r, fsm: f, existing: existing, incarnation: incarnation}, nil
}

// newNode composes a Node of its parts; its RPC server is already
// serving.
func newNode(cfg Config, log *slog.Logger, st *storage, nw *network, rs *raftState, stats *nodeStats) *Node {
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{
		cfg:         cfg,
		log:         log,
		fsm:         rs.fsm,
		raft:        rs.raft,
		store:       st.store,
		logs:        st.sized,
		stats:       stats,
		mux:         nw.mux,
		stream:      nw.stream,
		addr:        string(nw.trans.LocalAddr()),
		incarnation: rs.incarnation,
		lifecycle: lifecycle{
			ctx:    ctx,
			cancel: cancel,
			dead:   make(chan struct{}),
			failed: make(chan struct{}),
		},
		proposer: proposer{
			queue:       make(chan qitem, cfg.QueueSize),
			ctrl:        make(chan *ctrlReq),
			inflight:    make(chan inflight, cfg.MaxInflight),
			slots:       make(chan struct{}, cfg.MaxInflight),
			gate:        st.gate,
			stopPropose: make(chan struct{}),
			completed:   make(chan struct{}),
		},
		leaderWatch: leaderWatch{leaderCh: make(chan struct{})},
		membership: membership{
			progress: map[string]progress{},
			metaPoke: make(chan struct{}, 1),
		},
	}
	n.disk = newDiskGuard(cfg.DataDir, cfg.MinFreeDisk, log)
	st.gate.seal = n.seal
	n.clientAddr.Store(&cfg.ClientAddr)
	n.pool = newRPCPool(nw.dialer, log)
	n.startLeaderWatch()
	n.startCapsWatch()
	n.fwd = newForwarder(n)
	n.fsm.SetCarrier(n.fwd.take)
	n.rpc = newRPCServer(n, nw.rpcLn)
	return n
}

// start runs the node's loops; a node without a cluster state joins or
// forms one in the background.
func (n *Node) start(existing bool) {
	go n.proposeLoop()
	go n.completeLoop()
	n.spawn(n.expiryLoop)
	n.spawn(n.followerLoop)
	n.spawn(n.metaLoop)
	n.spawn(n.logBytesLoop)
	n.spawn(n.memberWatch)
	n.spawn(n.diskLoop)
	switch {
	case existing:
	case len(n.cfg.Join) > 0:
		n.spawn(n.joinLoop)
	case n.cfg.BootstrapExpect > 0:
		n.spawn(n.discoverLoop)
	}
}

func bootstrapConfig(cfg Config, self raft.ServerAddress) raft.Configuration {
	if len(cfg.Peers) == 0 {
		return raft.Configuration{Servers: []raft.Server{{
			Suffrage: raft.Voter, ID: raft.ServerID(cfg.NodeID), Address: self,
		}}}
	}
	var conf raft.Configuration
	for _, p := range cfg.Peers {
		conf.Servers = append(conf.Servers, raft.Server{
			Suffrage: raft.Voter, ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.Addr),
		})
	}
	return conf
}

// advertiseAddr picks the address stored in the Raft configuration: peers
// dial it, so a wildcard bind address is useless there.
func advertiseAddr(advertise string, bound net.Addr) (net.Addr, error) {
	if advertise != "" {
		// Keep a host name as given: the Raft configuration stores this
		// address for as long as the member exists, and pod or container IPs
		// change on every restart while their DNS names do not. The
		// transport resolves it at each dial, so a node may even start
		// before its own DNS record exists.
		if _, port, err := net.SplitHostPort(advertise); err != nil || port == "" {
			return nil, fmt.Errorf("raft advertise address %q is not host:port", advertise)
		}
		return namedAddr(advertise), nil
	}
	if tcp, ok := bound.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		return nil, fmt.Errorf("raft address %s is not advertisable; set an advertise address", bound)
	}
	return bound, nil
}

// namedAddr is a TCP address that may name its host by DNS name.
type namedAddr string

func (a namedAddr) Network() string { return "tcp" }
func (a namedAddr) String() string  { return string(a) }

// incarnationKey holds the data dir's incarnation in the stable store.
var incarnationKey = []byte("raftstream/incarnation")

// loadIncarnation returns the data dir's incarnation, creating it on
// first use.
func loadIncarnation(store raft.StableStore) (string, error) {
	v, err := store.Get(incarnationKey)
	if err != nil && !errors.Is(err, raftboltdb.ErrKeyNotFound) {
		return "", fmt.Errorf("read incarnation: %w", err)
	}
	if len(v) > 0 {
		return string(v), nil
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("make incarnation: %w", err)
	}
	inc := hex.EncodeToString(b[:])
	if err := store.Set(incarnationKey, []byte(inc)); err != nil {
		return "", fmt.Errorf("store incarnation: %w", err)
	}
	return inc, nil
}

// waitUntil waits for ch to close, or the deadline.
func waitUntil(ch <-chan struct{}, deadline time.Time) bool {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

// spawn runs fn in a goroutine that Close waits for; after Close it does
// nothing and returns false.
func (l *lifecycle) spawn(fn func()) bool {
	l.goMu.Lock()
	defer l.goMu.Unlock()
	if l.goClosed {
		return false
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		fn()
	}()
	return true
}

// stopSpawning makes every later spawn fail, so that wg.Wait cannot miss
// a goroutine started after it.
func (l *lifecycle) stopSpawning() {
	l.goMu.Lock()
	l.goClosed = true
	l.goMu.Unlock()
}

// Close shuts the node down, waiting for in-flight writes to finish or fail.
// Proposals made after Close starts fail with ErrClosed; ones queued before
// are still submitted and answered. Close is idempotent.
func (n *Node) Close() error {
	n.closeOnce.Do(func() { n.closeErr = n.close() })
	return n.closeErr
}

func (n *Node) close() error {
	n.refuse()
	n.cancel()
	n.stopSpawning()
	close(n.stopPropose)

	// Let raft (and the leader, for forwarded writes) finish what was
	// handed over while everything still runs: futures still pending at
	// Shutdown may never resolve (hashicorp/raft#498).
	deadline := time.Now().Add(n.cfg.DrainTimeout)
	drained := waitUntil(n.completed, deadline) && n.fwd.waitIdle(deadline)
	// Whatever is still forwarded fails now, which also unblocks a
	// proposer waiting for forwarding room.
	n.fwd.shutdown(deadline)
	drained = drained && waitUntil(n.completed, deadline.Add(time.Second))
	if !drained {
		n.log.Warn("in-flight writes did not finish before the drain timeout; their outcome is unknown", "timeout", n.cfg.DrainTimeout)
	}
	n.rpc.close()
	n.wg.Wait()
	n.pool.close()

	var errs []error
	if err := n.raft.Shutdown().Error(); err != nil {
		errs = append(errs, fmt.Errorf("raft shutdown: %w", err))
	}
	n.stream.closeAll()
	// Everything still waiting now returns ErrUnknownOutcome.
	close(n.dead)
	if err := n.mux.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		errs = append(errs, fmt.Errorf("close raft listener: %w", err))
	}
	if err := n.store.close(); err != nil {
		errs = append(errs, fmt.Errorf("close raft log store: %w", err))
	}
	if drained {
		n.log.Info("raft node stopped")
	}
	return errors.Join(errs...)
}

// removePartialSnapshots deletes the "<name>.tmp" directories of snapshots
// a crash interrupted. raft never reuses or removes them (it only warns on
// each start), so every crash mid-snapshot would leave one behind for
// good. The log store's file lock is held by now, so no other process can
// be writing one.
func removePartialSnapshots(dir string, log *slog.Logger) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return // no snapshot dir yet
	}
	for _, e := range entries {
		if !e.IsDir() || filepath.Ext(e.Name()) != ".tmp" {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.RemoveAll(p); err != nil {
			log.Warn("cannot remove a partial snapshot", "path", p, "err", err)
			continue
		}
		log.Info("removed a partial snapshot left by a crash", "path", p)
	}
}
