package engine

import "github.com/raftstream/raftstream/internal/redisutil"

// execDel serves DEL and UNLINK: the number of live keys removed. An
// expired key is removed too but, as in Redis, not counted.
func (s *State) execDel(ctx *Ctx, argv [][]byte) {
	ks := s.db(ctx)
	var n int64
	for _, k := range argv[1:] {
		key := string(k)
		if e := s.lookupWrite(ctx, ctx.DB, key); e != nil {
			ks.remove(e)
			ctx.signal(ctx.DB, key)
			n++
		}
	}
	ctx.W.WriteInt(n)
}

// execExists counts the arguments naming live keys (repeats count again).
func (s *State) execExists(ctx *Ctx, argv [][]byte) {
	ks := s.db(ctx)
	var n int64
	for _, k := range argv[1:] {
		if ks.lookupRead(string(k), ctx.Now) != nil {
			n++
		}
	}
	ctx.W.WriteInt(n)
}

// execType is TYPE: every key holds a stream.
func (s *State) execType(ctx *Ctx, argv [][]byte) {
	if s.db(ctx).lookupRead(string(argv[1]), ctx.Now) == nil {
		ctx.W.WriteStatus("none")
		return
	}
	ctx.W.WriteStatus("stream")
}

// execKeys is KEYS: every live key matching the pattern, in keyspace
// (hash) order, which like Redis's order is arbitrary but here stable.
func (s *State) execKeys(ctx *Ctx, argv [][]byte) {
	pat := argv[1]
	all := len(pat) == 1 && pat[0] == '*'
	mark := ctx.W.BeginArray()
	n := 0
	s.db(ctx).keys.Scan(func(sl slot) bool {
		if sl.e.expired(ctx.Now) {
			return true
		}
		if all || redisutil.Match(pat, sl.key, false) {
			ctx.W.WriteBulkString(sl.key)
			n++
		}
		return true
	})
	ctx.W.EndArray(mark, n)
}

// scanArgs is a parsed SCAN.
type scanArgs struct {
	cursor  uint64
	count   int64
	pattern []byte // nil: match all
	typ     []byte // nil: any type
}

// parseScan parses SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
// like Redis's scanCommand and scanGenericCommand.
func parseScan(argv [][]byte) (scanArgs, string) {
	a := scanArgs{count: 10}
	var ok bool
	if a.cursor, ok = parseCursor(argv[1]); !ok {
		return a, errInvalidCurs
	}
	for i := 2; i < len(argv); i += 2 {
		more := len(argv) - i
		switch {
		case argIs(argv[i], "count") && more >= 2:
			n, ok := redisutil.ParseLL(argv[i+1])
			if !ok {
				return a, errNotInt
			}
			if n < 1 {
				return a, errSyntax
			}
			a.count = n
		case argIs(argv[i], "match") && more >= 2:
			a.pattern = argv[i+1]
			if len(a.pattern) == 1 && a.pattern[0] == '*' {
				a.pattern = nil
			}
		case argIs(argv[i], "type") && more >= 2:
			a.typ = argv[i+1]
		default:
			return a, errSyntax
		}
	}
	return a, ""
}

func checkScan(argv [][]byte) string {
	_, err := parseScan(argv)
	return err
}

// execScan is SCAN over the keyspace in hash order. The cursor is the hash
// of the next key to visit, so it stays valid whatever keys are added or
// removed meanwhile: a key present for the whole iteration is returned
// exactly once. A batch never ends between keys with equal hashes, since
// the cursor could not tell them apart. COUNT bounds the keys visited, as
// Redis bounds buckets; filtering happens after, so batches may be short.
func (s *State) execScan(ctx *Ctx, argv [][]byte) {
	a, err := parseScan(argv)
	if err != "" {
		ctx.W.WriteError(err)
		return
	}
	// Only streams exist; any other (or unknown) type matches nothing, which
	// is also what Redis 8 does for an unknown type name.
	wantNothing := a.typ != nil && !argIs(a.typ, "stream")
	var (
		keys    []string
		visited int64
		next    uint64
		lastH   uint64
	)
	s.db(ctx).keys.Ascend(slot{hash: a.cursor}, func(sl slot) bool {
		if visited >= a.count && sl.hash != lastH {
			next = sl.hash
			return false
		}
		visited++
		lastH = sl.hash
		if wantNothing || sl.e.expired(ctx.Now) {
			return true
		}
		if a.pattern != nil && !redisutil.Match(a.pattern, sl.key, false) {
			return true
		}
		keys = append(keys, sl.key)
		return true
	})
	ctx.W.WriteArray(2)
	var buf [20]byte
	ctx.W.WriteBulk(appendUint(buf[:0], next))
	ctx.W.WriteArray(len(keys))
	for _, k := range keys {
		ctx.W.WriteBulkString(k)
	}
}

// execDBSize counts the live keys of the selected database.
func (s *State) execDBSize(ctx *Ctx, _ [][]byte) {
	ks := s.db(ctx)
	ctx.W.WriteInt(int64(ks.keys.Len() - ks.countExpired(ctx.Now)))
}

// parseFlush accepts FLUSHDB/FLUSHALL with no argument, ASYNC or SYNC. The
// mode makes no difference here: memory is released by the garbage
// collector either way.
func parseFlush(argv [][]byte) string {
	switch {
	case len(argv) == 1:
	case len(argv) == 2 && (argIs(argv[1], "sync") || argIs(argv[1], "async")):
	default:
		return errSyntax
	}
	return ""
}

// execFlushDB is Exec's FLUSHDB: parse, then flushDBRun.
func (s *State) execFlushDB(ctx *Ctx, argv [][]byte) {
	if err := parseFlush(argv); err != "" {
		ctx.W.WriteError(err)
		return
	}
	s.flushDBRun(ctx)
}

// flushDBRun empties the selected database.
func (s *State) flushDBRun(ctx *Ctx) {
	db := ctx.DB
	s.dbs[db].flush(func(key string) { ctx.signal(db, key) })
	ctx.W.WriteStatus("OK")
}

// execFlushAll is Exec's FLUSHALL: parse, then flushAllRun.
func (s *State) execFlushAll(ctx *Ctx, argv [][]byte) {
	if err := parseFlush(argv); err != "" {
		ctx.W.WriteError(err)
		return
	}
	s.flushAllRun(ctx)
}

// flushAllRun empties every database.
func (s *State) flushAllRun(ctx *Ctx) {
	for db, ks := range s.dbs {
		ks.flush(func(key string) { ctx.signal(db, key) })
	}
	ctx.W.WriteStatus("OK")
}
