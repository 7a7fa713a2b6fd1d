package engine

import "slices"

// Redis 8 overlay of the generated COMMAND INFO/DOCS metadata.
//
// redismeta.go is generated from a reference redis-server (7.0.15, the
// newest one packaged for the test machines), which knows neither the
// commands Redis 8 added nor the options it added to older ones. This
// file, maintained by hand, adds them on top of the generated table when
// the registry's metadata is built (applyRedisMeta, meta.go), so running gen_redismeta.go
// again keeps them; an entry the reference learns later is simply
// overridden here until this file drops it.
//
// Sources, transcribed rather than guessed:
//   - XACKDEL, XDELEX, XCFGSET, XNACK: Redis's command definitions
//     src/commands/<name>.json in redis/redis (xackdel.json at 563d69e0,
//     xdelex.json at 06b30e20, xcfgset.json at 01c5d48b, xnack.json at
//     a3e68716), rendered the way COMMAND INFO/DOCS render them: command
//     flags and tips in lower case, ACL categories completed from the
//     flags as Redis's setImplicitACLCategories does, key-spec access
//     flags (RW, RO, OW, RM) upper case and the others lower case.
//   - The Redis 8 options of XADD, XTRIM and XREADGROUP: no Redis 8
//     xadd.json, xtrim.json or xreadgroup.json was available, so their
//     argument entries are derived from the Redis command reference's
//     syntax and versions ("KEEPREF | DELREF | ACKED" 8.2.0,
//     "IDMPAUTO producer-id | IDMP producer-id idempotent-id" 8.6.0,
//     "CLAIM min-idle-time" 8.4.0), with argument names following the JSON files that do exist
//     (XACKDEL's "condition" one-of). The names of the new XADD blocks are
//     therefore raftstream's choice; tokens, types, optionality, order
//     and "since" are Redis's.

// redis8Command is the metadata of a command newer than the reference:
// what the reference would report, plus the summary and version, which
// otherwise come from the engine's spec.
type redis8Command struct {
	Meta           commandMeta
	Summary, Since string
}

// deleteRefs is the KEEPREF | DELREF | ACKED one-of of Redis 8.2's
// XACKDEL/XDELEX (and, optional, of XADD and XTRIM).
func deleteRefs(since string) DocArg {
	return DocArg{Name: "condition", Type: "oneof", KeySpecIndex: -1, Since: since, Flags: []string{"optional"}, Args: []DocArg{
		{Name: "keepref", Type: "pure-token", KeySpecIndex: -1, Token: "KEEPREF"},
		{Name: "delref", Type: "pure-token", KeySpecIndex: -1, Token: "DELREF"},
		{Name: "acked", Type: "pure-token", KeySpecIndex: -1, Token: "ACKED"},
	}}
}

// idsBlock is the "IDS numids id [id ...]" block of XACKDEL, XDELEX and
// XNACK.
var idsBlock = DocArg{Name: "ids", Type: "block", KeySpecIndex: -1, Token: "IDS", Args: []DocArg{
	{Name: "numids", Type: "integer", KeySpecIndex: -1},
	{Name: "id", Type: "string", KeySpecIndex: -1, Flags: []string{"multiple"}},
}}

var (
	aclStreamWriteFast = []string{"@write", "@stream", "@fast"}
	flagsWriteFast     = []string{"write", "fast"}
	keyArg             = DocArg{Name: "key", Type: "key", KeySpecIndex: 0}
	groupArg           = DocArg{Name: "group", Type: "string", KeySpecIndex: -1}
)

// redis8Commands are the commands Redis 8 added, by lower-case name.
var redis8Commands = map[string]redis8Command{
	"xackdel": {
		Summary: "Acknowledges and deletes one or multiple messages for a stream consumer group.", Since: "8.2.0",
		Meta: commandMeta{
			Flags: flagsWriteFast, ACL: aclStreamWriteFast,
			KeySpecs:   []KeySpec{{Flags: []string{"RW", "update", "delete"}, Index: 1, LastKey: 0, KeyStep: 1, HasSearch: true}},
			Complexity: "O(1) for each message ID processed.",
			Args:       []DocArg{keyArg, groupArg, deleteRefs(""), idsBlock},
		},
	},
	"xdelex": {
		Summary: "Deletes one or multiple entries from the stream.", Since: "8.2.0",
		Meta: commandMeta{
			Flags: flagsWriteFast, ACL: aclStreamWriteFast,
			KeySpecs:   []KeySpec{{Flags: []string{"RW", "delete"}, Index: 1, LastKey: 0, KeyStep: 1, HasSearch: true}},
			Complexity: "O(1) for each single item to delete in the stream, regardless of the stream size.",
			Args:       []DocArg{keyArg, deleteRefs(""), idsBlock},
		},
	},
	"xcfgset": {
		Summary: "Sets the IDMP configuration parameters for a stream.", Since: "8.6.0",
		Meta: commandMeta{
			Flags: flagsWriteFast, ACL: aclStreamWriteFast,
			KeySpecs:   []KeySpec{{Flags: []string{"RW", "update"}, Index: 1, LastKey: 0, KeyStep: 1, HasSearch: true}},
			Complexity: "O(1)",
			Args: []DocArg{keyArg,
				{Name: "idmp-duration-block", Type: "block", KeySpecIndex: -1, Flags: []string{"optional"}, Args: []DocArg{
					{Name: "idmp-duration-token", Type: "pure-token", KeySpecIndex: -1, Token: "IDMP-DURATION"},
					{Name: "duration", Type: "integer", KeySpecIndex: -1},
				}},
				{Name: "idmp-maxsize-block", Type: "block", KeySpecIndex: -1, Flags: []string{"optional"}, Args: []DocArg{
					{Name: "idmp-maxsize-token", Type: "pure-token", KeySpecIndex: -1, Token: "IDMP-MAXSIZE"},
					{Name: "maxsize", Type: "integer", KeySpecIndex: -1},
				}},
			},
		},
	},
	"xnack": {
		Summary: "Releases claimed messages back to the group's PEL without acknowledging them, making them available for re-delivery.",
		Since:   "8.8.0",
		Meta: commandMeta{
			Flags: flagsWriteFast, ACL: aclStreamWriteFast,
			KeySpecs:   []KeySpec{{Flags: []string{"RW", "update"}, Index: 1, LastKey: 0, KeyStep: 1, HasSearch: true}},
			Complexity: "O(1) for each message ID processed.",
			Args: []DocArg{keyArg, groupArg,
				{Name: "mode", Type: "oneof", KeySpecIndex: -1, Args: []DocArg{
					{Name: "silent", Type: "pure-token", KeySpecIndex: -1, Token: "SILENT"},
					{Name: "fail", Type: "pure-token", KeySpecIndex: -1, Token: "FAIL"},
					{Name: "fatal", Type: "pure-token", KeySpecIndex: -1, Token: "FATAL"},
				}},
				idsBlock,
				{Name: "count", Type: "integer", KeySpecIndex: -1, Token: "RETRYCOUNT", Flags: []string{"optional"}},
				{Name: "force", Type: "pure-token", KeySpecIndex: -1, Token: "FORCE", Flags: []string{"optional"}},
			},
		},
	},
}

// redis8Options are the arguments Redis 8 added to commands the reference
// knows: each goes after the top-level argument named after ("" means
// first), and the history entries are appended.
var redis8Options = map[string]struct {
	Args    []argInsert
	History [][2]string
}{
	"xadd": {
		Args: []argInsert{
			{After: "nomkstream", Arg: deleteRefs("8.2.0")},
			{After: "condition", Arg: DocArg{Name: "idmp", Type: "oneof", KeySpecIndex: -1, Since: "8.6.0", Flags: []string{"optional"}, Args: []DocArg{
				{Name: "idmpauto-block", Type: "block", KeySpecIndex: -1, Args: []DocArg{
					{Name: "idmpauto-token", Type: "pure-token", KeySpecIndex: -1, Token: "IDMPAUTO"},
					{Name: "producer-id", Type: "string", KeySpecIndex: -1},
				}},
				{Name: "idmp-block", Type: "block", KeySpecIndex: -1, Args: []DocArg{
					{Name: "idmp-token", Type: "pure-token", KeySpecIndex: -1, Token: "IDMP"},
					{Name: "producer-id", Type: "string", KeySpecIndex: -1},
					{Name: "idempotent-id", Type: "string", KeySpecIndex: -1},
				}},
			}}},
		},
		History: [][2]string{
			{"8.2.0", "Added the `KEEPREF`, `DELREF` and `ACKED` options."},
			{"8.6.0", "Added the `IDMPAUTO` and `IDMP` options."},
		},
	},
	"xtrim": {
		Args:    []argInsert{{After: "trim", Arg: deleteRefs("8.2.0")}},
		History: [][2]string{{"8.2.0", "Added the `KEEPREF`, `DELREF` and `ACKED` options."}},
	},
	"xreadgroup": {
		Args: []argInsert{{After: "milliseconds", Arg: DocArg{Name: "min-idle-time", Type: "integer", KeySpecIndex: -1,
			Token: "CLAIM", Since: "8.4.0", Flags: []string{"optional"}}}},
		History: [][2]string{{"8.4.0", "Added the `CLAIM` option."}},
	},
}

// argInsert is one argument added to a reference command's list.
type argInsert struct {
	After string
	Arg   DocArg
}

// applyRedis8 lays the Redis 8 overlay over c, whose metadata is the
// reference's or derived from the engine.
func applyRedis8(c *CommandInfo) {
	if n, ok := redis8Commands[c.Name]; ok {
		m := n.Meta
		c.Flags, c.ACL, c.Tips, c.KeySpecs = m.Flags, m.ACL, m.Tips, m.KeySpecs
		c.Complexity, c.History, c.Args = m.Complexity, m.History, m.Args
		c.Summary, c.Since = n.Summary, n.Since
	}
	o, ok := redis8Options[c.Name]
	if !ok {
		return
	}
	args := slices.Clone(c.Args)
	for _, ins := range o.Args {
		at := 0
		if ins.After != "" {
			at = slices.IndexFunc(args, func(a DocArg) bool { return a.Name == ins.After }) + 1
			if at == 0 {
				// The reference renamed the anchor: keep the option
				// rather than lose it, at the end of the list.
				at = len(args)
			}
		}
		args = slices.Insert(args, at, ins.Arg)
	}
	c.Args = args
	c.History = append(slices.Clip(c.History), o.History...)
}
