// Package cluster runs a Raft node (hashicorp/raft) around the fsm state
// machine and gives the server three operations: Propose a write and Wait
// for its reply, ReadBarrier before a linearizable read, and Status; plus
// the membership and debugging calls behind the RAFT and DEBUG commands.
// Every operation works on every node: a follower forwards to the leader.
//
// # Storage and transport
//
// The log is github.com/hashicorp/raft-wal under <data-dir>/wal (one
// fdatasync per append; built from third_party/raft-wal, which writes big
// entries without copying them), with raft-boltdb's <data-dir>/stable.db for term
// and vote; data dirs made before that keep the log and stable store in
// one raft-boltdb file, raft.db (two flushes per commit). logstore.go
// explains the choice and the detection from files, migrate.go the
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
// The cluster RPC (rpc_wire.go) is length-prefixed frames with request
// IDs, pipelined on one long-lived connection per peer (rpcPool); never a
// connection per command. On a follower, the proposer hands each batch it
// drains to the forwarder as one request (origin, seq) carrying the
// encoded commands; the leader's RPC server queues it, in arrival order,
// into the same queue as its own clients' commands, so it rides the
// normal group commit (several followers' batches and the leader's own
// commands share one entry and one fsync), and the replies go back when
// the entry applies. A forwarded write costs one extra round trip.
//
// Retries are safe because the state machine dedupes requests: an entry
// records which of its commands form which request, and a second copy of
// an applied (origin, seq) gets the saved replies instead of running
// again (fsm/dedupe.go; the table is replicated, bounded, expired by log
// time, and in the snapshot). So when a forward fails before its answer
// (connection lost, leader stepped down or died, outcome unknown), the
// forwarder resends every unanswered request, in seq order, to the next
// leader; if this node became the leader, it proposes them itself, and
// new local commands queue behind them until they are answered, which
// keeps one client's pipelined writes in order across the failover.
// Origin is the node ID plus a random per-process nonce, so a restarted
// node never collides with its past self; each request carries the
// lowest seq still unanswered, which lets the state machine drop saved
// replies the origin no longer needs. A request that was certainly never
// applied fails with ErrNoLeader after LeaderWait; one that may have been
// applied fails with ErrUnknownOutcome after ForwardTimeout.
//
// A follower's ReadBarrier asks the leader for a read index (the
// leader's ReadIndex steps below, over the RPC) and waits until its own
// state machine has applied it; the read then runs locally. An idle
// leader tells followers the commit index only every CommitTimeout, so a
// follower still waiting after 2 ms has the leader append a no-op, which
// carries it at once (nudgeCommit; WAIT uses it too). READONLY
// (stale) reads skip the barrier (ReadBarrierStale). With no leader,
// Propose, ReadBarrier and the membership calls wait up to LeaderWait and
// then fail with ErrNoLeader, which also matches ErrNotLeader (nothing
// was appended), so the server's existing TRYAGAIN mapping applies.
//
// # Membership
//
// Raft's configuration says who votes; an EntryMember log entry records
// each member's client address (and data-dir incarnation) for every node,
// so RAFT NODES/LEADER can name client addresses anywhere. AddMember,
// RemoveMember and TransferLeadership run on the leader and are forwarded
// there from any other node. New members always join as non-voters; the
// leader's promote loop asks each non-voter for its applied index over the
// RPC and makes it a voter once it has applied its own addition and is
// within PromoteLag entries of the commit index (an empty voter could
// otherwise help elect a leader that lacks committed entries).
//
// A fresh node forms or finds its cluster in one of three ways: no
// options bootstraps a single node (or the Peers configuration); Join
// sends `RAFT ADD id raft-addr client-addr incarnation` to a seed's
// client port (join.go; the server implements it with AddMember); and
// BootstrapExpect with Discover forms one cluster from nodes started at
// once (discover.go: all founders bootstrap the identical configuration
// of the N lowest IDs, which hashicorp/raft accepts). A node with state
// just restarts. The incarnation (random, stored with the log) makes a
// wiped node rejoining under its old ID distinguishable from one asking
// twice: the leader removes the old entry and re-adds it as a non-voter,
// and it catches up by snapshot install.
//
// Joins are vetted first (safety.go): the leader asks the member holding
// the joiner's ID or Raft address for its status, and refuses the join
// (ErrJoinRefused) if it answers as itself; a member that does not answer
// is a previous incarnation and is replaced. The leader also dials the
// joiner's Raft port, so a joiner that fails the cluster-secret or TLS
// handshake is refused instead of becoming a member nobody can reach. A
// node records in its stable store once it has seen itself in the
// configuration with its own metadata; missing from it later means
// removed: Failed closes with ErrRemoved, and the data dir no longer
// opens. HandOff, for shutdown, hands a leader's leadership over.
//
// # Group commit
//
// One fsync per command would cap a node at a few thousand writes per
// second. Propose only queues the command. On the leader, a single
// proposer goroutine hands raft a placeholder entry as soon as something
// is queued, without waiting for the result; raft's apply channel is
// unbuffered, so the placeholder waits there while the previous entry is
// written. When raft's leader loop takes it and calls StoreLogs, the
// wrapped log store (storegate.go) packs it there and then: everything
// queued by that instant (up to MaxBatch commands or MaxBatchBytes),
// stamped with the leader's clock. An entry therefore holds exactly what
// arrived while the disk was busy, and the disk is never idle waiting for
// a hand-off between two writes; an idle node still commits a lone
// command at once (no timer). A completer goroutine waits on the futures
// in log order and hands each command its reply. MaxInflight bounds
// entries handed over but not applied (--max-inflight 1 packs the next
// entry only once the previous one is applied, which helps when the nodes
// of a cluster share one disk). Commands from one goroutine stay in order:
// one queue, one proposer, one log.
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
// index, confirms leadership, checks the term did not change, and waits
// (on a channel, not by polling) until the FSM has applied that index.
// Followers get the index from the leader (above). Leadership is confirmed
// by asking every voter for its current term over the cluster RPC and
// counting a quorum that answers with ours (as etcd's ReadIndex counts
// heartbeat acks that echo the read's context), not with raft's
// VerifyLeader: that counts AppendEntries responses to requests sent
// before the read, so a leader resumed from a pause could serve a stale
// read (found by the pause fault schedule).
//
// # Time and expiry
//
// Only the leader reads a clock: it stamps each entry, and the FSM derives
// all time from the stamps (Config.ClockOffset skews it, for tests of a
// failover to a leader whose clock is behind). Active expiry is an expire-cycle entry the
// leader proposes when the earliest TTL is due, or a stream with age
// retention (XCFGSET MAXAGE) has entries past its age (checked at that
// deadline, at least every ExpiryInterval), so every replica deletes the
// same keys and trims the same entries at the same log position.
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
// Stats (stats.go) reads histograms of the write path and of snapshots:
// commit latency (Propose to reply), commands per group-committed entry,
// each StoreLogs (timed in the sizedLog wrapper) and each raft-wal flush
// (in the fdatasync file), and each snapshot taken and restored (an FSM
// wrapper around the one raft sees). They are plain atomic buckets read
// at scrape time by the metrics package, so this package does not depend
// on the Prometheus client.
package cluster
