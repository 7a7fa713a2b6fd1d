package engine

import (
	"math"

	"github.com/raftstream/raftstream/internal/redisutil"
)

// XCLAIM/XAUTOCLAIM errors.
const (
	errXAutoClaimCount = "ERR COUNT must be > 0"
	errXAutoClaimMem   = "ERR Insufficient memory, failed allocating transient memory, COUNT too high."
)

// xautoclaimMaxCount is the largest COUNT XAUTOCLAIM parses:
// LONG_MAX / max(sizeof(streamID), 10).
const xautoclaimMaxCount = math.MaxInt64 / 16

// xautoclaimMemLimit stands in for Redis's allocation of COUNT IDs for the
// deleted-IDs reply, which fails with "Insufficient memory" when COUNT is
// absurd. Whether malloc fails depends on the machine, so the limit here
// is fixed for determinism: COUNT x 16 bytes above 1 TiB is refused.
const xautoclaimMemLimit = 1 << 40

// execXClaim is Redis's xclaimCommand.
func (s *State) execXClaim(ctx *Ctx, argv [][]byte) {
	st, g := s.streamGroup(ctx, argv[1], argv[2])
	if g == nil {
		ctx.W.WriteError(errNoKeyOrGroup(argv[1], argv[2]))
		return
	}
	minIdle, err := parseLLMsg(argv[4], "Invalid min-idle-time argument for XCLAIM")
	if err != "" {
		ctx.W.WriteError(err)
		return
	}
	minIdle = max(minIdle, 0)
	// IDs run until the first argument that is not one; the rest are
	// options.
	j := 5
	var ids []ID
	for ; j < len(argv); j++ {
		id, ok := ParseID(argv[j])
		if !ok {
			break
		}
		ids = append(ids, id)
	}
	now := ctx.Now
	var (
		force, justID bool
		retry         = int64(-1)
		delivery      = int64(-1)
		lastID        ID
	)
	for ; j < len(argv); j++ {
		more := len(argv) - 1 - j
		var e string
		switch o := argv[j]; {
		case argIs(o, "force"):
			force = true
		case argIs(o, "justid"):
			justID = true
		case argIs(o, "idle") && more > 0:
			j++
			var idle int64
			idle, e = parseLLMsg(argv[j], "Invalid IDLE option argument for XCLAIM")
			delivery = now - idle
		case argIs(o, "time") && more > 0:
			j++
			delivery, e = parseLLMsg(argv[j], "Invalid TIME option argument for XCLAIM")
		case argIs(o, "retrycount") && more > 0:
			j++
			retry, e = parseLLMsg(argv[j], "Invalid RETRYCOUNT option argument for XCLAIM")
		case argIs(o, "lastid") && more > 0:
			j++
			id, ok := ParseID(argv[j])
			if !ok {
				e = errInvalidID
			}
			lastID = id
		default:
			e = "ERR Unrecognized XCLAIM option '" + string(cStr(o)) + "'"
		}
		if e != "" {
			ctx.W.WriteError(e)
			return
		}
	}
	g = st.mutGroup(g)
	if g.lastID.Less(lastID) {
		g.lastID = lastID
	}
	// A bogus delivery time becomes now rather than an error: clients may
	// compute it from a clock a little ahead of the server's.
	if delivery < 0 || delivery > now {
		delivery = now
	}
	c, _ := st.lookupOrCreateConsumer(g, string(argv[3]), now)
	c.seen = now
	dl := s.deadLetterFor(ctx, string(argv[1]), g)
	mark := ctx.W.BeginArray()
	n := 0
	for _, id := range ids {
		pe, pending := g.pelGet(id)
		if !st.entryExists(id) {
			// Deleted from the stream: drop it from the PEL (Redis 7+).
			if pending {
				st.pelRemove(g, pe)
			}
			continue
		}
		if !pending {
			if !force {
				continue
			}
			pe = pelEntry{id: id, time: -1, count: 1, seq: g.nextSeq}
			g.nextSeq++
			g.pel.Set(pe)
			g.timesSet(pe.timeKey())
		} else if !pe.unowned() && minIdle > 0 && now-pe.time < minIdle {
			continue
		}
		if retry < 0 && !justID && dl.due(g, pe) && dl.move(st, g, pe, c.name) {
			continue
		}
		old := pe.timeKey()
		st.pelOwn(g, &pe, c)
		switch {
		case retry >= 0:
			pe.count = retry
		case !justID:
			pe.count = incrCount(pe.count)
		}
		g.pelMove(old, &pe, delivery)
		if justID {
			writeID(ctx.W, id)
		} else {
			writeStreamEntry(ctx.W, st, id)
		}
		n++
		c.active = now
	}
	ctx.W.EndArray(mark, n)
}

// xautoclaimArgs is a parsed XAUTOCLAIM.
type xautoclaimArgs struct {
	minIdle int64
	start   ID
	count   int64
	justID  bool
}

// parseXAutoClaim parses XAUTOCLAIM key group consumer min-idle-time start
// [COUNT n] [JUSTID], all before the key is looked up.
func parseXAutoClaim(argv [][]byte) (xautoclaimArgs, string) {
	a := xautoclaimArgs{count: 100}
	var err string
	if a.minIdle, err = parseLLMsg(argv[4], "Invalid min-idle-time argument for XAUTOCLAIM"); err != "" {
		return a, err
	}
	a.minIdle = max(a.minIdle, 0)
	start, ex, ok := ParseRangeID(argv[5], 0)
	if !ok {
		return a, errInvalidID
	}
	if ex {
		if start, ok = start.Incr(); !ok {
			return a, errStartInterval
		}
	}
	a.start = start
	for j := 6; j < len(argv); j++ {
		more := len(argv) - 1 - j
		switch {
		case argIs(argv[j], "count") && more > 0:
			n, ok := redisutil.ParseLL(argv[j+1])
			if !ok || n < 1 || n > xautoclaimMaxCount {
				return a, errXAutoClaimCount
			}
			a.count = n
			j++
		case argIs(argv[j], "justid"):
			a.justID = true
		default:
			return a, errSyntax
		}
	}
	return a, ""
}

// execXAutoClaim is Exec's XAUTOCLAIM: parse, then xautoclaimRun.
func (s *State) execXAutoClaim(ctx *Ctx, argv [][]byte) {
	a, err := parseXAutoClaim(argv)
	if err != "" {
		ctx.W.WriteError(err)
		return
	}
	s.xautoclaimRun(ctx, argv, &a)
}

// xautoclaimRun is Redis's xautoclaimCommand: it scans the group's PEL
// from start, claiming for the consumer the entries idle for at least
// min-idle-time and dropping entries deleted from the stream, until COUNT
// entries were claimed or dropped or 10 x COUNT were examined. It replies
// the ID to continue from (0-0 at the end), the claimed entries and the
// dropped IDs. a is read only.
func (s *State) xautoclaimRun(ctx *Ctx, argv [][]byte, a *xautoclaimArgs) {
	st, g := s.streamGroup(ctx, argv[1], argv[2])
	if g == nil {
		ctx.W.WriteError(errNoKeyOrGroup(argv[1], argv[2]))
		return
	}
	if a.count > xautoclaimMemLimit/16 {
		ctx.W.WriteError(errXAutoClaimMem)
		return
	}
	now := ctx.Now
	g = st.mutGroup(g)
	c, _ := st.lookupOrCreateConsumer(g, string(argv[3]), now)
	c.seen = now
	dl := s.deadLetterFor(ctx, string(argv[1]), g)
	attempts := a.count * 10
	count := a.count
	var claimed, deleted []ID
	var last ID
	examined := false
	for attempts > 0 && count > 0 {
		attempts--
		from := a.start
		if examined {
			var ok bool
			if from, ok = last.Incr(); !ok {
				break
			}
		}
		pe, ok := g.pelNext(from)
		if !ok {
			break
		}
		last, examined = pe.id, true
		if !st.entryExists(pe.id) {
			st.pelRemove(g, pe)
			deleted = append(deleted, pe.id)
			count--
			continue
		}
		if !pe.unowned() && a.minIdle > 0 && now-pe.time < a.minIdle {
			continue
		}
		if !a.justID && dl.due(g, pe) && dl.move(st, g, pe, c.name) {
			count--
			continue
		}
		old := pe.timeKey()
		st.pelOwn(g, &pe, c)
		if !a.justID {
			pe.count = incrCount(pe.count)
		}
		g.pelMove(old, &pe, now)
		claimed = append(claimed, pe.id)
		count--
		c.active = now
	}
	// The cursor is the first pending ID after the last one examined.
	var cursor ID
	if examined {
		if from, ok := last.Incr(); ok {
			if pe, ok := g.pelNext(from); ok {
				cursor = pe.id
			}
		}
	}
	w := ctx.W
	w.WriteArray(3)
	writeID(w, cursor)
	w.WriteArray(len(claimed))
	for _, id := range claimed {
		if a.justID {
			writeID(w, id)
		} else {
			writeStreamEntry(w, st, id)
		}
	}
	w.WriteArray(len(deleted))
	for _, id := range deleted {
		writeID(w, id)
	}
}
