package engine

// WATCH support. Every keyspace counts its writes (keyspace.ver); a write
// command stamps each key it names with a new count, a created key gets
// one, and a deletion records the count in keyspace.delVer. A client's
// WATCH reads the stamps (Watch); EXEC carries them in the
// transaction's log entry, and the state machine aborts the transaction if any stamp
// changed. The counters live in the replicated state and the snapshot, so
// every replica takes the same decision.
//
// Stamps are conservative: any write command naming the key counts as a
// modification even if it changed nothing (Redis touches the key only on
// an actual change), and a watched missing key aborts on any deletion in
// its database. Both can abort a transaction Redis would run, never the
// reverse.

// Watch is a key's version as WATCH saw it.
type Watch struct {
	DB  int
	Key string
	// Ver is the key's stamp, 0 if the key did not exist; DelVer is then
	// the database's deletion stamp.
	Ver, DelVer uint64
}

// WatchKey returns key's current version in db at now (an expired key
// counts as missing). It only reads the state.
func (s *State) WatchKey(db int, key string, now int64) Watch {
	w := Watch{DB: db, Key: key}
	if db < 0 || db >= NumDBs {
		return w
	}
	ks := s.dbs[db]
	if e := ks.lookupRead(key, now); e != nil {
		w.Ver = e.ver
	} else {
		w.DelVer = ks.delVer
	}
	return w
}

// watchChanged reports whether w no longer describes the key at now.
func (s *State) watchChanged(w Watch, now int64) bool {
	if w.DB < 0 || w.DB >= NumDBs {
		return true
	}
	ks := s.dbs[w.DB]
	e := ks.lookupRead(w.Key, now)
	if w.Ver != 0 {
		return e == nil || e.ver != w.Ver
	}
	return e != nil || ks.delVer != w.DelVer
}

// touchKeys stamps the keys a write command names, found with the key
// range of the command argv was resolved to (c, never looked up again).
// Only a top-level command's own range counts: a container's subcommands
// (XGROUP CREATE, ...) stamp nothing, as the container has no key range,
// and XREADGROUP, whose keys follow STREAMS, stamps the keys it parsed
// itself (execXReadGroup), so its argv is not parsed a second time here.
func (s *State) touchKeys(ctx *Ctx, c *Command, argv [][]byte) {
	sp := c.spec
	if c.sub || sp.FirstKey <= 0 {
		return
	}
	ks := s.dbs[ctx.DB]
	last := sp.LastKey
	if last < 0 {
		last = len(argv) + last
	}
	step := max(sp.Step, 1)
	for i := sp.FirstKey; i <= last && i < len(argv); i += step {
		ks.touch(argv[i])
	}
}

// touchKeyList stamps keys of ctx's database.
func (s *State) touchKeyList(ctx *Ctx, keys [][]byte) {
	ks := s.dbs[ctx.DB]
	for _, k := range keys {
		ks.touch(k)
	}
}

// touch gives key, if it exists, a new write stamp.
func (ks *keyspace) touch(key []byte) {
	if e := ks.get(keyView(key)); e != nil {
		ks.ver++
		e.ver = ks.ver
	}
}
