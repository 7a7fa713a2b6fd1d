package engine

import (
	"math"

	"github.com/raftstream/raftstream/internal/redisutil"
)

// XREADGROUP errors (Redis 8 wording).
const (
	errXRGUnbalanced = "ERR Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified."
	errXRGNoGroup    = "ERR Missing GROUP option for XREADGROUP"
	errXRGDollar     = "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."
	errXRGPlus       = "ERR The + ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The + ID would just return an empty result set."
	errClaimNotInt   = "ERR min-idle-time is not an integer or out of range"
	errClaimNeg      = "ERR min-idle-time must be a positive integer"
)

func errXRGNoKeyOrGroup(key, group []byte) string {
	return "NOGROUP No such key '" + string(cStr(key)) + "' or consumer group '" + string(cStr(group)) + "' in XREADGROUP with GROUP option"
}

// XReadGroupArgs is a parsed XREADGROUP.
type XReadGroupArgs struct {
	Group, Consumer []byte
	// Count caps the entries returned per stream; 0 means no cap.
	Count int64
	// Block is set when BLOCK was given; Timeout is its value in
	// milliseconds (0: wait forever), relative to the time of the call.
	Block   bool
	Timeout int64
	NoAck   bool
	// Claim is set by CLAIM (Redis 8.4): pending entries idle for at least
	// MinIdle ms are claimed before new entries are read.
	Claim   bool
	MinIdle int64
	Keys    [][]byte
	// IDs are the ID arguments as given, ">" or an explicit ID. They are
	// validated when the command runs: Redis reports a missing key or
	// group before a malformed ID of the same stream.
	IDs [][]byte
	// maxBlock is the largest BLOCK value given (BLOCK may repeat), kept
	// so the clock-dependent range check can run on the parsed value.
	maxBlock int64
}

// ParseXReadGroup parses an XREADGROUP command line (argv[0] included)
// without looking at state, returning Redis's error text on failure. As
// for ParseXRead, the clock-dependent BLOCK range check is left to Exec.
func ParseXReadGroup(argv [][]byte) (XReadGroupArgs, string) {
	a, err, _ := parseXReadGroup(argv, 0, false)
	return a, err
}

// parseXReadGroup parses XREADGROUP (options by parseReadOptions); see
// parseXRead for now, withClock and clockDependent.
func parseXReadGroup(argv [][]byte, now int64, withClock bool) (a XReadGroupArgs, err string, clockDependent bool) {
	if len(argv) < 7 {
		return a, errArity("xreadgroup"), false
	}
	o, err, clockDependent := parseReadOptions(argv, true, now, withClock)
	if err != "" {
		return a, err, clockDependent
	}
	if o.group == nil {
		return a, errXRGNoGroup, clockDependent
	}
	a.Group, a.Consumer = o.group, o.consumer
	a.Count, a.Block, a.Timeout = o.count, o.block, o.timeout
	a.NoAck, a.Claim, a.MinIdle = o.noAck, o.claim, o.minIdle
	a.maxBlock = o.maxBlock
	streamsArg := o.streamsArg
	n := (len(argv) - streamsArg) / 2
	a.Keys = argv[streamsArg : streamsArg+n]
	a.IDs = argv[streamsArg+n:]
	return a, "", clockDependent
}

// parseBlockTimeout parses a BLOCK argument as Redis's
// getTimeoutFromObjectOrReply in milliseconds.
func parseBlockTimeout(arg []byte, now int64, withClock bool) (n int64, err string, clockDependent bool) {
	n, ok := redisutil.ParseLL(arg)
	if !ok {
		return 0, errTimeoutNotInt, false
	}
	if n < 0 {
		return 0, errTimeoutNeg, false
	}
	clockDependent = n > math.MaxInt64/2
	if withClock && n > 0 && now > 0 && n > math.MaxInt64-now {
		return 0, errTimeoutRange, false
	}
	return n, "", clockDependent
}

// blockClockErr is parseBlockTimeout's clock-dependent check applied to
// an already parsed command: the largest BLOCK value is the one that would
// overflow first. A command that parsed without the clock can fail with
// the clock only here, so this is all a parsed value needs re-checked.
func blockClockErr(maxBlock, now int64) string {
	if maxBlock > 0 && now > 0 && maxBlock > math.MaxInt64-now {
		return errTimeoutRange
	}
	return ""
}

// ParseTimeoutMS parses a timeout in milliseconds as Redis's
// getTimeoutFromObjectOrReply does for BLOCK and WAIT, returning its error
// text on failure; now (ms) is for the check that the deadline fits.
func ParseTimeoutMS(arg []byte, now int64) (int64, string) {
	n, err, _ := parseBlockTimeout(arg, now, true)
	return n, err
}

// parseReadCount parses the COUNT of XREAD and XREADGROUP: a negative
// count means no cap, as in Redis.
func parseReadCount(arg []byte) (int64, string) {
	n, ok := redisutil.ParseLL(arg)
	if !ok {
		return 0, errNotInt
	}
	return max(n, 0), ""
}

// xrgID is one stream's resolved ID: new (">") or a history start.
type xrgID struct {
	new bool
	id  ID
}

// resolveXRGIDs checks each stream's key, group and ID in Redis's order
// and returns the IDs, or the error to reply. lookup finds a live stream.
func resolveXRGIDs(a *XReadGroupArgs, lookup func(key []byte) *Stream) ([]xrgID, string) {
	ids := make([]xrgID, len(a.Keys))
	for i, k := range a.Keys {
		st := lookup(k)
		if st == nil || st.group(string(a.Group)) == nil {
			return nil, errXRGNoKeyOrGroup(k, a.Group)
		}
		arg := a.IDs[i]
		switch {
		case argEq(arg, "$"):
			return nil, errXRGDollar
		case argEq(arg, "+"):
			return nil, errXRGPlus
		case argEq(arg, ">"):
			ids[i].new = true
		default:
			id, ok := ParseID(arg)
			if !ok {
				return nil, errInvalidID
			}
			ids[i].id = id
		}
	}
	return ids, ""
}

// execXReadGroup parses argv once: without the clock, then the
// clock-dependent BLOCK check on the parsed value (blockClockErr), which
// is what parsing with the clock gives for a command that parses without
// it. Only a command that fails without the clock is parsed again, with
// it, for the error that comes first. The parsed keys are the ones a
// logged XREADGROUP stamps for WATCH (watch.go): a command that parses
// without the clock stamps its keys even if it fails on the clock check.
func (s *State) execXReadGroup(ctx *Ctx, argv [][]byte) {
	a, err, _ := parseXReadGroup(argv, 0, false)
	if err != "" {
		_, err, _ = parseXReadGroup(argv, ctx.Now, true)
		ctx.W.WriteError(err)
		return
	}
	s.xreadgroupRun(ctx, &a)
}

// xreadgroupRun runs an XREADGROUP that parsed without the clock (a, read
// only): the clock-dependent BLOCK check, the read, then the WATCH stamps
// of its keys.
func (s *State) xreadgroupRun(ctx *Ctx, a *XReadGroupArgs) {
	if err := blockClockErr(a.maxBlock, ctx.Now); err != "" {
		ctx.W.WriteError(err)
	} else {
		s.xreadGroup(ctx, a)
	}
	s.touchKeyList(ctx, a.Keys)
}

// XReadGroup executes a parsed XREADGROUP (a write: it must run where
// Exec of the same command would) without blocking and writes the reply to
// ctx.W: the entries served per stream, an error, or a null array if no
// stream was served, as a timed-out read. It reports whether any stream
// was served.
func (s *State) XReadGroup(ctx *Ctx, a *XReadGroupArgs) bool {
	if ctx.DB < 0 || ctx.DB >= NumDBs {
		ctx.W.WriteError(errDBRange)
		return false
	}
	if len(a.IDs) != len(a.Keys) || a.Group == nil {
		ctx.W.WriteError(errSyntax) // not from ParseXReadGroup
		return false
	}
	return s.xreadGroup(ctx, a) > 0
}

// xreadGroup is Redis's xreadCommand for XREADGROUP, without blocking:
// with nothing to serve it answers as a timed-out read (null). It returns
// the number of streams served.
func (s *State) xreadGroup(ctx *Ctx, a *XReadGroupArgs) int {
	ids, err := resolveXRGIDs(a, func(k []byte) *Stream {
		if e := s.lookupWrite(ctx, ctx.DB, string(k)); e != nil {
			return e.val
		}
		return nil
	})
	if err != "" {
		ctx.W.WriteError(err)
		return 0
	}
	ks := s.db(ctx)
	minIdle := int64(-1)
	if a.Claim {
		minIdle = a.MinIdle
	}
	// RESP3 needs the map size up front and the streams served are only
	// known as they are served, so multi-stream RESP3 replies are recorded
	// first.
	w := ctx.W
	var rec *replyRecorder
	if w.Proto() == 3 && len(a.Keys) > 1 {
		rec = &replyRecorder{proto: 3}
		w = rec
	}
	served, mark := 0, 0
	for i, k := range a.Keys {
		st := ks.get(string(k)).val
		g := st.mutGroup(st.group(string(a.Group)))
		if minIdle != -1 {
			g.ensureTimes()
		}
		serveClaimed := minIdle != -1 && st.claimableAt(g, ctx.Now, minIdle)
		gt := ids[i].id
		serve, history := false, !ids[i].new
		if history {
			serve = true
		} else if top, ok := lastEntryID(st); ok && g.lastID.Less(top) {
			serve, gt = true, g.lastID
		}
		c, _ := st.lookupOrCreateConsumer(g, string(a.Consumer), ctx.Now)
		c.seen = ctx.Now
		claimedOnly := false
		if history {
			// CLAIM does not apply to history reads, nor (as in Redis) to
			// the streams after one.
			minIdle = -1
		} else if !serve && serveClaimed {
			serve, claimedOnly = true, true
		}
		if !serve {
			continue
		}
		if served == 0 {
			if w.Proto() == 3 && rec == nil {
				w.WriteMap(1)
			} else if w.Proto() != 3 {
				mark = w.BeginArray()
			}
		}
		served++
		if w.Proto() != 3 {
			w.WriteArray(2)
		}
		w.WriteBulk(k)
		start, ok := gt.Incr()
		if !ok {
			start = ID{} // Redis's streamIncrID wraps MaxID to 0-0
		}
		dl := s.deadLetterFor(ctx, string(k), g)
		if history {
			st.replyConsumerHistory(w, g, c, dl, start, a.Count, ctx.Now)
		} else {
			st.replyGroupRange(w, g, c, dl, start, a.Count, minIdle, a.NoAck, claimedOnly, ctx.Now)
		}
	}
	switch {
	case served == 0:
		ctx.W.WriteNullArray()
	case rec != nil:
		ctx.W.WriteMap(served)
		rec.replay(ctx.W)
	case ctx.W.Proto() != 3:
		ctx.W.EndArray(mark, served)
	}
	return served
}

// claimableAt reports whether the oldest pending entry of g that still
// exists in the stream has been idle for at least minIdle ms at now, as
// XREADGROUP CLAIM decides whether it can serve at once.
func (s *Stream) claimableAt(g *group, now, minIdle int64) bool {
	claimable := false
	g.eachByDelivery(func(e pelEntry) bool {
		if !s.entryExists(e.id) {
			return true
		}
		claimable = uint64(now)-uint64(e.deliveryTime()) >= uint64(minIdle)
		return false
	})
	return claimable
}

// oldestPendingTime returns the delivery time of g's oldest pending entry
// that still exists in the stream.
func (s *Stream) oldestPendingTime(g *group) (int64, bool) {
	var t int64
	found := false
	g.eachByDelivery(func(e pelEntry) bool {
		if !s.entryExists(e.id) {
			return true
		}
		t, found = e.deliveryTime(), true
		return false
	})
	return t, found
}

// replyGroupRange is Redis's streamReplyWithRange with a group and
// consumer (both owned by s): first, with CLAIM (minIdle != -1), pending
// entries idle long enough are claimed in delivery order and returned as
// [id, fields, idle, deliveries]; then, unless claimedOnly or COUNT is
// reached, entries from start on are delivered (with "0 0" appended under
// CLAIM), advancing the group and, unless noack, entering the PEL.
// Claimed entries dl finds due go to the dead-letter stream instead.
func (s *Stream) replyGroupRange(w ReplyWriter, g *group, c *consumer, dl *deadLetter, start ID, count, minIdle int64, noack, claimedOnly bool, now int64) {
	mark := w.BeginArray()
	var n int64
	if minIdle != -1 {
		n = s.claimIdle(w, g, c, dl, count, minIdle, now)
	}
	if claimedOnly || (count > 0 && n == count) {
		w.EndArray(mark, int(n))
		return
	}
	s.Range(start, MaxID, false, func(id ID, fv [][]byte) bool {
		if g.lastID.Less(id) {
			s.advanceGroup(g, id)
		}
		if minIdle != -1 {
			w.WriteArray(4)
		} else {
			w.WriteArray(2)
		}
		writeID(w, id)
		w.WriteArray(len(fv))
		for _, b := range fv {
			w.WriteBulk(b)
		}
		if minIdle != -1 {
			w.WriteInt(0)
			w.WriteInt(0)
		}
		if !noack {
			if e, ok := g.pelGet(id); ok {
				// Already pending (the group was moved back by SETID):
				// the entry changes hands and counts as delivered once.
				old := e.timeKey()
				s.pelOwn(g, &e, c)
				e.count = 1
				g.pelMove(old, &e, now)
			} else {
				g.pelAdd(c, id, now)
			}
			c.active = now
		}
		n++
		return count == 0 || n < count
	})
	w.EndArray(mark, int(n))
}

// claimIdle is the CLAIM part of replyGroupRange: it walks g's delivery
// order from the oldest entry up to the entry that was last when it began,
// stopping at the first entry idle for less than minIdle, and claims for c
// every entry that still exists in the stream (at most count if count >
// 0), or dead-letters it if dl finds it due. It returns the number claimed.
func (s *Stream) claimIdle(w ReplyWriter, g *group, c *consumer, dl *deadLetter, count, minIdle, now int64) int64 {
	tail, ok := g.times.Max()
	if !ok {
		return 0
	}
	firstSeq := g.nextSeq // entries moved during the walk get seq >= firstSeq
	var n int64
	var cur timeKey
	started := false
	for {
		k, ok := nextTimeKey(g, cur, started)
		if !ok || timeLess(tail, k) {
			break
		}
		cur, started = k, true
		if k.seq >= firstSeq {
			continue
		}
		e, _ := g.pelGet(k.id)
		idle := uint64(now) - uint64(e.deliveryTime())
		if idle < uint64(minIdle) {
			break
		}
		if dl.due(g, e) && dl.move(s, g, e, c.name) {
			continue
		}
		delivered := e.count
		written := s.Get(e.id, func(fv [][]byte) {
			w.WriteArray(4)
			writeID(w, e.id)
			w.WriteArray(len(fv))
			for _, b := range fv {
				w.WriteBulk(b)
			}
			w.WriteInt(int64(idle))
			w.WriteInt(delivered)
		})
		if !written {
			continue
		}
		old := e.timeKey()
		s.pelOwn(g, &e, c)
		e.count = incrCount(e.count)
		g.pelMove(old, &e, now)
		c.active = now
		n++
		if count > 0 && n >= count {
			break
		}
	}
	return n
}

// nextTimeKey returns the first key of g's delivery order, or once started
// the first key after cur.
func nextTimeKey(g *group, cur timeKey, started bool) (timeKey, bool) {
	if !started {
		return g.times.Min()
	}
	var out timeKey
	found := false
	g.times.Ascend(cur, func(k timeKey) bool {
		if k == cur {
			return true
		}
		out, found = k, true
		return false
	})
	return out, found
}

// replyConsumerHistory is Redis's streamReplyWithRangeFromConsumerPEL: the
// entries c has pending from start on (at most count if count > 0), each
// counted as delivered again now; an entry deleted from the stream is
// shown as [id, nil]. Entries dl finds due go to the dead-letter stream
// and are left out.
func (s *Stream) replyConsumerHistory(w ReplyWriter, g *group, c *consumer, dl *deadLetter, start ID, count, now int64) {
	mark := w.BeginArray()
	var n int64
	cur, ok := idNext(c.pel, start)
	for ok && (count == 0 || n < count) {
		id := cur
		e, found := g.pelGet(id)
		switch {
		case found && dl.due(g, e) && dl.move(s, g, e, c.name):
			// Dead-lettered: no longer pending, so not part of the reply.
		case writeStreamEntry(w, s, id):
			if found {
				old := e.timeKey()
				e.count = incrCount(e.count)
				g.pelMove(old, &e, now)
			}
			n++
		default:
			w.WriteArray(2)
			writeID(w, id)
			w.WriteNullArray()
			n++
		}
		next, more := id.Incr()
		if !more {
			break
		}
		cur, ok = idNext(c.pel, next)
	}
	w.EndArray(mark, int(n))
}

// XReadGroupWouldServe reports, without modifying the state, whether
// executing the parsed XREADGROUP a (from ParseXReadGroup, which a blocked
// client parses once for all its wake-ups) now must go through the log: it would
// deliver or claim entries, read a consumer's history (a reply even when
// empty), create the consumer (Redis 7.2+ does even when nothing is
// delivered), or reply an error. False means Exec would reply null and
// change nothing but the consumers' seen-time, so the server may answer
// (or block) without a log entry; that seen-time update is then skipped,
// the one deliberate difference from Redis, whose XINFO CONSUMERS "idle"
// therefore counts from the last XREADGROUP that went through the log.
func (s *State) XReadGroupWouldServe(ctx *Ctx, a *XReadGroupArgs) bool {
	if ctx.DB < 0 || ctx.DB >= NumDBs || len(a.IDs) != len(a.Keys) || a.Group == nil {
		return true
	}
	if blockClockErr(a.maxBlock, ctx.Now) != "" {
		return true // Exec would reply "timeout is out of range"
	}
	ks := s.db(ctx)
	lookup := func(k []byte) *Stream {
		if e := ks.lookupRead(string(k), ctx.Now); e != nil {
			return e.val
		}
		return nil
	}
	ids, err := resolveXRGIDs(a, lookup)
	if err != "" {
		return true
	}
	for i, k := range a.Keys {
		if !ids[i].new {
			return true
		}
		st := lookup(k)
		g := st.group(string(a.Group))
		if g.consumer(string(a.Consumer)) == nil {
			return true
		}
		if top, ok := lastEntryID(st); ok && g.lastID.Less(top) {
			return true
		}
		if a.Claim && st.claimableAt(g, ctx.Now, a.MinIdle) {
			return true
		}
	}
	return false
}

// XReadGroupClaimDeadline returns, for a parsed XREADGROUP with CLAIM, the
// earliest time (Unix ms) at which a pending entry of one of its streams
// becomes claimable, as Redis computes the wake-up of a blocked
// XREADGROUP CLAIM: the oldest delivery time plus min-idle-time, or now
// plus min-idle-time when nothing is pending. ok is false without CLAIM or
// when the command would fail. It only reads the state.
func (s *State) XReadGroupClaimDeadline(ctx *Ctx, a *XReadGroupArgs) (at int64, ok bool) {
	if ctx.DB < 0 || ctx.DB >= NumDBs || !a.Claim || len(a.IDs) != len(a.Keys) || a.Group == nil {
		return 0, false
	}
	if blockClockErr(a.maxBlock, ctx.Now) != "" {
		return 0, false
	}
	ks := s.db(ctx)
	lookup := func(k []byte) *Stream {
		if e := ks.lookupRead(string(k), ctx.Now); e != nil {
			return e.val
		}
		return nil
	}
	if _, err := resolveXRGIDs(a, lookup); err != "" {
		return 0, false
	}
	oldest, found := int64(math.MaxInt64), false
	for _, k := range a.Keys {
		st := lookup(k)
		if t, ok := st.oldestPendingTime(st.group(string(a.Group))); ok && t < oldest {
			oldest, found = t, true
		}
	}
	if !found {
		oldest = ctx.Now
	}
	return int64(uint64(a.MinIdle) + uint64(oldest)), true
}
