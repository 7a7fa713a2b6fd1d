// Package e2e holds raftstream's end-to-end tests: they build the real
// binary, run it as a separate process on loopback ports and talk to it the
// way users do (go-redis in RESP2 and RESP3, redis-cli, redis-py, raw TCP).
//
// Design notes:
//
//   - The product is tested only through its process boundary and its
//     documented flags (--node-id, --data-dir, --listen, --raft-listen), so
//     these tests keep passing however the packages inside are rearranged,
//     and they exercise what unit tests cannot: flag parsing, startup and
//     recovery from a data dir, signal handling, real sockets.
//   - Expected replies come from a real redis-server started next to the node
//     (the "differential" tests) rather than from hand-written strings. The
//     installed reference is Redis 7.0; where Redis 8 differs the case says
//     so and carries the Redis 8 reply, taken from the Redis command
//     reference and the Redis 8 sources, or an equivalent command that
//     makes the reference produce the Redis 8 reply.
//   - Every process is started with a deadline-bound readiness probe (PING
//     then a read that needs a Raft leader), its output goes to a log file
//     that is printed when the test fails, and it is killed in t.Cleanup;
//     Pdeathsig additionally kills it if the test binary itself dies.
//   - Durability is checked the way it can fail: SIGKILL under a concurrent
//     (partly pipelined, RESP2 and RESP3) XADD load, with and without
//     frequent snapshots, and leader kills in a three-node cluster; after
//     each restart or election every acknowledged entry must be there with
//     its ID and fields. Extra stored entries are allowed: a reply lost in
//     the crash does not mean the write was.
//   - RAFTSTREAM_E2E_TARGET=redis runs the product-facing tests against a
//     reference redis-server instead of raftstream. That validates the
//     harness and the expectations themselves, independently of the product
//     (raftstream-only tests, e.g. clusters and snapshots, are skipped).
//
// Layout (every file but this one is a test file):
//
//   - harness_test.go: TestMain, starting and stopping processes,
//     readiness probes, logs; internal/rsbin builds the binary for it and
//     for e2e/faults (fault injection with a linearizability checker).
//   - resp_test.go: a raw RESP client for what client libraries will not
//     send.
//   - diff_test.go runs the differential scripts of diff_cases_test.go
//     against the product and a reference redis-server.
//   - goredis_test.go, rediscli_test.go, redispy_test.go: the three
//     client tools (redis-py through testdata/redispy_check.py).
//   - One file per area of the product: acl, backup, badinput (malformed
//     requests), bigxadd (what one big XADD costs), blocked_failover,
//     cluster and cluster3 (failover, three-node behaviour), command_meta
//     (COMMAND metadata against Redis), config (--config and CONFIG
//     REWRITE), discovery (what cluster-aware clients are told, and their
//     failover; testdata/discovery_load.py), dlq, durability, idempotent,
//     infostreams, logstore (the boltdb log store, MigrateLog, big entries
//     under kill), ops (membership safety, shutdown hand-off), patterns
//     (stream usage patterns), protected (protected mode), queue, repair
//     (damaged data dirs), replication (WAIT), tls.
//
// Environment knobs (all optional):
//
//	RAFTSTREAM_E2E_BIN=/path     use this binary instead of building one
//	RAFTSTREAM_E2E_RACE=1        build the binary with -race
//	RAFTSTREAM_E2E_TARGET=redis  run product tests against redis-server
//	RAFTSTREAM_E2E_LOGS=DIR      keep every process log under DIR
package e2e
