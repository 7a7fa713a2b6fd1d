package cluster

import "github.com/raftstream/raftstream/fsm"

// The command contract between a client front end (package server) and
// the node. These are aliases, not new types, because the value is the
// same one end to end: server builds a Command, Propose packs it into a
// log entry with fsm's codec and fsm's Apply hands the Reply back
// unchanged. Distinct types would only add a copy per command on the
// write path. Callers name them through cluster so that they depend on
// this package alone (server imports neither fsm nor raft; see
// server/imports_test.go).
type (
	// Command is one unit of client work carried in a log entry
	// (fsm.Command).
	Command = fsm.Command
	// CommandKind says what a Command carries (fsm.CommandKind).
	CommandKind = fsm.CommandKind
	// Txn is a MULTI/EXEC transaction (fsm.Txn).
	Txn = fsm.Txn
	// Reply is one command's encoded reply and its Outcome (fsm.Reply).
	Reply = fsm.Reply
	// Outcome classifies a Reply: value, error or null (fsm.Outcome).
	Outcome = fsm.Outcome
	// ReplyWriter is a RESP writer that notes the Outcome of what it
	// writes, for replies built outside Apply (fsm.ReplyWriter).
	ReplyWriter = fsm.ReplyWriter
)

// Command kinds (fsm.KindArgv, ...).
const (
	KindArgv      = fsm.KindArgv
	KindTxn       = fsm.KindTxn
	KindConfigSet = fsm.KindConfigSet
)

// Reply outcomes (fsm.OutcomeValue, ...).
const (
	OutcomeValue = fsm.OutcomeValue
	OutcomeError = fsm.OutcomeError
	OutcomeNull  = fsm.OutcomeNull
)
