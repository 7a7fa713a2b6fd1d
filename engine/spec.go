package engine

import (
	"slices"
	"sort"
)

// Flag is a command property, named as COMMAND INFO shows it.
type Flag string

// Spec describes one command or subcommand for routing, arity checks and
// COMMAND INFO/DOCS; a container's subcommands are its Command's.
type Spec struct {
	// Name is lower case; subcommands are "container|sub", e.g. "xgroup|create".
	Name string
	// Arity follows Redis: positive is exact, negative is a minimum.
	Arity int
	// Flags as Redis reports them, e.g. "write", "denyoom", "fast", "readonly", "blocking".
	Flags []Flag
	// FirstKey, LastKey, Step locate key arguments (Redis legacy key spec).
	FirstKey, LastKey, Step int
	// Write is true when the command changes state and so goes through the log.
	Write bool
	// Group, Since and Summary feed COMMAND DOCS.
	Group, Since, Summary string
}

// Command is one entry of the engine's command registry: a spec bound to
// its implementation. The server resolves a name to its Command once and
// then checks and runs it through this handle (Command.Check, State.Run),
// so a command's name is not looked up again on its way to the engine.
//
// check validates what can be validated without state (nil: nothing
// beyond arity); exec runs the command. Both use the same argument parser,
// so a command Check accepts can only fail in Exec for reasons that depend
// on state. A container (XGROUP, XINFO) has subs instead, keyed by
// lower-case subcommand name; argv[1] selects one.
type Command struct {
	spec  *Spec
	check func(argv [][]byte) string
	exec  func(s *State, ctx *Ctx, argv [][]byte)
	subs  map[string]*Command
	// sorted holds subs in name order, for Subcommands.
	sorted []*Command
	// sub is set on a container's subcommands.
	sub bool
	// parser names the command's own parser (parsed.go), if it has one:
	// check is then the parser's, and so is a read's exec; a write's exec
	// parses with the same parser and runs the same run function as
	// RunParsed (withWriteParser).
	parser parser
	// info is the COMMAND INFO/DOCS metadata (meta.go), derived once.
	info *CommandInfo
	// hook is a host command's handler (registry.go); id and parent are
	// the command's in its Registry.
	hook   any
	id     int
	parent *Command
}

// Spec returns the command's spec, shared: callers must not modify it.
func (c *Command) Spec() *Spec { return c.spec }

// Subcommands returns a container's subcommands (nil for any other
// command), in name order for the engine's, shared: callers must not
// modify the slice.
func (c *Command) Subcommands() []*Command { return c.sorted }

// Check is the package-level Check for argv already resolved to c (argv[1]
// names the subcommand of a container): the syntax error Exec would give
// regardless of state, or "". A nil c is Check(argv).
func (c *Command) Check(argv [][]byte) string {
	if c == nil || c.spec == nil || c.subs != nil || !ArityOK(c.spec.Arity, len(argv)) {
		return Check(argv) // not a leaf engine command, or a wrong arity: its own errors
	}
	if c.check == nil {
		return ""
	}
	return c.check(argv)
}

// Command flags as COMMAND INFO reports them.
const (
	flagWrite       Flag = "write"
	flagReadonly    Flag = "readonly"
	flagDenyOOM     Flag = "denyoom"
	flagFast        Flag = "fast"
	flagBlocking    Flag = "blocking"
	flagMovableKeys Flag = "movablekeys"
	flagLoading     Flag = "loading"
	flagStale       Flag = "stale"
)

// container builds a container command over its subcommands.
func container(spec *Spec, subs ...*Command) *Command {
	c := &Command{spec: spec, subs: make(map[string]*Command, len(subs))}
	for _, sub := range subs {
		name := sub.spec.Name[len(spec.Name)+1:]
		sub.sub = true
		c.subs[name] = sub
		c.sorted = append(c.sorted, sub)
	}
	sort.Slice(c.sorted, func(i, j int) bool { return c.sorted[i].spec.Name < c.sorted[j].spec.Name })
	return c
}

// lookupSub finds a container's subcommand by name in any case.
func (c *Command) lookupSub(name []byte) *Command {
	var buf [16]byte
	if len(name) > len(buf) {
		return nil
	}
	for i, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf[i] = ch
	}
	return c.subs[string(buf[:len(name)])]
}

// Arity, flags and key positions follow COMMAND INFO of a real
// redis-server; group, since and summary follow Redis's command JSON files
// (the 7.2+ wording that Redis 8 keeps).
var commandTable = map[string]*Command{
	"xadd": withWriteParser(&Command{spec: &Spec{Name: "xadd", Arity: -5, Flags: []Flag{flagWrite, flagDenyOOM, flagFast},
		FirstKey: 1, LastKey: 1, Step: 1, Write: true, Group: "stream", Since: "5.0.0",
		Summary: "Appends a new message to a stream. Creates the key if it doesn't exist."},
		exec: (*State).execXAdd}, parserXAdd),
	"xlen": {spec: &Spec{Name: "xlen", Arity: 2, Flags: []Flag{flagReadonly, flagFast},
		FirstKey: 1, LastKey: 1, Step: 1, Group: "stream", Since: "5.0.0",
		Summary: "Return the number of messages in a stream."},
		exec: (*State).execXLen},
	"xrange": withParser(&Command{spec: &Spec{Name: "xrange", Arity: -4, Flags: []Flag{flagReadonly},
		FirstKey: 1, LastKey: 1, Step: 1, Group: "stream", Since: "5.0.0",
		Summary: "Returns the messages from a stream within a range of IDs."}},
		parserXRange, nil),
	"xrevrange": withParser(&Command{spec: &Spec{Name: "xrevrange", Arity: -4, Flags: []Flag{flagReadonly},
		FirstKey: 1, LastKey: 1, Step: 1, Group: "stream", Since: "5.0.0",
		Summary: "Returns the messages from a stream within a range of IDs in reverse order."}},
		parserXRange, nil),
	"xdel": {spec: &Spec{Name: "xdel", Arity: -3, Flags: []Flag{flagWrite, flagFast},
		FirstKey: 1, LastKey: 1, Step: 1, Write: true, Group: "stream", Since: "5.0.0",
		Summary: "Returns the number of messages after removing them from a stream."},
		exec: (*State).execXDel},
	"xtrim": withWriteParser(&Command{spec: &Spec{Name: "xtrim", Arity: -4, Flags: []Flag{flagWrite},
		FirstKey: 1, LastKey: 1, Step: 1, Write: true, Group: "stream", Since: "5.0.0",
		Summary: "Deletes messages from the beginning of a stream."},
		exec: (*State).execXTrim}, parserXTrim),
	"xsetid": withWriteParser(&Command{spec: &Spec{Name: "xsetid", Arity: -3, Flags: []Flag{flagWrite, flagDenyOOM, flagFast},
		FirstKey: 1, LastKey: 1, Step: 1, Write: true, Group: "stream", Since: "5.0.0",
		Summary: "An internal command for replicating stream values."},
		exec: (*State).execXSetID}, parserXSetID),
	"xread": withParser(&Command{spec: &Spec{Name: "xread", Arity: -4, Flags: []Flag{flagReadonly, flagBlocking, flagMovableKeys},
		Group: "stream", Since: "5.0.0",
		Summary: "Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise."}},
		parserXRead, (*State).execXRead),

	"xreadgroup": withWriteParser(&Command{spec: &Spec{Name: "xreadgroup", Arity: -7, Flags: []Flag{flagWrite, flagBlocking, flagMovableKeys},
		Write: true, Group: "stream", Since: "5.0.0",
		Summary: "Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise."},
		exec: (*State).execXReadGroup}, parserXReadGroup),
	"xack": {spec: &Spec{Name: "xack", Arity: -4, Flags: []Flag{flagWrite, flagFast},
		FirstKey: 1, LastKey: 1, Step: 1, Write: true, Group: "stream", Since: "5.0.0",
		Summary: "Returns the number of messages that were successfully acknowledged by the consumer group member of a stream."},
		exec: (*State).execXAck},
	"xpending": withParser(&Command{spec: &Spec{Name: "xpending", Arity: -3, Flags: []Flag{flagReadonly},
		FirstKey: 1, LastKey: 1, Step: 1, Group: "stream", Since: "5.0.0",
		Summary: "Returns the information and entries from a stream consumer group's pending entries list."}},
		parserXPending, nil),
	"xclaim": {spec: &Spec{Name: "xclaim", Arity: -6, Flags: []Flag{flagWrite, flagFast},
		FirstKey: 1, LastKey: 1, Step: 1, Write: true, Group: "stream", Since: "5.0.0",
		Summary: "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member."},
		exec: (*State).execXClaim},
	"xautoclaim": withWriteParser(&Command{spec: &Spec{Name: "xautoclaim", Arity: -6, Flags: []Flag{flagWrite, flagFast},
		FirstKey: 1, LastKey: 1, Step: 1, Write: true, Group: "stream", Since: "6.2.0",
		Summary: "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member."},
		exec: (*State).execXAutoClaim}, parserXAutoClaim),
	"xdelex": withWriteParser(&Command{spec: &Spec{Name: "xdelex", Arity: -5, Flags: []Flag{flagWrite, flagFast},
		FirstKey: 1, LastKey: 1, Step: 1, Write: true, Group: "stream", Since: "8.2.0",
		Summary: "Deletes one or multiple entries from the stream."},
		exec: (*State).execXDelEx}, parserXDelEx),
	"xackdel": withWriteParser(&Command{spec: &Spec{Name: "xackdel", Arity: -6, Flags: []Flag{flagWrite, flagFast},
		FirstKey: 1, LastKey: 1, Step: 1, Write: true, Group: "stream", Since: "8.2.0",
		Summary: "Acknowledges and deletes one or multiple messages for a stream consumer group."},
		exec: (*State).execXAckDel}, parserXAckDel),
	"xnack": {spec: &Spec{Name: "xnack", Arity: -7, Flags: []Flag{flagWrite, flagFast},
		FirstKey: 1, LastKey: 1, Step: 1, Write: true, Group: "stream", Since: "8.8.0",
		Summary: "Releases pending messages of a consumer group without acknowledging them."},
		exec: (*State).execXNack},
	"xcfgset": {spec: &Spec{Name: "xcfgset", Arity: -2, Flags: []Flag{flagWrite, flagFast},
		FirstKey: 1, LastKey: 1, Step: 1, Write: true, Group: "stream", Since: "8.6.0",
		Summary: "Sets the IDMP configuration parameters of a stream."},
		exec: (*State).execXCfgSet},
	"rs.setdlq": withWriteParser(&Command{spec: &Spec{Name: "rs.setdlq", Arity: -4, Flags: []Flag{flagWrite, flagFast},
		FirstKey: 1, LastKey: 1, Step: 1, Write: true, Group: "stream", Since: "8.0.0",
		Summary: "Sets or clears a consumer group's dead-letter stream (raftstream extension)."},
		exec: (*State).execRSSetDLQ}, parserRSSetDLQ),
	"xgroup": container(&Spec{Name: "xgroup", Arity: -2, Group: "stream", Since: "5.0.0",
		Summary: "A container for consumer groups commands."},
		withWriteParser(&Command{spec: &Spec{Name: "xgroup|create", Arity: -5, Flags: []Flag{flagWrite, flagDenyOOM},
			FirstKey: 2, LastKey: 2, Step: 1, Write: true, Group: "stream", Since: "5.0.0",
			Summary: "Creates a consumer group."},
			exec: (*State).execXGroup}, parserXGroup),
		withWriteParser(&Command{spec: &Spec{Name: "xgroup|setid", Arity: -5, Flags: []Flag{flagWrite},
			FirstKey: 2, LastKey: 2, Step: 1, Write: true, Group: "stream", Since: "5.0.0",
			Summary: "Sets the last-delivered ID of a consumer group."},
			exec: (*State).execXGroup}, parserXGroup),
		&Command{spec: &Spec{Name: "xgroup|destroy", Arity: 4, Flags: []Flag{flagWrite},
			FirstKey: 2, LastKey: 2, Step: 1, Write: true, Group: "stream", Since: "5.0.0",
			Summary: "Destroys a consumer group."},
			exec: (*State).execXGroup},
		&Command{spec: &Spec{Name: "xgroup|createconsumer", Arity: 5, Flags: []Flag{flagWrite, flagDenyOOM},
			FirstKey: 2, LastKey: 2, Step: 1, Write: true, Group: "stream", Since: "6.2.0",
			Summary: "Creates a consumer in a consumer group."},
			exec: (*State).execXGroup},
		&Command{spec: &Spec{Name: "xgroup|delconsumer", Arity: 5, Flags: []Flag{flagWrite},
			FirstKey: 2, LastKey: 2, Step: 1, Write: true, Group: "stream", Since: "5.0.0",
			Summary: "Deletes a consumer from a consumer group."},
			exec: (*State).execXGroup},
		&Command{spec: &Spec{Name: "xgroup|help", Arity: 2, Flags: []Flag{flagLoading, flagStale},
			Group: "stream", Since: "5.0.0",
			Summary: "Returns helpful text about the different subcommands."},
			exec: (*State).execXGroupHelp},
	),
	"xinfo": container(&Spec{Name: "xinfo", Arity: -2, Group: "stream", Since: "5.0.0",
		Summary: "A container for stream introspection commands."},
		&Command{spec: &Spec{Name: "xinfo|stream", Arity: -3, Flags: []Flag{flagReadonly},
			FirstKey: 2, LastKey: 2, Step: 1, Group: "stream", Since: "5.0.0",
			Summary: "Returns information about a stream."},
			exec: (*State).execXInfoStream},
		&Command{spec: &Spec{Name: "xinfo|groups", Arity: 3, Flags: []Flag{flagReadonly},
			FirstKey: 2, LastKey: 2, Step: 1, Group: "stream", Since: "5.0.0",
			Summary: "Returns a list of the consumer groups of a stream."},
			exec: (*State).execXInfoGroups},
		&Command{spec: &Spec{Name: "xinfo|consumers", Arity: 4, Flags: []Flag{flagReadonly},
			FirstKey: 2, LastKey: 2, Step: 1, Group: "stream", Since: "5.0.0",
			Summary: "Returns a list of the consumers in a consumer group."},
			exec: (*State).execXInfoConsumers},
		&Command{spec: &Spec{Name: "xinfo|help", Arity: 2, Flags: []Flag{flagLoading, flagStale},
			Group: "stream", Since: "5.0.0",
			Summary: "Returns helpful text about the different subcommands."},
			exec: (*State).execXInfoHelp},
	),

	"memory": container(&Spec{Name: "memory", Arity: -2, Group: "server", Since: "4.0.0",
		Summary: "A container for memory diagnostics commands."},
		&Command{spec: &Spec{Name: "memory|usage", Arity: -3, Flags: []Flag{flagReadonly},
			FirstKey: 2, LastKey: 2, Step: 1, Group: "server", Since: "4.0.0",
			Summary: "Estimates the memory usage of a key."},
			exec: (*State).execMemoryUsage},
		&Command{spec: &Spec{Name: "memory|help", Arity: 2, Flags: []Flag{flagLoading, flagStale},
			Group: "server", Since: "4.0.0",
			Summary: "Outputs helpful text about memory usage commands."},
			exec: (*State).execMemoryHelp},
	),

	"del": {spec: &Spec{Name: "del", Arity: -2, Flags: []Flag{flagWrite},
		FirstKey: 1, LastKey: -1, Step: 1, Write: true, Group: "generic", Since: "1.0.0",
		Summary: "Deletes one or more keys."},
		exec: (*State).execDel},
	"unlink": {spec: &Spec{Name: "unlink", Arity: -2, Flags: []Flag{flagWrite, flagFast},
		FirstKey: 1, LastKey: -1, Step: 1, Write: true, Group: "generic", Since: "4.0.0",
		Summary: "Asynchronously deletes one or more keys."},
		exec: (*State).execDel},
	"exists": {spec: &Spec{Name: "exists", Arity: -2, Flags: []Flag{flagReadonly, flagFast},
		FirstKey: 1, LastKey: -1, Step: 1, Group: "generic", Since: "1.0.0",
		Summary: "Determines whether one or more keys exist."},
		exec: (*State).execExists},
	"type": {spec: &Spec{Name: "type", Arity: 2, Flags: []Flag{flagReadonly, flagFast},
		FirstKey: 1, LastKey: 1, Step: 1, Group: "generic", Since: "1.0.0",
		Summary: "Determines the type of value stored at a key."},
		exec: (*State).execType},
	"touch": {spec: &Spec{Name: "touch", Arity: -2, Flags: []Flag{flagReadonly, flagFast},
		FirstKey: 1, LastKey: -1, Step: 1, Group: "generic", Since: "3.2.1",
		Summary: "Returns the number of existing keys out of those specified after updating the time they were last accessed."},
		exec: (*State).execTouch},
	"object": container(&Spec{Name: "object", Arity: -2, Group: "generic", Since: "2.2.3",
		Summary: "A container for object introspection commands."},
		&Command{spec: &Spec{Name: "object|encoding", Arity: 3, Flags: []Flag{flagReadonly},
			FirstKey: 2, LastKey: 2, Step: 1, Group: "generic", Since: "2.2.3",
			Summary: "Returns the internal encoding of a Redis object."},
			exec: (*State).execObject},
		&Command{spec: &Spec{Name: "object|freq", Arity: 3, Flags: []Flag{flagReadonly},
			FirstKey: 2, LastKey: 2, Step: 1, Group: "generic", Since: "4.0.0",
			Summary: "Returns the logarithmic access frequency counter of a Redis object."},
			exec: (*State).execObject},
		&Command{spec: &Spec{Name: "object|refcount", Arity: 3, Flags: []Flag{flagReadonly},
			FirstKey: 2, LastKey: 2, Step: 1, Group: "generic", Since: "2.2.3",
			Summary: "Returns the reference count of a value of a key."},
			exec: (*State).execObject},
		&Command{spec: &Spec{Name: "object|help", Arity: 2, Flags: []Flag{flagLoading, flagStale},
			Group: "generic", Since: "6.2.0",
			Summary: "Returns helpful text about the different subcommands."},
			exec: (*State).execObjectHelp},
	),
	"keys": {spec: &Spec{Name: "keys", Arity: 2, Flags: []Flag{flagReadonly},
		Group: "generic", Since: "1.0.0",
		Summary: "Returns all key names that match a pattern."},
		exec: (*State).execKeys},
	"scan": {spec: &Spec{Name: "scan", Arity: -2, Flags: []Flag{flagReadonly},
		Group: "generic", Since: "2.8.0",
		Summary: "Iterates over the key names in the database."},
		check: checkScan, exec: (*State).execScan},
	"dbsize": {spec: &Spec{Name: "dbsize", Arity: 1, Flags: []Flag{flagReadonly, flagFast},
		Group: "server", Since: "1.0.0",
		Summary: "Returns the number of keys in the database."},
		exec: (*State).execDBSize},
	"flushdb": withWriteParser(&Command{spec: &Spec{Name: "flushdb", Arity: -1, Flags: []Flag{flagWrite},
		Write: true, Group: "server", Since: "1.0.0",
		Summary: "Remove all keys from the current database."},
		exec: (*State).execFlushDB}, parserFlushDB),
	"flushall": withWriteParser(&Command{spec: &Spec{Name: "flushall", Arity: -1, Flags: []Flag{flagWrite},
		Write: true, Group: "server", Since: "1.0.0",
		Summary: "Removes all keys from all databases."},
		exec: (*State).execFlushAll}, parserFlushAll),

	"expire": withWriteParser(&Command{spec: &Spec{Name: "expire", Arity: -3, Flags: []Flag{flagWrite, flagFast},
		FirstKey: 1, LastKey: 1, Step: 1, Write: true, Group: "generic", Since: "1.0.0",
		Summary: "Sets the expiration time of a key in seconds."},
		exec: (*State).execExpire}, parserExpire),
	"pexpire": withWriteParser(&Command{spec: &Spec{Name: "pexpire", Arity: -3, Flags: []Flag{flagWrite, flagFast},
		FirstKey: 1, LastKey: 1, Step: 1, Write: true, Group: "generic", Since: "2.6.0",
		Summary: "Sets the expiration time of a key in milliseconds."},
		exec: (*State).execExpire}, parserExpire),
	"expireat": withWriteParser(&Command{spec: &Spec{Name: "expireat", Arity: -3, Flags: []Flag{flagWrite, flagFast},
		FirstKey: 1, LastKey: 1, Step: 1, Write: true, Group: "generic", Since: "1.2.0",
		Summary: "Sets the expiration time of a key to a Unix timestamp."},
		exec: (*State).execExpire}, parserExpire),
	"pexpireat": withWriteParser(&Command{spec: &Spec{Name: "pexpireat", Arity: -3, Flags: []Flag{flagWrite, flagFast},
		FirstKey: 1, LastKey: 1, Step: 1, Write: true, Group: "generic", Since: "2.6.0",
		Summary: "Sets the expiration time of a key to a Unix milliseconds timestamp."},
		exec: (*State).execExpire}, parserExpire),
	"ttl": {spec: &Spec{Name: "ttl", Arity: 2, Flags: []Flag{flagReadonly, flagFast},
		FirstKey: 1, LastKey: 1, Step: 1, Group: "generic", Since: "1.0.0",
		Summary: "Returns the expiration time in seconds of a key."},
		exec: (*State).execTTL},
	"pttl": {spec: &Spec{Name: "pttl", Arity: 2, Flags: []Flag{flagReadonly, flagFast},
		FirstKey: 1, LastKey: 1, Step: 1, Group: "generic", Since: "2.6.0",
		Summary: "Returns the expiration time in milliseconds of a key."},
		exec: (*State).execTTL},
	"expiretime": {spec: &Spec{Name: "expiretime", Arity: 2, Flags: []Flag{flagReadonly, flagFast},
		FirstKey: 1, LastKey: 1, Step: 1, Group: "generic", Since: "7.0.0",
		Summary: "Returns the expiration time of a key as a Unix timestamp."},
		exec: (*State).execTTL},
	"pexpiretime": {spec: &Spec{Name: "pexpiretime", Arity: 2, Flags: []Flag{flagReadonly, flagFast},
		FirstKey: 1, LastKey: 1, Step: 1, Group: "generic", Since: "7.0.0",
		Summary: "Returns the expiration time of a key as a Unix milliseconds timestamp."},
		exec: (*State).execTTL},
	"persist": {spec: &Spec{Name: "persist", Arity: 2, Flags: []Flag{flagWrite, flagFast},
		FirstKey: 1, LastKey: 1, Step: 1, Write: true, Group: "generic", Since: "2.2.0",
		Summary: "Removes the expiration time of a key."},
		exec: (*State).execPersist},
	"rename": {spec: &Spec{Name: "rename", Arity: 3, Flags: []Flag{flagWrite},
		FirstKey: 1, LastKey: 2, Step: 1, Write: true, Group: "generic", Since: "1.0.0",
		Summary: "Renames a key and overwrites the destination."},
		exec: (*State).execRename},
	"renamenx": {spec: &Spec{Name: "renamenx", Arity: 3, Flags: []Flag{flagWrite, flagFast},
		FirstKey: 1, LastKey: 2, Step: 1, Write: true, Group: "generic", Since: "1.0.0",
		Summary: "Renames a key only when the target key name doesn't exist."},
		exec: (*State).execRename},
	"copy": withWriteParser(&Command{spec: &Spec{Name: "copy", Arity: -3, Flags: []Flag{flagWrite, flagDenyOOM},
		FirstKey: 1, LastKey: 2, Step: 1, Write: true, Group: "generic", Since: "6.2.0",
		Summary: "Copies the value of a key to a new key."},
		exec: (*State).execCopy}, parserCopy),
}

// sortedCommands is the registry in name order, built once, each
// command with its metadata (withInfo).
var sortedCommands = func() []*Command {
	out := make([]*Command, 0, len(commandTable))
	for _, c := range commandTable {
		out = append(out, withInfo(c))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].spec.Name < out[j].spec.Name })
	return out
}()

// Commands returns every top-level command the engine executes, sorted by
// name. The commands are shared: callers must not modify them.
func Commands() []*Command { return slices.Clone(sortedCommands) }

// lookupCommand finds a command by name in any case without allocating.
func lookupCommand(name []byte) *Command {
	var buf [16]byte
	if len(name) > len(buf) {
		return nil // no command name is this long
	}
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return commandTable[string(buf[:len(name)])]
}

// ArityOK reports whether argc (the command name included) satisfies a
// Redis arity: positive is exact, negative a minimum (processCommand's
// rule). The server checks its own commands with it too.
func ArityOK(arity, argc int) bool {
	if arity > 0 {
		return argc == arity
	}
	return argc >= -arity
}
