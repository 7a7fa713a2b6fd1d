// Package engine is raftstream's deterministic Redis-streams state machine:
// the data structures and the semantics of every command the cluster
// replicates, with no I/O, goroutines, clock or randomness of its own.
//
// # Shape
//
// A State holds NumDBs keyspaces, the replicated configuration
// (stream-node-max-bytes/-entries) and the state-machine clock. Commands
// enter through Exec (argv plus a Ctx carrying the database, the time and a
// ReplyWriter) and are described by Specs for routing and COMMAND output.
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
// with its TTL and Stream.AppendSnapshot). The same state always gives the
// same bytes, which lets replicas be compared by digest.
//
// # Compatibility
//
// Replies, RESP2/RESP3 shapes and error texts follow Redis 8 (see
// docs/redis-stream-commands.md in the shared notes) and are checked byte
// for byte against a real redis-server by TestAgainstRedis; cases where
// Redis 7 differs are marked redis8Only. Consumer groups, the 8.2
// KEEPREF/DELREF/ACKED options and 8.6 IDMP are not implemented yet: the
// XADD/XTRIM parser rejects those options with a syntax error at the place
// where they will be parsed.
package engine
