package engine

import "github.com/raftstream/raftstream/internal/redisutil"

// XREAD errors (Redis 8 wording).
const (
	errXReadUnbalanced = "ERR Unbalanced 'xread' list of streams: for each stream key an ID, '+', or '$' must be specified."
	errXReadGroup      = "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."
	errXReadNoAck      = "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."
	errXReadClaim      = "ERR The CLAIM option is only supported by XREADGROUP. You called XREAD instead."
	errXReadGT         = "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."
	errTimeoutNotInt   = "ERR timeout is not an integer or out of range"
	errTimeoutNeg      = "ERR timeout is negative"
	errTimeoutRange    = "ERR timeout is out of range"
)

// XReadIDKind says how an XREAD stream ID was given.
type XReadIDKind uint8

// XREAD ID forms.
const (
	// XReadExplicit is an ID given by the client: entries after it are read.
	XReadExplicit XReadIDKind = iota
	// XReadDollar is "$": only entries added after the call.
	XReadDollar
	// XReadPlus is "+": the last entry of the stream (Redis 7.4+).
	XReadPlus
)

// XReadID is one stream's starting point in an XREAD.
type XReadID struct {
	Kind XReadIDKind
	// ID is meaningful for XReadExplicit.
	ID ID
}

// XReadArgs is a parsed XREAD.
type XReadArgs struct {
	// Count caps the entries returned per stream; 0 means no cap.
	Count int64
	// Block is set when BLOCK was given; Timeout is its value in
	// milliseconds (0: wait forever), relative to the time of the call.
	Block   bool
	Timeout int64
	Keys    [][]byte
	IDs     []XReadID
	// maxBlock is the largest BLOCK value given; see blockClockErr.
	maxBlock int64
}

// ParseXRead parses an XREAD command line (argv[0] included) without
// looking at state, returning Redis's error text on failure. The one
// BLOCK error that depends on the clock ("timeout is out of range": the
// deadline would overflow) is left to Exec.
func ParseXRead(argv [][]byte) (XReadArgs, string) {
	a, err, _ := parseXRead(argv, 0, false)
	return a, err
}

// parseXRead is ParseXRead that, when withClock is set, also applies the
// "timeout is out of range" check against now at the point Redis does,
// which gives Exec Redis's error precedence. clockDependent reports a BLOCK
// timeout so large that this check could fire for some clock value.
func parseXRead(argv [][]byte, now int64, withClock bool) (a XReadArgs, err string, clockDependent bool) {
	if len(argv) < 4 {
		return a, errArity("xread"), false
	}
	o, err, clockDependent := parseReadOptions(argv, false, now, withClock)
	if err != "" {
		return a, err, clockDependent
	}
	a.Count, a.Block, a.Timeout, a.maxBlock = o.count, o.block, o.timeout, o.maxBlock
	streamsArg := o.streamsArg
	n := (len(argv) - streamsArg) / 2
	a.Keys = argv[streamsArg : streamsArg+n]
	a.IDs = make([]XReadID, n)
	for j := range a.IDs {
		arg := argv[streamsArg+n+j]
		switch {
		case argEq(arg, "$"):
			a.IDs[j].Kind = XReadDollar
		case argEq(arg, "+"):
			a.IDs[j].Kind = XReadPlus
		case argEq(arg, ">"):
			return a, errXReadGT, clockDependent
		default:
			id, ok := ParseID(arg)
			if !ok {
				return a, errInvalidID, clockDependent
			}
			a.IDs[j].ID = id
		}
	}
	return a, "", clockDependent
}

// readOptions are the options before STREAMS, which XREAD and XREADGROUP
// share: Redis parses both commands in one loop (xreadCommand), which
// rejects the XREADGROUP-only options in an XREAD with their own errors.
type readOptions struct {
	count           int64
	block           bool
	timeout         int64
	maxBlock        int64 // the largest BLOCK value, which may repeat
	noAck           bool
	claim           bool
	minIdle         int64
	group, consumer []byte
	// streamsArg is the index of the first key after STREAMS; the keys
	// and IDs after it are balanced (an even number).
	streamsArg int
}

// parseReadOptions is that loop, for XREADGROUP when group is set; see
// parseXRead for now, withClock and clockDependent.
func parseReadOptions(argv [][]byte, group bool, now int64, withClock bool) (o readOptions, err string, clockDependent bool) {
	for i := 1; i < len(argv); i++ {
		more := len(argv) - 1 - i
		arg := argv[i]
		switch {
		case argIs(arg, "block") && more > 0:
			i++
			n, e, dep := parseBlockTimeout(argv[i], now, withClock)
			clockDependent = clockDependent || dep
			if e != "" {
				return o, e, clockDependent
			}
			o.block, o.timeout, o.maxBlock = true, n, max(o.maxBlock, n)
		case argIs(arg, "count") && more > 0:
			i++
			if o.count, err = parseReadCount(argv[i]); err != "" {
				return o, err, clockDependent
			}
		case argIs(arg, "streams") && more > 0:
			o.streamsArg = i + 1
			if (len(argv)-o.streamsArg)%2 != 0 {
				if group {
					return o, errXRGUnbalanced, clockDependent
				}
				return o, errXReadUnbalanced, clockDependent
			}
			i = len(argv) // the rest are keys and IDs
		case argIs(arg, "claim") && more > 0:
			if !group {
				return o, errXReadClaim, clockDependent
			}
			i++
			n, ok := redisutil.ParseLL(argv[i])
			if !ok {
				return o, errClaimNotInt, clockDependent
			}
			if n < 0 {
				return o, errClaimNeg, clockDependent
			}
			o.claim, o.minIdle = true, n
		case argIs(arg, "group") && more >= 2:
			if !group {
				return o, errXReadGroup, clockDependent
			}
			o.group, o.consumer = argv[i+1], argv[i+2]
			i += 2
		case argIs(arg, "noack"):
			if !group {
				return o, errXReadNoAck, clockDependent
			}
			o.noAck = true
		default:
			return o, errSyntax, clockDependent
		}
	}
	if o.streamsArg == 0 {
		return o, errSyntax, clockDependent
	}
	return o, "", clockDependent
}

// execXRead runs XREAD without blocking: with BLOCK and nothing to read it
// answers as a timed-out read would (null); the server does the waiting.
func (s *State) execXRead(ctx *Ctx, argv [][]byte) {
	a, err, _ := parseXRead(argv, ctx.Now, true)
	if err != "" {
		ctx.W.WriteError(err)
		return
	}
	s.XRead(ctx, &a)
}

// ExecXRead runs a parsed XREAD (from ParseXRead) as Exec runs its argv,
// with the same reply and errors: a blocked client's first attempt, whose
// argv has been parsed already. Unlike XRead it applies the clock-dependent
// BLOCK range check, at the point Exec does.
func (s *State) ExecXRead(ctx *Ctx, a *XReadArgs) {
	if ctx.DB < 0 || ctx.DB >= NumDBs {
		ctx.W.WriteError(errDBRange)
		return
	}
	if err := blockClockErr(a.maxBlock, ctx.Now); err != "" {
		ctx.W.WriteError(err)
		return
	}
	s.XRead(ctx, a)
}

// ResolveXRead replaces each "$" in a with the current last ID of its stream
// (0-0 for a missing key), as Redis rewrites the command before blocking, so
// that re-running the read later returns only entries added since. It only
// reads the state. An out-of-range ctx.DB leaves a unchanged.
func (s *State) ResolveXRead(ctx *Ctx, a *XReadArgs) {
	if ctx.DB < 0 || ctx.DB >= NumDBs {
		return
	}
	ks := s.db(ctx)
	for j := range a.IDs {
		if a.IDs[j].Kind != XReadDollar {
			continue
		}
		id := ID{}
		if e := ks.lookupRead(string(a.Keys[j]), ctx.Now); e != nil {
			id = e.val.LastID()
		}
		a.IDs[j] = XReadID{Kind: XReadExplicit, ID: id}
	}
}

// XRead serves a parsed XREAD from the current state and writes the reply
// to ctx.W: for each stream with entries after its ID, [key, entries] (a
// map key -> entries in RESP3), or a null array if none has any. It reports
// whether any entries were returned.
func (s *State) XRead(ctx *Ctx, a *XReadArgs) bool {
	if ctx.DB < 0 || ctx.DB >= NumDBs {
		ctx.W.WriteError(errDBRange)
		return false
	}
	ks := s.db(ctx)
	type served struct {
		st    *Stream
		key   []byte
		start ID
	}
	var out []served
	for j, k := range a.Keys {
		if j >= len(a.IDs) {
			break // not from ParseXRead; read only what is well-formed
		}
		e := ks.lookupRead(string(k), ctx.Now)
		if e == nil {
			continue
		}
		var gt ID
		switch a.IDs[j].Kind {
		case XReadExplicit:
			gt = a.IDs[j].ID
		case XReadDollar:
			gt = e.val.LastID()
		case XReadPlus:
			// Read from just before the last entry so that it is returned.
			if top, ok := lastEntryID(e.val); ok {
				gt, _ = top.Decr()
			}
		}
		top, ok := lastEntryID(e.val)
		if !ok || !gt.Less(top) {
			continue
		}
		start, _ := gt.Incr() // gt < top, so gt is not MaxID
		out = append(out, served{st: e.val, key: k, start: start})
	}
	if len(out) == 0 {
		ctx.W.WriteNullArray()
		return false
	}
	resp3 := ctx.W.Proto() == 3
	if resp3 {
		ctx.W.WriteMap(len(out))
	} else {
		ctx.W.WriteArray(len(out))
	}
	for _, sv := range out {
		if !resp3 {
			ctx.W.WriteArray(2)
		}
		ctx.W.WriteBulk(sv.key)
		writeRange(ctx.W, sv.st, sv.start, MaxID, a.Count, false)
	}
	return true
}
