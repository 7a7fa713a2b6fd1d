package fsm

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"

	"github.com/raftstream/raftstream/engine"
)

// Command is one unit of client work carried in a log entry: a command,
// a transaction or a replicated CONFIG SET (see CommandKind). It gets one
// reply.
type Command struct {
	// Kind says which of Argv, Txn and Config is set.
	Kind CommandKind
	// DB is the database the client had selected.
	DB uint8
	// Proto is the RESP version the reply is encoded for (2 or 3).
	Proto uint8
	// Argv is the command and its arguments as the client sent them
	// (KindArgv).
	Argv [][]byte
	// Room, if set, lets the proposer build the command's log entry around
	// its big argument instead of copying it (AppendEntryInPlace): Room is
	// buf[:h] of a buffer whose bytes buf[h:h+n] are one of Argv's
	// arguments, with spare bytes before (h) and after it. Whoever sets
	// it hands buf over: the entry may take those spare bytes. It is not
	// part of the encoding.
	Room []byte
	// Parsed, if set, is Argv parsed by the node that received the
	// command (engine.Command.Parse, which found no error). It travels
	// with the command to this node's own apply (Carried), which then
	// runs it instead of parsing Argv again. Not part of the encoding:
	// other replicas parse the logged Argv once, when they apply it.
	Parsed *engine.Parsed
	// Txn is a MULTI/EXEC transaction (KindTxn).
	Txn *Txn
	// Config holds the settings of a CONFIG SET of replicated parameters
	// (KindConfigSet).
	Config []engine.ConfigSetting
}

// CommandKind says what a Command carries.
type CommandKind uint8

// Command kinds. Values not listed are rejected by DecodeEntry.
const (
	// KindArgv is a client command as sent (the zero value: plain
	// commands need no kind).
	KindArgv CommandKind = 0
	// KindTxn is a transaction: its queued commands and the versions of
	// the keys the client watched, applied atomically (engine.ExecTxn).
	KindTxn CommandKind = 1
	// KindConfigSet sets replicated parameters (engine.ExecConfigSet).
	KindConfigSet CommandKind = 2
)

// Txn is a MULTI/EXEC transaction.
type Txn struct {
	// Watches are the versions WATCH read; if any changed, nothing runs
	// and the reply is a null array.
	Watches []engine.Watch
	// Cmds are the queued commands, each argv as the client sent it.
	Cmds [][][]byte
}

// Result is what applying one log entry returns through raft's
// ApplyFuture.Response on the node that proposed it.
type Result struct {
	// Replies holds the reply of each command of an EntryCommands entry,
	// in order; nil for other entry types.
	Replies []Reply
	// Err is set when the entry could not be decoded. No command ran, and
	// every node reached the same verdict.
	Err error
}

// Reply is the result of one command: its encoded reply and what kind of
// reply it is, so that no caller has to parse RESP to act on it.
type Reply struct {
	// RESP is the reply encoded in the command's protocol, as the client
	// gets it.
	RESP []byte
	// Outcome classifies the reply.
	Outcome Outcome
	// Parts, for a transaction that ran, are its commands' replies in
	// queue order: consecutive slices of RESP, after the array header.
	// Nil otherwise.
	Parts [][]byte
}

// Outcome classifies a reply by the value it starts with.
type Outcome uint8

// Outcomes.
const (
	// OutcomeValue is any reply but an error or a null: the command did
	// something or returned data.
	OutcomeValue Outcome = iota
	// OutcomeError is an error reply: nothing was changed (or the
	// command was not executed at all).
	OutcomeError
	// OutcomeNull is a null reply: a read with nothing to serve
	// (XREADGROUP with no entries), a transaction aborted by WATCH.
	OutcomeNull
)

// String names the outcome for logs.
func (o Outcome) String() string {
	switch o {
	case OutcomeValue:
		return "value"
	case OutcomeError:
		return "error"
	case OutcomeNull:
		return "null"
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// SignalFunc is told about every key whose stream gained entries, was
// deleted or replaced. It runs on the apply path with the state locked, so
// it must not block and must not call Read. key is valid only during the
// call (it may share the log entry's memory): copy it to keep it.
type SignalFunc func(db int, key string)

// FSM is the replicated state machine: it implements raft.BatchingFSM and
// guards the engine state against concurrent reads.
type FSM struct {
	log *slog.Logger

	// mu guards st, members and sessions: applies and restores take it
	// for writing, Read for reading.
	mu       sync.RWMutex
	st       *engine.State
	members  map[string]NodeMeta
	sessions sessions

	applied atomic.Uint64
	signal  atomic.Pointer[SignalFunc]
	// acl is the state's ACL as of the last applied batch or restore,
	// published so the server checks permissions on every command
	// without taking the read lock; aclHook is told when it changes.
	acl     atomic.Pointer[engine.ACL]
	aclHook atomic.Pointer[func()]
	// changes counts the commands applied without an error reply since
	// the last snapshot or restore (ChangesSinceSnapshot). Local to this
	// node, like Redis's dirty counter; not part of the replicated state.
	changes atomic.Uint64

	// waitMu guards waitCh, which is closed (and cleared) whenever the
	// applied index moves, waking WaitApplied callers. It is only created
	// when someone waits, so the apply path allocates nothing otherwise.
	waitMu sync.Mutex
	waitCh chan struct{}

	// carrier finds the parsed commands of a forwarded request this node
	// sent (SetCarrier); nil: none.
	carrier atomic.Pointer[Carrier]
}

// Carried is what the node that built a log entry knows of its commands
// beyond the entry's bytes: the values they were parsed into. Parsed[i]
// belongs to the entry's i-th command (nil: parse it from its argv). The
// cluster hands it to the leader's own apply as raft.Log.Local; it is
// never stored or sent.
type Carried struct {
	Parsed []*engine.Parsed
}

// NewCarried returns a Carried for an entry of n commands, none parsed.
func NewCarried(n int) *Carried { return &Carried{Parsed: make([]*engine.Parsed, n)} }

// Carrier returns the parsed commands of the request (origin, seq), one
// per command, if this node parsed them when it forwarded the request, and
// forgets them (each request is applied once here); nil otherwise. It is
// how a follower's apply of an entry the leader built finds what the
// follower parsed: the request identity is in the entry, the values are
// not.
type Carrier func(origin string, seq uint64, count int) *Carried

// SetCarrier installs c (nil removes it). It is called on the apply path
// with the state locked, so it must be quick and must not call the FSM.
func (f *FSM) SetCarrier(c Carrier) {
	if c == nil {
		f.carrier.Store(nil)
		return
	}
	f.carrier.Store(&c)
}

var _ raft.BatchingFSM = (*FSM)(nil)

// New returns an FSM holding an empty state that logs to l (slog.Default
// if nil).
func New(l *slog.Logger) *FSM {
	if l == nil {
		l = slog.Default()
	}
	f := &FSM{log: l, st: engine.NewState(), members: map[string]NodeMeta{}, sessions: sessions{}}
	f.acl.Store(f.st.ACL())
	return f
}

// ACL returns the replicated ACL users as of the last applied batch. The
// value is immutable; it never blocks on applies.
func (f *FSM) ACL() *engine.ACL { return f.acl.Load() }

// SetACLHook installs fn, called (outside the state lock) after an apply
// or restore changed the ACL users, e.g. to disconnect the clients of a
// deleted user. fn must not block. nil removes it.
func (f *FSM) SetACLHook(fn func()) {
	if fn == nil {
		f.aclHook.Store(nil)
		return
	}
	f.aclHook.Store(&fn)
}

// publishACL publishes the state's ACL if it changed, and reports whether
// it did. Called with f.mu held.
func (f *FSM) publishACL() bool {
	a := f.st.ACL()
	if f.acl.Load() == a {
		return false
	}
	f.acl.Store(a)
	return true
}

// aclChanged runs the ACL hook, if any.
func (f *FSM) aclChanged() {
	if fn := f.aclHook.Load(); fn != nil {
		(*fn)()
	}
}

// Members returns the replicated member metadata, sorted by ID.
func (f *FSM) Members() []NodeMeta {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return sortedMembers(f.members)
}

// Member returns the replicated metadata of member id.
func (f *FSM) Member(id string) (NodeMeta, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	m, ok := f.members[id]
	return m, ok
}

// SessionCount is the number of forwarding sessions in the dedupe table.
func (f *FSM) SessionCount() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.sessions)
}

// Read runs fn with the state under a read lock. fn must not retain the
// state or anything it points into after returning.
func (f *FSM) Read(fn func(st *engine.State)) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	fn(f.st)
}

// ChangesSinceSnapshot is how many commands this node applied without an
// error reply since its last snapshot or restore: INFO's
// rdb_changes_since_last_save. Redis counts each change a command makes
// (XDEL of three entries: 3; XGROUP CREATECONSUMER of an existing
// consumer: 0); this counts write commands.
func (f *FSM) ChangesSinceSnapshot() uint64 { return f.changes.Load() }

// AppliedIndex is the index of the last log entry applied.
func (f *FSM) AppliedIndex() uint64 { return f.applied.Load() }

// SetSignal installs fn to be called for every key a command touches in a
// way that can unblock readers (see engine.Ctx.Signal). nil removes it.
func (f *FSM) SetSignal(fn SignalFunc) {
	if fn == nil {
		f.signal.Store(nil)
		return
	}
	f.signal.Store(&fn)
}
