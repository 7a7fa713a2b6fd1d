// Package engine is raftstream's deterministic Redis-streams state
// machine: the data structures and the semantics of every command the
// cluster replicates, with no I/O, goroutines, clock or randomness of its
// own. Everything it decides is a function of the state, the command and
// the time the caller passes in.
//
// Main entry points:
//
//   - State (NewState) holds the keyspaces of streams, the replicated
//     configuration, the ACL users and the state-machine clock. Exec runs
//     one command; ExecTxn a MULTI/EXEC transaction; ExecConfigSet a
//     replicated CONFIG SET. Ctx carries the database, the time (Now),
//     the ReplyWriter the reply is written to and a Signal hook for
//     blocked readers.
//   - NewRegistry builds a node's one command table: the engine's
//     commands, each binding a Spec and its COMMAND metadata to its
//     parser, check and exec, and the host's (server's) commands,
//     registered with a run hook the engine never calls. A caller that
//     has resolved a name keeps the Command and uses Command.Check
//     (validation without state, the same parser Exec uses) and
//     State.Run, or Command.Parse and State.RunParsed for a command it
//     runs locally, parsed once.
//   - ParseXRead, ParseXReadGroup, XReadGroupWouldServe and
//     XReadGroupClaimDeadline let the server keep a blocked reader's
//     command parsed and decide, without writing, whether waking it must
//     go through the log.
//   - Clone (copy-on-write, O(keys)), WriteSnapshot and ReadSnapshot give
//     deterministic snapshots: the same state always encodes to the same
//     bytes.
//
// Replies, RESP2/RESP3 shapes and error texts follow Redis 8.
//
// See DESIGN.md for the design and its trade-offs.
package engine
