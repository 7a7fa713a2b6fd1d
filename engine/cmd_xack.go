package engine

import "github.com/raftstream/raftstream/internal/redisutil"

// execXAck is Redis's xackCommand: a missing key or group acknowledges
// nothing (and leaves the IDs unparsed); otherwise every ID is parsed
// before any is acknowledged.
func (s *State) execXAck(ctx *Ctx, argv [][]byte) {
	st, g := s.streamGroup(ctx, argv[1], argv[2])
	if g == nil {
		ctx.W.WriteInt(0)
		return
	}
	ids, ok := parseIDList(argv[3:])
	if !ok {
		ctx.W.WriteError(errInvalidID)
		return
	}
	var n int64
	for _, id := range ids {
		if e, found := g.pelGet(id); found {
			g = st.mutGroup(g)
			st.pelRemove(g, e)
			n++
		}
	}
	ctx.W.WriteInt(n)
}

// streamGroup looks up a stream for writing and one of its groups; either
// may be nil.
func (s *State) streamGroup(ctx *Ctx, key, name []byte) (*Stream, *group) {
	e := s.lookupWrite(ctx, ctx.DB, string(key))
	if e == nil {
		return nil, nil
	}
	return e.val, e.val.group(string(name))
}

// parseIDList parses strict IDs.
func parseIDList(args [][]byte) ([]ID, bool) {
	ids := make([]ID, len(args))
	for i, a := range args {
		id, ok := ParseID(a)
		if !ok {
			return nil, false
		}
		ids[i] = id
	}
	return ids, true
}

// Reference policies of Redis 8.2's XADD/XTRIM/XDELEX/XACKDEL.
const (
	refDefault = iota // none given: KEEPREF
	refKeep
	refDelete
	refAcked
)

// XDELEX/XACKDEL replies per ID.
const (
	delNotFound   = -1
	delDeleted    = 1
	delReferenced = 2
)

// XDELEX/XACKDEL errors.
const (
	errNumIDs      = "ERR Number of IDs must be a positive integer"
	errNumIDsMatch = "ERR The `numids` parameter must match the number of arguments"
	errIDSRequired = "ERR IDS option is required"
)

// ackDelArgs is a parsed XDELEX/XACKDEL option list.
type ackDelArgs struct {
	policy int
	ids    [][]byte
}

// parseAckDelArgs is Redis's streamParseAckDelArgsOrReply from argv[from].
func parseAckDelArgs(argv [][]byte, from int) (ackDelArgs, string) {
	var a ackDelArgs
	found := false
	for j := from; j < len(argv); {
		switch o := argv[j]; {
		case argIs(o, "keepref") && a.policy == refDefault:
			a.policy = refKeep
			j++
		case argIs(o, "delref") && a.policy == refDefault:
			a.policy = refDelete
			j++
		case argIs(o, "acked") && a.policy == refDefault:
			a.policy = refAcked
			j++
		case argIs(o, "ids") && j+1 < len(argv):
			n, ok := redisutil.ParseLL(argv[j+1])
			if !ok || n < 1 {
				return a, errNumIDs
			}
			if n > int64(len(argv)-j-2) {
				return a, errNumIDsMatch
			}
			a.ids = argv[j+2 : j+2+int(n)]
			found = true
			j += 2 + int(n)
		default:
			return a, errSyntax
		}
	}
	if !found {
		return a, errIDSRequired
	}
	return a, ""
}

// parseXDelEx parses XDELEX key options.
func parseXDelEx(argv [][]byte) (ackDelArgs, string) { return parseAckDelArgs(argv, 2) }

// parseXAckDel parses XACKDEL key group options.
func parseXAckDel(argv [][]byte) (ackDelArgs, string) { return parseAckDelArgs(argv, 3) }

// writeAllNotFound answers XDELEX/XACKDEL for a missing key or group.
func writeAllNotFound(w ReplyWriter, n int) {
	w.WriteArray(n)
	for i := 0; i < n; i++ {
		w.WriteInt(delNotFound)
	}
}

// deleteWithPolicy deletes entry id under a reference policy and returns
// the XDELEX code: DELREF first drops every group's reference, ACKED keeps
// an entry some group still needs.
func (st *Stream) deleteWithPolicy(id ID, policy int) int64 {
	switch policy {
	case refAcked:
		if st.entryReferenced(id) {
			return delReferenced
		}
	case refDelete:
		st.dropReferences(id)
	}
	if st.Delete(id) {
		return delDeleted
	}
	return delNotFound
}

// execXDelEx is Exec's XDELEX: parse, then xdelexRun.
func (s *State) execXDelEx(ctx *Ctx, argv [][]byte) {
	a, err := parseXDelEx(argv)
	if err != "" {
		ctx.W.WriteError(err)
		return
	}
	s.xdelexRun(ctx, argv, &a)
}

// xdelexRun is Redis 8.2's xdelexCommand for a parsed XDELEX (a, read
// only).
func (s *State) xdelexRun(ctx *Ctx, argv [][]byte, a *ackDelArgs) {
	e := s.lookupWrite(ctx, ctx.DB, string(argv[1]))
	if e == nil {
		writeAllNotFound(ctx.W, len(a.ids))
		return
	}
	ids, ok := parseIDList(a.ids)
	if !ok {
		ctx.W.WriteError(errInvalidID)
		return
	}
	ctx.W.WriteArray(len(ids))
	for _, id := range ids {
		ctx.W.WriteInt(e.val.deleteWithPolicy(id, a.policy))
	}
}

// execXAckDel is Exec's XACKDEL: parse, then xackdelRun.
func (s *State) execXAckDel(ctx *Ctx, argv [][]byte) {
	a, err := parseXAckDel(argv)
	if err != "" {
		ctx.W.WriteError(err)
		return
	}
	s.xackdelRun(ctx, argv, &a)
}

// xackdelRun is Redis 8.2's xackdelCommand: each ID pending in the group
// is acknowledged, then deleted under the policy (1), or kept because ACKED
// found it still referenced (2); IDs not pending answer -1. a is read
// only.
func (s *State) xackdelRun(ctx *Ctx, argv [][]byte, a *ackDelArgs) {
	st, g := s.streamGroup(ctx, argv[1], argv[2])
	if g == nil {
		writeAllNotFound(ctx.W, len(a.ids))
		return
	}
	ids, ok := parseIDList(a.ids)
	if !ok {
		ctx.W.WriteError(errInvalidID)
		return
	}
	ctx.W.WriteArray(len(ids))
	for _, id := range ids {
		g = st.group(string(argv[2])) // DELREF may have copied it
		pe, found := g.pelGet(id)
		if !found {
			ctx.W.WriteInt(delNotFound)
			continue
		}
		g = st.mutGroup(g)
		st.pelRemove(g, pe)
		if st.deleteWithPolicy(id, a.policy) == delReferenced {
			ctx.W.WriteInt(delReferenced)
		} else {
			// An entry pending but gone from the stream counts as deleted.
			ctx.W.WriteInt(delDeleted)
		}
	}
}

// XNACK modes (Redis 8.8).
const (
	nackSilent = iota
	nackFail
	nackFatal
)

// XNACK errors.
const (
	errNackMode       = "ERR mode must be SILENT, FAIL, or FATAL"
	errNackNumIDs     = "ERR numids must be a positive integer"
	errNackNumMatch   = "ERR number of IDs doesn't match numids"
	errNackRetryCount = "ERR Invalid RETRYCOUNT value, must be >= 0"
	errNackNoIDS      = "ERR syntax error, expected IDS keyword"
)

// execXNack is Redis 8.8's xnackCommand: pending entries are released from
// their consumer into the group's NACK zone (delivery time 0, claimable at
// once), their delivery count adjusted by the mode or set by RETRYCOUNT;
// FORCE also creates unowned entries for existing stream entries that are
// not pending. It replies the number of entries released.
func (s *State) execXNack(ctx *Ctx, argv [][]byte) {
	st, g := s.streamGroup(ctx, argv[1], argv[2])
	if g == nil {
		ctx.W.WriteError(errNoKeyOrGroup(argv[1], argv[2]))
		return
	}
	var mode int
	switch {
	case argIs(argv[3], "silent"):
		mode = nackSilent
	case argIs(argv[3], "fail"):
		mode = nackFail
	case argIs(argv[3], "fatal"):
		mode = nackFatal
	default:
		ctx.W.WriteError(errNackMode)
		return
	}
	var idArgs [][]byte
	found, force := false, false
	retry := int64(-1)
	for i := 4; i < len(argv); i++ {
		more := len(argv) - 1 - i
		switch o := argv[i]; {
		case argIs(o, "ids") && more > 0:
			n, ok := redisutil.ParseLL(argv[i+1])
			if !ok || n < 1 || n > 1<<31-1 {
				ctx.W.WriteError(errNackNumIDs)
				return
			}
			if n > int64(len(argv)-i-2) {
				ctx.W.WriteError(errNackNumMatch)
				return
			}
			idArgs, found = argv[i+2:i+2+int(n)], true
			i += 1 + int(n)
		case argIs(o, "force"):
			force = true
		case argIs(o, "retrycount") && more > 0:
			i++
			n, ok := redisutil.ParseLL(argv[i])
			if !ok {
				ctx.W.WriteError(errNotInt)
				return
			}
			if n < 0 {
				ctx.W.WriteError(errNackRetryCount)
				return
			}
			retry = n
		default:
			ctx.W.WriteError("ERR Unrecognized XNACK option '" + string(cStr(o)) + "'")
			return
		}
	}
	if !found {
		ctx.W.WriteError(errNackNoIDS)
		return
	}
	ids, ok := parseIDList(idArgs)
	if !ok {
		ctx.W.WriteError(errInvalidID)
		return
	}
	var n int64
	for _, id := range ids {
		e, pending := g.pelGet(id)
		switch {
		case pending:
		case force && st.entryExists(id):
			// A synthetic entry: never delivered, so the count starts at 0.
			e = pelEntry{id: id, time: -1}
		default:
			continue
		}
		g = st.mutGroup(g)
		e.count = nackCount(e.count, mode, retry)
		if !pending {
			e.seq = g.nextSeq
			g.nextSeq++
			g.pel.Set(e)
			g.timesSet(e.timeKey())
		}
		st.pelRelease(g, &e)
		n++
	}
	if n > 0 {
		ctx.signal(ctx.DB, string(argv[1]))
	}
	ctx.W.WriteInt(n)
}

// nackCount is Redis's nackSetDeliveryCount.
func nackCount(count int64, mode int, retry int64) int64 {
	if retry >= 0 {
		return retry
	}
	switch mode {
	case nackSilent:
		if count > 0 {
			count--
		}
	case nackFatal:
		count = 1<<63 - 1
	}
	return count
}
