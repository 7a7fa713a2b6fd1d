package server

import (
	"strings"

	"github.com/raftstream/raftstream/engine"
)

// debugCommand is DEBUG with only its digest subcommands: enough to check
// that replicas converged (the other DEBUG subcommands crash, sleep or
// poke at Redis internals and have no meaning here). Metadata as Redis 7
// reports it.
func debugCommand() *cmdDef {
	return &cmdDef{name: "debug", arity: -2, flags: []string{"admin", "noscript", "loading", "stale"}, acl: aclAdmin,
		group: "server", since: "1.0.0", summary: "A container for debugging commands", complexity: "Depends on subcommand.",
		run: cmdDebug, readsState: true}
}

var debugHelp = []string{
	"DIGEST",
	"    Output a hex signature representing the current DB content.",
	"DIGEST-VALUE <key> [<key> ...]",
	"    Output a hex signature of the values of all the specified keys.",
}

// cmdDebug runs DEBUG DIGEST / DIGEST-VALUE / HELP on this node's local
// state, without a read barrier: comparing digests across nodes is the
// point, so each node must answer for itself.
func cmdDebug(x *call) {
	switch sub := strings.ToLower(string(x.argv[1])); {
	case sub == "help" && len(x.argv) == 2:
		writeHelp(x.w, x.argv[0], debugHelp)
	case sub == "digest" && len(x.argv) == 2:
		a, ok := x.admin()
		if !ok {
			return
		}
		d, err := a.Digest()
		if err != nil {
			x.w.WriteError("ERR " + sanitizeLine(err.Error()))
			return
		}
		x.w.WriteStatus(d)
	case sub == "digest-value":
		db := x.cl.getDB()
		keys := x.argv[2:]
		x.s.be.Read(func(st *engine.State) {
			x.w.WriteArray(len(keys))
			for _, k := range keys {
				x.w.WriteStatus(st.DigestValue(db, string(k)))
			}
		})
	default:
		// Redis's addReplySubcommandSyntaxError.
		x.w.WriteError("ERR unknown subcommand or wrong number of arguments for '" + truncate(x.argv[1], 128) + "'. Try DEBUG HELP.")
	}
}
