package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/raftstream/raftstream/cluster"
	"github.com/raftstream/raftstream/engine"
)

// backend is what the server needs from the Raft node. *cluster.Node
// provides it through nodeBackend; tests substitute fakes to exercise
// failure paths (lost leadership, timeouts) deterministically.
type backend interface {
	// Propose queues a write without waiting (group commit).
	Propose(cmd cluster.Command) pendingWrite
	// ReadBarrier returns once local state reflects every write committed
	// before the call.
	ReadBarrier(ctx context.Context) error
	// Read runs fn with the state under a read lock.
	Read(fn func(st *engine.State))
	// Status reports the node's Raft state.
	Status() cluster.Status
}

// pendingWrite is a proposed write whose reply is not known yet.
type pendingWrite interface {
	Wait(ctx context.Context) (cluster.Reply, error)
}

// durableBackend is a backend whose node may apply log entries before
// they are on its device (cluster.logFlusher): no reply may leave before
// the entries whose state it shows are.
type durableBackend interface {
	// AppliedIndex is the index of the last applied entry: any state
	// read before the call is at most that recent.
	AppliedIndex() uint64
	// SyncThrough returns once the entries up to index are durable.
	SyncThrough(index uint64) error
}

// indexedWrite is a pendingWrite that knows its entry's log index once
// applied (*cluster.Pending).
type indexedWrite interface{ Index() uint64 }

// nodeBackend adapts *cluster.Node.
type nodeBackend struct{ n *cluster.Node }

func (b nodeBackend) Propose(cmd cluster.Command) pendingWrite { return b.n.Propose(cmd) }
func (b nodeBackend) ReadBarrier(ctx context.Context) error    { return b.n.ReadBarrier(ctx) }
func (b nodeBackend) Read(fn func(st *engine.State))           { b.n.FSM().Read(fn) }
func (b nodeBackend) Status() cluster.Status                   { return b.n.Status() }
func (b nodeBackend) AppliedIndex() uint64                     { return b.n.FSM().AppliedIndex() }
func (b nodeBackend) SyncThrough(index uint64) error           { return b.n.SyncThrough(index) }

// adminBackend is the part of the node behind RAFT, DEBUG DIGEST and
// READONLY. It is separate from backend so that test fakes which only
// exercise the data path need not implement it; commands that need it
// answer with an error when the backend lacks it.
type adminBackend interface {
	Members() ([]cluster.Member, error)
	AddMember(ctx context.Context, m cluster.NodeInfo) error
	RemoveMember(ctx context.Context, id string) error
	TransferLeadership(ctx context.Context, id string) error
	Snapshot(ctx context.Context) error
	Digest() (string, error)
	ReadBarrierStale() error
}

// backupBackend serves RAFT BACKUP; a separate interface for the same
// reason as adminBackend.
type backupBackend interface {
	Backup(ctx context.Context) (*cluster.BackupStream, error)
}

func (b nodeBackend) Backup(ctx context.Context) (*cluster.BackupStream, error) {
	return b.n.Backup(ctx)
}

func (b nodeBackend) Members() ([]cluster.Member, error) { return b.n.Members() }
func (b nodeBackend) AddMember(ctx context.Context, m cluster.NodeInfo) error {
	return b.n.AddMember(ctx, m)
}
func (b nodeBackend) RemoveMember(ctx context.Context, id string) error {
	return b.n.RemoveMember(ctx, id)
}
func (b nodeBackend) TransferLeadership(ctx context.Context, id string) error {
	return b.n.TransferLeadership(ctx, id)
}
func (b nodeBackend) Snapshot(ctx context.Context) error { return b.n.Snapshot(ctx) }
func (b nodeBackend) WaitDurable(ctx context.Context, wantLocal bool, want int) cluster.Durability {
	return b.n.WaitDurable(ctx, wantLocal, want)
}
func (b nodeBackend) Digest() (string, error) { return b.n.Digest() }
func (b nodeBackend) ReadBarrierStale() error { return b.n.ReadBarrierStale() }

// errNoLeader is the reply when no leader appeared within the leader
// wait. cluster.ErrNoLeader also matches cluster.ErrNotLeader, so it must
// be tested first.
const errNoLeader = "TRYAGAIN no Raft leader was elected within the leader wait; the command was not applied"

// errDiskFull is the reply to a write refused for lack of disk space, in
// the words Redis uses when it cannot write its AOF.
const errDiskFull = "MISCONF Errors writing to the Raft log: No space left on device (free space is under min-free-disk); the command was not applied"

// writeError turns a failed proposal into the error reply the client gets.
// Writes that certainly were not applied get TRYAGAIN, which clients may
// retry; writes whose fate is unknown get ERR, which they do not retry on
// their own, because a retry could apply the command twice.
func writeError(err error, st cluster.Status) string {
	switch {
	case errors.Is(err, errLoading):
		return loadingReply
	case errors.Is(err, cluster.ErrDiskFull):
		return errDiskFull
	case errors.Is(err, cluster.ErrNoLeader):
		return errNoLeader
	case errors.Is(err, cluster.ErrTooLarge):
		return fmt.Sprintf("ERR the command is too large for a Raft log entry (at most %d bytes of arguments); it was not applied", cluster.MaxCommandBytes)
	case errors.Is(err, cluster.ErrLeadershipTransfer):
		return "TRYAGAIN Raft leadership is being transferred; the command was not applied"
	case errors.Is(err, cluster.ErrNotLeader):
		return "TRYAGAIN " + leaderHint(st) + "; the command was not applied"
	case errors.Is(err, cluster.ErrClosed) && !errors.Is(err, cluster.ErrUnknownOutcome):
		return "ERR the Raft node is shutting down; the command was not applied"
	case errors.Is(err, cluster.ErrClosed):
		return "ERR the Raft node shut down before the write was confirmed; it may or may not have been applied"
	case errors.Is(err, cluster.ErrLeadershipLost):
		return "ERR the write's outcome is unknown: Raft leadership was lost before the commit was confirmed; it may or may not have been applied"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "ERR the write's outcome is unknown: no commit confirmation within the command timeout; it may or may not have been applied"
	default:
		// Anything else may have committed: never invite a blind retry.
		return "ERR the write's outcome is unknown (" + sanitizeLine(err.Error()) + "); it may or may not have been applied"
	}
}

// readError turns a failed read barrier into the error reply. Reads have
// no effects and are safe to retry, hence TRYAGAIN.
func readError(err error, st cluster.Status) string {
	switch {
	case errors.Is(err, errLoading):
		return loadingReply
	case errors.Is(err, cluster.ErrNoLeader):
		return "TRYAGAIN no Raft leader was elected within the leader wait; the read was not served"
	case errors.Is(err, cluster.ErrClosed):
		return "TRYAGAIN the Raft node is shutting down; the read was not served"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "TRYAGAIN the read could not be confirmed as up to date within the command timeout"
	default:
		return "TRYAGAIN " + leaderHint(st) + "; the read was not served"
	}
}

func leaderHint(st cluster.Status) string {
	switch {
	case st.LeaderID == "":
		return "no Raft leader is available right now"
	case st.State != "leader" && st.LeaderClientAddr != "":
		return fmt.Sprintf("this node is not the Raft leader (the leader is %s, serving clients at %s)", st.LeaderID, st.LeaderClientAddr)
	case st.State != "leader":
		return fmt.Sprintf("this node is not the Raft leader (the leader is %s at Raft address %s)", st.LeaderID, st.LeaderAddr)
	default:
		return "the Raft leader could not confirm its leadership"
	}
}
