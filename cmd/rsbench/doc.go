// Command rsbench is a closed-loop load generator and memory probe for
// raftstream and, for comparison, any Redis-compatible server.
//
// Design notes:
//
//   - It speaks RESP itself over plain TCP instead of using a client
//     library: a pipeline of N commands is one write and N reply reads, so
//     the numbers measure the server, not client-side queuing or retries,
//     and the same bytes go to every server compared.
//   - Each client is a closed loop (send a batch, wait for all replies,
//     repeat), like redis-benchmark. Latency is the round trip of the batch
//     a command travelled in; with pipelining every command of a batch gets
//     the batch's latency, which is what the application waiting on the
//     pipeline sees.
//   - Latencies go into a log-linear histogram (128 linear sub-buckets per
//     power of two, so under 1% relative error) per client, merged at the
//     end: constant memory and no locks on the hot path, unlike keeping
//     every sample.
//   - A run writes to fresh keys and deletes them afterwards, so runs and
//     servers start from the same state; -runs repeats a workload and
//     reports the median of each figure, which is what docs/benchmarks.md
//     tabulates.
//   - Memory mode loads entries into one stream and divides the growth of
//     INFO memory's used_memory by the entry count. For Redis that is the
//     allocator's figure; for raftstream it is the Go heap (HeapAlloc),
//     which also holds garbage not yet collected. So during a settling
//     period (-settle) the tool sends MEMORY PURGE (ignored if unknown) and
//     64 KiB ECHOs, whose garbage makes the Go runtime collect, and takes
//     the lowest reading. What remains is noise of a few MB (other
//     allocations of the process), hence 1M entries and medians of runs.
//   - Comparisons alternate servers run by run: the scripts (run.sh,
//     wait_cluster.sh, jetstream.sh, snapshot.sh) call rsbench once per
//     server and round with -format metrics (one tab-separated line per
//     figure), collect the lines in a file and print -mode report's table
//     of medians and ratios to a baseline. Noise on a shared machine then
//     hits all servers alike instead of one server's whole series.
//   - Xlen mode times how long a restarted or joining node takes until
//     XLEN (or READONLY XLEN) reports the full stream, polling every 10 ms
//     from the tool's start.
//
// Usage examples:
//
//	rsbench -addr 127.0.0.1:7000 -clients 50 -pipeline 16 -duration 10s
//	rsbench -addr 127.0.0.1:7000 -mix xadd=3,xrange=1 -runs 3 -format md -label raftstream
//	rsbench -addr 127.0.0.1:7000 -mode memory -entries 1000000
//	rsbench -addr 127.0.0.1:7000 -mode queue -duration 5s
//	rsbench -addr 127.0.0.1:7000 -mode xlen -key k -entries 1000000 -readonly
//	rsbench -addr 127.0.0.1:7000 -label raftstream -format metrics >>m; rsbench -mode report -baseline redis <m
//	rsbench -freeport
package main
