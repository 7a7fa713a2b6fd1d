package engine

import "strings"

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
	// was deleted, or was replaced, so blocked readers can be woken. key
	// may share memory with the command's arguments: it is valid only
	// during the call, and must be copied to be kept.
	Signal func(db int, key string)
	// Retain says that argv's bytes will never be modified, so the state
	// may keep a big value (BigValue bytes or more) by reference instead
	// of copying it: XADD then costs no copy of the value. The state
	// machine sets it for a log entry's commands (the entry's bytes stay
	// alive as long as the stream entry that references them).
	Retain bool
}

// signal reports a changed key to blocked-reader bookkeeping.
func (c *Ctx) signal(db int, key string) {
	if c.Signal != nil {
		c.Signal(db, key)
	}
}

// State is the whole replicated state: NumDBs keyspaces of streams, the
// replicated configuration and the state-machine clock.
type State struct {
	dbs   [NumDBs]*keyspace
	clock int64
	cfg   config
	acl   *ACL // replicated users (acl.go); never nil
}

// NewState returns an empty state with default configuration.
func NewState() *State {
	s := &State{cfg: defaultConfig(), acl: emptyACL}
	for i := range s.dbs {
		s.dbs[i] = newKeyspace()
	}
	return s
}

// AdvanceClock moves the state clock to max(clock, ms) and returns it.
func (s *State) AdvanceClock(ms int64) int64 {
	if ms > s.clock {
		s.clock = ms
	}
	return s.clock
}

// Clock returns the state clock in Unix milliseconds.
func (s *State) Clock() int64 { return s.clock }

// Exec runs one command (argv[0] is the name, any case) against the state and
// writes its reply to ctx.W. Arity is checked by the caller with the Spec;
// everything else (syntax, state-dependent errors) is checked here.
// Exec must be deterministic: same state + same ctx.Now + same argv gives
// the same resulting state and reply.
//
// Exec also re-checks arity and the database index so that no input can
// make it panic; it accepts `ACL SETUSER|DELUSER` (acl.go) although ACL
// has no Spec here. Transactions and replicated CONFIG SET have typed
// entry points of their own (ExecTxn, ExecConfigSet).
func (s *State) Exec(ctx *Ctx, argv [][]byte) {
	if len(argv) > 0 && argIs(argv[0], "acl") {
		s.execACL(ctx, argv) // ACL SETUSER/DELUSER: acl.go
		return
	}
	c, err := resolve(argv)
	if err != "" {
		ctx.W.WriteError(err)
		return
	}
	if ctx.DB < 0 || ctx.DB >= NumDBs {
		ctx.W.WriteError(errDBRange)
		return
	}
	s.run(ctx, c, argv)
}

// Run is Exec for argv already resolved to c (Command.Check's contract):
// the caller that looked the name up runs the command without a second
// lookup. A nil c, a container, a wrong arity or a bad database get
// Exec's errors.
func (s *State) Run(ctx *Ctx, c *Command, argv [][]byte) {
	if c == nil || c.spec == nil || c.subs != nil || !ArityOK(c.spec.Arity, len(argv)) {
		s.Exec(ctx, argv) // not a leaf engine command: Exec resolves and replies the error
		return
	}
	if ctx.DB < 0 || ctx.DB >= NumDBs {
		ctx.W.WriteError(errDBRange)
		return
	}
	s.run(ctx, c, argv)
}

func (s *State) run(ctx *Ctx, c *Command, argv [][]byte) {
	c.exec(s, ctx, argv)
	if c.spec.Write {
		s.touchKeys(ctx, c, argv) // WATCH versions: watch.go
	}
}

// Check validates argv's syntax without looking at state. It returns "" if
// the command may be proposed to the log, or the full error reply text
// (e.g. "ERR syntax error") that Exec would have given for the same argv
// regardless of state. Writes are checked before they enter the log so that
// malformed commands are never logged.
func Check(argv [][]byte) string {
	if len(argv) > 0 && argIs(argv[0], "acl") {
		return checkACL(argv)
	}
	c, err := resolve(argv)
	if err != "" {
		return err
	}
	if c.check == nil {
		return ""
	}
	return c.check(argv)
}

// resolve finds argv's command and checks its arity.
func resolve(argv [][]byte) (*Command, string) {
	if len(argv) == 0 {
		return nil, errUnknownCommand(argv)
	}
	c := lookupCommand(argv[0])
	if c == nil {
		return nil, errUnknownCommand(argv)
	}
	if c.subs != nil && len(argv) >= 2 {
		sub := c.lookupSub(argv[1])
		if sub == nil {
			return nil, errUnknownSubcommand(argv)
		}
		c = sub
	}
	if !ArityOK(c.spec.Arity, len(argv)) {
		return nil, errArity(c.spec.Name)
	}
	return c, ""
}

// db returns the keyspace selected by ctx.
func (s *State) db(ctx *Ctx) *keyspace { return s.dbs[ctx.DB] }

// lookupWrite returns the live entry for key, first deleting it if it has
// expired at ctx.Now, as Redis's lookupKeyWrite does. The deletion is part
// of the write and therefore deterministic.
func (s *State) lookupWrite(ctx *Ctx, db int, key string) *entry {
	ks := s.dbs[db]
	e := ks.get(key)
	if e == nil {
		return nil
	}
	if e.expired(ctx.Now) {
		ks.remove(e)
		ctx.signal(db, key)
		return nil
	}
	return e
}

// ExpireKeys deletes every key whose deadline has passed (deadline < now, as Redis's keyIsExpired; the leader's
// clock, carried in a log entry) and returns how many were deleted.
func (s *State) ExpireKeys(now int64) int { return s.ExpireKeysNotify(now, nil) }

// ExpireKeysNotify is ExpireKeys that also calls signal (if not nil) for
// each deleted key, so that blocked readers can be woken.
func (s *State) ExpireKeysNotify(now int64, signal func(db int, key string)) int {
	n := 0
	for db, ks := range s.dbs {
		for {
			it, ok := ks.expires.Min()
			if !ok || it.at >= now {
				break
			}
			e := ks.get(it.key)
			if e == nil {
				ks.expires.Delete(it) // cannot happen; keeps the loop finite
				continue
			}
			ks.remove(e)
			n++
			if signal != nil {
				signal(db, it.key)
			}
		}
	}
	return n
}

// NextExpiry returns the earliest TTL deadline in any database.
func (s *State) NextExpiry() (ms int64, ok bool) {
	for _, ks := range s.dbs {
		if it, found := ks.expires.Min(); found && (!ok || it.at < ms) {
			ms, ok = it.at, true
		}
	}
	return ms, ok
}

// Clone returns a copy-on-write snapshot of the state: later changes to s
// are not visible in the clone. It costs O(keys), not O(entries), and must be
// called while no command runs; the clone may then be read (e.g. by
// WriteSnapshot) concurrently with further commands on s.
func (s *State) Clone() *State {
	c := &State{clock: s.clock, cfg: s.cfg, acl: s.acl}
	for i, ks := range s.dbs {
		c.dbs[i] = ks.clone()
	}
	return c
}

// Info is what INFO keyspace and memory report.
type Info struct {
	Keys    [NumDBs]int64
	Expires [NumDBs]int64
	// Entries is the total number of stream entries; Bytes the approximate
	// memory held by stream data.
	Entries int64
	Bytes   int64
	// Streams totals the consumer groups of every stream (INFO streams).
	Streams StreamTotals
}

// StreamTotals sums the consumer groups of all streams, in all databases.
type StreamTotals struct {
	Groups    int64
	Consumers int64
	Pending   int64 // PEL entries
	// MaxLag is the largest XINFO GROUPS lag among the groups whose lag is
	// known; LagUnknown counts those Redis would report null for.
	MaxLag     int64
	LagUnknown int64
	// DeadLettered counts the entries dead-letter groups moved (RS.SETDLQ).
	DeadLettered int64
}

// Info reports keyspace, memory and stream figures. Like Redis's INFO
// keyspace it counts keys that have expired but are not yet deleted. It is
// O(keys + groups).
func (s *State) Info() Info {
	var in Info
	for i, ks := range s.dbs {
		in.Keys[i] = int64(ks.keys.Len())
		in.Expires[i] = int64(ks.expires.Len())
		ks.keys.Scan(func(sl slot) bool {
			st := sl.e.val
			in.Entries += st.Len()
			in.Bytes += st.MemoryUsage()
			st.eachGroup(func(g *group) bool {
				t := &in.Streams
				t.Groups++
				t.Consumers += int64(g.consumers.Len())
				t.Pending += int64(g.pel.Len())
				t.DeadLettered += g.dlq.moved
				if lag, ok := st.groupLag(g); ok {
					t.MaxLag = max(t.MaxLag, lag)
				} else {
					t.LagUnknown++
				}
				return true
			})
			return true
		})
	}
	return in
}

// ConfigParams names the replicated settings (CONFIG GET/SET); they change
// through the log (ExecConfigSet).
var ConfigParams = []string{"stream-node-max-bytes", "stream-node-max-entries"}

// ConfigGet returns the current value of a replicated setting (name in any
// case) formatted as CONFIG GET shows it.
func (s *State) ConfigGet(name string) (string, bool) {
	p := configParamByName(strings.ToLower(name))
	if p == nil {
		return "", false
	}
	return string(appendInt(nil, p.get(&s.cfg))), true
}

// VisitKeys calls fn with each key of database db, in keyspace order,
// expired ones not yet deleted included (as Redis's CLUSTER
// COUNTKEYSINSLOT and GETKEYSINSLOT see what its slot index holds), until
// fn returns false. O(keys).
func (s *State) VisitKeys(db int, fn func(key string) bool) {
	if db < 0 || db >= len(s.dbs) {
		return
	}
	s.dbs[db].keys.Scan(func(sl slot) bool { return fn(sl.key) })
}
