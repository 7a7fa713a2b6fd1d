// Package cluster runs a Raft node (hashicorp/raft) around the fsm state
// machine and gives the server three operations: Propose a write and Wait
// for its reply, ReadBarrier before a linearizable read, and Status; plus
// the membership and debugging calls behind the RAFT and DEBUG commands.
// Every operation works on every node: a follower forwards to the leader.
//
// docs/architecture.md has the picture and the path of a write and of a
// read through the packages; this note says why this package is built the
// way it is, and the file headers say how each part works.
//
// # Layout
//
// The server's contract is in three files: command.go (Command, Reply
// and their outcomes, aliases of fsm's types because the same value goes
// from the server into the log entry and back), errors.go (what a
// failure means for a retry; raft's errors are re-exported where the
// server must tell them apart) and status.go. The server imports neither
// fsm nor raft. Node (node.go; Config in config.go) composes parts that
// each keep their fields in their own file: lifecycle (node.go), proposer
// with late packing and the completer (propose.go, storegate.go), the
// forwarder (forward.go, over rpc_*.go), readIndex with leadership
// verification (read.go), leaderWatch (leader.go), membership with
// follower progress and metadata (membership.go; join.go, discover.go,
// safety.go), WAIT (wait.go) and expiry (expiry.go, which asks the FSM
// what is due rather than reading engine state). Where a part's state
// stands alone, its lock is taken only in its own methods (enqueue,
// spawn, leaderChanged, the follower progress records); what also needs
// the shared core (raft, the FSM, the RPC pool), such as readIndex's
// barrier and confirmation rounds, is a method of Node.
//
// # Storage and transport
//
// The log is github.com/hashicorp/raft-wal under <data-dir>/wal (one
// fdatasync per append; built from third_party/raft-wal, which writes big
// entries without copying them), with raft-boltdb's <data-dir>/stable.db for term
// and vote; data dirs made before that keep the log and stable store in
// one raft-boltdb file, raft.db (two flushes per commit). logstore.go
// explains the choice and the detection from files, datadir.go (MigrateLog) the
// offline move, checksum.go the per-entry CRC, logsize.go the startup
// verification and snapshots by log bytes, boltcheck.go the page walk that
// refuses a damaged bbolt file before bbolt opens it. bbolt files are opened with
// NoFreelistSync, the map freelist and a 1s lock timeout (a second
// process on the same directory fails instead of hanging); the stable
// store's lock guards the data dir. A LogCache keeps recent entries in memory for
// replication. Snapshots go to a FileSnapshotStore under the data dir,
// keeping two; snapshotTermLogs (snapterm.go) answers reads of a
// snapshot's last entry once it is compacted, which raft's follower needs
// and cannot do itself. A fresh data dir bootstraps a single-voter cluster, or the
// Peers configuration; raft.HasExistingState decides.
//
// Raft traffic runs on our own StreamLayer over a Mux: every connection to
// the Raft port starts with a handshake naming its protocol (MuxRaft, or
// MuxForward for the cluster RPC). One port per node means the address in
// the Raft configuration reaches every node-to-node service, so a
// follower never needs a second address map to find the leader's
// forwarding endpoint. With PeerTLS every such connection is mutual TLS
// first (peertls.go). The handshake is a mutual HMAC challenge on the
// cluster secret (auth.go): neither side sends anything else before the
// other has proven it holds the secret, which never crosses the wire. The
// stream layer tracks the connections it hands raft and closes them at
// shutdown (raft's transport leaves its pooled connections open).
//
// # Forwarding (followers serve writes and linearizable reads)
//
// The path of a forwarded write and of a follower's read is in
// docs/architecture.md; forward.go and read.go hold the mechanics. The
// decisions behind them:
//
//   - One pipelined connection per peer (rpcPool, rpc_wire.go), never one
//     per command: a forwarded write costs one extra round trip, and the
//     leader puts forwarded batches into the same queue as its own
//     clients' commands, so they share its group commit and fsync.
//   - Retries are made safe by the state machine, not by the transport: an
//     entry records which of its commands form which request (origin, seq)
//     and a second copy of an applied request gets the saved replies
//     (fsm/dedupe.go; replicated, bounded, expired by log time, in the
//     snapshot). That lets the forwarder resend every unanswered request,
//     in order, to whoever leads next (or propose them itself), which keeps
//     one client's pipelined writes in order across a failover. Origin is
//     the node ID plus a per-process nonce, so a restarted node never
//     collides with its past self.
//   - Two failure errors keep the server's contract: ErrNoLeader (also
//     matching ErrNotLeader, so the server's TRYAGAIN mapping applies) for
//     a request certainly never applied, after LeaderWait; ErrUnknownOutcome
//     for one that may have been, after ForwardTimeout.
//   - Typed command kinds (fsm.KindTxn, fsm.KindConfigSet) reach the log
//     only while every member of the configuration has answered opCaps
//     (caps.go); until then the leader, and a follower forwarding to a
//     leader of the previous version, write fsm.LegacyForm, which that
//     version decodes, so a rolling upgrade needs no care from clients.
//   - A follower whose read index is not applied within 2 ms has the leader
//     append a no-op (nudgeCommit; WAIT uses it too): an idle leader sends
//     the commit index only after its commit timeout, and a read right
//     after a write through the same follower would otherwise wait it out.
//
// # Membership
//
// Raft's configuration says who votes; an EntryMember log entry records
// each member's client address and data-dir incarnation, so every node can
// name every member's client address (RAFT NODES, RAFT LEADER). The
// membership calls run on the leader and are forwarded there from any
// node. The decisions:
//
//   - New members join as non-voters and are promoted once they have
//     applied their own addition and are within PromoteLag entries of the
//     commit index: an empty voter could help elect a leader that lacks
//     committed entries.
//   - A node forms or finds its cluster without an operator ordering the
//     starts: bootstrap (alone or Peers), Join through a seed's client
//     port (join.go), or BootstrapExpect with Discover, where every
//     founder bootstraps the same configuration of the N lowest IDs
//     (discover.go says why exactly one cluster forms).
//   - The incarnation (random, stored with the log) tells a wiped node
//     rejoining under its old ID from one asking twice: the old entry is
//     replaced and the node catches up by snapshot install.
//   - Joins are vetted (safety.go): no join takes a live member's ID or
//     Raft address, a joiner the leader cannot reach through the cluster
//     secret and TLS is refused (ErrJoinRefused), and a node that finds
//     itself removed from the configuration stops (ErrRemoved) instead of
//     lingering as a member that cannot serve.
//
// # Group commit
//
// One fsync per command would cap a node at a few thousand writes per
// second, so commands share entries (the steps are in
// docs/architecture.md, the mechanics in propose.go and storegate.go). An
// entry is packed late: when raft's leader loop writes it, not when
// raft.Apply is called. Packing at Apply seals an entry with the few
// commands queued at that instant and pushes everything arriving while it
// waits for the disk one write later; packing when the previous write
// finishes (an earlier design) leaves the disk idle for the hand-offs in
// between (waking the proposer, encoding, raft.Apply, waking the leader
// loop: about 90 µs median and 300 µs at p90 on a busy 2-core machine,
// against a ~600 µs write). Packing in StoreLogs fills an entry with
// exactly what arrived while the disk was busy, and an idle node still
// commits a lone command at once (no timer). The price is a log store
// wrapper that depends on raft handing the same *raft.Log to StoreLogs,
// the local FSM and replication, and recognising its placeholder by the
// address of the placeholder's Data (storegate.go). MaxInflight bounds
// entries handed over but not applied: when the log falls behind, commands
// pile into bigger entries instead of more entries (--max-inflight 1 helps
// when the nodes of a cluster share one disk). One queue, one proposer and
// one log keep one goroutine's commands in order.
//
// Outcomes are classified for the server: ErrNotLeader when raft refused
// the entry (nothing appended, safe to retry), ErrUnknownOutcome when it
// was handed over and then leadership was lost, the node closed or the
// caller gave up (it may still commit), ErrClosed after Close.
//
// # Reads
//
// ReadBarrier is rqlite's ReadIndex recipe (read.go has the steps). Two
// choices differ from the obvious ones. The leader applies a no-op entry
// of its own once per term instead of using raft's Barrier, because raft
// never shows its barrier entries to the FSM, so the FSM's applied index
// could not be compared with the commit index. And leadership is confirmed
// by asking every voter for its current term over the cluster RPC and
// counting a quorum that answers with ours (as etcd's ReadIndex counts
// heartbeat acks that echo the read's context), not with raft's
// VerifyLeader: that counts AppendEntries responses to requests sent
// before the read, so a leader resumed from a pause could serve a stale
// read (found by the pause fault schedule, docs/verification.md). The cost
// is one RPC round to the voters per confirmation, which concurrent reads
// share.
//
// # Time and expiry
//
// Only the leader reads a clock; the state machine derives all time from
// the entries' stamps ("Time and determinism" in docs/architecture.md), so
// active expiry and age retention are entries the leader proposes
// (expiry.go), and every replica deletes and trims at the same log
// position. Config.ClockOffset skews the leader's clock, for tests of a
// failover to a leader whose clock is behind.
//
// # Backups, restore and forced recovery
//
// Backup (backup.go) serves RAFT BACKUP: after a read barrier it clones
// the FSM state copy-on-write, without the member metadata, and streams
// it in a checksummed file format; it encodes the clone twice (length and
// CRC for the header, then the bytes) rather than hold a second copy.
// RestoreBackup and ForceNewCluster (restore.go) work offline on a data
// dir: the first writes a new one whose only content is a snapshot at the
// backup's index, with a configuration naming just the new node, and the
// term in the stable store; the second runs hashicorp/raft's
// RecoverCluster on a survivor, folding its log into a snapshot with a
// single-voter configuration. A data dir holding snapshots but no log is
// refused at Open: snapshots copied from another node would bring back
// its old membership.
//
// # Shutdown
//
// hashicorp/raft futures may never resolve after Shutdown (raft#498), so
// Close first stops new proposals, lets the proposer submit what is
// queued and waits (up to DrainTimeout) for every in-flight entry and
// forwarded request to resolve while raft still runs, then fails what is
// left of the forwarded ones, stops the RPC server, and only then shuts
// raft down. Every
// wait in this package also selects on the node's shutdown, so nothing
// blocks past Close. If the drain times out, the stuck waits return
// ErrUnknownOutcome and the completer goroutine may stay parked on its
// raft future: the one leak left, and only in that pathological case.
//
// # Statistics
//
// Stats (stats.go) reads histograms of the write path (commit latency,
// commands per entry, StoreLogs, raft-wal flushes) and of snapshots. They
// are plain atomic buckets read at scrape time by the metrics package, so
// this package does not depend on the Prometheus client.
package cluster
