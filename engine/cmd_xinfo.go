package engine

import "github.com/raftstream/raftstream/internal/redisutil"

// xinfoHelp is XINFO HELP's text (Redis 7.0 through 8.x).
var xinfoHelp = []string{
	"CONSUMERS <key> <groupname>",
	"    Show consumers of <groupname>.",
	"GROUPS <key>",
	"    Show the stream consumer groups.",
	"STREAM <key> [FULL [COUNT <count>]",
	"    Show information about the stream.",
}

func (s *State) execXInfoHelp(ctx *Ctx, argv [][]byte) { writeHelp(ctx.W, argv[0], xinfoHelp) }

// xinfoStream looks up XINFO's key: a missing key is an error.
func (s *State) xinfoStream(ctx *Ctx, argv [][]byte) *Stream {
	e := s.db(ctx).lookupRead(string(argv[2]), ctx.Now)
	if e == nil {
		ctx.W.WriteError(errNoSuchKey)
		return nil
	}
	return e.val
}

// execXInfoConsumers is XINFO CONSUMERS key group (Redis 7.2+ fields).
func (s *State) execXInfoConsumers(ctx *Ctx, argv [][]byte) {
	st := s.xinfoStream(ctx, argv)
	if st == nil {
		return
	}
	g := st.group(string(argv[3]))
	if g == nil {
		ctx.W.WriteError(errNoGroupForKey(argv[3], argv[2]))
		return
	}
	w := ctx.W
	w.WriteArray(g.consumers.Len())
	g.consumers.Scan(func(c *consumer) bool {
		inactive := int64(-1)
		if c.active != -1 {
			inactive = ctx.Now - c.active
		}
		w.WriteMap(4)
		w.WriteBulkString("name")
		w.WriteBulkString(c.name)
		w.WriteBulkString("pending")
		w.WriteInt(int64(c.pel.Len()))
		w.WriteBulkString("idle")
		w.WriteInt(max(ctx.Now-c.seen, 0))
		w.WriteBulkString("inactive")
		w.WriteInt(inactive)
		return true
	})
}

// execXInfoGroups is XINFO GROUPS key.
func (s *State) execXInfoGroups(ctx *Ctx, argv [][]byte) {
	st := s.xinfoStream(ctx, argv)
	if st == nil {
		return
	}
	w := ctx.W
	w.WriteArray(st.GroupCount())
	st.eachGroup(func(g *group) bool {
		w.WriteMap(6 + dlqFieldCount(g))
		w.WriteBulkString("name")
		w.WriteBulkString(g.name)
		w.WriteBulkString("consumers")
		w.WriteInt(int64(g.consumers.Len()))
		w.WriteBulkString("pending")
		w.WriteInt(int64(g.pel.Len()))
		w.WriteBulkString("last-delivered-id")
		writeID(w, g.lastID)
		writeGroupCounters(w, st, g)
		writeDLQFields(w, g)
		return true
	})
}

// dlqFieldCount is the number of dead-letter fields (raftstream) XINFO
// shows for g: they come last and only with a setting, so the replies of
// groups without one are Redis's own.
func dlqFieldCount(g *group) int {
	if g.dlq.max == 0 {
		return 0
	}
	return 3
}

// writeDLQFields writes g's dead-letter fields, if it has a setting.
func writeDLQFields(w ReplyWriter, g *group) {
	if g.dlq.max == 0 {
		return
	}
	w.WriteBulkString("max-deliveries")
	w.WriteInt(g.dlq.max)
	w.WriteBulkString("dead-letter-key")
	w.WriteBulkString(g.dlq.key)
	w.WriteBulkString("dead-lettered")
	w.WriteInt(g.dlq.moved)
}

// writeGroupCounters writes a group's entries-read and lag fields.
func writeGroupCounters(w ReplyWriter, st *Stream, g *group) {
	w.WriteBulkString("entries-read")
	if g.entriesRead != invalidEntriesRead {
		w.WriteInt(g.entriesRead)
	} else {
		w.WriteNull()
	}
	w.WriteBulkString("lag")
	if lag, ok := st.groupLag(g); ok {
		w.WriteInt(lag)
	} else {
		w.WriteNull()
	}
}

// execXInfoStream is XINFO STREAM key [FULL [COUNT n]], with the fields of
// Redis 8.6+ (IDMP) and 8.8 (nacked-count).
func (s *State) execXInfoStream(ctx *Ctx, argv [][]byte) {
	st := s.xinfoStream(ctx, argv)
	if st == nil {
		return
	}
	full, count := false, int64(10)
	if opts := argv[3:]; len(opts) > 0 {
		if (len(opts) != 1 && len(opts) != 3) || !argIs(opts[0], "full") ||
			(len(opts) == 3 && !argIs(opts[1], "count")) {
			ctx.W.WriteError(errSubcommandSyntax(argv))
			return
		}
		full = true
		if len(opts) == 3 {
			n, ok := redisutil.ParseLL(opts[2])
			if !ok {
				ctx.W.WriteError(errNotInt)
				return
			}
			if n < 0 {
				n = 10
			}
			count = n
		}
	}
	w := ctx.W
	// Age retention (raftstream) adds two fields at the end, only when
	// set, so other streams' replies are Redis's own.
	extra := 0
	if st.maxAge > 0 {
		extra = 2
	}
	if full {
		w.WriteMap(15 + extra)
	} else {
		w.WriteMap(16 + extra)
	}
	defer writeRetention(w, st)
	w.WriteBulkString("length")
	w.WriteInt(st.Len())
	w.WriteBulkString("radix-tree-keys")
	w.WriteInt(int64(st.NodeCount()))
	w.WriteBulkString("radix-tree-nodes")
	w.WriteInt(st.RadixTreeNodes())
	w.WriteBulkString("last-generated-id")
	writeID(w, st.LastID())
	w.WriteBulkString("max-deleted-entry-id")
	writeID(w, st.MaxDeletedID())
	w.WriteBulkString("entries-added")
	w.WriteInt(int64(st.EntriesAdded()))
	w.WriteBulkString("recorded-first-entry-id")
	first, _ := st.FirstID()
	writeID(w, first)
	dur, maxSize := st.idmpSettings()
	pids, iids, added, dups := st.idmpStats(ctx.Now)
	for _, f := range []struct {
		name string
		v    int64
	}{{"idmp-duration", dur}, {"idmp-maxsize", maxSize}, {"pids-tracked", pids},
		{"iids-tracked", iids}, {"iids-added", added}, {"iids-duplicates", dups}} {
		w.WriteBulkString(f.name)
		w.WriteInt(f.v)
	}
	if !full {
		w.WriteBulkString("groups")
		w.WriteInt(int64(st.GroupCount()))
		w.WriteBulkString("first-entry")
		writeEdgeEntry(w, st, false)
		w.WriteBulkString("last-entry")
		writeEdgeEntry(w, st, true)
		return
	}
	w.WriteBulkString("entries")
	writeRange(w, st, MinID, MaxID, count, false)
	w.WriteBulkString("groups")
	w.WriteArray(st.GroupCount())
	st.eachGroup(func(g *group) bool {
		writeGroupFull(w, st, g, count)
		return true
	})
}

// writeRetention writes XINFO STREAM's age retention fields, if set.
func writeRetention(w ReplyWriter, st *Stream) {
	if st.maxAge <= 0 {
		return
	}
	age, policy := st.MaxAge()
	w.WriteBulkString("max-age")
	w.WriteInt(age)
	w.WriteBulkString("retention-policy")
	w.WriteBulkString(policy)
}

// writeEdgeEntry writes the first (or last) entry, or null.
func writeEdgeEntry(w ReplyWriter, st *Stream, last bool) {
	found := false
	st.Range(MinID, MaxID, last, func(id ID, fv [][]byte) bool {
		writeEntry(w, id, fv)
		found = true
		return false
	})
	if !found {
		w.WriteNull()
	}
}

// writeGroupFull writes one group of XINFO STREAM FULL, PELs capped at
// count entries unless count is 0.
func writeGroupFull(w ReplyWriter, st *Stream, g *group, count int64) {
	w.WriteMap(8 + dlqFieldCount(g))
	w.WriteBulkString("name")
	w.WriteBulkString(g.name)
	w.WriteBulkString("last-delivered-id")
	writeID(w, g.lastID)
	writeGroupCounters(w, st, g)
	w.WriteBulkString("pel-count")
	w.WriteInt(int64(g.pel.Len()))
	w.WriteBulkString("nacked-count")
	w.WriteInt(g.nackedCount())
	w.WriteBulkString("pending")
	mark := w.BeginArray()
	var n int64
	g.pel.Scan(func(pe pelEntry) bool {
		if count != 0 && n >= count {
			return false
		}
		w.WriteArray(4)
		writeID(w, pe.id)
		if pe.unowned() {
			w.WriteBulkString("")
		} else {
			w.WriteBulkString(pe.consumer)
		}
		w.WriteInt(pe.deliveryTime())
		w.WriteInt(pe.count)
		n++
		return true
	})
	w.EndArray(mark, int(n))
	w.WriteBulkString("consumers")
	w.WriteArray(g.consumers.Len())
	g.consumers.Scan(func(c *consumer) bool {
		w.WriteMap(5)
		w.WriteBulkString("name")
		w.WriteBulkString(c.name)
		w.WriteBulkString("seen-time")
		w.WriteInt(c.seen)
		w.WriteBulkString("active-time")
		w.WriteInt(c.active)
		w.WriteBulkString("pel-count")
		w.WriteInt(int64(c.pel.Len()))
		w.WriteBulkString("pending")
		cmark := w.BeginArray()
		var cn int64
		c.pel.Scan(func(id ID) bool {
			if count != 0 && cn >= count {
				return false
			}
			pe, _ := g.pelGet(id)
			w.WriteArray(3)
			writeID(w, id)
			w.WriteInt(pe.deliveryTime())
			w.WriteInt(pe.count)
			cn++
			return true
		})
		w.EndArray(cmark, int(cn))
		return true
	})
	writeDLQFields(w, g)
}
