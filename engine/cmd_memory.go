package engine

import "github.com/raftstream/raftstream/internal/redisutil"

// memoryHelp lists the MEMORY subcommands raftstream has: USAGE only. The
// allocator reports (DOCTOR, STATS, MALLOC-STATS, PURGE) describe Redis's
// allocator and have no counterpart in a Go heap shared with Raft.
var memoryHelp = []string{
	"USAGE <key> [SAMPLES <count>]",
	"    Return memory in bytes used by <key> and its value. Nested values are",
	"    sampled up to <count> times (default: 5, 0 means sample all).",
}

func (s *State) execMemoryHelp(ctx *Ctx, argv [][]byte) { writeHelp(ctx.W, argv[0], memoryHelp) }

// keyOverhead approximates what a key costs beyond its name and stream:
// its slot in the keyspace B-tree and the entry header.
const keyOverhead = 64

// parseMemoryUsage checks MEMORY USAGE key [SAMPLES count] as Redis's
// memoryCommand does. SAMPLES is accepted and ignored: the size is
// computed exactly from the stream's nodes, not estimated from samples.
func parseMemoryUsage(argv [][]byte) string {
	for j := 3; j < len(argv); j++ {
		if !argIs(argv[j], "samples") || j+1 >= len(argv) {
			return errSyntax
		}
		n, ok := redisutil.ParseLL(argv[j+1])
		if !ok {
			return errNotInt
		}
		if n < 0 {
			return errSyntax
		}
		j++
	}
	return ""
}

// execMemoryUsage is MEMORY USAGE: the bytes the key's stream holds (its
// nodes, consumer groups and IDMP state; MemoryUsage) plus the key, or
// nil for a missing key.
func (s *State) execMemoryUsage(ctx *Ctx, argv [][]byte) {
	if err := parseMemoryUsage(argv); err != "" {
		ctx.W.WriteError(err)
		return
	}
	e := s.db(ctx).lookupRead(string(argv[2]), ctx.Now)
	if e == nil {
		ctx.W.WriteNull()
		return
	}
	ctx.W.WriteInt(e.val.MemoryUsage() + int64(len(argv[2])) + keyOverhead)
}
