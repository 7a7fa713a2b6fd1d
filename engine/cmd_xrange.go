package engine

import "github.com/raftstream/raftstream/internal/redisutil"

const (
	errStartInterval = "ERR invalid start ID for the interval"
	errEndInterval   = "ERR invalid end ID for the interval"
)

// xrangeArgs is a parsed XRANGE/XREVRANGE.
type xrangeArgs struct {
	start, end ID
	// count is -1 without COUNT; a negative COUNT counts as 0.
	count int64
}

// parseXRange parses XRANGE key start end [COUNT n] (XREVRANGE swaps start
// and end) as Redis's xrangeGenericCommand: start, then end, then COUNT.
func parseXRange(argv [][]byte, rev bool) (xrangeArgs, string) {
	a := xrangeArgs{count: -1}
	startArg, endArg := argv[2], argv[3]
	if rev {
		startArg, endArg = endArg, startArg
	}
	var (
		ex bool
		ok bool
	)
	if a.start, ex, ok = ParseRangeID(startArg, 0); !ok {
		return a, errInvalidID
	}
	if ex {
		if a.start, ok = a.start.Incr(); !ok {
			return a, errStartInterval
		}
	}
	if a.end, ex, ok = ParseRangeID(endArg, ^uint64(0)); !ok {
		return a, errInvalidID
	}
	if ex {
		if a.end, ok = a.end.Decr(); !ok {
			return a, errEndInterval
		}
	}
	for j := 4; j < len(argv); j++ {
		if !argIs(argv[j], "count") || j+1 >= len(argv) {
			return a, errSyntax
		}
		n, ok := redisutil.ParseLL(argv[j+1])
		if !ok {
			return a, errNotInt
		}
		if n < 0 {
			n = 0
		}
		a.count = n
		j++
	}
	return a, ""
}

// xrangeRun serves a parsed XRANGE or XREVRANGE (parsed.go).
func (s *State) xrangeRun(ctx *Ctx, argv [][]byte, a xrangeArgs, rev bool) {
	e := s.db(ctx).lookupRead(string(argv[1]), ctx.Now)
	if e == nil {
		ctx.W.WriteArray(0)
		return
	}
	if a.count == 0 {
		// Redis answers an explicit COUNT 0 with a null array.
		ctx.W.WriteNullArray()
		return
	}
	if a.count < 0 {
		a.count = 0
	}
	writeRange(ctx.W, e.val, a.start, a.end, a.count, rev)
}

// writeRange writes the entries of st between start and end (inclusive) as
// an array, at most count of them unless count is 0, and returns how many.
func writeRange(w ReplyWriter, st *Stream, start, end ID, count int64, rev bool) int64 {
	mark := w.BeginArray()
	var n int64
	if !end.Less(start) {
		st.Range(start, end, rev, func(id ID, fv [][]byte) bool {
			writeEntry(w, id, fv)
			n++
			return count == 0 || n < count
		})
	}
	w.EndArray(mark, int(n))
	return n
}

// writeEntry writes one stream entry: [id, [field, value, ...]]. The field
// list stays a flat array in RESP3 too, as Redis sends it.
func writeEntry(w ReplyWriter, id ID, fv [][]byte) {
	w.WriteArray(2)
	writeID(w, id)
	w.WriteArray(len(fv))
	for _, b := range fv {
		w.WriteBulk(b)
	}
}

// lastEntryID returns the ID of st's last live entry (Redis's
// streamLastValidID), which differs from LastID after deletions.
func lastEntryID(st *Stream) (ID, bool) {
	var last ID
	found := false
	st.Range(MinID, MaxID, true, func(id ID, _ [][]byte) bool {
		last, found = id, true
		return false
	})
	return last, found
}
