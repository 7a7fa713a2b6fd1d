#!/usr/bin/env bash
# Runs the one-node raftstream vs redis-server comparison of
# docs/benchmarks.md: builds raftstream and rsbench, starts a single
# raftstream node and a redis-server (appendonly yes, appendfsync always)
# on free loopback ports with fresh temp data dirs, then runs each
# workload RUNS times, alternating the servers run by run so machine noise
# hits both: XADD with 1 client, 50 clients and 50 clients pipelining 16;
# the task queue (rsbench -mode queue: msgs/s, XADD-to-receipt, XREAD and XREADGROUP
# BLOCK wake-up latency); memory per entry. Prints one markdown table of
# the medians with raftstream/redis ratio columns, then every run's
# figures on stderr.
#
# Usage: cmd/rsbench/run.sh            (from anywhere inside the repo)
# Environment: RUNS (3), DURATION (10s), QUEUE_DURATION (DURATION),
# ENTRIES (1000000; 0 skips the memory workload), KEEP=1 keeps the temp
# dir with logs, RAFTSTREAM_FLAGS adds flags to the node (e.g.
# "--log-store boltdb"), RAFTSTREAM_FLAGS_B (if set) adds a second node,
# raftstream-B, with these flags on top, to the same alternating rounds
# (e.g. RAFTSTREAM_FLAGS_B="--log-store boltdb" against the default wal),
# RAFTSTREAM_BIN uses a prebuilt binary, RAFTSTREAM_BIN_B (with
# RAFTSTREAM_FLAGS_B, which may be " ") another one for raftstream-B:
# a build A/B in the same rounds. QUEUE_ONLY=1 runs only the task queue.
set -euo pipefail

RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
QUEUE_DURATION=${QUEUE_DURATION:-$DURATION}
ENTRIES=${ENTRIES:-1000000}

WORK_PREFIX=rsbench-run
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

one_node_setup
targets=()
for s in "${servers[@]}"; do
	read -r label addr _ <<<"$s"
	targets+=("$label $addr")
done
if [[ "${QUEUE_ONLY:-0}" != 1 ]]; then
	for wl in "-clients 1 -pipeline 1" "-clients 50 -pipeline 1" "-clients 50 -pipeline 16"; do
		# shellcheck disable=SC2086
		bench_rounds -mix xadd $wl -duration "$DURATION"
	done
fi
bench_rounds -mode queue -duration "$QUEUE_DURATION"
if [[ "$ENTRIES" != 0 ]]; then
	bench_rounds -mode memory -entries "$ENTRIES"
fi

echo "## One node vs redis-server appendfsync always (median of $RUNS alternating runs; XADD runs of $DURATION)"
echo
echo "raftstream flags: ${RAFTSTREAM_FLAGS:-(defaults)}${RAFTSTREAM_FLAGS_B:+; raftstream-B adds: $RAFTSTREAM_FLAGS_B}"
echo
report redis
