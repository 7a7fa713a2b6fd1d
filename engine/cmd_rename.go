package engine

import "github.com/raftstream/raftstream/internal/redisutil"

// execRename serves RENAME and RENAMENX as Redis's renameGenericCommand:
// the value and its TTL move; an existing destination (and its TTL) is
// replaced, or for RENAMENX left alone.
func (s *State) execRename(ctx *Ctx, argv [][]byte) {
	nx := argIs(argv[0], "renamenx")
	src, dst := string(argv[1]), string(argv[2])
	e := s.lookupWrite(ctx, ctx.DB, src)
	if e == nil {
		ctx.W.WriteError(errNoSuchKey)
		return
	}
	if src == dst {
		if nx {
			ctx.W.WriteInt(0)
		} else {
			ctx.W.WriteStatus("OK")
		}
		return
	}
	ks := s.db(ctx)
	if d := s.lookupWrite(ctx, ctx.DB, dst); d != nil {
		if nx {
			ctx.W.WriteInt(0)
			return
		}
		ks.remove(d)
	}
	ks.remove(e)
	ne := ks.add(dst, e.val)
	if e.volatile {
		ks.setExpire(ne, e.expireAt)
	}
	ctx.signal(ctx.DB, src)
	ctx.signal(ctx.DB, dst)
	if nx {
		ctx.W.WriteInt(1)
	} else {
		ctx.W.WriteStatus("OK")
	}
}

// copyArgs is a parsed COPY.
type copyArgs struct {
	db      int // -1: the selected database
	replace bool
}

// parseCopy parses COPY source destination [DB destination-db] [REPLACE].
func parseCopy(argv [][]byte) (copyArgs, string) {
	a := copyArgs{db: -1}
	for j := 3; j < len(argv); j++ {
		switch {
		case argIs(argv[j], "replace"):
			a.replace = true
		case argIs(argv[j], "db") && j+1 < len(argv):
			n, ok := redisutil.ParseLL(argv[j+1])
			if !ok {
				return a, errNotInt
			}
			if n < -1<<31 || n > 1<<31-1 {
				return a, errIntRange
			}
			if n < 0 || n >= NumDBs {
				return a, errDBRange
			}
			a.db = int(n)
			j++
		default:
			return a, errSyntax
		}
	}
	if a.db == -1 && string(argv[1]) == string(argv[2]) {
		return a, errSameObject
	}
	return a, ""
}

// execCopy is Exec's COPY: parse, then copyRun.
func (s *State) execCopy(ctx *Ctx, argv [][]byte) {
	a, err := parseCopy(argv)
	if err != "" {
		ctx.W.WriteError(err)
		return
	}
	s.copyRun(ctx, argv, &a)
}

// copyRun is Redis's copyCommand for a parsed COPY (a, read only); the
// copy shares stream data copy-on-write.
func (s *State) copyRun(ctx *Ctx, argv [][]byte, a *copyArgs) {
	dstDB := a.db
	if dstDB == -1 {
		dstDB = ctx.DB
	}
	src, dst := string(argv[1]), string(argv[2])
	if dstDB == ctx.DB && src == dst {
		ctx.W.WriteError(errSameObject)
		return
	}
	e := s.lookupWrite(ctx, ctx.DB, src)
	if e == nil {
		ctx.W.WriteInt(0)
		return
	}
	dks := s.dbs[dstDB]
	if d := s.lookupWrite(ctx, dstDB, dst); d != nil {
		if !a.replace {
			ctx.W.WriteInt(0)
			return
		}
		dks.remove(d)
	}
	ne := dks.add(dst, e.val.Clone())
	if e.volatile {
		dks.setExpire(ne, e.expireAt)
	}
	ctx.signal(dstDB, dst)
	ctx.W.WriteInt(1)
}
