// Package server is raftstream's RESP front end: it speaks the Redis
// protocol (RESP2 and RESP3) to clients on top of tidwall/redcon and turns
// their commands into Raft proposals (writes) or linearizable local reads.
//
// # Routing
//
// Every command is resolved once, the way Redis's processCommand does it:
// look the name up (the server's own commands first, then the engine's
// registry, whose entry the command keeps: a write is checked and a read
// run through it, never looked up again on this node), resolve a
// container's subcommand ("client|list"), check arity,
// then check authentication, then the ACL (acl.go: the user's commands
// and key patterns, on this node, before a write is proposed or forwarded
// to the leader), then, while the node is still loading its
// data (Config.Loading, NewLoading), refuse commands without Redis's
// "loading" flag with -LOADING (loading.go). Failures at each step produce
// Redis's exact error texts in Redis's order (an unknown command or a
// wrong arity is reported before NOAUTH). Commands of other Redis data types (GET, HSET,
// LPUSH, ...) get "ERR unsupported command '<name>': raftstream keys hold
// only streams" rather than "unknown command", since the data model, not a
// typo, is the reason; commands outside the model (scripting, Pub/Sub,
// MONITOR, Redis replication and persistence) get "not supported by
// raftstream" with the reason (othertypes.go). CLUSTER and SENTINEL present
// the Raft group to cluster- and failover-aware clients (cmd_cluster.go,
// cmd_sentinel.go). The server itself implements connection and
// introspection commands (PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET,
// CLIENT, INFO, COMMAND, CONFIG, TIME, FUNCTION FLUSH, RS.IDEMPOTENT);
// engine commands whose Spec has Write set go through the log, all
// others are reads.
//
// # Automatic idempotency
//
// With Config.AutoIdempotent (--auto-idempotent) or RS.IDEMPOTENT ON, an
// XADD with ID "*" and no IDMP of its own is rewritten, before it is
// proposed, into an IDMP XADD: the producer ID is the client name (or the
// one given to RS.IDEMPOTENT), the idempotent ID a digest of the
// arguments after the key (engine.AutoIdempotentXAdd). A client library
// resending the XADD on a new connection after the old one broke gets the
// first entry's ID back. The server cannot tell a reconnecting client
// from a new one, so the identity must come from the client; connections
// without one are left alone (INFO stats counts them). The cost of the
// content-derived ID is that identical XADDs under one name within the
// stream's IDMP window are stored once, so it is off by default.
//
// # Pipelining and group commit
//
// redcon calls the handler for the first command of each batch it reads
// and flushes once the batch is done. The handler takes the rest of the
// batch with ReadPipeline and walks it in order: writes are syntax-checked
// (engine.Command.Check, so malformed commands never reach the log) and
// proposed without waiting; the node packs everything proposed close
// together into one log entry. Replies that are ready while writes are outstanding
// (errors, PING, ...) are queued behind them. Before a read — or a server
// command that reads state — the outstanding writes are waited for in
// order, so a read sees the writes pipelined before it. One read barrier
// per batch makes the batch's reads linearizable: every request in the
// batch arrived before the barrier was taken. The cost of this model is
// that a pipeline interleaving writes and reads commits in several
// rounds; pure write runs commit as one.
//
// Write failures are mapped by what is known about the outcome: "not
// leader" means the command never entered the log and earns TRYAGAIN,
// which clients may retry; lost leadership, shutdown or a commit timeout
// mean the command may or may not have been applied, and earn an ERR that
// says so, because a blind retry could apply it twice.
//
// # RESP3
//
// redcon only writes RESP2, so replies are encoded by engine/resp into a
// per-connection buffer, in the protocol the connection negotiated with
// HELLO, and sent with WriteRaw. Writes carry their client's protocol in
// the log entry and the state machine encodes their replies; a HELLO in
// the middle of a pipeline changes the protocol of the commands after it
// only. INFO, CLIENT INFO and CLIENT LIST are verbatim strings in RESP3,
// as in Redis.
//
// # Limits and malformed input
//
// redcon has no limits and its parser differs from Redis's in details, so
// every accepted connection is wrapped (protoConn) and its bytes run
// through a scanner before redcon sees them. The scanner follows the
// framing incrementally, enforces proto-max-bulk-len, the multibulk count
// limit, Redis's stricter limits for unauthenticated clients and the
// client-query-buffer-limit before anything is buffered, and reproduces
// Redis's protocol errors byte for byte (then the connection is closed,
// after the replies to the requests before the bad bytes). Its output is
// always well-formed multibulk: inline requests are parsed with Redis's
// sdssplitargs rules and re-encoded, and what Redis tolerates (empty
// requests, any two bytes after a payload) is normalized. Until a client
// has authenticated, requests are scanned one at a time, because AUTH
// changes the limits of the request after it. redcon re-parses its whole
// buffer after every read and loops over the announced argument count
// each time, so the wrapper hands it an incomplete request in as few,
// large pieces as possible, and the default multibulk limit is Redis 6's
// 1024*1024 rather than Redis 7's INT_MAX. A bulk argument of 128 KiB or
// more never enters redcon's buffer (which doubles as it fills and then
// copies the request): the scanner reads it into a buffer of its announced
// size, as Redis does, and hands redcon a random per-server token in its
// place, which the handler swaps back (scanner.takeBig). A panic while
// serving a connection is recovered and costs only that connection.
//
// # Output
//
// Replies do not go through redcon's writer, which would gather a whole
// batch's replies before writing any: the connection's goroutine writes
// them as they are produced (output.go), gathering only small ones. A
// client that does not read its replies blocks its own goroutine, which
// then reads no more requests, so it holds at most one reply in memory.
// client-output-buffer-limit (normal class) and maxmemory-clients apply,
// with Redis's semantics, to the reply bytes not yet accepted by the
// socket (omem in CLIENT LIST).
//
// # Shutdown
//
// Close stops accepting, closes idle connections at once and lets busy
// ones finish the batch they are executing and flush its replies. redcon
// closes every connection as soon as its accept loop ends, so the
// listener wrapper holds that loop until the clients have drained.
//
// # Trade-offs and gaps
//
// Blocking reads (XREAD/XREADGROUP BLOCK) wait outside the log on any node
// (block.go, waiters.go): parsed once when they block, and woken by the
// state machine's key signals, XREAD re-reads local state, XREADGROUP
// proposes a non-blocking attempt only when local state says it would
// serve something. WAIT and WAITAOF block
// the same way (cmd_wait.go) but poll the members' status instead of
// waiting for signals: they are rare and need other nodes' state.
// MULTI/EXEC is one log
// entry; WATCH compares replicated per-key versions inside it (multi.go,
// engine/watch.go); the server commands queued in a transaction run right
// after its entry is applied. The COMMAND INFO and DOCS metadata of engine
// commands (flags, ACL categories, tips, key specs, arguments) is what
// redis-server 7.0.15 reports, generated into redismeta.go by
// gen_redismeta.go, with a hand-maintained Redis 8 overlay
// (redismeta8.go): the commands newer than the reference (XACKDEL,
// XDELEX, XCFGSET, XNACK) as Redis's command JSON files define them, and
// Redis 8's options of XADD, XTRIM and XREADGROUP, derived from the
// command reference where no JSON file was at hand. CLIENT LIST reports Redis's buffer fields as zeros, except omem
// and tot-mem (both the unsent output). CONFIG SET
// of node-local settings (maxclients, limits) changes only this node; the
// stream settings are replicated through the log, and so is requirepass,
// which is the default ACL user's password (CONFIG SET requirepass is an
// ACL SETUSER of the default user).
//
// # ACL users
//
// ACL SETUSER and DELUSER are log entries run by the engine, so every
// node holds the same users (engine/acl.go); the server validates the
// command and category names a rule names, hashes passwords before they
// are proposed, compiles each user's rules against the command table
// (cached per connection until the user changes) and checks every
// command and key argument (acl.go). The FSM publishes the users without
// the state lock and tells the server when they change, so the clients of
// a deleted user are disconnected on every node. The ACL LOG is
// node-local, as in Redis.
package server
