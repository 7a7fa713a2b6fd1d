package engine

import "github.com/raftstream/raftstream/internal/redisutil"

// xgroupHelp is XGROUP HELP's text (Redis 7.0 through 8.x).
var xgroupHelp = []string{
	"CREATE <key> <groupname> <id|$> [option]",
	"    Create a new consumer group. Options are:",
	"    * MKSTREAM",
	"      Create the empty stream if it does not exist.",
	"    * ENTRIESREAD entries_read",
	"      Set the group's entries_read counter (internal use).",
	"CREATECONSUMER <key> <groupname> <consumer>",
	"    Create a new consumer in the specified group.",
	"DELCONSUMER <key> <groupname> <consumer>",
	"    Remove the specified consumer.",
	"DESTROY <key> <groupname>",
	"    Remove the specified group.",
	"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
	"    Set the current group ID and entries_read counter.",
}

func (s *State) execXGroupHelp(ctx *Ctx, argv [][]byte) { writeHelp(ctx.W, argv[0], xgroupHelp) }

// xgroupOpts are the options of XGROUP CREATE and SETID.
type xgroupOpts struct {
	mkstream    bool
	entriesRead int64
}

// parseXGroupOpts parses the options after the ID of CREATE and SETID as
// Redis's xgroupCommand does before it looks at the key. Other
// subcommands reach here with nothing to parse (their arity is exact).
func parseXGroupOpts(argv [][]byte) (xgroupOpts, string) {
	o := xgroupOpts{entriesRead: invalidEntriesRead}
	create, setid := argIs(argv[1], "create"), argIs(argv[1], "setid")
	for i := 5; i < len(argv); {
		switch {
		case create && argIs(argv[i], "mkstream"):
			o.mkstream = true
			i++
		case (create || setid) && argIs(argv[i], "entriesread") && i+1 < len(argv):
			n, ok := redisutil.ParseLL(argv[i+1])
			if !ok {
				return o, errNotInt
			}
			if n < 0 && n != invalidEntriesRead {
				return o, errEntriesReadRange
			}
			o.entriesRead = n
			i += 2
		default:
			return o, errSubcommandSyntax(argv)
		}
	}
	return o, ""
}

// execXGroup is Exec's XGROUP CREATE, SETID, DESTROY, CREATECONSUMER
// and DELCONSUMER: parse the options, then xgroupRun.
func (s *State) execXGroup(ctx *Ctx, argv [][]byte) {
	o, err := parseXGroupOpts(argv)
	if err != "" {
		ctx.W.WriteError(err)
		return
	}
	s.xgroupRun(ctx, argv, &o)
}

// xgroupRun serves the XGROUP subcommands with Redis's xgroupCommand's
// order of checks (options, parsed already: o, read only; key, group,
// then the subcommand's own arguments).
func (s *State) xgroupRun(ctx *Ctx, argv [][]byte, o *xgroupOpts) {
	key, name := string(argv[2]), string(argv[3])
	e := s.lookupWrite(ctx, ctx.DB, key)
	var st *Stream
	if e != nil {
		st = e.val
	}
	var g *group
	if !o.mkstream {
		if st == nil {
			ctx.W.WriteError(errXGroupNoKey)
			return
		}
		g = st.group(name)
		if g == nil && !argIs(argv[1], "create") && !argIs(argv[1], "destroy") {
			ctx.W.WriteError(errNoGroupForKey(argv[3], argv[2]))
			return
		}
	}
	switch {
	case argIs(argv[1], "create") && len(argv) <= 8:
		s.xgroupCreate(ctx, argv, st, *o)
	case argIs(argv[1], "setid") && (len(argv) == 5 || len(argv) == 7):
		id, ok := xgroupID(argv[4], st, false)
		if !ok {
			ctx.W.WriteError(errInvalidID)
			return
		}
		g = st.mutGroup(g)
		g.lastID, g.entriesRead = id, clampEntriesRead(o.entriesRead, st)
		ctx.W.WriteStatus("OK")
		ctx.signal(ctx.DB, key)
	case argIs(argv[1], "destroy") && len(argv) == 4:
		if g == nil {
			ctx.W.WriteInt(0)
			return
		}
		st.destroyGroup(name)
		ctx.W.WriteInt(1)
		ctx.signal(ctx.DB, key)
	case argIs(argv[1], "createconsumer") && len(argv) == 5:
		g = st.mutGroup(g)
		if st.createConsumer(g, string(argv[4]), ctx.Now) != nil {
			ctx.W.WriteInt(1)
		} else {
			ctx.W.WriteInt(0)
		}
	case argIs(argv[1], "delconsumer") && len(argv) == 5:
		c := g.consumer(string(argv[4]))
		if c == nil {
			ctx.W.WriteInt(0)
			return
		}
		pending := int64(c.pel.Len())
		g = st.mutGroup(g)
		st.delConsumer(g, c)
		ctx.W.WriteInt(pending)
	default:
		ctx.W.WriteError(errSubcommandSyntax(argv))
	}
}

// xgroupCreate is XGROUP CREATE once key and options are checked; st is
// nil only with MKSTREAM.
func (s *State) xgroupCreate(ctx *Ctx, argv [][]byte, st *Stream, o xgroupOpts) {
	id, ok := xgroupID(argv[4], st, true)
	if !ok {
		ctx.W.WriteError(errInvalidID)
		return
	}
	key := string(argv[2])
	if st == nil {
		st = NewStream()
		s.db(ctx).add(key, st)
	}
	if !st.createGroup(string(argv[3]), id, clampEntriesRead(o.entriesRead, st)) {
		ctx.W.WriteError(errBusyGroup)
		return
	}
	ctx.W.WriteStatus("OK")
	ctx.signal(ctx.DB, key)
}

// xgroupID parses CREATE's (strict) or SETID's ID argument, "$" being the
// stream's last ID (0-0 without a stream).
func xgroupID(arg []byte, st *Stream, strict bool) (ID, bool) {
	if argEq(arg, "$") {
		if st == nil {
			return ID{}, true
		}
		return st.LastID(), true
	}
	return ParseIDWith(arg, 0, strict)
}

// clampEntriesRead caps an ENTRIESREAD value at the stream's entries_added.
func clampEntriesRead(n int64, st *Stream) int64 {
	if n != invalidEntriesRead && uint64(n) > st.EntriesAdded() {
		return int64(st.EntriesAdded())
	}
	return n
}
