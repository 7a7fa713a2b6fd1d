package engine

import (
	"math"
	"strings"

	"github.com/raftstream/raftstream/internal/redisutil"
)

// Trimming strategies of XADD and XTRIM.
const (
	trimNone = iota
	trimMaxLen
	trimMinID
)

// addTrimArgs is what XADD and XTRIM options parse into, like Redis's
// streamAddTrimArgs. The LIMIT default depends on the replicated config and
// is resolved at execution time, which keeps parsing state-free.
type addTrimArgs struct {
	strategy int
	maxLen   int64
	minID    ID
	limit    int64

	// refPolicy is KEEPREF/DELREF/ACKED (Redis 8.2), refDefault if none.
	refPolicy int

	// XADD only.
	// idmpPID is IDMP's or IDMPAUTO's producer ID (Redis 8.6), nil if
	// neither was given; idmpIID the IDMP idempotent ID, nil for IDMPAUTO.
	idmpPID, idmpIID []byte
	id               ID  // explicit ID (seq meaningless if seqAuto)
	fieldPos         int // index of the first field

	// The flags come last, together, so that the struct has no padding
	// between fields: a parsed XADD (Parsed) is one 128-byte allocation.
	approx, limitGiven bool
	noMkStream         bool // XADD only
	idAuto             bool // "*"
	seqAuto            bool // "<ms>-*"
}

// Messages of streamParseAddOrTrimArgsOrReply and xaddCommand.
const (
	errTrimBoth       = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
	errMaxLenNeg      = "ERR The MAXLEN argument must be >= 0."
	errLimitNeg       = "ERR The LIMIT argument must be >= 0."
	errLimitNoTrim    = "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
	errXTrimNoTrim    = "ERR syntax error, XTRIM must be called with a trimming strategy"
	errLimitNoApprox  = "ERR syntax error, LIMIT cannot be used without the special ~ option"
	errXAddIDZero     = "ERR The ID specified in XADD must be greater than 0-0"
	errXAddExhausted  = "ERR The stream has exhausted the last possible ID, unable to add more items"
	errXAddIDTooSmall = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
	errXAddTooLarge   = "ERR Elements are too large to be stored"

	errIDMPTwice      = "ERR syntax error, IDMP/IDMPAUTO specified multiple times"
	errIDMPAutoNoPID  = "ERR syntax error, IDMPAUTO requires a non-empty producer ID"
	errIDMPNoPID      = "ERR syntax error, IDMP requires a non-empty producer ID"
	errIDMPNoIID      = "ERR syntax error, IDMP requires a non-empty idempotent ID"
	errIDMPExplicitID = "ERR syntax error, IDMP/IDMPAUTO can be used only with auto-generated IDs"
)

// maxEntryBytes is Redis's STREAM_LISTPACK_MAX_SIZE: an entry whose fields
// and values add up to more cannot be stored.
const maxEntryBytes = 1 << 30

// parseAddTrim parses the options of XADD (xadd true) or XTRIM following the
// key, in Redis's order, with its errors. For XADD it stops at the ID.
func parseAddTrim(argv [][]byte, xadd bool) (addTrimArgs, string) {
	var a addTrimArgs
	i := 2
	idFound := false
	for ; i < len(argv); i++ {
		more := len(argv) - 1 - i
		opt := argv[i]
		switch {
		case xadd && len(opt) > 0 && opt[0] == '*' && (len(opt) == 1 || opt[1] == 0):
			a.idAuto, idFound = true, true
		case argIs(opt, "maxlen") && more > 0:
			if a.strategy != trimNone {
				return a, errTrimBoth
			}
			i = parseTrimOperator(argv, i, more, &a)
			n, ok := redisutil.ParseLL(argv[i+1])
			if !ok {
				return a, errNotInt
			}
			if n < 0 {
				return a, errMaxLenNeg
			}
			a.maxLen, a.strategy = n, trimMaxLen
			i++
		case argIs(opt, "minid") && more > 0:
			if a.strategy != trimNone {
				return a, errTrimBoth
			}
			i = parseTrimOperator(argv, i, more, &a)
			id, ok := ParseID(argv[i+1])
			if !ok {
				return a, errInvalidID
			}
			a.minID, a.strategy = id, trimMinID
			i++
		case argIs(opt, "limit") && more > 0:
			n, ok := redisutil.ParseLL(argv[i+1])
			if !ok {
				return a, errNotInt
			}
			if n < 0 {
				return a, errLimitNeg
			}
			a.limit, a.limitGiven = n, true
			i++
		case argIs(opt, "keepref") && a.refPolicy == refDefault:
			a.refPolicy = refKeep
		case argIs(opt, "delref") && a.refPolicy == refDefault:
			a.refPolicy = refDelete
		case argIs(opt, "acked") && a.refPolicy == refDefault:
			a.refPolicy = refAcked
		case xadd && argIs(opt, "nomkstream"):
			a.noMkStream = true
		case xadd && argIs(opt, "idmpauto") && more > 0:
			if a.idmpPID != nil {
				return a, errIDMPTwice
			}
			if len(argv[i+1]) == 0 {
				return a, errIDMPAutoNoPID
			}
			a.idmpPID = argv[i+1]
			i++
		case xadd && argIs(opt, "idmp") && more >= 2:
			if a.idmpPID != nil {
				return a, errIDMPTwice
			}
			if len(argv[i+1]) == 0 {
				return a, errIDMPNoPID
			}
			if len(argv[i+2]) == 0 {
				return a, errIDMPNoIID
			}
			a.idmpPID, a.idmpIID = argv[i+1], argv[i+2]
			i += 2
		case xadd:
			ms, seq, seqAuto, auto, ok := ParseAddID(opt)
			if !ok {
				return a, errInvalidID
			}
			if a.idmpPID != nil {
				// "*" itself never gets here: it ends the options above.
				return a, errIDMPExplicitID
			}
			a.idAuto, a.seqAuto, a.id = auto, seqAuto, ID{ms, seq}
			idFound = true
		default:
			return a, errSyntax
		}
		if idFound {
			break
		}
	}
	// Redis tests the LIMIT value here, not whether LIMIT was given.
	if a.limit != 0 && a.strategy == trimNone {
		return a, errLimitNoTrim
	}
	if !xadd && a.strategy == trimNone {
		return a, errXTrimNoTrim
	}
	if a.limitGiven && !a.approx {
		return a, errLimitNoApprox
	}
	a.fieldPos = i + 1
	return a, ""
}

// parseTrimOperator consumes an optional "~" or "=" after MAXLEN/MINID at
// argv[i] and returns the index just before the threshold.
func parseTrimOperator(argv [][]byte, i, more int, a *addTrimArgs) int {
	a.approx = false
	if more >= 2 {
		if next := argv[i+1]; argEq(next, "~") {
			a.approx = true
			return i + 1
		} else if argEq(next, "=") {
			return i + 1
		}
	}
	return i
}

// parseXAdd parses a whole XADD and applies every state-free check.
func parseXAdd(argv [][]byte) (addTrimArgs, string) {
	a, err := parseAddTrim(argv, true)
	if err != "" {
		return a, err
	}
	if n := len(argv) - a.fieldPos; n < 2 || n%2 == 1 {
		return a, errArity("xadd")
	}
	if !a.idAuto && !a.seqAuto && a.id.IsZero() {
		return a, errXAddIDZero
	}
	return a, ""
}

// execXAdd is Exec's XADD: parse (onto the stack), then xaddRun.
func (s *State) execXAdd(ctx *Ctx, argv [][]byte) {
	a, err := parseXAdd(argv)
	if err != "" {
		ctx.W.WriteError(err)
		return
	}
	s.xaddRun(ctx, argv, &a)
}

// xaddRun is Redis's xaddCommand with the ID taken from ctx.Now, for a
// parsed XADD (a, read only: a Parsed may be run more than once).
func (s *State) xaddRun(ctx *Ctx, argv [][]byte, a *addTrimArgs) {
	key := keyView(argv[1]) // copied below if this XADD creates the key
	e := s.lookupWrite(ctx, ctx.DB, key)
	var st *Stream
	if e != nil {
		st = e.val
	} else {
		if a.noMkStream {
			ctx.W.WriteNull()
			return
		}
		// The key is created below only once the entry is known to fit.
		st = NewStream()
	}
	fv := argv[a.fieldPos:]
	var pid, iid string
	if a.idmpPID != nil {
		pid = string(a.idmpPID)
		if a.idmpIID != nil {
			iid = string(a.idmpIID)
		} else {
			iid = idmpAutoIID(fv)
		}
		st.idmpExpire(ctx.Now)
		if id, ok := st.idmpLookup(pid, iid); ok {
			// A retry: answer the entry the first XADD added. (A stream
			// created by this XADD has no IDMP entries, so e is set.)
			st.idmpDuplicate()
			writeID(ctx.W, id)
			return
		}
	}
	last := st.LastID()
	if last == MaxID {
		ctx.W.WriteError(errXAddExhausted)
		return
	}
	id, ok := nextAddID(last, a, ctx.Now)
	if !ok {
		ctx.W.WriteError(errXAddIDTooSmall)
		return
	}
	var total int64
	for _, b := range fv {
		total += int64(len(b))
	}
	if total > maxEntryBytes {
		ctx.W.WriteError(errXAddTooLarge)
		return
	}
	if e == nil {
		s.db(ctx).add(strings.Clone(key), st)
	}
	lim := s.cfg.limits()
	if ctx.Retain {
		st.AppendRetained(id, fv, lim)
	} else {
		st.Append(id, fv, lim)
	}
	writeID(ctx.W, id)
	if a.idmpPID != nil {
		st.idmpRecord(pid, iid, id)
	}
	s.trim(st, a)
	st.retain(ctx.Now)
	ctx.signal(ctx.DB, key)
}

// nextAddID picks the new entry's ID as Redis's streamAppendItem does, with
// now standing in for the server clock. It reports false when the ID would
// not be greater than last.
func nextAddID(last ID, a *addTrimArgs, now int64) (ID, bool) {
	var id ID
	switch {
	case a.idAuto:
		ms := uint64(0)
		if now > 0 {
			ms = uint64(now)
		}
		if ms > last.Ms {
			id = ID{ms, 0}
		} else {
			// last is not MaxID (checked by the caller), so this succeeds.
			id, _ = last.Incr()
		}
	case a.seqAuto:
		if a.id.Ms == last.Ms {
			if last.Seq == math.MaxUint64 {
				return ID{}, false
			}
			id = ID{last.Ms, last.Seq + 1}
		} else {
			id = ID{a.id.Ms, 0}
		}
	default:
		id = a.id
	}
	return id, last.Less(id)
}

// trim applies a parsed MAXLEN/MINID to st and returns the number of
// entries removed.
func (s *State) trim(st *Stream, a *addTrimArgs) int64 {
	limit := int64(0)
	if a.approx {
		limit = a.limit
		if !a.limitGiven {
			limit = s.cfg.approxTrimLimit()
		}
	}
	t := TrimArgs{MaxLen: a.maxLen, MinID: a.minID, Approx: a.approx, Limit: limit}
	switch a.strategy {
	case trimMaxLen:
		t.By = TrimByMaxLen
	case trimMinID:
		t.By = TrimByMinID
	default:
		return 0
	}
	st.setRefPolicy(&t, a.refPolicy)
	return st.Trim(t)
}

// setRefPolicy makes t follow a KEEPREF/DELREF/ACKED policy on st.
func (s *Stream) setRefPolicy(t *TrimArgs, policy int) {
	switch policy {
	case refAcked:
		t.Keep = s.entryReferenced
	case refDelete:
		t.Removed = s.dropReferences
	}
}

// parseXTrim parses a whole XTRIM.
func parseXTrim(argv [][]byte) (addTrimArgs, string) { return parseAddTrim(argv, false) }

// execXTrim is Exec's XTRIM: parse, then xtrimRun.
func (s *State) execXTrim(ctx *Ctx, argv [][]byte) {
	a, err := parseXTrim(argv)
	if err != "" {
		ctx.W.WriteError(err)
		return
	}
	s.xtrimRun(ctx, argv, &a)
}

// xtrimRun is Redis's xtrimCommand for a parsed XTRIM (a, read only).
func (s *State) xtrimRun(ctx *Ctx, argv [][]byte, a *addTrimArgs) {
	e := s.lookupWrite(ctx, ctx.DB, string(argv[1]))
	if e == nil {
		ctx.W.WriteInt(0)
		return
	}
	ctx.W.WriteInt(s.trim(e.val, a))
}
