#!/usr/bin/env bash
# Runs the replicated-write comparison of docs/benchmarks.md ("Three
# nodes"): a 3-node raftstream cluster (through the leader and through a
# follower), a single raftstream node, redis-server with appendfsync
# always, and a Redis master + replica (both appendfsync always) where each
# XADD is followed by WAIT 1 0 (rsbench -mix xaddwait). 50 clients,
# pipeline 1 and 16; prints markdown tables of the medians.
#
# Usage: cmd/rsbench/wait_cluster.sh   (from anywhere inside the repo)
# Environment: RUNS (3), DURATION (10s), KEEP=1 keeps the temp dir,
# RAFTSTREAM_BIN uses a prebuilt binary instead of building one.
set -euo pipefail

RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}

WORK_PREFIX=rsbench-wait
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

# Redis alone, and a master + replica.
rport=$("$bench" -freeport)
redis_start redis "$rport"
mport=$("$bench" -freeport)
redis_start master "$mport"
sport=$("$bench" -freeport)
redis_start replica "$sport" --replicaof 127.0.0.1 "$mport"
wait_cmd "127.0.0.1:$mport" "${pids[-1]}" replica 1 WAIT 1 1000

# A single raftstream node.
nport=$("$bench" -freeport)
nraft=$("$bench" -freeport)
mkdir -p "$work/single"
"$work/raftstream" --node-id single --data-dir "$work/single" --listen "127.0.0.1:$nport" \
	--raft-listen "127.0.0.1:$nraft" >"$work/single.log" 2>&1 &
pids+=($!)
wait_cmd "127.0.0.1:$nport" "$!" single 0 XLEN __ready__

# Three raftstream nodes.
cports=() rports=() peers=""
for i in 1 2 3; do
	cports+=("$("$bench" -freeport)")
	rports+=("$("$bench" -freeport)")
	peers+="${peers:+,}n$i=127.0.0.1:${rports[-1]}"
done
for i in 0 1 2; do
	mkdir -p "$work/n$((i + 1))"
	"$work/raftstream" --node-id "n$((i + 1))" --data-dir "$work/n$((i + 1))" \
		--listen "127.0.0.1:${cports[i]}" --raft-listen "127.0.0.1:${rports[i]}" --peers "$peers" \
		>"$work/n$((i + 1)).log" 2>&1 &
	pids+=($!)
done
for i in 0 1 2; do
	wait_cmd "127.0.0.1:${cports[i]}" "${pids[-3 + i]}" "n$((i + 1))" 0 XLEN __ready__
done
leader="" follower=""
for i in 0 1 2; do
	if redis-cli -p "${cports[i]}" INFO raft | grep -q '^raft_state:leader'; then
		leader="127.0.0.1:${cports[i]}"
	elif [[ -z "$follower" ]]; then
		follower="127.0.0.1:${cports[i]}"
	fi
done
[[ -n "$leader" && -n "$follower" ]] || { echo "no leader/follower found" >&2; exit 1; }

targets=(
	"3-node-leader $leader xadd"
	"3-node-follower $follower xadd"
	"1-node $(echo 127.0.0.1:$nport) xadd"
	"redis-aof-always 127.0.0.1:$rport xadd"
	"redis-master+replica-WAIT 127.0.0.1:$mport xaddwait"
)

echo "## XADD, 50 clients (median of $RUNS runs of $DURATION)"
echo
echo "| server | workload | ops/s | p50 ms | p99 ms |"
echo "| --- | --- | ---: | ---: | ---: |"
for pl in 1 16; do
	for t in "${targets[@]}"; do
		read -r name addr mix <<<"$t"
		"$bench" -addr "$addr" -label "$name" -mix "$mix" -clients 50 -pipeline "$pl" \
			-duration "$DURATION" -runs "$RUNS" -format md 2>>"$work/runs.log" ||
			echo "| $name | pipeline $pl | failed | | |"
	done
done
echo
echo "Per-run figures:" >&2
cat "$work/runs.log" >&2
