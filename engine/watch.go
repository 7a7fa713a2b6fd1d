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

// touchKeys stamps the keys a write command names.
func (s *State) touchKeys(ctx *Ctx, argv [][]byte) {
	ks := s.dbs[ctx.DB]
	touch := func(k []byte) {
		if e := ks.get(string(k)); e != nil {
			ks.ver++
			e.ver = ks.ver
		}
	}
	if argIs(argv[0], "xreadgroup") {
		if a, err := ParseXReadGroup(argv); err == "" {
			for _, k := range a.Keys {
				touch(k)
			}
		}
		return
	}
	c := lookupCommand(argv[0])
	if c == nil || c.spec.FirstKey <= 0 {
		return
	}
	last := c.spec.LastKey
	if last < 0 {
		last = len(argv) + last
	}
	step := max(c.spec.Step, 1)
	for i := c.spec.FirstKey; i <= last && i < len(argv); i += step {
		touch(argv[i])
	}
}
