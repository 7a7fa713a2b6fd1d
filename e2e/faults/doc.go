// Package faults is raftstream's fault-injection harness and
// linearizability checker: it starts real 3- and 5-node clusters of the
// raftstream binary, drives client workloads through random nodes while a
// seeded nemesis injects faults, heals, and checks the recorded histories.
//
// Faults (one at a time, each healed before the next, except double):
// kill -9 + restart of the leader or a follower, SIGSTOP/SIGCONT of the
// leader or a follower, a follower restarted with its clock 5-30s behind
// (--clock-offset) and given leadership with RAFT TRANSFER, membership
// change (a fresh node joins with --join, becomes a voter, is removed with
// RAFT REMOVE) under load, kill -9 of the leader or a follower while it
// writes a snapshot (RAFT SNAPSHOT, killed once raft's *.tmp snapshot
// directory appears), network partitions (the leader alone, a minority
// against a majority, a bridge: two sides that each see only one middle
// node, and one-way: a node that hears nobody while its own messages still
// arrive), delay and "loss" on every link, and double faults (a
// network fault plus a process fault, or two process faults on different
// nodes, which may take the quorum away until the heal).
//
// Network faults act on a fault-injecting TCP proxy per directed link of
// founding nodes, in the test process: node i dials node j's Raft port
// (Raft and the forwarding RPC share it) through proxy(i->j), set with the
// hidden --dial-via flag (cluster.Config.DialMap); nodes still advertise
// their real addresses, and clients and joiners connect directly. A
// blackholed link accepts connections but forwards nothing, so a
// partition is silence, not a refusal; at heal, the connections it held
// are cut or (alternately) deliver their bytes late. Delay holds every
// chunk for a random time per direction, in order. TCP cannot lose single
// packets without breaking its stream, so "loss" stalls a direction for
// 100-800ms or cuts the connection, per chunk, at random.
//
// Workloads and checkers:
//   - log: XADD of unique values and XRANGE - + on a few keys. The history
//     is checked with porcupine against an append-only log per key; an
//     XADD whose outcome is unknown ("may or may not have been applied", or
//     an I/O error after sending) may take effect any time after its call,
//     so it has both branches; TRYAGAIN or a failed dial means "not
//     applied". Stream-ID properties porcupine does not see are checked
//     directly: IDs strictly increase within a read, a value has one ID
//     everywhere, and it is the ID XADD returned.
//   - queue: producers, a consumer group with consumers that sometimes
//     crash before acking, and an XAUTOCLAIM reaper; after healing, a drain
//     must leave nothing pending, every acknowledged XADD delivered, no
//     value that was never added, ">" never delivering an entry twice, and
//     XPENDING delivery counts consistent with what clients observed. One
//     value in 13 is poison (never acknowledged) and the group has a
//     dead-letter setting (RS.SETDLQ, MAXDELIVERIES 3): no entry may be
//     seen delivered more than 3 times, and after the drain every poison
//     entry must be in the dead-letter stream, once, with its value.
//   - convergence: every node reports the same DEBUG DIGEST, then the same
//     XINFO STREAM FULL and XINFO GROUPS for every key.
//
// Trade-offs. The harness uses its own tiny RESP client because a history
// needs "never sent" (safe: not applied) told apart from "sent, no reply"
// (unknown), which go-redis does not expose. Unknown XADDs whose value no
// read ever shows are dropped before the porcupine search: they can always
// be linearized after the last read, so the verdict is unchanged and the
// search stays small. The log model's state is the joined value string, so
// states compare and hash cheaply; reads return the whole stream, which
// keeps per-key histories short-lived by design (short runs, few keys).
// Except for double faults, one fault is active at a time, so a cluster
// keeps a quorum except while a leader is being replaced; liveness during
// a double fault is not required, only the verdict after the heal.
//
// Short mode (the default `go test ./e2e/faults/`) runs ten schedules with
// fixed seeds plus one with a random seed, printed for replay, in about
// 2.5 minutes.
// Flags: -faults.duration (load per schedule), -faults.seed (the seed of
// the mixed schedule), -faults.schedule (a name filter). Reports go to
// $RAFTSTREAM_FAULTS_REPORT/<schedule>/ or t.TempDir(); a failing run also
// writes history.txt and, for a non-linearizable history, porcupine's
// HTML visualization.
package faults
