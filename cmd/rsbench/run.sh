#!/usr/bin/env bash
# Runs the raftstream vs redis-server comparison of docs/benchmarks.md:
# builds raftstream and rsbench, starts a single raftstream node and a
# redis-server (appendonly yes, appendfsync always) on free loopback ports
# with fresh temp data dirs, runs each workload RUNS times against each
# server (alternating, so machine noise hits both), and prints markdown
# tables of the medians.
#
# Usage: cmd/rsbench/run.sh            (from anywhere inside the repo)
# Environment: RUNS (3), DURATION (10s), ENTRIES (1000000), KEEP=1 keeps
# the temp dir with logs, RAFTSTREAM_FLAGS adds flags to the node,
# RAFTSTREAM_BIN uses a prebuilt binary instead of building one.
set -euo pipefail

RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
ENTRIES=${ENTRIES:-1000000}

WORK_PREFIX=rsbench-run
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

rport=$("$bench" -freeport)
redis_start redis "$rport"

nport=$("$bench" -freeport)
raftport=$("$bench" -freeport)
mkdir -p "$work/node"
# shellcheck disable=SC2086
"$work/raftstream" --node-id bench --data-dir "$work/node" --listen "127.0.0.1:$nport" \
	--raft-listen "127.0.0.1:$raftport" ${RAFTSTREAM_FLAGS:-} >"$work/raftstream.log" 2>&1 &
pids+=($!)
wait_cmd "127.0.0.1:$nport" "$!" raftstream 0 XLEN __ready__

servers=("redis 127.0.0.1:$rport" "raftstream 127.0.0.1:$nport")
workloads=("-clients 1 -pipeline 1" "-clients 50 -pipeline 1" "-clients 50 -pipeline 16")

echo "## XADD throughput and latency (median of $RUNS runs of $DURATION)"
echo
echo "| server | workload | ops/s | p50 ms | p99 ms |"
echo "| --- | --- | ---: | ---: | ---: |"
for wl in "${workloads[@]}"; do
	for s in "${servers[@]}"; do
		read -r name addr <<<"$s"
		# shellcheck disable=SC2086
		"$bench" -addr "$addr" -label "$name" -mix xadd $wl -duration "$DURATION" \
			-runs "$RUNS" -format md 2>>"$work/runs.log" || echo "| $name | $wl | failed | | |"
	done
done
echo
echo "## Memory per entry ($ENTRIES entries of three short fields, median of $RUNS runs)"
echo
echo "| server | workload | bytes/entry |"
echo "| --- | --- | ---: |"
for s in "${servers[@]}"; do
	read -r name addr <<<"$s"
	"$bench" -addr "$addr" -label "$name" -mode memory -entries "$ENTRIES" \
		-runs "$RUNS" -format md 2>>"$work/runs.log" || echo "| $name | memory | failed |"
done
echo
echo "Per-run figures:" >&2
cat "$work/runs.log" >&2
