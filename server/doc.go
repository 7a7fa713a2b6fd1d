// Package server is raftstream's RESP front end: it speaks the Redis
// protocol (RESP2 and RESP3) to clients on top of tidwall/redcon, turns
// their writes into proposals to the Raft node and serves their reads
// from the local state after a read barrier, and answers connection and
// introspection commands (PING, HELLO, AUTH, CLIENT, INFO, COMMAND,
// CONFIG, CLUSTER, SENTINEL, RAFT, WAIT, ...) itself.
//
// Main entry points:
//
//   - New builds a Server for a running cluster.Node; NewLoading builds
//     one before the node exists, answering -LOADING until Attach hands
//     it the node.
//   - Serve accepts clients (plain and, if configured, TLS); Close stops
//     accepting and lets busy connections finish their batch.
//   - Config holds the listen addresses, limits and Redis-compatible
//     settings; CommandStats and ErrorStats feed INFO and the metrics
//     exporter; HTTPAuth checks the web console's and the metrics
//     endpoint's users against the ACL.
//
// Every command is resolved once against the node's one command table
// (engine.Registry: the engine's commands and the server's own, which it
// registers with a run hook) and checked for arity,
// authentication, ACL and loading in Redis's order. The package imports
// neither fsm nor hashicorp/raft: it reaches them only through cluster.
//
// See DESIGN.md for the design and its trade-offs.
package server
