package server

import "slices"

// Redis 8 overlay of the generated COMMAND INFO/DOCS metadata.
//
// redismeta.go is generated from a reference redis-server (7.0.15, the
// newest one packaged for the test machines), which knows neither the
// commands Redis 8 added nor the options it added to older ones. This
// file, maintained by hand, adds them on top of the generated table when
// the command table is built (applyRedisMeta), so running gen_redismeta.go
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
	meta           commandMeta
	summary, since string
}

// deleteRefs is the KEEPREF | DELREF | ACKED one-of of Redis 8.2's
// XACKDEL/XDELEX (and, optional, of XADD and XTRIM).
func deleteRefs(since string) docArg {
	return docArg{name: "condition", typ: "oneof", keySpecIndex: -1, since: since, flags: []string{"optional"}, args: []docArg{
		{name: "keepref", typ: "pure-token", keySpecIndex: -1, token: "KEEPREF"},
		{name: "delref", typ: "pure-token", keySpecIndex: -1, token: "DELREF"},
		{name: "acked", typ: "pure-token", keySpecIndex: -1, token: "ACKED"},
	}}
}

// idsBlock is the "IDS numids id [id ...]" block of XACKDEL, XDELEX and
// XNACK.
var idsBlock = docArg{name: "ids", typ: "block", keySpecIndex: -1, token: "IDS", args: []docArg{
	{name: "numids", typ: "integer", keySpecIndex: -1},
	{name: "id", typ: "string", keySpecIndex: -1, flags: []string{"multiple"}},
}}

var (
	aclStreamWriteFast = []string{"@write", "@stream", "@fast"}
	flagsWriteFast     = []string{"write", "fast"}
	keyArg             = docArg{name: "key", typ: "key", keySpecIndex: 0}
	groupArg           = docArg{name: "group", typ: "string", keySpecIndex: -1}
)

// redis8Commands are the commands Redis 8 added, by lower-case name.
var redis8Commands = map[string]redis8Command{
	"xackdel": {
		summary: "Acknowledges and deletes one or multiple messages for a stream consumer group.", since: "8.2.0",
		meta: commandMeta{
			flags: flagsWriteFast, acl: aclStreamWriteFast,
			keySpecs:   []keySpec{{flags: []string{"RW", "update", "delete"}, index: 1, lastKey: 0, keyStep: 1, hasSearch: true}},
			complexity: "O(1) for each message ID processed.",
			args:       []docArg{keyArg, groupArg, deleteRefs(""), idsBlock},
		},
	},
	"xdelex": {
		summary: "Deletes one or multiple entries from the stream.", since: "8.2.0",
		meta: commandMeta{
			flags: flagsWriteFast, acl: aclStreamWriteFast,
			keySpecs:   []keySpec{{flags: []string{"RW", "delete"}, index: 1, lastKey: 0, keyStep: 1, hasSearch: true}},
			complexity: "O(1) for each single item to delete in the stream, regardless of the stream size.",
			args:       []docArg{keyArg, deleteRefs(""), idsBlock},
		},
	},
	"xcfgset": {
		summary: "Sets the IDMP configuration parameters for a stream.", since: "8.6.0",
		meta: commandMeta{
			flags: flagsWriteFast, acl: aclStreamWriteFast,
			keySpecs:   []keySpec{{flags: []string{"RW", "update"}, index: 1, lastKey: 0, keyStep: 1, hasSearch: true}},
			complexity: "O(1)",
			args: []docArg{keyArg,
				{name: "idmp-duration-block", typ: "block", keySpecIndex: -1, flags: []string{"optional"}, args: []docArg{
					{name: "idmp-duration-token", typ: "pure-token", keySpecIndex: -1, token: "IDMP-DURATION"},
					{name: "duration", typ: "integer", keySpecIndex: -1},
				}},
				{name: "idmp-maxsize-block", typ: "block", keySpecIndex: -1, flags: []string{"optional"}, args: []docArg{
					{name: "idmp-maxsize-token", typ: "pure-token", keySpecIndex: -1, token: "IDMP-MAXSIZE"},
					{name: "maxsize", typ: "integer", keySpecIndex: -1},
				}},
			},
		},
	},
	"xnack": {
		summary: "Releases claimed messages back to the group's PEL without acknowledging them, making them available for re-delivery.",
		since:   "8.8.0",
		meta: commandMeta{
			flags: flagsWriteFast, acl: aclStreamWriteFast,
			keySpecs:   []keySpec{{flags: []string{"RW", "update"}, index: 1, lastKey: 0, keyStep: 1, hasSearch: true}},
			complexity: "O(1) for each message ID processed.",
			args: []docArg{keyArg, groupArg,
				{name: "mode", typ: "oneof", keySpecIndex: -1, args: []docArg{
					{name: "silent", typ: "pure-token", keySpecIndex: -1, token: "SILENT"},
					{name: "fail", typ: "pure-token", keySpecIndex: -1, token: "FAIL"},
					{name: "fatal", typ: "pure-token", keySpecIndex: -1, token: "FATAL"},
				}},
				idsBlock,
				{name: "count", typ: "integer", keySpecIndex: -1, token: "RETRYCOUNT", flags: []string{"optional"}},
				{name: "force", typ: "pure-token", keySpecIndex: -1, token: "FORCE", flags: []string{"optional"}},
			},
		},
	},
}

// redis8Options are the arguments Redis 8 added to commands the reference
// knows: each goes after the top-level argument named after ("" means
// first), and the history entries are appended.
var redis8Options = map[string]struct {
	args    []argInsert
	history [][2]string
}{
	"xadd": {
		args: []argInsert{
			{after: "nomkstream", arg: deleteRefs("8.2.0")},
			{after: "condition", arg: docArg{name: "idmp", typ: "oneof", keySpecIndex: -1, since: "8.6.0", flags: []string{"optional"}, args: []docArg{
				{name: "idmpauto-block", typ: "block", keySpecIndex: -1, args: []docArg{
					{name: "idmpauto-token", typ: "pure-token", keySpecIndex: -1, token: "IDMPAUTO"},
					{name: "producer-id", typ: "string", keySpecIndex: -1},
				}},
				{name: "idmp-block", typ: "block", keySpecIndex: -1, args: []docArg{
					{name: "idmp-token", typ: "pure-token", keySpecIndex: -1, token: "IDMP"},
					{name: "producer-id", typ: "string", keySpecIndex: -1},
					{name: "idempotent-id", typ: "string", keySpecIndex: -1},
				}},
			}}},
		},
		history: [][2]string{
			{"8.2.0", "Added the `KEEPREF`, `DELREF` and `ACKED` options."},
			{"8.6.0", "Added the `IDMPAUTO` and `IDMP` options."},
		},
	},
	"xtrim": {
		args:    []argInsert{{after: "trim", arg: deleteRefs("8.2.0")}},
		history: [][2]string{{"8.2.0", "Added the `KEEPREF`, `DELREF` and `ACKED` options."}},
	},
	"xreadgroup": {
		args: []argInsert{{after: "milliseconds", arg: docArg{name: "min-idle-time", typ: "integer", keySpecIndex: -1,
			token: "CLAIM", since: "8.4.0", flags: []string{"optional"}}}},
		history: [][2]string{{"8.4.0", "Added the `CLAIM` option."}},
	},
}

// argInsert is one argument added to a reference command's list.
type argInsert struct {
	after string
	arg   docArg
}

// applyRedis8 lays the Redis 8 overlay over c, whose metadata is the
// reference's or derived from the engine.
func applyRedis8(c *command) {
	if n, ok := redis8Commands[c.name]; ok {
		m := n.meta
		c.flags, c.acl, c.tips, c.keySpecs = m.flags, m.acl, m.tips, m.keySpecs
		c.complexity, c.history, c.args = m.complexity, m.history, m.args
		c.summary, c.since = n.summary, n.since
	}
	o, ok := redis8Options[c.name]
	if !ok {
		return
	}
	args := slices.Clone(c.args)
	for _, ins := range o.args {
		at := 0
		if ins.after != "" {
			at = slices.IndexFunc(args, func(a docArg) bool { return a.name == ins.after }) + 1
			if at == 0 {
				// The reference renamed the anchor: keep the option
				// rather than lose it, at the end of the list.
				at = len(args)
			}
		}
		args = slices.Insert(args, at, ins.arg)
	}
	c.args = args
	c.history = append(slices.Clip(c.history), o.history...)
}
