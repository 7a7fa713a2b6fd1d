package cluster

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// Defaults of the Config fields documented on each.
const (
	defaultMaxBatch         = 1024
	defaultMaxBatchBytes    = 1 << 20
	defaultMaxInflight      = 64
	defaultQueueSize        = 16384
	defaultMaxAppendEntries = 256
	defaultExpiryInterval   = 100 * time.Millisecond
	defaultDrainTimeout     = 10 * time.Second
	defaultLeaderWait       = 5 * time.Second
	defaultPromoteInterval  = 500 * time.Millisecond
	defaultPromoteLag       = 64
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
	// Join lists Raft addresses (host:port) of existing members. Only
	// read when the data dir is fresh: the node then starts without a
	// configuration and asks a seed, over the cluster RPC (authenticated
	// by ClusterSecret), to add it; it joins as a non-voter and is
	// promoted once caught up. A member's client (RESP) address still
	// works, deprecated: the node detects it and sends RAFT ADD (join.go).
	Join []string
	// JoinPassword is sent with AUTH to seeds that are client addresses
	// (the deprecated RESP path), if set. Seeds given as Raft addresses
	// authenticate with ClusterSecret instead.
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
	// beforeStore, if set, runs before entries are written to the log
	// store (tests: hold or fail a leader's own write).
	beforeStore func(logs []*raft.Log) error
	// oldForwardRPC makes the RPC server answer as a node of the previous
	// version, which does not know opProposeResults (a test hook).
	oldForwardRPC bool
	// oldCaps, while set, makes the RPC server answer opCaps as a node of
	// the previous version (a test hook; a pointer so that a test can
	// "upgrade" the node while it runs).
	oldCaps *atomic.Bool
}

// Peer is a founding member of the cluster.
type Peer struct {
	ID   string
	Addr string
}

func (c Config) withDefaults() (Config, error) {
	if c.NodeID == "" {
		return c, errors.New("cluster: NodeID is required")
	}
	if c.DataDir == "" {
		return c, errors.New("cluster: DataDir is required")
	}
	if c.RaftAddr == "" && c.Listener == nil {
		return c, errors.New("cluster: RaftAddr or Listener is required")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	setDefault(&c.MaxBatch, defaultMaxBatch)
	setDefault(&c.MaxBatchBytes, defaultMaxBatchBytes)
	c.MaxBatchBytes = min(c.MaxBatchBytes, MaxCommandBytes)
	setDefault(&c.MaxInflight, defaultMaxInflight)
	setDefault(&c.QueueSize, defaultQueueSize)
	setDefault(&c.MaxAppendEntries, defaultMaxAppendEntries)
	setDefault(&c.ExpiryInterval, defaultExpiryInterval)
	setDefault(&c.DrainTimeout, defaultDrainTimeout)
	setDefault(&c.LeaderWait, defaultLeaderWait)
	setDefault(&c.ForwardTimeout, c.LeaderWait+10*time.Second)
	setDefault(&c.PromoteInterval, defaultPromoteInterval)
	if c.SnapshotLogBytes == 0 {
		c.SnapshotLogBytes = defaultSnapshotLogBytes
	}
	if c.MinFreeDisk == 0 {
		c.MinFreeDisk = DefaultMinFreeDisk
	}
	if c.PromoteLag == 0 {
		c.PromoteLag = defaultPromoteLag
	}
	if c.BootstrapExpect > 0 && c.Discover == nil {
		return c, errors.New("cluster: BootstrapExpect needs Discover")
	}
	if c.BootstrapExpect > 0 && len(c.Join) > 0 {
		return c, errors.New("cluster: BootstrapExpect and Join are exclusive")
	}
	if len(c.Peers) > 0 && (c.BootstrapExpect > 0 || len(c.Join) > 0) {
		return c, errors.New("cluster: Peers cannot be combined with Join or BootstrapExpect")
	}
	return c, nil
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// raftConfig maps our Config onto raft's, leaving raft's defaults where
// ours are unset.
func (c Config) raftConfig(logger hclog.Logger) *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(c.NodeID)
	rc.Logger = logger
	rc.MaxAppendEntries = c.MaxAppendEntries
	// Our proposer already batches and caps what is in flight; an
	// unbuffered applyCh lets raft's back-pressure reach it, so commands
	// accumulate into bigger entries while a disk write is running.
	rc.BatchApplyCh = false
	rc.NoLegacyTelemetry = true
	if c.SnapshotThreshold > 0 {
		rc.SnapshotThreshold = c.SnapshotThreshold
	}
	if c.SnapshotInterval > 0 {
		rc.SnapshotInterval = c.SnapshotInterval
	}
	if c.TrailingLogs > 0 {
		rc.TrailingLogs = c.TrailingLogs
	}
	if c.HeartbeatTimeout > 0 {
		rc.HeartbeatTimeout = c.HeartbeatTimeout
	}
	if c.ElectionTimeout > 0 {
		rc.ElectionTimeout = c.ElectionTimeout
	}
	if c.LeaderLeaseTimeout > 0 {
		rc.LeaderLeaseTimeout = c.LeaderLeaseTimeout
	}
	if c.CommitTimeout > 0 {
		rc.CommitTimeout = c.CommitTimeout
	}
	// Keep raft's invariants when only some timeouts are set: the
	// election timeout may not undercut the heartbeat timeout, the lease
	// may not exceed it. A timeout that was set wins over a default.
	if c.HeartbeatTimeout <= 0 {
		rc.HeartbeatTimeout = min(rc.HeartbeatTimeout, rc.ElectionTimeout)
	}
	if c.ElectionTimeout <= 0 {
		rc.ElectionTimeout = max(rc.ElectionTimeout, rc.HeartbeatTimeout)
	}
	if c.LeaderLeaseTimeout <= 0 {
		rc.LeaderLeaseTimeout = min(rc.LeaderLeaseTimeout, rc.HeartbeatTimeout)
	}
	return rc
}
