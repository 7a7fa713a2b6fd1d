#!/usr/bin/env bash
# Runs the replicated-write comparison of docs/benchmarks.md ("Three
# nodes"): a 3-node raftstream cluster (through the leader and through a
# follower) against a Redis master + 2 replicas, all three with appendonly
# yes, appendfsync always, where each XADD is followed by WAIT 1 0 (rsbench
# -mix xaddwait: the write is acknowledged once a second copy holds it, as
# a raftstream commit is once a majority of 3 has it). 50 clients; each
# pipeline depth is run RUNS times, alternating the targets run by run.
# Prints one markdown table of the medians with ratios to the Redis
# triple, then every run's figures on stderr.
#
# Usage: cmd/rsbench/wait_cluster.sh   (from anywhere inside the repo)
# Environment: RUNS (3), DURATION (10s), PIPELINES ("1 16"),
# WAIT_REPLICAS (1: numreplicas of the WAIT), RAFTSTREAM_FLAGS adds flags
# to every node (e.g. "--log-store boltdb", "--max-inflight 1"),
# RAFTSTREAM_FLAGS_B (if set) adds a second cluster with these flags on
# top, measured through its leader in the same rounds
# (raftstream-B-3-leader), KEEP=1 keeps the temp dir, RAFTSTREAM_BIN uses a
# prebuilt binary.
set -euo pipefail

RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
PIPELINES=${PIPELINES:-1 16}
WAIT_REPLICAS=${WAIT_REPLICAS:-1}

WORK_PREFIX=rsbench-wait
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

mport=$("$bench" -freeport)
redis_start master "$mport"
for r in replica1 replica2; do
	redis_start "$r" "$("$bench" -freeport)" --replicaof 127.0.0.1 "$mport"
done
wait_cmd "127.0.0.1:$mport" "${pids[-1]}" replica2 2 WAIT 2 1000

cluster_start n

redis_label="redis-m+2r"
targets=(
	"$redis_label 127.0.0.1:$mport -mix xaddwait -wait-replicas $WAIT_REPLICAS"
	"raftstream-3-leader $leader -mix xadd"
	"raftstream-3-follower $follower -mix xadd"
)
if [[ -n "${RAFTSTREAM_FLAGS_B:-}" ]]; then
	# shellcheck disable=SC2086
	cluster_start b $RAFTSTREAM_FLAGS_B
	targets+=("raftstream-B-3-leader $leader -mix xadd")
fi
for pl in $PIPELINES; do
	bench_rounds -clients 50 -pipeline "$pl" -duration "$DURATION" -workload "XADD c=50 P=$pl"
done

echo "## Three nodes: replicated XADD, 50 clients (median of $RUNS alternating runs of $DURATION)"
echo
echo "redis-m+2r: Redis master + 2 replicas, XADD + WAIT $WAIT_REPLICAS 0 per write. raftstream flags:" \
	"${RAFTSTREAM_FLAGS:-(defaults)}${RAFTSTREAM_FLAGS_B:+; raftstream-B adds: $RAFTSTREAM_FLAGS_B}"
echo
report "$redis_label"
