package server

import (
	"strings"

	"github.com/raftstream/raftstream/engine"
	"github.com/raftstream/raftstream/engine/resp"
	"github.com/raftstream/raftstream/internal/redisutil"
)

func cmdCommand(x *call) {
	t := x.s.table()
	x.w.WriteArray(len(t.sorted()))
	for _, c := range t.sorted() {
		writeCommandInfo(x.w, c)
	}
}

func cmdCommandCount(x *call) { x.w.WriteInt(int64(len(x.s.table().sorted()))) }

func cmdCommandInfo(x *call) {
	t := x.s.table()
	if len(x.argv) == 2 {
		cmdCommand(x)
		return
	}
	x.w.WriteArray(len(x.argv) - 2)
	for _, name := range x.argv[2:] {
		if c := t.lookup(name); c != nil {
			writeCommandInfo(x.w, c)
		} else {
			x.w.WriteNull()
		}
	}
}

// writeCommandInfo writes one COMMAND INFO element in Redis 7's shape:
// name, arity, flags, first/last key and step, ACL categories, tips, key
// specs, subcommands. Flags, categories, tips, key specs and subcommands
// are sets in RESP3, as Redis sends them.
func writeCommandInfo(w *resp.Writer, c *command) {
	w.WriteArray(10)
	w.WriteBulkString(c.Name())
	w.WriteInt(int64(c.Info().Arity))
	w.WriteSet(len(c.Info().Flags))
	for _, f := range c.Info().Flags {
		w.WriteStatus(f)
	}
	w.WriteInt(int64(c.Info().FirstKey))
	w.WriteInt(int64(c.Info().LastKey))
	w.WriteInt(int64(c.Info().Step))
	w.WriteSet(len(c.Info().ACL))
	for _, a := range c.Info().ACL {
		w.WriteStatus(a)
	}
	w.WriteSet(len(c.Info().Tips))
	for _, tip := range c.Info().Tips {
		w.WriteBulkString(tip)
	}
	w.WriteSet(len(c.Info().KeySpecs))
	for _, ks := range c.Info().KeySpecs {
		writeKeySpec(w, ks)
	}
	w.WriteSet(len(c.Subcommands()))
	for _, s := range c.Subcommands() {
		writeCommandInfo(w, s)
	}
}

func writeKeySpec(w *resp.Writer, ks keySpec) {
	if ks.Notes != "" {
		w.WriteMap(4)
		w.WriteBulkString("notes")
		w.WriteBulkString(ks.Notes)
	} else {
		w.WriteMap(3)
	}
	w.WriteBulkString("flags")
	w.WriteSet(len(ks.Flags))
	for _, f := range ks.Flags {
		w.WriteStatus(f)
	}
	w.WriteBulkString("begin_search")
	w.WriteMap(2)
	w.WriteBulkString("type")
	if ks.Keyword != "" {
		w.WriteBulkString("keyword")
		w.WriteBulkString("spec")
		w.WriteMap(2)
		w.WriteBulkString("keyword")
		w.WriteBulkString(ks.Keyword)
		w.WriteBulkString("startfrom")
		w.WriteInt(int64(ks.Index))
	} else {
		w.WriteBulkString("index")
		w.WriteBulkString("spec")
		w.WriteMap(1)
		w.WriteBulkString("index")
		w.WriteInt(int64(ks.Index))
	}
	w.WriteBulkString("find_keys")
	w.WriteMap(2)
	w.WriteBulkString("type")
	w.WriteBulkString("range")
	w.WriteBulkString("spec")
	w.WriteMap(3)
	w.WriteBulkString("lastkey")
	w.WriteInt(int64(ks.LastKey))
	w.WriteBulkString("keystep")
	w.WriteInt(int64(ks.KeyStep))
	w.WriteBulkString("limit")
	w.WriteInt(int64(ks.Limit))
}

func cmdCommandDocs(x *call) {
	t := x.s.table()
	var cmds []*command
	if len(x.argv) == 2 {
		cmds = t.sorted()
	} else {
		for _, name := range x.argv[2:] {
			if c := t.lookup(name); c != nil {
				cmds = append(cmds, c)
			}
		}
	}
	x.w.WriteMap(len(cmds))
	for _, c := range cmds {
		x.w.WriteBulkString(c.Name())
		writeCommandDocs(x.w, c)
	}
}

// writeCommandDocs writes a COMMAND DOCS entry: summary, since, group,
// and when known complexity, history, arguments and subcommands. The
// engine's commands carry Redis's history and argument descriptions
// (engine/redismeta.go); commands newer than that reference have none, which
// Redis's format allows.
func writeCommandDocs(w *resp.Writer, c *command) {
	n := 3
	for _, has := range []bool{c.Info().Complexity != "", len(c.Info().History) > 0, len(c.Info().Args) > 0, len(c.Subcommands()) > 0} {
		if has {
			n++
		}
	}
	w.WriteMap(n)
	w.WriteBulkString("summary")
	w.WriteBulkString(c.Info().Summary)
	w.WriteBulkString("since")
	w.WriteBulkString(c.Info().Since)
	w.WriteBulkString("group")
	w.WriteBulkString(c.Info().Group)
	if c.Info().Complexity != "" {
		w.WriteBulkString("complexity")
		w.WriteBulkString(c.Info().Complexity)
	}
	if len(c.Info().History) > 0 {
		w.WriteBulkString("history")
		w.WriteSet(len(c.Info().History))
		for _, h := range c.Info().History {
			w.WriteArray(2)
			w.WriteBulkString(h[0])
			w.WriteBulkString(h[1])
		}
	}
	if len(c.Info().Args) > 0 {
		w.WriteBulkString("arguments")
		writeDocArgs(w, c.Info().Args)
	}
	if len(c.Subcommands()) > 0 {
		w.WriteBulkString("subcommands")
		w.WriteMap(len(c.Subcommands()))
		for _, s := range c.Subcommands() {
			w.WriteBulkString(s.Name())
			writeCommandDocs(w, s)
		}
	}
}

func cmdCommandList(x *call) {
	t := x.s.table()
	keep := func(*command) bool { return true }
	switch {
	case len(x.argv) == 2:
	case len(x.argv) == 5 && strings.EqualFold(string(x.argv[2]), "filterby"):
		arg := string(x.argv[4])
		switch strings.ToLower(string(x.argv[3])) {
		case "module":
			keep = func(*command) bool { return false }
		case "aclcat":
			cat := "@" + strings.ToLower(arg)
			keep = func(c *command) bool {
				for _, a := range c.Info().ACL {
					if a == cat {
						return true
					}
				}
				return false
			}
		case "pattern":
			keep = func(c *command) bool { return redisutil.Match(arg, c.Name(), true) }
		default:
			x.w.WriteError(errSyntax)
			return
		}
	default:
		x.w.WriteError(errSyntax)
		return
	}
	mark := x.w.BeginArray()
	n := 0
	t.all(func(c *command) {
		if keep(c) {
			x.w.WriteBulkString(c.Name())
			n++
		}
	})
	x.w.EndArray(mark, n)
}

var commandHelp = []string{
	"(no subcommand)",
	"    Return details about all Redis commands.",
	"COUNT",
	"    Return the total number of commands in this Redis server.",
	"LIST",
	"    Return a list of all commands in this Redis server.",
	"INFO [<command-name> ...]",
	"    Return details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"DOCS [<command-name> ...]",
	"    Return documentation details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"GETKEYS <full-command>",
	"    Return the keys from a full Redis command.",
	"GETKEYSANDFLAGS <full-command>",
	"    Return the keys and the access flags from a full Redis command.",
}

// cmdCommandGetKeys is COMMAND GETKEYS and GETKEYSANDFLAGS: the keys of a
// full command, found with its key specs, and Redis's errors in Redis's
// order. Cluster clients (redis-py's RedisCluster) ask it for commands
// with movable keys, such as XREAD and XREADGROUP.
func cmdCommandGetKeys(x *call) {
	withFlags := strings.EqualFold(string(x.argv[1]), "getkeysandflags")
	argv := x.argv[2:]
	c := x.s.table().lookup(argv[0])
	if c != nil && len(c.Subcommands()) > 0 {
		if len(argv) < 2 {
			x.w.WriteError("ERR Invalid number of arguments specified for command")
			return
		}
		c = c.Sub(argv[1])
	}
	switch {
	case c == nil:
		x.w.WriteError("ERR Invalid command specified")
		return
	case len(c.Info().KeySpecs) == 0:
		x.w.WriteError("ERR The command has no key arguments")
		return
	case !engine.ArityOK(c.Info().Arity, len(argv)):
		x.w.WriteError("ERR Invalid number of arguments specified for command")
		return
	}
	type found struct {
		key   []byte
		flags []string
	}
	var keys []found
	for _, ks := range c.Info().KeySpecs {
		for _, i := range ks.Positions(argv) {
			keys = append(keys, found{argv[i], ks.Flags})
		}
	}
	if len(keys) == 0 {
		x.w.WriteError("ERR Invalid arguments specified for command")
		return
	}
	x.w.WriteArray(len(keys))
	for _, k := range keys {
		if !withFlags {
			x.w.WriteBulk(k.key)
			continue
		}
		x.w.WriteArray(2)
		x.w.WriteBulk(k.key)
		x.w.WriteSet(len(k.flags))
		for _, f := range k.flags {
			x.w.WriteStatus(f)
		}
	}
}

func cmdCommandHelp(x *call) { writeHelp(x.w, x.argv[0], commandHelp) }
