// Package fsm is the replicated state machine: the Raft log entry format
// and the raft.BatchingFSM that applies entries to an engine.State.
//
// # Log entries
//
// An entry is a hand-written binary record (codec.go): version, type,
// flags, an optional request ID, the leader's clock, then for a command
// batch each command's db, protocol and length-prefixed arguments. A
// generic encoding (msgpack, protobuf) would cost reflection or generated
// code on the hottest path for no gain: the format has five fields, and a
// version byte plus rejected-unless-known types and flags leave room to
// grow (membership metadata, forwarded-request dedupe) without ambiguity.
// Decoding is strict and total: every length is bounds-checked before it
// is used, allocations are bounded by the input size, non-canonical
// varints and trailing bytes are errors, and nothing panics on garbage
// (FuzzDecodeEntry). Decoded arguments alias the entry buffer; the engine
// copies what it keeps.
//
// One entry carries many client commands (group commit happens in package
// cluster); they run in order at one timestamp, and the reply of each is
// encoded into one shared buffer in the client's protocol (RESP2 or
// RESP3) and returned as a Result through raft's future on the proposing
// node. Followers encode replies too and drop them: that costs less than
// telling replicas apart, and keeps apply identical on every node.
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
// bytes, which doubles as a replica digest (WriteSnapshot). Restore swaps
// in the decoded state wholesale.
//
// AppliedIndex counts only entries raft hands to the FSM (commands and
// configuration changes; raft keeps its own barrier and no-op entries to
// itself). WaitApplied lets linearizable reads wait for an index without
// polling; its channel is created only when someone waits.
package fsm
