// Package cluster runs a Raft node (hashicorp/raft) around the fsm state
// machine and gives the server three operations: Propose a write and Wait
// for its reply, ReadBarrier before a linearizable read, and Status.
//
// # Storage and transport
//
// The log and stable store are one raft-boltdb/v2 (bbolt) file,
// <data-dir>/raft.db, opened with NoFreelistSync and the map freelist (the
// freelist otherwise costs a write per commit that grows with the file)
// and a 1s lock timeout (a second process on the same directory fails
// instead of hanging). A LogCache keeps recent entries in memory for
// replication. Snapshots go to a FileSnapshotStore under the data dir,
// keeping two. A fresh data dir bootstraps a single-voter cluster, or the
// Peers configuration; raft.HasExistingState decides.
//
// Raft traffic runs on our own StreamLayer over a Mux: every connection to
// the Raft port starts with one byte naming its protocol (MuxRaft now,
// MuxForward reserved for forwarding commands to the leader). One port
// per node means the address in the Raft configuration reaches every
// node-to-node service, so a follower never needs a second address map to
// find the leader's forwarding endpoint.
//
// # Group commit
//
// One fsync per command would cap a node at a few thousand writes per
// second. Propose only queues the command. A single proposer goroutine
// takes everything queued (up to MaxBatch commands or MaxBatchBytes),
// encodes one entry stamped with the leader's clock, and calls raft.Apply
// without waiting for the result; a completer goroutine waits on the
// futures in log order and hands each command its reply. raft's apply
// channel is left unbuffered, so while raft writes one entry the proposer
// blocks and the next batch keeps growing: under load, batches grow by
// themselves, and an idle node still commits a lone command at once (no
// timer). MaxInflight bounds entries handed over but not applied; the
// proposer takes a slot before filling a batch, so a full pipeline makes
// batches bigger rather than more numerous. (Measured with 50 clients on
// one node: a deep pipeline, 64, beat a single entry in flight, which packs
// more commands per entry but leaves the disk idle while replies go out.)
// Commands from one goroutine stay in order: one queue, one proposer, one
// log.
//
// Outcomes are classified for the server: ErrNotLeader when raft refused
// the entry (nothing appended, safe to retry), ErrUnknownOutcome when it
// was handed over and then leadership was lost, the node closed or the
// caller gave up (it may still commit), ErrClosed after Close. Entries
// carry room for a request ID so a later forwarding layer can make
// retries idempotent.
//
// # Reads
//
// ReadBarrier is rqlite's ReadIndex recipe: once per term the leader
// applies a noop entry of its own (raft's Barrier would do, but raft never
// shows its barrier entries to the FSM, so the FSM's applied index could
// not be compared with the commit index); then each read takes the commit
// index, confirms leadership with VerifyLeader, checks the term did not
// change, and waits (on a channel, not by polling) until the FSM has
// applied that index. Followers answer ErrNotLeader for now.
//
// # Time and expiry
//
// Only the leader reads a clock: it stamps each entry, and the FSM derives
// all time from the stamps. Active expiry is an expire-cycle entry the
// leader proposes when the earliest TTL is due (checked at that deadline,
// at least every ExpiryInterval), so every replica deletes the same keys
// at the same log position.
//
// # Shutdown
//
// hashicorp/raft futures may never resolve after Shutdown (raft#498), so
// Close first stops new proposals, lets the proposer submit what is
// queued and waits (up to DrainTimeout) for every in-flight entry to
// resolve while raft still runs, and only then shuts raft down. Every
// wait in this package also selects on the node's shutdown, so nothing
// blocks past Close. If the drain times out, the stuck waits return
// ErrUnknownOutcome and the completer goroutine may stay parked on its
// raft future: the one leak left, and only in that pathological case.
package cluster
