// Package fsm is raftstream's replicated state machine: the Raft log
// entry format and the raft.BatchingFSM that applies entries to an
// engine.State, deterministically on every node.
//
// Main entry points:
//
//   - Entry, AppendEntry, AppendEntryInPlace and DecodeEntry are the log
//     entry codec: a batch of Commands (client commands, transactions,
//     replicated CONFIG SETs) stamped with the leader's clock, an expire
//     cycle, a no-op, or a member's metadata.
//   - FSM (New) applies committed entries (Apply, ApplyBatch) and
//     returns a Result with one Reply per command: the reply bytes in the
//     client's protocol and their Outcome. Read runs a function on the
//     state under the read lock; WaitApplied waits for an applied index.
//   - Snapshot, Restore, WriteSnapshot, Backup, Digest
//     encode the state deterministically: replicas that applied the same
//     entries write the same bytes.
//   - LegacyForm writes a typed command the way the previous version
//     did, for rolling upgrades.
//
// See DESIGN.md for the design and its trade-offs.
package fsm
