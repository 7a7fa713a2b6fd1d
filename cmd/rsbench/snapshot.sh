#!/usr/bin/env bash
# Measures a large raftstream state (docs/benchmarks.md, "Snapshots at 10M
# entries"): fills a single node with ENTRIES entries of three short fields
# (rsbench -mode memory, which also gives bytes/entry; the same against
# redis-server for comparison), then RUNS rounds of:
#   - snapshot write: one more XADD, then RAFT SNAPSHOT, timed by its reply;
#   - restart: kill -9, start again on the same data dir, time until
#     READONLY XLEN (state restored) and XLEN (restored and leader elected:
#     serving) answer ENTRIES;
#   - join: a fresh node started with --join, time until its READONLY XLEN
#     answers ENTRIES (the filled node keeps one trailing log entry, so the
#     new node must install the snapshot); then it is removed again.
# Prints a markdown table of the medians and the snapshot's size; every
# run's figures and the joiners' snapshot indexes on stderr.
#
# Usage: cmd/rsbench/snapshot.sh   (from anywhere inside the repo)
# Environment: ENTRIES (10000000), RUNS (3), RAFTSTREAM_FLAGS adds flags to
# the nodes (e.g. "--log-store boltdb"), KEEP=1 keeps the temp dir (data
# dirs included), RAFTSTREAM_BIN uses a prebuilt binary.
set -euo pipefail

ENTRIES=${ENTRIES:-10000000}
RUNS=${RUNS:-3}
# --trailing-logs 1: a snapshot leaves (almost) no log behind, so a joiner
# needs the snapshot. --command-timeout: RAFT SNAPSHOT of a large state may
# take longer than the default bound (10 s plus 10 s).
SNAP_FLAGS=(--trailing-logs 1 --command-timeout 10m)
KEY=rsbench:snapshot

WORK_PREFIX=rsbench-snap
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

seconds_since() { # start ($EPOCHREALTIME)
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'
}

rport=$("$bench" -freeport)
redis_start redis "$rport" --appendonly no # memory only: the AOF would just slow the fill
node_new snap
node_run snap "${SNAP_FLAGS[@]}"
node_wait snap
addr="127.0.0.1:${cport[snap]}"

mem="memory, $ENTRIES entries x 3 fields"
echo "# filling redis-server and raftstream with $ENTRIES entries" >>"$work/runs.log"
"$bench" -addr "127.0.0.1:$rport" -label redis -mode memory -entries "$ENTRIES" -workload "$mem" \
	-format metrics -timeout 10m >>"$work/metrics" 2>>"$work/runs.log"
"$bench" -addr "$addr" -label raftstream -mode memory -entries "$ENTRIES" -workload "$mem" \
	-key "$KEY" -no-cleanup -format metrics -timeout 10m >>"$work/metrics" 2>>"$work/runs.log"

xlen() { # workload addr extra-flags...: time until XLEN $KEY = ENTRIES
	local workload=$1 at=$2
	shift 2
	"$bench" -mode xlen -addr "$at" -key "$KEY" -entries "$ENTRIES" -timeout 10m -label raftstream \
		-workload "$workload" -format metrics "$@" >>"$work/metrics" 2>>"$work/runs.log"
}

for r in $(seq 1 "$RUNS"); do
	echo "# round $r/$RUNS" >>"$work/runs.log"
	redis-cli -p "${cport[snap]}" XADD rsbench:marker '*' round "$r" >/dev/null
	start=$EPOCHREALTIME
	reply=$(redis-cli -p "${cport[snap]}" RAFT SNAPSHOT)
	took=$(seconds_since "$start")
	[[ "$reply" == OK ]] || { echo "RAFT SNAPSHOT: $reply" >&2; exit 1; }
	printf 'raftstream\tsnapshot write (RAFT SNAPSHOT)\tseconds\t%s\n' "$took" >>"$work/metrics"
	latest=$(ls -t "$work/data/snap/snapshots" | head -1)
	echo "RAFT SNAPSHOT took $took s; $latest: $(du -sb "$work/data/snap/snapshots/$latest" | cut -f1) bytes" >>"$work/runs.log"

	kill -KILL "${npid[snap]}"
	wait "${npid[snap]}" 2>/dev/null || true
	node_run snap "${SNAP_FLAGS[@]}"
	xlen "restart, READONLY XLEN = N (restored)" "$addr" -readonly &
	ro=$!
	xlen "restart, XLEN = N (serving)" "$addr"
	wait "$ro"

	joiner="join$r"
	node_new "$joiner"
	node_run "$joiner" --join "127.0.0.1:${rport[snap]}"
	xlen "join, READONLY XLEN = N" "127.0.0.1:${cport[$joiner]}" -readonly
	echo "$joiner: $(redis-cli -p "${cport[$joiner]}" INFO raft | grep -E '^raft_last_snapshot_index' | tr -d '\r')" >>"$work/runs.log"
	reply=$(redis-cli -p "${cport[snap]}" RAFT REMOVE "$joiner")
	[[ "$reply" == OK ]] || { echo "RAFT REMOVE $joiner: $reply" >&2; exit 1; }
	kill -TERM "${npid[$joiner]}"
	wait "${npid[$joiner]}" 2>/dev/null || true
done

echo "## $ENTRIES entries: memory, snapshot, restart, join (median of $RUNS rounds)"
echo
echo "raftstream flags: ${SNAP_FLAGS[*]}${RAFTSTREAM_FLAGS:+ $RAFTSTREAM_FLAGS}; snapshot on disk: $(du -sb "$work/data/snap/snapshots/$latest" | cut -f1) bytes," \
	"data dir: $(du -sb "$work/data/snap" | cut -f1) bytes"
echo
report redis
