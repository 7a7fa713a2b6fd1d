package engine

import (
	"strings"

	"github.com/raftstream/raftstream/internal/redisutil"
)

// Consumer-group error replies (Redis 8 wording).
const (
	errEntriesReadRange = "ERR value for ENTRIESREAD must be positive or -1"
	errXGroupNoKey      = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."
	errBusyGroup        = "BUSYGROUP Consumer Group name already exists"
)

// errNoGroupForKey is the NOGROUP text of XGROUP and XINFO CONSUMERS.
func errNoGroupForKey(group, key []byte) string {
	return "NOGROUP No such consumer group '" + string(cStr(group)) + "' for key name '" + string(cStr(key)) + "'"
}

// errNoKeyOrGroup is the NOGROUP text of XPENDING, XCLAIM, XAUTOCLAIM and
// XNACK.
func errNoKeyOrGroup(key, group []byte) string {
	return "NOGROUP No such key '" + string(cStr(key)) + "' or consumer group '" + string(cStr(group)) + "'"
}

// errSubcommandSyntax is Redis's addReplySubcommandSyntaxError.
func errSubcommandSyntax(argv [][]byte) string {
	return "ERR unknown subcommand or wrong number of arguments for '" + cTrunc(argv[1], 128) +
		"'. Try " + strings.ToUpper(string(cStr(argv[0]))) + " HELP."
}

// errUnknownSubcommand is Redis's reply to an unknown subcommand of a
// container command.
func errUnknownSubcommand(argv [][]byte) string {
	return "ERR unknown subcommand '" + cTrunc(argv[1], 128) + "'. Try " +
		strings.ToUpper(string(cStr(argv[0]))) + " HELP."
}

// cTrunc is a C string's first n bytes at most, as printf's "%.128s".
func cTrunc(b []byte, n int) string {
	b = cStr(b)
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}

// writeHelp writes a HELP reply as Redis's addReplyHelp does: a header
// naming the command, the given lines, and the HELP entry, as status lines.
func writeHelp(w ReplyWriter, argv0 []byte, lines []string) {
	w.WriteArray(len(lines) + 3)
	w.WriteStatus(strings.ToUpper(string(cStr(argv0))) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		w.WriteStatus(l)
	}
	w.WriteStatus("HELP")
	w.WriteStatus("    Print this help.")
}

// writeID writes an ID as a bulk string.
func writeID(w ReplyWriter, id ID) { w.WriteBulkID(id.Ms, id.Seq) }

// writeStreamEntry writes entry id of st as [id, [field, value, ...]] and
// reports whether it exists.
func writeStreamEntry(w ReplyWriter, st *Stream, id ID) bool {
	return st.Get(id, func(fv [][]byte) { writeEntry(w, id, fv) })
}

// parseLLMsg parses an integer argument, answering msg (an error text
// without the "ERR " prefix) if it is not one, as Redis's
// getLongLongFromObjectOrReply with a custom message.
func parseLLMsg(b []byte, msg string) (int64, string) {
	n, ok := redisutil.ParseLL(b)
	if !ok {
		return 0, "ERR " + msg
	}
	return n, ""
}

// pelNext returns the first entry of g's PEL at or after id.
func (g *group) pelNext(id ID) (pelEntry, bool) {
	var e pelEntry
	found := false
	g.pel.Ascend(pelEntry{id: id}, func(x pelEntry) bool {
		e, found = x, true
		return false
	})
	return e, found
}

// idNext returns the first ID of an ID tree at or after id.
func idNext(t interface {
	Ascend(ID, func(ID) bool)
}, id ID) (ID, bool) {
	var out ID
	found := false
	t.Ascend(id, func(x ID) bool {
		out, found = x, true
		return false
	})
	return out, found
}
