package engine

import "github.com/raftstream/raftstream/internal/redisutil"

// xpendingArgs is a parsed XPENDING.
type xpendingArgs struct {
	summary    bool
	minIdle    int64
	start, end ID
	count      int64
	consumer   []byte // nil: every consumer
}

// parseXPending parses XPENDING key group [[IDLE n] start end count
// [consumer]] in Redis's order (IDLE value, count, start, end), all before
// the key is looked up.
func parseXPending(argv [][]byte) (xpendingArgs, string) {
	a := xpendingArgs{summary: len(argv) == 3}
	if len(argv) != 3 && (len(argv) < 6 || len(argv) > 9) {
		return a, errSyntax
	}
	if a.summary {
		return a, ""
	}
	i := 3
	if argIs(argv[3], "idle") {
		n, ok := redisutil.ParseLL(argv[4])
		if !ok {
			return a, errNotInt
		}
		if len(argv) < 8 {
			return a, errSyntax
		}
		a.minIdle = n
		i += 2
	}
	n, ok := redisutil.ParseLL(argv[i+2])
	if !ok {
		return a, errNotInt
	}
	a.count = max(n, 0)
	var ex bool
	if a.start, ex, ok = ParseRangeID(argv[i], 0); !ok {
		return a, errInvalidID
	}
	if ex {
		if a.start, ok = a.start.Incr(); !ok {
			return a, errStartInterval
		}
	}
	if a.end, ex, ok = ParseRangeID(argv[i+1], ^uint64(0)); !ok {
		return a, errInvalidID
	}
	if ex {
		if a.end, ok = a.end.Decr(); !ok {
			return a, errEndInterval
		}
	}
	if i+3 < len(argv) {
		// Arguments after the consumer are ignored, as in Redis.
		a.consumer = argv[i+3]
	}
	return a, ""
}

// xpendingRun is Redis's xpendingCommand after the parse (parsed.go).
func (s *State) xpendingRun(ctx *Ctx, argv [][]byte, a xpendingArgs) {
	e := s.db(ctx).lookupRead(string(argv[1]), ctx.Now)
	var g *group
	if e != nil {
		g = e.val.group(string(argv[2]))
	}
	if g == nil {
		ctx.W.WriteError(errNoKeyOrGroup(argv[1], argv[2]))
		return
	}
	w := ctx.W
	if a.summary {
		w.WriteArray(4)
		w.WriteInt(int64(g.pel.Len()))
		if g.pel.Len() == 0 {
			w.WriteNull()
			w.WriteNull()
			w.WriteNullArray()
			return
		}
		first, _ := g.pel.Min()
		last, _ := g.pel.Max()
		writeID(w, first.id)
		writeID(w, last.id)
		mark := w.BeginArray()
		n := 0
		g.consumers.Scan(func(c *consumer) bool {
			if c.pel.Len() > 0 {
				w.WriteArray(2)
				w.WriteBulkString(c.name)
				w.WriteBulk(appendInt(nil, int64(c.pel.Len())))
				n++
			}
			return true
		})
		w.EndArray(mark, n)
		return
	}
	var c *consumer
	if a.consumer != nil {
		if c = g.consumer(string(a.consumer)); c == nil {
			w.WriteArray(0)
			return
		}
	}
	mark := w.BeginArray()
	n := 0
	emit := func(pe pelEntry) bool {
		if a.count == 0 || a.end.Less(pe.id) {
			return false
		}
		if !pe.unowned() && a.minIdle != 0 && ctx.Now-pe.time < a.minIdle {
			return true
		}
		n++
		a.count--
		w.WriteArray(4)
		writeID(w, pe.id)
		elapsed := int64(-1)
		if pe.unowned() {
			w.WriteBulkString("")
		} else {
			w.WriteBulkString(pe.consumer)
			elapsed = max(ctx.Now-pe.time, 0)
		}
		w.WriteInt(elapsed)
		w.WriteInt(pe.count)
		return true
	}
	if c != nil {
		c.pel.Ascend(a.start, func(id ID) bool {
			pe, _ := g.pelGet(id)
			return emit(pe)
		})
	} else {
		g.pel.Ascend(pelEntry{id: a.start}, emit)
	}
	w.EndArray(mark, n)
}
