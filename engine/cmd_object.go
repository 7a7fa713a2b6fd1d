package engine

// objectHelp lists the OBJECT subcommands raftstream has, in Redis's
// words. IDLETIME is missing on purpose: it needs a per-key access clock,
// and reads must not change the replicated state.
var objectHelp = []string{
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
}

// errNoLFU is OBJECT FREQ's answer under maxmemory-policy noeviction,
// the only policy raftstream has.
const errNoLFU = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. " +
	"Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."

func (s *State) execObjectHelp(ctx *Ctx, argv [][]byte) { writeHelp(ctx.W, argv[0], objectHelp) }

// execObject is OBJECT ENCODING|REFCOUNT|FREQ key: nil for a missing key,
// as Redis checks the key first.
func (s *State) execObject(ctx *Ctx, argv [][]byte) {
	if s.db(ctx).lookupRead(string(argv[2]), ctx.Now) == nil {
		ctx.W.WriteNull()
		return
	}
	switch {
	case argIs(argv[1], "encoding"):
		ctx.W.WriteBulk([]byte("stream"))
	case argIs(argv[1], "refcount"):
		ctx.W.WriteInt(1) // a stream is never a shared object
	default: // freq
		ctx.W.WriteError(errNoLFU)
	}
}

// execTouch is TOUCH: the number of the given keys that exist. There is no
// access clock to update.
func (s *State) execTouch(ctx *Ctx, argv [][]byte) { s.execExists(ctx, argv) }
