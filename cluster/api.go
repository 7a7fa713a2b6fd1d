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
	// SnapshotLogBytes also triggers a snapshot when the log holds more
	// bytes than this, and then keeps trailing entries within a quarter of
	// it (logsize.go). Default 256 MiB; negative turns the byte trigger off.
	SnapshotLogBytes int64
	// LogStore names the Raft log store of a fresh data dir: LogStoreWAL
	// (the default) or LogStoreBoltDB. An existing data dir keeps the store
	// it was created with; naming the other one is an error.
	LogStore string
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
	// Loading, if set, reports the node's loading (snapshot restore and
	// log replay at startup) while and after Open runs.
	Loading *LoadProgress
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
	// MinFreeDisk is the free space (bytes) the data dir's disk must keep:
	// below it writes fail with ErrDiskFull before they reach the log,
	// instead of failing the log store and costing the leader its
	// leadership. Zero means DefaultMinFreeDisk; negative disables it.
	MinFreeDisk int64
	// NoSync skips fsync on a boltdb log store. Unsafe: only for
	// benchmarks.
	NoSync bool

	// ClientAddr is the RESP address clients and other nodes should use
	// for this node. It is replicated as member metadata so that every
	// node can name the leader's client address (RAFT LEADER, redirects).
	ClientAddr string
	// Join lists client addresses (host:port) of existing members. Only
	// read when the data dir is fresh: the node then starts without a
	// configuration and asks a seed, over RESP (`RAFT ADD`), to add it; it
	// joins as a non-voter and is promoted once caught up.
	Join []string
	// JoinPassword is sent with AUTH to the seeds' client port, if set.
	JoinPassword string
	// BootstrapExpect, with Discover, forms a new cluster of this many
	// voters from nodes started at once (see discover.go). Only read when
	// the data dir is fresh.
	BootstrapExpect int
	// Discover returns the Raft addresses of candidate peers (e.g. a
	// headless Service's DNS records; see DNSDiscovery). Required with
	// BootstrapExpect.
	Discover func(ctx context.Context) ([]string, error)
	// ClusterSecret authenticates every connection between nodes (Raft
	// and forwarding). Optional, but when set every node must share it.
	ClusterSecret string
	// PeerTLS, if set, puts connections between nodes in mutual TLS; every
	// node must then have it, with certificates of the same CA.
	PeerTLS *PeerTLS
	// RaftLimits bound the connections the Raft port accepts (MuxLimits;
	// zero fields take the defaults).
	RaftLimits MuxLimits
	// LeaderWait is how long Propose, ReadBarrier and the membership calls
	// wait for a leader to appear before failing with ErrNoLeader.
	// Default 5s.
	LeaderWait time.Duration
	// ForwardTimeout is how long a write forwarded to the leader may go
	// unanswered, retries included, before it fails with
	// ErrUnknownOutcome. Default LeaderWait + 10s.
	ForwardTimeout time.Duration
	// PromoteInterval is how often the leader checks whether non-voters
	// have caught up; PromoteLag how many log entries behind the leader's
	// commit index a non-voter may be to be promoted. Defaults 500ms, 64.
	PromoteInterval time.Duration
	PromoteLag      uint64
	// ClockOffset is added to this node's clock when it stamps entries as
	// leader. A test hook: real nodes leave it 0.
	ClockOffset time.Duration
	// DialMap maps a peer's advertised Raft address to the address to
	// dial instead, for Raft and cluster RPC connections alike. A test
	// hook: the fault harness routes each node-to-node link through its
	// own fault-injecting proxy this way, while every node keeps
	// advertising (and the Raft configuration keeps storing) the real
	// address. Real nodes leave it nil.
	DialMap map[string]string

	// walSegmentSize overrides raft-wal's segment file size (64 MiB), so
	// tests can make many segments from little data.
	walSegmentSize int
	// oldForwardRPC makes the RPC server answer as a node of the previous
	// version, which does not know opProposeResults (a test hook).
	oldForwardRPC bool
}

// Peer is a founding member of the cluster.
type Peer struct {
	ID   string
	Addr string
}

// Node is a running Raft member with its state machine.
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

	// proposeMu orders Propose against Close: Propose holds it shared
	// while enqueueing, Close takes it exclusively to set closed, after
	// which nothing new can reach the queue.
	proposeMu sync.RWMutex
	closed    bool

	queue       chan qitem
	ctrl        chan *ctrlReq
	inflight    chan inflight
	slots       chan struct{} // one per entry handed to raft, not yet resolved
	gate        *storeGate    // packs command entries as the leader writes them
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
	nudging   atomic.Bool   // a WAIT's commit nudge is in flight (nudgeCommit)
	barrierMu sync.Mutex
	barrier   *termBarrier

	// verifyMu guards the running leadership confirmation round and the one queued
	// behind it (see verifyLeader).
	verifyMu   sync.Mutex
	verifyCur  *verifyRound
	verifyNext *verifyRound

	// progress is the leader's view of each follower (followerLoop).
	progressMu sync.Mutex
	progress   map[string]progress

	// Cluster RPC: pool of client connections to peers, the server for
	// MuxForward connections, and the forwarder of follower writes.
	pool *rpcPool
	rpc  *rpcServer
	fwd  *forwarder

	// leaderMu guards leaderCh, closed and replaced at every leader change
	// raft reports (leaderWatch).
	leaderMu sync.Mutex
	leaderCh chan struct{}
	// leaderChanges counts the leaders raft reported elected (leaderWatch).
	leaderChanges atomic.Uint64

	// incarnation identifies this data dir (see NodeInfo.Incarnation).
	incarnation string
	// clientAddr is the advertised client address (SetClientAddr);
	// metaPoke wakes metaLoop when it changes.
	clientAddr atomic.Pointer[string]
	metaPoke   chan struct{}

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

// RaftAddr is the address this node advertises for Raft traffic.
func (n *Node) RaftAddr() string { return n.addr }

// Pending is a proposed write whose reply is not yet known.
type Pending struct {
	node *Node
	cmd  fsm.Command
	size int

	// start is when Propose queued it, for the commit latency histogram.
	start time.Time

	done  chan struct{}
	reply fsm.Reply
	err   error
}

// Wait returns the command's reply (its encoding and outcome) once it is
// applied, or an error if it could not be committed (no leader, shutdown,
// ctx done). Errors wrap ErrNotLeader (not appended, safe to retry),
// ErrUnknownOutcome (may have been committed) or ErrClosed. Wait never
// blocks past Close.
func (p *Pending) Wait(ctx context.Context) (fsm.Reply, error) {
	select {
	case <-p.done:
		return p.reply, p.err
	default:
	}
	select {
	case <-p.done:
		return p.reply, p.err
	case <-ctx.Done():
		return fsm.Reply{}, wrapUnknown(ctx.Err())
	case <-p.node.dead:
		select {
		case <-p.done:
			return p.reply, p.err
		default:
			return fsm.Reply{}, wrapUnknown(ErrClosed)
		}
	}
}

// fail ends p without a reply.
func (p *Pending) fail(err error) { p.finish(fsm.Reply{}, err) }

func (p *Pending) finish(reply fsm.Reply, err error) {
	if err == nil && !p.start.IsZero() {
		p.node.stats.commit.observeSince(p.start)
	}
	p.reply, p.err = reply, err
	close(p.done)
}

// Status is a point-in-time view of the node for INFO and RAFT commands.
type Status struct {
	NodeID     string
	ClientAddr string // this node's advertised client address
	RaftAddr   string // this node's advertised Raft address
	State      string // "leader", "follower", "candidate", "shutdown"
	// Suffrage is this node's vote in the latest configuration: "voter",
	// "nonvoter", or "" when it is not (yet) a member.
	Suffrage   string
	Term       uint64
	LeaderID   string
	LeaderAddr string // the leader's Raft address
	// LeaderClientAddr is the leader's client address from the replicated
	// member metadata; "" if unknown.
	LeaderClientAddr  string
	CommitIndex       uint64
	AppliedIndex      uint64
	LastLogIndex      uint64
	LastSnapshotIndex uint64
	LastSnapshotTerm  uint64
	// Members is the number of servers in the latest configuration.
	Members int
	// LeaderChanges counts the times this node saw a leader elected since
	// it started (raft's leader observations naming a leader; a lost
	// leader is not counted).
	LeaderChanges uint64
	// ChangesSinceSnapshot counts the commands this node applied without
	// an error since its last snapshot (fsm.FSM.ChangesSinceSnapshot).
	ChangesSinceSnapshot uint64
}

// Status reports the node's Raft state.
func (n *Node) Status() Status {
	addr, id := n.raft.LeaderWithID()
	st := Status{
		NodeID:       n.cfg.NodeID,
		ClientAddr:   n.ClientAddr(),
		RaftAddr:     n.addr,
		State:        strings.ToLower(n.raft.State().String()),
		Term:         n.raft.CurrentTerm(),
		LeaderID:     string(id),
		LeaderAddr:   string(addr),
		CommitIndex:  n.raft.CommitIndex(),
		AppliedIndex: n.fsm.AppliedIndex(),
		LastLogIndex: n.raft.LastIndex(),

		LeaderChanges:        n.leaderChanges.Load(),
		ChangesSinceSnapshot: n.fsm.ChangesSinceSnapshot(),
	}
	if id != "" {
		if m, ok := n.fsm.Member(string(id)); ok {
			st.LeaderClientAddr = m.ClientAddr
		}
	}
	if conf, err := n.configuration(); err == nil {
		st.Members = len(conf.Servers)
		for _, s := range conf.Servers {
			if string(s.ID) == n.cfg.NodeID {
				st.Suffrage = suffrageName(s.Suffrage)
			}
		}
	}
	stats := n.raft.Stats()
	st.LastSnapshotIndex, _ = strconv.ParseUint(stats["last_snapshot_index"], 10, 64)
	st.LastSnapshotTerm, _ = strconv.ParseUint(stats["last_snapshot_term"], 10, 64)
	return st
}

// Member is one server of the cluster configuration, for RAFT NODES.
type Member struct {
	ID         string
	RaftAddr   string
	ClientAddr string // from the replicated metadata; "" if not known
	Suffrage   string // "voter" or "nonvoter"
	// State is "leader" for the leader and "follower" for the others, as
	// far as this node knows; this node's own entry has its exact Raft
	// state ("candidate", "shutdown", ...).
	State string
	Self  bool
	// On the leader, for the other members: the index the member had
	// applied when it last answered the leader's status poll, and when
	// that was (zero if it has not answered since this node became the
	// leader). Zero on other nodes.
	Applied     uint64
	LastContact time.Time
	// FirstPoll is when this leader first polled the member, answered or
	// not (zero on other nodes): with LastContact zero, how long the
	// member has not answered since this node became the leader.
	FirstPoll time.Time
}

// NodeInfo identifies a node joining a cluster.
type NodeInfo struct {
	ID         string
	RaftAddr   string
	ClientAddr string
	// Incarnation is random per data dir (Node.Incarnation). It lets the
	// leader tell a retried join (same incarnation: nothing to do) from a
	// node that lost its data and comes back under its old ID (a new
	// incarnation: its old entry is removed, it rejoins as a non-voter).
	// Optional: "" never replaces an entry with the same ID and address.
	Incarnation string
}

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

// DigestKeys hashes each key's value in database db (DEBUG DIGEST-VALUE):
// 40 hex digits, all zeros for a missing key. O(data).
func (n *Node) DigestKeys(db int, keys []string) ([]string, error) {
	return n.fsm.DigestKeys(db, keys)
}

// IsLeader reports whether this node currently believes it is the leader.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Snapshot asks raft for a snapshot now (and so for log truncation down
// to TrailingLogs) and waits for it.
func (n *Node) Snapshot(ctx context.Context) error {
	return waitFuture(ctx, n.raft.Snapshot())
}
