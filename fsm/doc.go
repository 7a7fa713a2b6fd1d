// Package fsm is the replicated state machine: the Raft log entry format
// and the raft.BatchingFSM that applies entries to an engine.State.
//
// # Log entries
//
// An entry is a hand-written binary record (codec.go): version, type,
// flags, optional forwarded-request markers, the leader's clock, then for
// a command batch each command's kind, db, protocol and body, or for a
// member entry the member's metadata. A generic
// encoding (msgpack, protobuf) would cost reflection or generated code on
// the hottest path for no gain: the format has a handful of fields, and a
// version byte plus rejected-unless-known types and flags leave room to
// grow without ambiguity.
//
// # Command kinds
//
// A command of a batch is one unit of client work with one reply, of one
// of three kinds: a client command (argv as sent), a transaction (the
// queued commands plus the watched keys' db, key and versions, applied
// atomically by engine.ExecTxn) or a replicated CONFIG SET (name/value
// settings, engine.ExecConfigSet). They are kinds of the log unit, not
// commands in argv, because they are not client commands: a transaction
// was once tunnelled as a magic command name with counts and versions in
// decimal text, a second wire format that every layer had to special-case
// and that nothing validated as a structure; CONFIG SET was a
// pseudo-command the engine took apart again. Typed, each has one
// encoding, checked on decode like the rest of the entry. The kind byte is
// written only when a batch holds a non-plain command (flagKinds): the
// common batch keeps the first version's bytes, and a node of that version
// refuses an entry it would misread instead of applying it wrongly.
// Refusing means skipping, though, so its state then departs from the
// others'. So a leader writes typed kinds only once every member has
// confirmed it decodes them (package cluster); until then it writes
// LegacyForm, the previous version's tunnel, which runs with the same
// replies.
// Plain commands in the shape of the old tunnels (old log entries,
// forwards from old nodes) are still run as their kind, with the same
// replies (legacy.go; testdata holds entries the old encoder wrote).
//
// # Forwarded requests and member metadata
//
// A follower forwards a batch of its clients' commands to the leader as a
// request (origin, seq); the leader packs several such requests and its
// own commands into one entry, and Entry.Requests says which commands
// belong to which request. The state machine keeps, per origin, the
// replies of recently applied requests (dedupe.go): a copy of an applied
// request (a retry after a lost answer, possibly through a new leader) is
// answered from there and not executed again, which makes forwarding
// retries exactly-once. The table is replicated state: driven by the log
// clock only, bounded (the origin acknowledges answered requests; at most
// 1024 saved per origin and 4096 origins; idle origins expire after
// SessionTTL of log time) and in the snapshot. EntryMember entries keep
// each member's client address and incarnation, so every node can name
// the leader's client address. Both tables are part of the snapshot
// (version 2; version 1 snapshots, without them, still restore).
// Decoding is strict and total: every length is bounds-checked before it
// is used, allocations are bounded by the input size, non-canonical
// varints and trailing bytes are errors, and nothing panics on garbage
// (FuzzDecodeEntry). Decoded arguments alias the entry buffer; the engine
// copies what it keeps, except big XADD values: an entry made mostly of
// arguments of engine.BigValue bytes or more is applied with
// engine.Ctx.Retain (retainArgs), and the stream keeps those values by
// reference, so applying a 60 MiB XADD copies nothing and the commands
// queued behind it do not wait for a copy. That relies on an entry's
// bytes never changing once raft hands them over (apply.go says who holds
// them); they stay alive as long as the stream entry.
//
// One entry carries many client commands (group commit happens in package
// cluster); they run in order at one timestamp, and the reply of each is
// encoded into one shared buffer in the client's protocol (RESP2 or
// RESP3) and returned as a Result through raft's future on the proposing
// node. Followers encode replies too and drop them: that costs less than
// telling replicas apart, and keeps apply identical on every node.
//
// Each reply is a Reply: the bytes plus an Outcome (value, error, null)
// and, for a transaction that ran, its commands' parts. The writer notes
// the outcome as the first value is written (ReplyWriter), because every
// caller needs it (is a blocked XREADGROUP served, did a CONFIG SET
// commit, where does each EXEC element start) and parsing the bytes back
// in each layer was the alternative. Only replies kept as bytes (the
// dedupe table and its snapshot section; a leader of the previous version
// answering a forward) are classified from their encoding (saved.go).
//
// # Determinism
//
// The state machine never reads a clock. Each entry carries the leader's
// time; Apply moves the state clock to max(clock, entry time) and runs the
// commands at the state clock, so IDs and TTLs are the same on every node
// even across a failover to a leader whose clock is behind. An entry that
// does not decode (which our own encoder cannot produce) is skipped with
// an error result on every node alike, rather than crashing them all in
// a loop on replay. A command that panics in the engine is likewise turned
// into an error reply: replicas run the same code on the same input, so
// they fail identically and stay in step, and the bug is logged.
//
// # Concurrency and snapshots
//
// Applies take the write lock once per raft batch (ApplyBatch), so
// readers (Read, under the read lock) see whole batches and the lock is
// not bounced per entry. Snapshot only clones the state copy-on-write
// under the lock (O(keys)); Persist then streams the clone through a
// buffered writer while applies continue. The snapshot is a small header
// (magic, version, applied index) followed by the engine's deterministic
// encoding, so two replicas that applied the same entries produce the same
// bytes, which doubles as a replica digest (WriteSnapshot, Digest: a
// SHA-1 of the snapshot without the applied index; DigestKeys hashes one
// key's stream encoding, found by walking the engine's snapshot encoding
// because the engine exports no per-key encoder, so it is O(data) and for
// debugging only). Restore swaps in the decoded state wholesale.
//
// AppliedIndex counts only entries raft hands to the FSM (commands and
// configuration changes; raft keeps its own barrier and no-op entries to
// itself). WaitApplied lets linearizable reads wait for an index without
// polling; its channel is created only when someone waits.
//
// The engine's ACL users are published after every applied batch and
// restore (ACL), so the server checks permissions on every command
// without the read lock, and a hook (SetACLHook) tells it when they
// changed.
package fsm
