package cluster

// OWNER: raft/fsm helper. Exported API below is the contract the server and
// cmd packages use; bodies are stubs to be replaced.

import (
	"context"
	"log/slog"
	"time"

	"github.com/raftstream/raftstream/fsm"
)

// Config configures a node.
type Config struct {
	NodeID   string
	DataDir  string
	RaftAddr string // listen and advertised address for Raft traffic
	// SnapshotThreshold is how many log entries since the last snapshot
	// trigger a new one; SnapshotInterval how often that is checked.
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	// TrailingLogs is how many entries are kept after a snapshot.
	TrailingLogs uint64
	// MaxBatch caps how many commands are packed into one log entry.
	MaxBatch int
	Logger   *slog.Logger
}

// Node is a running Raft member with its state machine.
type Node struct{}

// Open starts a node; a fresh data dir bootstraps a single-node cluster.
func Open(cfg Config) (*Node, error) { panic("TODO") }

// Pending is a proposed write whose reply is not yet known.
type Pending struct{}

// Propose queues cmd for the next log entry without waiting (group commit).
// Commands proposed by one goroutine are applied in the order proposed.
func (n *Node) Propose(cmd fsm.Command) *Pending { panic("TODO") }

// Wait returns the encoded RESP reply of the command once it is applied, or
// an error if it could not be committed (no leader, shutdown, ctx done).
func (p *Pending) Wait(ctx context.Context) ([]byte, error) { panic("TODO") }

// ReadBarrier returns once the local state reflects every write committed
// before the call (linearizable read point).
func (n *Node) ReadBarrier(ctx context.Context) error { panic("TODO") }

// FSM returns the node's state machine, for reads.
func (n *Node) FSM() *fsm.FSM { panic("TODO") }

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
func (n *Node) Status() Status { panic("TODO") }

// Close shuts the node down, waiting for in-flight writes to finish or fail.
func (n *Node) Close() error { panic("TODO") }
