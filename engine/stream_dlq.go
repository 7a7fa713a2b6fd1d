package engine

import (
	"strconv"

	"github.com/raftstream/raftstream/internal/redisutil"
)

// Dead-letter streams, a raftstream extension (Redis has none, see
// redis/redis#7386). A group may name a limit n and a dead-letter stream:
// a pending entry that has been delivered n times is not delivered again.
// At the delivery that would make its count exceed n (XREADGROUP reading
// the consumer's own history, XREADGROUP CLAIM, XCLAIM, XAUTOCLAIM) it is
// instead appended to the dead-letter stream and removed from the group's
// PEL, in the same command and so in the same log entry on every node. The
// command's reply simply leaves it out, as if another consumer had taken
// it. New entries (">") are delivered for the first time and never
// dead-lettered; XCLAIM with JUSTID or RETRYCOUNT does not count as a
// delivery, as in Redis.
//
// The setting is a command of its own, RS.SETDLQ, rather than an XGROUP
// subcommand or an option of an existing command: the "RS." prefix cannot
// collide with a name Redis may give a future feature of its own (Redis
// never uses dots in core command names), so a client's Redis semantics
// never change under it.

// Dead-letter entry fields, written before the original fields.
const (
	dlqFieldID         = "dlq-id"
	dlqFieldStream     = "dlq-stream"
	dlqFieldGroup      = "dlq-group"
	dlqFieldConsumer   = "dlq-consumer"
	dlqFieldDeliveries = "dlq-deliveries"
)

// RS.SETDLQ errors.
const (
	errDLQMaxRange = "ERR MAXDELIVERIES must be a positive integer"
	errDLQSameKey  = "ERR the dead-letter stream must be a different key"
)

// dlqConfig is a group's dead-letter setting; the zero value is none.
type dlqConfig struct {
	// max is the number of deliveries allowed (> 0 when set).
	max int64
	// key names the dead-letter stream in the group's database.
	key string
	// moved counts the entries dead-lettered since the setting was made.
	moved int64
}

// rsSetDLQArgs is a parsed RS.SETDLQ.
type rsSetDLQArgs struct {
	off bool
	max int64
	key string
}

// parseRSSetDLQ parses RS.SETDLQ key group (MAXDELIVERIES n DEADLETTER
// dlqkey | OFF); the two options may come in either order.
func parseRSSetDLQ(argv [][]byte) (rsSetDLQArgs, string) {
	var a rsSetDLQArgs
	if len(argv) == 4 && argIs(argv[3], "off") {
		a.off = true
		return a, ""
	}
	keyGiven := false
	for i := 3; i < len(argv); i += 2 {
		if i+1 >= len(argv) {
			return a, errSyntax
		}
		switch {
		case argIs(argv[i], "maxdeliveries") && a.max == 0:
			n, ok := redisutil.ParseLL(argv[i+1])
			if !ok {
				return a, errNotInt
			}
			if n <= 0 {
				return a, errDLQMaxRange
			}
			a.max = n
		case argIs(argv[i], "deadletter") && !keyGiven:
			a.key, keyGiven = string(argv[i+1]), true
		default:
			return a, errSyntax
		}
	}
	if a.max == 0 || !keyGiven {
		return a, errSyntax
	}
	if a.key == string(argv[1]) {
		return a, errDLQSameKey
	}
	return a, ""
}

// execRSSetDLQ is Exec's RS.SETDLQ: parse, then rssetdlqRun.
func (s *State) execRSSetDLQ(ctx *Ctx, argv [][]byte) {
	a, err := parseRSSetDLQ(argv)
	if err != "" {
		ctx.W.WriteError(err)
		return
	}
	s.rssetdlqRun(ctx, argv, &a)
}

// rssetdlqRun sets or (OFF) clears a group's dead-letter setting for a
// parsed RS.SETDLQ (a, read only). Setting it again resets the moved
// counter only if the target stream changes.
func (s *State) rssetdlqRun(ctx *Ctx, argv [][]byte, a *rsSetDLQArgs) {
	e := s.lookupWrite(ctx, ctx.DB, string(argv[1]))
	if e == nil {
		ctx.W.WriteError(errNoSuchKey)
		return
	}
	g := e.val.group(string(argv[2]))
	if g == nil {
		ctx.W.WriteError(errNoGroupForKey(argv[2], argv[1]))
		return
	}
	g = e.val.mutGroup(g)
	switch {
	case a.off:
		g.dlq = dlqConfig{}
	case g.dlq.key == a.key:
		g.dlq.max = a.max
	default:
		g.dlq = dlqConfig{max: a.max, key: a.key}
	}
	ctx.W.WriteStatus("OK")
}

// deadLetter moves the entries of one group that would be delivered too
// often to the group's dead-letter stream. A nil *deadLetter (the group
// has no setting) dead-letters nothing.
type deadLetter struct {
	s   *State
	ctx *Ctx
	key string // the source stream's key
}

// deadLetterFor returns the dead-letterer for group g of the stream at
// key, nil if g has no dead-letter setting.
func (s *State) deadLetterFor(ctx *Ctx, key string, g *group) *deadLetter {
	// A RENAME may have given the source stream the dead-letter key's name;
	// dead-lettering into the stream being read would loop, so it is off.
	if g.dlq.max == 0 || g.dlq.key == key {
		return nil
	}
	return &deadLetter{s: s, ctx: ctx, key: key}
}

// due reports whether delivering e once more would pass g's limit.
func (d *deadLetter) due(g *group, e pelEntry) bool {
	return d != nil && e.count >= g.dlq.max
}

// move appends e, pending in g (owned by st), to the dead-letter stream
// and removes it from the PEL. owner names the consumer recorded with it
// when e is unowned (released by XNACK). It reports false, changing
// nothing, if the entry is gone from st or the dead-letter stream cannot
// take another entry; the caller then proceeds as without a setting.
func (d *deadLetter) move(st *Stream, g *group, e pelEntry, owner string) bool {
	var fv [][]byte
	if !st.Get(e.id, func(f [][]byte) {
		var idBuf [44]byte
		consumer := e.consumer
		if e.unowned() {
			consumer = owner
		}
		fv = make([][]byte, 0, 10+len(f))
		fv = append(fv,
			[]byte(dlqFieldID), e.id.Append(idBuf[:0]),
			[]byte(dlqFieldStream), []byte(d.key),
			[]byte(dlqFieldGroup), []byte(g.name),
			[]byte(dlqFieldConsumer), []byte(consumer),
			[]byte(dlqFieldDeliveries), strconv.AppendInt(nil, e.count, 10))
		fv = append(fv, f...) // Append copies, so aliasing the node is fine
	}) {
		return false
	}
	ctx, ks := d.ctx, d.s.db(d.ctx)
	var dst *Stream
	ent := d.s.lookupWrite(ctx, ctx.DB, g.dlq.key)
	if ent != nil {
		dst = ent.val
	} else {
		dst = NewStream()
	}
	last := dst.LastID()
	if last == MaxID {
		return false
	}
	id, _ := nextAddID(last, &addTrimArgs{idAuto: true}, ctx.Now)
	if ent == nil {
		ent = ks.add(g.dlq.key, dst)
	}
	dst.Append(id, fv, d.s.cfg.limits())
	// The key is not among the command's arguments, so the command table
	// cannot stamp it for WATCH: stamp it here.
	ks.ver++
	ent.ver = ks.ver
	st.pelRemove(g, e)
	g.dlq.moved++
	ctx.signal(ctx.DB, g.dlq.key)
	return true
}
