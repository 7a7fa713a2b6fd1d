package engine

// OWNER: commands helper. The exported API below is the contract the fsm and
// server packages are written against; bodies are stubs to be replaced.

import "io"

// NumDBs is the number of logical databases, as in Redis.
const NumDBs = 16

// Ctx carries what a command needs besides its arguments.
type Ctx struct {
	// DB is the selected database (0..NumDBs-1).
	DB int
	// Now is the time in Unix milliseconds the command runs at. For writes it
	// is the state machine's clock (the leader's stamp, never going back);
	// for reads it is max(local clock, state clock).
	Now int64
	// W receives the reply. Never nil.
	W ReplyWriter
	// Signal, if set, is called for every key whose stream gained entries,
	// was deleted, or was replaced, so blocked readers can be woken.
	Signal func(db int, key string)
}

// State is the whole replicated state: NumDBs keyspaces of streams, the
// replicated configuration and the state-machine clock.
type State struct{}

// NewState returns an empty state with default configuration.
func NewState() *State { panic("TODO") }

// AdvanceClock moves the state clock to max(clock, ms) and returns it.
func (s *State) AdvanceClock(ms int64) int64 { panic("TODO") }

// Clock returns the state clock in Unix milliseconds.
func (s *State) Clock() int64 { panic("TODO") }

// Exec runs one command (argv[0] is the name, any case) against the state and
// writes its reply to ctx.W. Arity is checked by the caller with the Spec;
// everything else (syntax, state-dependent errors) is checked here.
// Exec must be deterministic: same state + same ctx.Now + same argv gives
// the same resulting state and reply.
func (s *State) Exec(ctx *Ctx, argv [][]byte) { panic("TODO") }

// Check validates argv's syntax without looking at state. It returns "" if
// the command may be proposed to the log, or the full error reply text
// (e.g. "ERR syntax error") that Exec would have given for the same argv
// regardless of state. Writes are checked before they enter the log so that
// malformed commands are never logged.
func Check(argv [][]byte) string { panic("TODO") }

// ExpireKeys deletes every key whose TTL is at or before now (the leader's
// clock, carried in a log entry) and returns how many were deleted.
func (s *State) ExpireKeys(now int64) int { panic("TODO") }

// NextExpiry returns the earliest TTL deadline in any database.
func (s *State) NextExpiry() (ms int64, ok bool) { panic("TODO") }

// Clone returns a copy-on-write snapshot of the state: later changes to s
// are not visible in the clone. It costs O(keys), not O(entries), and must be
// called while no command runs; the clone may then be read (e.g. by
// WriteSnapshot) concurrently with further commands on s.
func (s *State) Clone() *State { panic("TODO") }

// WriteSnapshot writes the whole state to w in a deterministic binary form:
// two states reached by the same commands give identical bytes.
func (s *State) WriteSnapshot(w io.Writer) error { panic("TODO") }

// ReadSnapshot rebuilds a state written by WriteSnapshot.
func ReadSnapshot(r io.Reader) (*State, error) { panic("TODO") }

// Info is what INFO keyspace and memory report.
type Info struct {
	Keys    [NumDBs]int64
	Expires [NumDBs]int64
	// Entries is the total number of stream entries; Bytes the approximate
	// memory held by stream data.
	Entries int64
	Bytes   int64
}

// Info reports keyspace and memory figures.
func (s *State) Info() Info { panic("TODO") }

// Config names the replicated settings (CONFIG GET/SET); they change through
// the log via `CONFIG SET name value [name value ...]` passed to Exec.
var ConfigParams = []string{"stream-node-max-bytes", "stream-node-max-entries"}

// ConfigGet returns the current value of a replicated setting.
func (s *State) ConfigGet(name string) (string, bool) { panic("TODO") }

// Flag is a command property, named as COMMAND INFO shows it.
type Flag string

// Spec describes one command or subcommand for routing, arity checks and
// COMMAND INFO/DOCS.
type Spec struct {
	// Name is lower case; subcommands are "container|sub", e.g. "xgroup|create".
	Name string
	// Arity follows Redis: positive is exact, negative is a minimum.
	Arity int
	// Flags as Redis reports them, e.g. "write", "denyoom", "fast", "readonly", "blocking".
	Flags []Flag
	// FirstKey, LastKey, Step locate key arguments (Redis legacy key spec).
	FirstKey, LastKey, Step int
	// Write is true when the command changes state and so goes through the log.
	Write bool
	// Group, Since and Summary feed COMMAND DOCS.
	Group, Since, Summary string
	// Subcommands of a container command (XGROUP, XINFO).
	Subcommands []*Spec
}

// Specs returns the specs of every command the engine executes, sorted by name.
func Specs() []*Spec { panic("TODO") }

// Lookup returns the spec for a command name (any case), or nil.
func Lookup(name []byte) *Spec { panic("TODO") }
