#!/usr/bin/env bash
# Shows where a lone write's time goes on the server (docs/benchmarks.md,
# "Twelfth session"): one client XADDs in a loop against a single
# raftstream node and a redis-server (appendonly yes, appendfsync always)
# while `perf trace` records the server's fdatasync, pwrite64 and write
# calls; rsbench -mode tracegaps turns each trace into the p50 of the
# flush and of the gaps between one write's system calls. The servers
# alternate, RUNS rounds. Prints one markdown table of the medians with
# ratios to Redis, then every run's figures on stderr. The trace slows
# both servers; compare the gaps, not the throughput.
#
# Usage: cmd/rsbench/trace.sh   (from anywhere inside the repo; needs perf
# with syscall tracepoints, usually root: apt-get install linux-perf)
# Environment: RUNS (2), DURATION (5s), RAFTSTREAM_FLAGS adds flags to the
# node, RAFTSTREAM_FLAGS_B (if set) adds a second node with these flags on
# top (e.g. "--gomaxprocs 1"), RAFTSTREAM_BIN / RAFTSTREAM_BIN_B prebuilt
# binaries, KEEP=1 keeps the temp dir with the traces.
set -euo pipefail

RUNS=${RUNS:-2}
DURATION=${DURATION:-5s}

command -v perf >/dev/null || { echo "trace.sh needs perf (apt-get install linux-perf)" >&2; exit 1; }

WORK_PREFIX=rsbench-trace
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

one_node_setup

secs=${DURATION%s}
for r in $(seq 1 "$RUNS"); do
	for t in "${servers[@]}"; do
		read -r label addr pid <<<"$t"
		echo "# round $r/$RUNS: $label" >>"$work/runs.log"
		# The trace starts before the load and ends inside it, so it holds
		# only the steady state.
		"$bench" -addr "$addr" -label "$label" -clients 1 -duration "$((secs + 2))s" -runs 1 \
			>>"$work/runs.log" 2>&1 &
		load=$!
		sleep 1
		timeout "$secs" perf trace -p "$pid" -e fdatasync,pwrite64,write 2>"$work/trace-$label-$r" >/dev/null || true
		wait "$load"
		"$bench" -mode tracegaps -label "$label" -format metrics <"$work/trace-$label-$r" >>"$work/metrics"
		"$bench" -mode tracegaps -label "$label" <"$work/trace-$label-$r" >>"$work/runs.log"
	done
done

echo "## Where a lone write's time goes (median of $RUNS alternating runs, perf trace over ${DURATION} of 1-client XADD)"
echo
echo "raftstream flags: ${RAFTSTREAM_FLAGS:-(defaults)}${RAFTSTREAM_FLAGS_B:+; raftstream-B adds: $RAFTSTREAM_FLAGS_B}"
echo
report redis
