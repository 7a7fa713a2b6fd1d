#!/usr/bin/env bash
# Measures the floor of a durable write in Go (docs/benchmarks.md, "Ninth
# session" and "Eleventh session"): redis-server (appendonly yes,
# appendfsync always), rsfloor in the modes of FLOOR_MODES (cmd/rsfloor: a
# goroutine per connection that flushes the log itself, hands it to one
# writer goroutine, or goes through a chain of four goroutines as in
# raftstream; or one epoll loop for every connection, with the same three
# paths) and a raftstream node, each on a fresh temp data dir and a free
# loopback port, in alternating rounds of XADD with 1 client and with 50
# clients. Prints the median table with ratios to Redis, then every run's
# figures on stderr.
#
# Usage: cmd/rsbench/floor.sh            (from anywhere inside the repo)
# Environment: RUNS (3), DURATION (5s), FLOOR_MODES ("inline handoff chain
# loop loop-handoff loop-chain"; rsfloor also has chain-behind, direct and
# direct-chain),
# KEEP=1 keeps the temp dir, RAFTSTREAM_FLAGS adds flags to the node,
# RAFTSTREAM_BIN uses a prebuilt raftstream.
set -euo pipefail

RUNS=${RUNS:-3}
DURATION=${DURATION:-5s}

WORK_PREFIX=rsbench-floor
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

(cd "$root" && go build -o "$work/rsfloor" ./cmd/rsfloor)
rport=$("$bench" -freeport)
redis_start redis "$rport"
targets=("redis 127.0.0.1:$rport")
for mode in ${FLOOR_MODES:-inline handoff chain loop loop-handoff loop-chain}; do
	port=$("$bench" -freeport)
	"$work/rsfloor" -listen "127.0.0.1:$port" -mode "$mode" -file "$work/floor-$mode.log" \
		>"$work/floor-$mode.out" 2>&1 &
	pids+=($!)
	wait_cmd "127.0.0.1:$port" "$!" "floor-$mode" 0 XLEN __ready__
	targets+=("floor-$mode 127.0.0.1:$port")
done
node_new raftstream
node_run raftstream
node_wait raftstream
targets+=("raftstream 127.0.0.1:${cport[raftstream]}")

for wl in "-clients 1 -pipeline 1" "-clients 50 -pipeline 1"; do
	# shellcheck disable=SC2086
	bench_rounds -mix xadd $wl -duration "$DURATION"
done

echo "## The floor of a durable write in Go vs redis-server appendfsync always (median of $RUNS alternating runs of $DURATION)"
echo
echo "raftstream flags: ${RAFTSTREAM_FLAGS:-(defaults)}"
echo
report redis
