package engine

import (
	"math"

	"github.com/raftstream/raftstream/internal/redisutil"
)

// EXPIRE condition flags.
const (
	expireNX = 1 << iota
	expireXX
	expireGT
	expireLT
)

// expireArgs is a parsed EXPIRE, PEXPIRE, EXPIREAT or PEXPIREAT.
type expireArgs struct {
	// when is in ms; absolute for *AT, otherwise still to be added to now.
	when     int64
	absolute bool
	flags    int
}

// parseExpire parses the four EXPIRE variants as Redis's
// expireGenericCommand: flags, then the integer, then the overflow checks
// that do not depend on the clock.
func parseExpire(argv [][]byte) (expireArgs, string) {
	name := cmdName(argv[0])
	seconds := name == "expire" || name == "expireat"
	a := expireArgs{absolute: name == "expireat" || name == "pexpireat"}
	var nx, xx, gt, lt bool
	for _, opt := range argv[3:] {
		switch {
		case argIs(opt, "nx"):
			nx = true
		case argIs(opt, "xx"):
			xx = true
		case argIs(opt, "gt"):
			gt = true
		case argIs(opt, "lt"):
			lt = true
		default:
			return a, "ERR Unsupported option " + string(cStr(opt))
		}
	}
	if nx && (xx || gt || lt) {
		return a, "ERR NX and XX, GT or LT options at the same time are not compatible"
	}
	if gt && lt {
		return a, "ERR GT and LT options at the same time are not compatible"
	}
	for f, on := range [...]bool{nx, xx, gt, lt} {
		if on {
			a.flags |= 1 << f
		}
	}
	when, ok := redisutil.ParseLL(argv[2])
	if !ok {
		return a, errNotInt
	}
	if seconds {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			return a, errExpireTime(name)
		}
		when *= 1000
	}
	a.when = when
	return a, ""
}

func errExpireTime(name string) string {
	return "ERR invalid expire time in '" + name + "' command"
}

// cmdName returns a command name in ASCII lower case.
func cmdName(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return string(out)
}

// execExpire is Exec's EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT: parse,
// then expireRun.
func (s *State) execExpire(ctx *Ctx, argv [][]byte) {
	a, err := parseExpire(argv)
	if err != "" {
		ctx.W.WriteError(err)
		return
	}
	s.expireRun(ctx, argv, &a)
}

// expireRun sets or clears a TTL for a parsed EXPIRE variant (a, read
// only). A deadline at or before now deletes the key at once, as on a
// Redis master.
func (s *State) expireRun(ctx *Ctx, argv [][]byte, a *expireArgs) {
	when := a.when
	if !a.absolute {
		base := ctx.Now
		if base > 0 && when > math.MaxInt64-base {
			ctx.W.WriteError(errExpireTime(cmdName(argv[0])))
			return
		}
		when += base
	}
	key := string(argv[1])
	e := s.lookupWrite(ctx, ctx.DB, key)
	if e == nil {
		ctx.W.WriteInt(0)
		return
	}
	switch {
	case a.flags&expireNX != 0 && e.volatile,
		a.flags&expireXX != 0 && !e.volatile,
		// No TTL counts as an infinite one: never less, never greater.
		a.flags&expireGT != 0 && (!e.volatile || when <= e.expireAt),
		a.flags&expireLT != 0 && e.volatile && when >= e.expireAt:
		ctx.W.WriteInt(0)
		return
	}
	ks := s.db(ctx)
	if when <= ctx.Now {
		ks.remove(e)
		ctx.signal(ctx.DB, key)
	} else {
		ks.setExpire(e, when)
	}
	ctx.W.WriteInt(1)
}

// execTTL serves TTL, PTTL, EXPIRETIME and PEXPIRETIME: -2 for a missing
// key, -1 without TTL; seconds are rounded to the nearest.
func (s *State) execTTL(ctx *Ctx, argv [][]byte) {
	name := cmdName(argv[0])
	e := s.db(ctx).lookupRead(string(argv[1]), ctx.Now)
	switch {
	case e == nil:
		ctx.W.WriteInt(-2)
		return
	case !e.volatile:
		ctx.W.WriteInt(-1)
		return
	}
	v := e.expireAt
	if name == "ttl" || name == "pttl" {
		v -= ctx.Now
	}
	if v < 0 {
		v = 0
	}
	if name == "ttl" || name == "expiretime" {
		v = (v + 500) / 1000
	}
	ctx.W.WriteInt(v)
}

// execPersist removes a key's TTL.
func (s *State) execPersist(ctx *Ctx, argv [][]byte) {
	e := s.lookupWrite(ctx, ctx.DB, string(argv[1]))
	if e == nil || !s.db(ctx).persist(e) {
		ctx.W.WriteInt(0)
		return
	}
	ctx.W.WriteInt(1)
}
