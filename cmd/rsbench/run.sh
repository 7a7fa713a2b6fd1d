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

root=$(cd "$(dirname "$0")/../.." && pwd)
export PATH="/usr/local/go/bin:$PATH"
work=$(mktemp -d /tmp/rsbench-run.XXXXXX)
pids=()

cleanup() {
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [[ "${KEEP:-0}" == 1 ]]; then
		echo "kept $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

echo "building into $work ..." >&2
if [[ -n "${RAFTSTREAM_BIN:-}" ]]; then
	cp "$RAFTSTREAM_BIN" "$work/raftstream"
else
	(cd "$root" && go build -o "$work/raftstream" ./cmd/raftstream)
fi
(cd "$root" && go build -o "$work/rsbench" ./cmd/rsbench)
bench="$work/rsbench"

wait_ready() { # addr pid name
	local host=${1%:*} port=${1##*:}
	for _ in $(seq 1 600); do
		if ! kill -0 "$2" 2>/dev/null; then
			echo "$3 exited during startup; log:" >&2
			cat "$work/$3.log" >&2
			exit 1
		fi
		if [[ "$(redis-cli -h "$host" -p "$port" XLEN __ready__ 2>/dev/null)" == 0 ]]; then
			return 0
		fi
		sleep 0.1
	done
	echo "$3 not ready after 60s" >&2
	exit 1
}

rport=$("$bench" -freeport)
mkdir -p "$work/redis"
redis-server --port "$rport" --bind 127.0.0.1 --dir "$work/redis" --appendonly yes \
	--appendfsync always --save "" --daemonize no --protected-mode no \
	>"$work/redis.log" 2>&1 &
pids+=($!)
wait_ready "127.0.0.1:$rport" "$!" redis

nport=$("$bench" -freeport)
raftport=$("$bench" -freeport)
mkdir -p "$work/node"
# shellcheck disable=SC2086
"$work/raftstream" --node-id bench --data-dir "$work/node" --listen "127.0.0.1:$nport" \
	--raft-listen "127.0.0.1:$raftport" ${RAFTSTREAM_FLAGS:-} >"$work/raftstream.log" 2>&1 &
pids+=($!)
wait_ready "127.0.0.1:$nport" "$!" raftstream

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
