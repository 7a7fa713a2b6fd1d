package cluster

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/raftstream/raftstream/fsm"
)

// Config configures a node. Zero values of the tuning fields mean the
// defaults documented on each.
type Config struct {
	NodeID   string
	DataDir  string
	RaftAddr string // listen and advertised address for Raft traffic
	// SnapshotThreshold is how many log entries since the last snapshot
	// trigger a new one; SnapshotInterval how often that is checked.
	// Defaults: 8192 and 120s (raft's).
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	// TrailingLogs is how many entries are kept after a snapshot, so a
	// lagging follower can catch up without a full snapshot. Default 10240.
	TrailingLogs uint64
	// MaxBatch caps how many commands are packed into one log entry.
	// Default 1024.
	MaxBatch int
	Logger   *slog.Logger

	// RaftAdvertise is the address peers use to reach this node, when it
	// differs from RaftAddr (e.g. listening on 0.0.0.0). Default: the
	// listener's address, which must then be a concrete IP.
	RaftAdvertise string
	// Listener, if set, is used for Raft traffic instead of listening on
	// RaftAddr. The node owns and closes it.
	Listener net.Listener
	// Peers is the initial voter set written when the data dir is fresh;
	// every founding node must be given the same list, including itself.
	// Empty means a single-voter cluster of this node.
	Peers []Peer

	// MaxBatchBytes caps the encoded size of a command batch; a single
	// larger command still goes alone in its own entry. Default 1 MiB.
	MaxBatchBytes int
	// MaxInflight caps the entries handed to Raft but not yet applied.
	// When it is reached the proposer stops, so commands pile up into
	// bigger batches instead. Default 64.
	MaxInflight int
	// QueueSize is the capacity of the proposal queue; Propose blocks when
	// it is full. Default 16384.
	QueueSize int
	// MaxAppendEntries is raft's per-RPC / per-disk-write entry limit and
	// its FSM batch size. Default 256.
	MaxAppendEntries int
	// Raft timing. Defaults are raft's LAN defaults: 1s heartbeat and
	// election timeouts, 500ms leader lease, 50ms commit timeout.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration
	// ExpiryInterval is the longest the leader sleeps between checks for
	// keys due to expire. Default 100ms.
	ExpiryInterval time.Duration
	// DrainTimeout bounds how long Close waits for in-flight writes to
	// finish before shutting Raft down. Default 10s.
	DrainTimeout time.Duration
	// NoSync skips fsync on the log store. Unsafe: only for benchmarks.
	NoSync bool
}

// Peer is a founding member of the cluster.
type Peer struct {
	ID   string
	Addr string
}

// Node is a running Raft member with its state machine.
type Node struct {
	cfg   Config
	log   *slog.Logger
	fsm   *fsm.FSM
	raft  *raft.Raft
	store *raftboltdb.BoltStore
	mux   *Mux
	addr  string

	// proposeMu orders Propose against Close: Propose holds it shared
	// while enqueueing, Close takes it exclusively to set closed, after
	// which nothing new can reach the queue.
	proposeMu sync.RWMutex
	closed    bool

	queue       chan *Pending
	ctrl        chan *ctrlReq
	inflight    chan inflight
	slots       chan struct{} // one per entry handed to raft, not yet resolved
	stopPropose chan struct{}
	completed   chan struct{} // closed when the completer has exited

	// ctx is cancelled when Close starts; dead is closed when it ends.
	ctx    context.Context
	cancel context.CancelFunc
	dead   chan struct{}

	// goMu guards spawning background goroutines against Close's Wait.
	goMu     sync.Mutex
	goClosed bool
	wg       sync.WaitGroup

	readyTerm atomic.Uint64 // term whose read barrier has been applied
	barrierMu sync.Mutex
	barrier   *termBarrier

	// verifyMu guards the running VerifyLeader round and the one queued
	// behind it (see verifyLeader).
	verifyMu   sync.Mutex
	verifyCur  *verifyRound
	verifyNext *verifyRound

	closeOnce sync.Once
	closeErr  error
}

// FSM returns the node's state machine, for reads.
func (n *Node) FSM() *fsm.FSM { return n.fsm }

// RaftAddr is the address this node advertises for Raft traffic.
func (n *Node) RaftAddr() string { return n.addr }

// Pending is a proposed write whose reply is not yet known.
type Pending struct {
	node *Node
	cmd  fsm.Command
	size int

	done  chan struct{}
	reply []byte
	err   error
}

// Wait returns the encoded RESP reply of the command once it is applied, or
// an error if it could not be committed (no leader, shutdown, ctx done).
// Errors wrap ErrNotLeader (not appended, safe to retry), ErrUnknownOutcome
// (may have been committed) or ErrClosed. Wait never blocks past Close.
func (p *Pending) Wait(ctx context.Context) ([]byte, error) {
	select {
	case <-p.done:
		return p.reply, p.err
	default:
	}
	select {
	case <-p.done:
		return p.reply, p.err
	case <-ctx.Done():
		return nil, wrapUnknown(ctx.Err())
	case <-p.node.dead:
		select {
		case <-p.done:
			return p.reply, p.err
		default:
			return nil, wrapUnknown(ErrClosed)
		}
	}
}

func (p *Pending) finish(reply []byte, err error) {
	p.reply, p.err = reply, err
	close(p.done)
}

// Status is a point-in-time view of the node for INFO and RAFT commands.
type Status struct {
	NodeID            string
	State             string // "leader", "follower", "candidate", "shutdown"
	Term              uint64
	LeaderID          string
	LeaderAddr        string
	CommitIndex       uint64
	AppliedIndex      uint64
	LastLogIndex      uint64
	LastSnapshotIndex uint64
	LastSnapshotTerm  uint64
}

// Status reports the node's Raft state.
func (n *Node) Status() Status {
	addr, id := n.raft.LeaderWithID()
	st := Status{
		NodeID:       n.cfg.NodeID,
		State:        strings.ToLower(n.raft.State().String()),
		Term:         n.raft.CurrentTerm(),
		LeaderID:     string(id),
		LeaderAddr:   string(addr),
		CommitIndex:  n.raft.CommitIndex(),
		AppliedIndex: n.fsm.AppliedIndex(),
		LastLogIndex: n.raft.LastIndex(),
	}
	stats := n.raft.Stats()
	st.LastSnapshotIndex, _ = strconv.ParseUint(stats["last_snapshot_index"], 10, 64)
	st.LastSnapshotTerm, _ = strconv.ParseUint(stats["last_snapshot_term"], 10, 64)
	return st
}

// IsLeader reports whether this node currently believes it is the leader.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Snapshot asks raft for a snapshot now (and so for log truncation down
// to TrailingLogs) and waits for it.
func (n *Node) Snapshot(ctx context.Context) error {
	return waitFuture(ctx, n.raft.Snapshot())
}
