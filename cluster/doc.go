// Package cluster runs one Raft member (hashicorp/raft) around the fsm
// state machine and gives the server what it needs from replication.
// Every operation works on every node: a follower forwards to the leader.
//
// Open starts a Node from a Config. Its main calls:
//
//   - Propose queues a write for the next log entry (group commit) and
//     returns a Pending; Pending.Wait gives its Reply (the reply bytes
//     and their Outcome) once the entry is applied.
//   - ReadBarrier returns once the local state reflects every write
//     committed before the call, so a read can then run on the local
//     state (linearizable); ReadBarrierStale is the READONLY variant.
//   - Status, Stats, Members and WaitDurable report the node, its
//     histograms, the membership and how far writes have spread (WAIT).
//   - AddMember, RemoveMember, TransferLeadership and HandOff change the
//     membership; Join, with Config.Join or Config.BootstrapExpect,
//     brings a fresh node into a cluster.
//   - Backup streams the replicated state; RestoreBackup,
//     ForceNewCluster and MigrateLog work offline on a data dir.
//   - Close drains what is in flight and stops the node; nothing in this
//     package blocks past it.
//
// Errors say what a failure means for a retry: ErrNotLeader and
// ErrNoLeader (the write was certainly not applied), ErrUnknownOutcome
// (it may have been), ErrClosed, ErrDiskFull, ErrTooLarge. Command, Reply and Outcome
// are aliases of fsm's types, so package server imports neither fsm nor
// hashicorp/raft.
//
// See DESIGN.md for the design and its trade-offs: the parts of Node,
// storage and transport, group commit, forwarding, reads, membership,
// expiry and shutdown. docs/architecture.md shows where the package sits
// and the path of one write and one read.
package cluster
