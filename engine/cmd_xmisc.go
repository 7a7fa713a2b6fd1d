package engine

import "github.com/raftstream/raftstream/internal/redisutil"

// execXLen is XLEN: 0 for a missing key.
func (s *State) execXLen(ctx *Ctx, argv [][]byte) {
	e := s.db(ctx).lookupRead(string(argv[1]), ctx.Now)
	if e == nil {
		ctx.W.WriteInt(0)
		return
	}
	ctx.W.WriteInt(e.val.Len())
}

// execXDel is Redis's xdelCommand. As there, a missing key answers 0 before
// the IDs are even parsed, so an invalid ID is a state-dependent error and
// XDEL has no Check beyond arity.
func (s *State) execXDel(ctx *Ctx, argv [][]byte) {
	e := s.lookupWrite(ctx, ctx.DB, string(argv[1]))
	if e == nil {
		ctx.W.WriteInt(0)
		return
	}
	ids := make([]ID, len(argv)-2)
	for j := range ids {
		id, ok := ParseID(argv[j+2])
		if !ok {
			ctx.W.WriteError(errInvalidID)
			return
		}
		ids[j] = id
	}
	var n int64
	for _, id := range ids {
		if e.val.Delete(id) {
			n++
		}
	}
	ctx.W.WriteInt(n)
}

// XSETID errors.
const (
	errEntriesAddedNeg       = "ERR entries_added must be positive"
	errSetIDBelowGivenMaxDel = "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"
	errSetIDBelowMaxDel      = "ERR The ID specified in XSETID is smaller than current max_deleted_entry_id"
	errSetIDBelowTop         = "ERR The ID specified in XSETID is smaller than the target stream top item"
	errEntriesAddedBelowLen  = "ERR The entries_added specified in XSETID is smaller than the target stream length"
)

type xsetidArgs struct {
	id           ID
	entriesAdded int64 // -1 if not given
	maxDeleted   ID    // 0-0 if not given (and 0-0 never changes it)
}

// parseXSetID parses XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id].
func parseXSetID(argv [][]byte) (xsetidArgs, string) {
	a := xsetidArgs{entriesAdded: -1}
	var ok bool
	if a.id, ok = ParseID(argv[2]); !ok {
		return a, errInvalidID
	}
	for i := 3; i < len(argv); i += 2 {
		more := len(argv) - 1 - i
		switch {
		case argIs(argv[i], "entriesadded") && more > 0:
			n, ok := redisutil.ParseLL(argv[i+1])
			if !ok {
				return a, errNotInt
			}
			if n < 0 {
				return a, errEntriesAddedNeg
			}
			a.entriesAdded = n
		case argIs(argv[i], "maxdeletedid") && more > 0:
			id, ok := ParseID(argv[i+1])
			if !ok {
				return a, errInvalidID
			}
			if a.id.Less(id) {
				return a, errSetIDBelowGivenMaxDel
			}
			a.maxDeleted = id
		default:
			return a, errSyntax
		}
	}
	return a, ""
}

// execXSetID is Exec's XSETID: parse, then xsetidRun.
func (s *State) execXSetID(ctx *Ctx, argv [][]byte) {
	a, err := parseXSetID(argv)
	if err != "" {
		ctx.W.WriteError(err)
		return
	}
	s.xsetidRun(ctx, argv, &a)
}

// xsetidRun is Redis 8's xsetidCommand for a parsed XSETID (a, read
// only).
func (s *State) xsetidRun(ctx *Ctx, argv [][]byte, a *xsetidArgs) {
	e := s.lookupWrite(ctx, ctx.DB, string(argv[1]))
	if e == nil {
		ctx.W.WriteError(errNoSuchKey)
		return
	}
	st := e.val
	if a.id.Less(st.MaxDeletedID()) {
		ctx.W.WriteError(errSetIDBelowMaxDel)
		return
	}
	if st.Len() > 0 {
		if top, ok := lastEntryID(st); ok && a.id.Less(top) {
			ctx.W.WriteError(errSetIDBelowTop)
			return
		}
		if a.entriesAdded != -1 && st.Len() > a.entriesAdded {
			ctx.W.WriteError(errEntriesAddedBelowLen)
			return
		}
	}
	st.SetLastID(a.id)
	if a.entriesAdded != -1 {
		st.SetEntriesAdded(uint64(a.entriesAdded))
	}
	if !a.maxDeleted.IsZero() {
		st.SetMaxDeletedID(a.maxDeleted)
	}
	ctx.W.WriteStatus("OK")
}
