package server

// Flag and category sets shared by several server commands, as Redis 7
// reports them in COMMAND INFO.
var (
	flagsConnFast  = []string{"loading", "stale", "fast"}
	flagsNoAuth    = []string{"noscript", "loading", "stale", "fast", "no_auth", "allow_busy"}
	flagsConnMeta  = []string{"noscript", "loading", "stale"}
	flagsAdmin     = []string{"admin", "noscript", "loading", "stale"}
	flagsHelp      = []string{"loading", "stale"}
	flagsTxn       = []string{"noscript", "loading", "stale", "fast", "allow_busy"}
	aclFastConn    = []string{"@fast", "@connection"}
	aclSlowConn    = []string{"@slow", "@connection"}
	aclAdminConn   = []string{"@admin", "@slow", "@dangerous", "@connection"}
	aclAdmin       = []string{"@admin", "@slow", "@dangerous"}
	aclFastTxn     = []string{"@fast", "@transaction"}
	tipsOrder      = []string{"nondeterministic_output_order"}
	tipsAllNodesOK = []string{"request_policy:all_nodes", "response_policy:all_succeeded"}
)

// serverCommands returns the commands executed by the server itself rather
// than the engine: connection handling, introspection and configuration.
// Metadata (arity, flags, ACL categories, tips, docs) follows what Redis 7
// reports for the same commands; CLIENT SETINFO and NO-TOUCH (7.2) follow
// the Redis docs.
func serverCommands() []*cmdDef {
	return []*cmdDef{
		{name: "ping", arity: -1, flags: []string{"fast"}, acl: aclFastConn,
			tips:  []string{"request_policy:all_shards", "response_policy:all_succeeded"},
			group: "connection", since: "1.0.0", summary: "Ping the server", complexity: "O(1)", run: cmdPing},
		{name: "echo", arity: 2, flags: flagsConnFast, acl: aclFastConn,
			group: "connection", since: "1.0.0", summary: "Echo the given string", complexity: "O(1)", run: cmdEcho},
		{name: "hello", arity: -1, flags: flagsNoAuth, acl: aclFastConn,
			group: "connection", since: "6.0.0", summary: "Handshake with Redis", complexity: "O(1)", run: cmdHello},
		{name: "auth", arity: -2, flags: flagsNoAuth, acl: aclFastConn,
			group: "connection", since: "1.0.0", summary: "Authenticate to the server",
			complexity: "O(N) where N is the number of passwords defined for the user", run: cmdAuth},
		{name: "select", arity: 2, flags: flagsConnFast, acl: aclFastConn,
			group: "connection", since: "1.0.0", summary: "Change the selected database for the current connection", complexity: "O(1)", run: cmdSelect},
		{name: "quit", arity: -1, flags: flagsNoAuth, acl: aclFastConn,
			group: "connection", since: "1.0.0", summary: "Close the connection", complexity: "O(1)", run: cmdQuit},
		{name: "reset", arity: 1, flags: flagsNoAuth, acl: aclFastConn,
			group: "connection", since: "6.2.0", summary: "Reset the connection", complexity: "O(1)", run: cmdReset},
		{name: "info", arity: -1, flags: flagsHelp, acl: []string{"@slow", "@dangerous"},
			tips:  []string{"nondeterministic_output", "request_policy:all_shards", "response_policy:special"},
			group: "server", since: "1.0.0", summary: "Get information and statistics about the server", complexity: "O(1)",
			run: cmdInfo, readsState: true},
		{name: "shutdown", arity: -1, flags: []string{"admin", "noscript", "loading", "stale", "no_multi", "allow_busy"},
			acl: []string{"@admin", "@slow", "@dangerous"}, group: "server", since: "1.0.0",
			summary:    "Synchronously saves the database(s) to disk and shuts down the Redis server.",
			complexity: "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
			run:        cmdShutdown},
		{name: "role", arity: 1, flags: []string{"noscript", "loading", "stale", "fast"}, acl: []string{"@admin", "@fast", "@dangerous"},
			group: "server", since: "2.8.12", summary: "Return the role of the instance in the context of replication", complexity: "O(1)",
			run: cmdRole},
		{name: "slowlog", arity: -2, acl: []string{"@slow"}, group: "server", since: "2.2.12",
			summary: "A container for slow log commands", complexity: "Depends on subcommand.",
			subs: []*cmdDef{
				{name: "slowlog|get", arity: -2, flags: []string{"admin", "loading", "stale"}, acl: aclAdmin,
					tips:  []string{"request_policy:all_nodes", "nondeterministic_output"},
					group: "server", since: "2.2.12", summary: "Get the slow log's entries",
					complexity: "O(N) where N is the number of entries returned", run: cmdSlowlogGet},
				{name: "slowlog|help", arity: 2, flags: flagsHelp, acl: []string{"@slow"}, group: "server", since: "6.2.0",
					summary: "Show helpful text about the different subcommands", complexity: "O(1)", run: cmdSlowlogHelp},
				{name: "slowlog|len", arity: 2, flags: []string{"admin", "loading", "stale"}, acl: aclAdmin,
					tips:  []string{"request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"},
					group: "server", since: "2.2.12", summary: "Get the slow log's length", complexity: "O(1)", run: cmdSlowlogLen},
				{name: "slowlog|reset", arity: 2, flags: []string{"admin", "loading", "stale"}, acl: aclAdmin,
					tips:  []string{"request_policy:all_nodes", "response_policy:all_succeeded"},
					group: "server", since: "2.2.12", summary: "Clear all entries from the slow log", complexity: "O(N) where N is the number of entries in the slowlog",
					run: cmdSlowlogReset},
			}},
		{name: "rs.idempotent", arity: -2, flags: flagsConnFast, acl: aclFastConn, group: "connection", since: "8.0.0",
			summary:    "Turns automatic idempotency of the connection's XADDs on or off (raftstream extension).",
			complexity: "O(1)", run: cmdRSIdempotent,
			args: []docArg{{Name: "mode", Type: "oneof", KeySpecIndex: -1, Args: []docArg{
				{Name: "on", Type: "block", KeySpecIndex: -1, Args: []docArg{
					{Name: "on", Type: "pure-token", KeySpecIndex: -1, Token: "ON"},
					{Name: "producer-id", Type: "string", KeySpecIndex: -1, Flags: []string{"optional"}},
				}},
				{Name: "off", Type: "pure-token", KeySpecIndex: -1, Token: "OFF"},
			}}}},
		{name: "time", arity: 1, flags: flagsConnFast, acl: []string{"@fast"}, tips: []string{"nondeterministic_output"},
			group: "server", since: "2.6.0", summary: "Return the current server time", complexity: "O(1)", run: cmdTime},
		{name: "client", arity: -2, acl: []string{"@slow"}, group: "connection", since: "2.4.0",
			summary: "A container for client connection commands", complexity: "Depends on subcommand.",
			subs: []*cmdDef{
				{name: "client|getname", arity: 2, flags: flagsConnMeta, acl: aclSlowConn, group: "connection", since: "2.6.9",
					summary: "Get the current connection name", complexity: "O(1)", run: cmdClientGetname},
				{name: "client|help", arity: 2, flags: flagsHelp, acl: aclSlowConn, group: "connection", since: "5.0.0",
					summary: "Show helpful text about the different subcommands", complexity: "O(1)", run: cmdClientHelp},
				{name: "client|id", arity: 2, flags: flagsConnMeta, acl: aclSlowConn, group: "connection", since: "5.0.0",
					summary: "Returns the client ID for the current connection", complexity: "O(1)", run: cmdClientID},
				{name: "client|info", arity: 2, flags: flagsConnMeta, acl: aclSlowConn, tips: []string{"nondeterministic_output"},
					group: "connection", since: "6.2.0", summary: "Returns information about the current client connection.",
					complexity: "O(1)", run: cmdClientInfo},
				{name: "client|kill", arity: -3, flags: flagsAdmin, acl: aclAdminConn, group: "connection", since: "2.4.0",
					summary: "Kill the connection of a client", complexity: "O(N) where N is the number of client connections", run: cmdClientKill},
				{name: "client|list", arity: -2, flags: flagsAdmin, acl: aclAdminConn, tips: []string{"nondeterministic_output"},
					group: "connection", since: "2.4.0", summary: "Get the list of client connections",
					complexity: "O(N) where N is the number of client connections", run: cmdClientList},
				{name: "client|no-evict", arity: 3, flags: flagsAdmin, acl: aclAdminConn, group: "connection", since: "7.0.0",
					summary: "Set client eviction mode for the current connection", complexity: "O(1)", run: cmdClientOnOff},
				{name: "client|no-touch", arity: 3, flags: flagsConnMeta, acl: aclSlowConn, group: "connection", since: "7.2.0",
					summary: "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", complexity: "O(1)", run: cmdClientOnOff},
				{name: "client|setinfo", arity: 4, flags: flagsConnMeta, acl: aclSlowConn, tips: tipsAllNodesOK,
					group: "connection", since: "7.2.0", summary: "Sets information specific to the client or connection.",
					complexity: "O(1)", run: cmdClientSetinfo},
				{name: "client|setname", arity: 3, flags: flagsConnMeta, acl: aclSlowConn, group: "connection", since: "2.6.9",
					summary: "Set the current connection name", complexity: "O(1)", run: cmdClientSetname},
				{name: "client|unblock", arity: -3, flags: flagsAdmin, acl: aclAdminConn, group: "connection", since: "5.0.0",
					summary:    "Unblock a client blocked in a blocking command from a different connection",
					complexity: "O(log N) where N is the number of client connections", run: cmdClientUnblock},
			}},
		{name: "command", arity: -1, flags: flagsHelp, acl: aclSlowConn, tips: tipsOrder, group: "server", since: "2.8.13",
			summary: "Get array of Redis command details", complexity: "O(N) where N is the total number of Redis commands", run: cmdCommand,
			subs: []*cmdDef{
				{name: "command|count", arity: 2, flags: flagsHelp, acl: aclSlowConn, group: "server", since: "2.8.13",
					summary: "Get total number of Redis commands", complexity: "O(1)", run: cmdCommandCount},
				{name: "command|docs", arity: -2, flags: flagsHelp, acl: aclSlowConn, tips: tipsOrder, group: "server", since: "7.0.0",
					summary: "Get array of specific Redis command documentation", complexity: "O(N) where N is the number of commands to look up", run: cmdCommandDocs},
				{name: "command|getkeys", arity: -4, flags: flagsHelp, acl: aclSlowConn, group: "server", since: "2.8.13",
					summary: "Extract keys given a full Redis command", complexity: "O(N) where N is the number of arguments to the command", run: cmdCommandGetKeys},
				{name: "command|getkeysandflags", arity: -4, flags: flagsHelp, acl: aclSlowConn, group: "server", since: "7.0.0",
					summary: "Extract keys and access flags given a full Redis command", complexity: "O(N) where N is the number of arguments to the command", run: cmdCommandGetKeys},
				{name: "command|help", arity: 2, flags: flagsHelp, acl: aclSlowConn, group: "server", since: "5.0.0",
					summary: "Show helpful text about the different subcommands", complexity: "O(1)", run: cmdCommandHelp},
				{name: "command|info", arity: -2, flags: flagsHelp, acl: aclSlowConn, tips: tipsOrder, group: "server", since: "2.8.13",
					summary:    "Get array of specific Redis command details, or all when no argument is given.",
					complexity: "O(N) where N is the number of commands to look up", run: cmdCommandInfo},
				{name: "command|list", arity: -2, flags: flagsHelp, acl: aclSlowConn, tips: tipsOrder, group: "server", since: "7.0.0",
					summary: "Get an array of Redis command names", complexity: "O(N) where N is the total number of Redis commands", run: cmdCommandList},
			}},
		{name: "config", arity: -2, acl: []string{"@slow"}, group: "server", since: "2.0.0",
			summary: "A container for server configuration commands", complexity: "Depends on subcommand.",
			subs: []*cmdDef{
				{name: "config|get", arity: -3, flags: flagsAdmin, acl: aclAdmin, group: "server", since: "2.0.0",
					summary: "Get the values of configuration parameters", complexity: "O(N) when N is the number of configuration parameters provided",
					run: cmdConfigGet, readsState: true},
				{name: "config|help", arity: 2, flags: flagsHelp, acl: []string{"@slow"}, group: "server", since: "5.0.0",
					summary: "Show helpful text about the different subcommands", complexity: "O(1)", run: cmdConfigHelp},
				{name: "config|resetstat", arity: 2, flags: flagsAdmin, acl: aclAdmin, group: "server", since: "2.0.0",
					summary: "Reset the stats returned by INFO", complexity: "O(1)", run: cmdConfigResetstat},
				{name: "config|rewrite", arity: 2, flags: flagsAdmin, acl: aclAdmin, group: "server", since: "2.8.0",
					summary: "Rewrite the configuration file with the in memory configuration", complexity: "O(1)", run: cmdConfigRewrite},
				{name: "config|set", arity: -4, flags: flagsAdmin, acl: aclAdmin, tips: tipsAllNodesOK, group: "server", since: "2.0.0",
					summary: "Set configuration parameters to the given values", complexity: "O(N) when N is the number of configuration parameters provided",
					run: cmdConfigSet},
			}},
		{name: "function", arity: -2, acl: []string{"@slow"}, group: "scripting", since: "7.0.0",
			summary: "A container for function commands", complexity: "Depends on subcommand.",
			subs: []*cmdDef{
				{name: "function|flush", arity: -2, flags: []string{"write", "noscript"}, acl: []string{"@write", "@slow", "@scripting"},
					tips:  []string{"request_policy:all_shards", "response_policy:all_succeeded"},
					group: "scripting", since: "7.0.0", summary: "Deleting all functions",
					complexity: "O(N) where N is the number of functions deleted", run: cmdFunctionFlush},
			}},
		// WAIT and WAITAOF carry Redis 8's metadata (blocking, no longer
		// noscript).
		{name: "wait", arity: 3, flags: []string{"blocking"}, acl: []string{"@slow", "@blocking", "@connection"},
			tips:  []string{"request_policy:all_shards", "response_policy:agg_min"},
			group: "generic", since: "3.0.0", complexity: "O(1)", run: cmdWait, readsState: true,
			summary: "Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed."},
		{name: "waitaof", arity: 4, flags: []string{"blocking"}, acl: []string{"@slow", "@blocking", "@connection"},
			tips:  []string{"request_policy:all_shards", "response_policy:agg_min"},
			group: "generic", since: "7.2.0", complexity: "O(1)", run: cmdWaitAOF, readsState: true,
			summary: "Blocks until all of the preceding write commands sent by the connection are written to the append-only file of the master and/or replicas."},
		{name: "multi", arity: 1, flags: flagsTxn, acl: aclFastTxn, group: "transactions", since: "1.2.0",
			summary: "Mark the start of a transaction block", complexity: "O(1)", run: txnMulti},
		{name: "exec", arity: 1, flags: []string{"noscript", "loading", "stale", "skip_slowlog"}, acl: []string{"@slow", "@transaction"},
			group: "transactions", since: "1.2.0", summary: "Execute all commands issued after MULTI",
			complexity: "Depends on commands in the transaction", run: txnExec},
		{name: "discard", arity: 1, flags: flagsTxn, acl: aclFastTxn, group: "transactions", since: "2.0.0",
			summary: "Discard all commands issued after MULTI", complexity: "O(N), when N is the number of queued commands", run: txnDiscard},
		{name: "watch", arity: -2, flags: flagsTxn, acl: aclFastTxn, firstKey: 1, lastKey: -1, step: 1,
			keySpecs: []keySpec{{Flags: []string{"RO"}, Index: 1, LastKey: -1, KeyStep: 1, HasSearch: true}},
			group:    "transactions", since: "2.2.0", summary: "Watch the given keys to determine execution of the MULTI/EXEC block",
			complexity: "O(1) for every key.", run: txnWatch, readsState: true},
		{name: "unwatch", arity: 1, flags: flagsTxn, acl: aclFastTxn, group: "transactions", since: "2.2.0",
			summary: "Forget about all watched keys", complexity: "O(1)", run: txnUnwatch},
	}
}
