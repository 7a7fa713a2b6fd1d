// Package engine is raftstream's deterministic Redis-streams state machine:
// the data structures and the semantics of every command the cluster
// replicates, with no I/O, goroutines, clock or randomness of its own.
//
// # Shape
//
// A State holds NumDBs keyspaces, the replicated configuration
// (stream-node-max-bytes/-entries), the ACL users (acl.go: ACL SETUSER and
// DELUSER run here, so every replica holds the same users; passwords are
// SHA-256 digests; which commands a rule names is the server's concern)
// and the state-machine clock. Commands
// enter through Exec (argv plus a Ctx carrying the database, the time and a
// ReplyWriter). The registry (spec.go) binds each command's Spec, used for
// routing and COMMAND output, to its check and exec; Commands lists it, and
// a caller that has resolved a name keeps the Command and goes through
// Command.Check and State.Run rather than having the name looked up again.
// Check validates a command without state so that the server can refuse a
// malformed write before it is logged; Check and Exec share one parser per
// command, so an error Check reports is always the error Exec would give
// (FuzzExec asserts this). The stream value itself (packed nodes modelled on
// Redis's listpacks, see stream.go for the node format) and ID parsing
// (id_parse.go) live in their own files.
//
// # Determinism
//
// Everything that decides state or replies is a function of the state,
// argv and Ctx.Now: auto IDs come from Now and the stream's last ID, TTLs
// are compared with Now, "~" trimming depends only on the replicated node
// limits, and no map is iterated where order matters. Keys are kept in a
// B-tree ordered by (64-bit FNV-1a hash, key). That order is arbitrary like
// Redis's (KEYS and SCAN output are not sorted) but identical on every
// replica, and it gives SCAN a numeric cursor (the hash of the next key)
// that stays valid while keys come and go: a key present for the whole
// iteration is returned exactly once, with no cursor state on the server.
// The cost is computing a hash per lookup.
//
// # Expiry and concurrency
//
// TTLs sit in a second B-tree ordered by deadline. Reads may run
// concurrently under the FSM's read lock, so they never modify anything:
// an expired key is merely treated as absent. Writes delete an expired key
// they touch (as Redis's lookupKeyWrite does), and ExpireKeys, driven by a
// logged clock value, deletes every due key; both are part of the log and
// therefore identical on all replicas. Unlike Redis, a key is gone at its
// deadline rather than one millisecond after it, matching EXPIRE's
// "already expired" rule.
//
// Clone is O(keys): it rebuilds the key tree with copy-on-write clones of
// each stream and shares the expiry tree through the B-tree's shadow copy,
// so a snapshot can be written from the clone while commands continue.
// Trees run without internal locks; the FSM provides the exclusion.
//
// # Snapshots
//
// WriteSnapshot emits a versioned, checksummed binary image (magic,
// version, clock, config by name, then per database each key in tree order
// with its TTL and Stream.AppendSnapshot, then WATCH versions and, since
// version 4, the ACL users in name order). The same state always gives the
// same bytes, which lets replicas be compared by digest.
//
// # Consumer groups
//
// Groups live inside the Stream (stream_groups.go), so DEL, RENAME, COPY,
// FLUSH and expiry carry them with the entries. They are B-trees of small
// values (a stream's groups by name; a group's PEL by ID and consumers by
// name; a consumer's own PEL IDs), never maps, so every iteration is
// ordered. PEL entries name their owner instead of pointing at it, which
// lets Stream.Clone share all group state copy-on-write in O(1): groups and
// consumers carry an owner token and are copied on their first write after
// a clone, and their trees are O(1) B-tree copies, so a snapshot clone can
// be read while commands go on. Redis 8.4's delivery-time list (XREADGROUP
// CLAIM, the XNACK zone) is an index derived from each entry's delivery
// time and a per-group sequence number: it is built the first time a
// command needs it and never stored, keeping a pending entry at about 150
// bytes (Redis 7.0 needs about as much). Lag and entries-read are Redis 7+'s
// algorithms verbatim. All times come from Ctx.Now.
//
// The command code ports t_stream.c of Redis 8.8 (xreadCommand,
// xgroupCommand, xclaimCommand, ... including their order of checks, so
// Check can report exactly the errors that precede any state lookup).
// XREADGROUP runs without blocking; XReadGroupWouldServe tells the server,
// from a read-only look at the parsed command (a blocked client parses its
// argv once, not on every wake-up), whether an attempt must go through
// the log: it
// must if it would deliver, claim, read history, reply an error, or create
// the consumer (Redis 7.2+ creates it even when nothing is delivered, and
// that is replicated state). An attempt that would only refresh an
// existing consumer's seen-time is not logged, so seen-time (XINFO
// CONSUMERS idle) reflects the last logged XREADGROUP: the one deliberate
// difference. XReadGroupClaimDeadline gives a blocked CLAIM read its
// wake-up time. Ctx.Signal fires when a blocked XREADGROUP may be served or
// must fail: new entries, group created/SETID/destroyed, XNACK, key gone.
//
// The 8.2 reference policies (KEEPREF/DELREF/ACKED on XADD, XTRIM, XDELEX,
// XACKDEL) and the 8.6 IDMP table (stream_idmp.go) are in the stream too;
// IDMP expiry follows the state clock instead of a timer.
//
// # raftstream extensions
//
// Two queue features Redis lacks, neither changing a Redis command's
// standard behaviour: dead-letter streams (RS.SETDLQ, stream_dlq.go), where
// the delivery that would pass a group's limit moves the entry to another
// stream inside the delivering command, and age retention (XCFGSET key
// MAXAGE ms, stream_retention.go), applied by XADD and by RetainStreams,
// which the FSM runs in every expire cycle. Their XINFO fields are appended
// only when set, so replies without them stay Redis's own.
//
// # Compatibility
//
// Replies, RESP2/RESP3 shapes and error texts follow Redis 8 (its command
// reference and sources) and are checked byte
// for byte against a real redis-server 7.0 by TestAgainstRedis; cases
// where Redis 7.0 lacks the feature are marked redis8Only, and single steps
// where it answers differently (or the reply holds a clock reading) x7.
// Features newer than 7.0 are asserted from the Redis 8 sources and docs.
package engine
