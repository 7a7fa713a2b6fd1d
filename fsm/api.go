package fsm

// OWNER: raft/fsm helper. Exported API below is the contract the cluster and
// server packages use; bodies are stubs to be replaced.

import "github.com/raftstream/raftstream/engine"

// Command is one client command carried in a log entry.
type Command struct {
	// DB is the database the client had selected.
	DB uint8
	// Proto is the RESP version the reply is encoded for (2 or 3).
	Proto uint8
	// Argv is the command and its arguments as the client sent them.
	Argv [][]byte
}

// FSM is the replicated state machine: it implements raft.BatchingFSM and
// guards the engine state against concurrent reads.
type FSM struct{}

// New returns an FSM holding an empty state.
func New() *FSM { panic("TODO") }

// Read runs fn with the state under a read lock. fn must not retain the
// state or anything it points into after returning.
func (f *FSM) Read(fn func(st *engine.State)) { panic("TODO") }

// AppliedIndex is the index of the last log entry applied.
func (f *FSM) AppliedIndex() uint64 { panic("TODO") }
