#!/usr/bin/env bash
# Runs the NATS JetStream comparison of docs/benchmarks.md: a 3-node
# nats-server cluster on loopback with JetStream file storage and
# `jetstream { sync_interval: always }` (every write fsynced before it is
# acknowledged), a file stream with 3 replicas, loaded by `nats bench js
# pub sync` (50 clients, 16-byte messages, each publish waits for the
# stream's acknowledgement), against a 3-node raftstream cluster loaded
# through its leader by rsbench (50 clients, pipeline 1, XADD with a
# 16-byte value). Rounds alternate the two; prints a markdown table of the
# medians (msgs/s: acknowledged publishes or XADDs per second; p50/p99 of
# one publish or XADD round trip) with the raftstream/NATS ratios, then
# every run's output on stderr.
#
# nats-server and the nats CLI are Go modules: the script `go install`s
# them into the temp dir (the Go module proxy must be reachable) unless
# NATS_BIN_DIR names a directory holding nats-server and nats already.
#
# Usage: cmd/rsbench/jetstream.sh   (from anywhere inside the repo)
# Environment: RUNS (3), DURATION (10s, each raftstream run), NATS_MSGS
# (100000, messages per NATS run: nats bench runs a count, not a time),
# NATS_SERVER_VERSION (v2.15.3), NATSCLI_VERSION (v0.5.1), NATS_BIN_DIR,
# RAFTSTREAM_FLAGS adds flags to every raftstream node, KEEP=1 keeps the
# temp dir, RAFTSTREAM_BIN uses a prebuilt raftstream.
set -euo pipefail

RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
NATS_MSGS=${NATS_MSGS:-100000}
NATS_SERVER_VERSION=${NATS_SERVER_VERSION:-v2.15.3}
NATSCLI_VERSION=${NATSCLI_VERSION:-v0.5.1}

WORK_PREFIX=rsbench-js
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

natsbin=${NATS_BIN_DIR:-$work/bin}
if [[ -z "${NATS_BIN_DIR:-}" ]]; then
	echo "installing nats-server $NATS_SERVER_VERSION and natscli $NATSCLI_VERSION ..." >&2
	(cd "$work" && GOBIN="$natsbin" go install "github.com/nats-io/nats-server/v2@$NATS_SERVER_VERSION" &&
		GOBIN="$natsbin" go install "github.com/nats-io/natscli/nats@$NATSCLI_VERSION")
fi
echo "$("$natsbin/nats-server" --version), nats CLI $("$natsbin/nats" --version 2>&1)" >&2

# Three nats-servers, routes to each other, JetStream with fsync always.
nports=() cluster_ports=() urls="" monport=$("$bench" -freeport)
for i in 1 2 3; do
	nports+=("$("$bench" -freeport)")
	cluster_ports+=("$("$bench" -freeport)")
	urls+="${urls:+,}nats://127.0.0.1:${nports[-1]}"
done
routes=""
for p in "${cluster_ports[@]}"; do
	routes+="${routes:+, }nats-route://127.0.0.1:$p"
done
for i in 0 1 2; do
	name="nats$((i + 1))"
	mkdir -p "$work/data/$name"
	cat >"$work/$name.conf" <<CONF
server_name: $name
listen: 127.0.0.1:${nports[i]}
$([[ $i == 0 ]] && echo "http: 127.0.0.1:$monport")
jetstream {
	store_dir: "$work/data/$name"
	sync_interval: always
}
cluster {
	name: rsbench
	listen: 127.0.0.1:${cluster_ports[i]}
	routes: [$routes]
}
CONF
	"$natsbin/nats-server" -c "$work/$name.conf" -t >/dev/null 2>&1 ||
		{ echo "nats-server rejects $work/$name.conf:" >&2; "$natsbin/nats-server" -c "$work/$name.conf" -t >&2; exit 1; }
	"$natsbin/nats-server" -c "$work/$name.conf" >"$work/$name.log" 2>&1 &
	pids+=($!)
done
# Ready once the JetStream meta group has a leader: account info answers.
for _ in $(seq 1 300); do
	"$natsbin/nats" -s "$urls" account info >/dev/null 2>&1 && break
	sleep 0.2
done
"$natsbin/nats" -s "$urls" account info >/dev/null || { echo "JetStream cluster not ready; logs in $work" >&2; exit 1; }

# The server must have taken sync_interval: always (/varz shows it).
curl -fsS "http://127.0.0.1:$monport/varz" | grep -q '"sync_always": *true' ||
	{ echo "nats1 does not report sync_always (see /varz on port $monport)" >&2; exit 1; }

cluster_start n

workload="pub c=50 16B"
for r in $(seq 1 "$RUNS"); do
	echo "# round $r/$RUNS: nats bench js pub sync" >>"$work/runs.log"
	# --create --purge: the stream (file storage, 3 replicas) exists and is
	# empty before each run, like rsbench's fresh key.
	if out=$("$natsbin/nats" -s "$urls" bench js pub sync rsbench.js --stream rsbench --create --purge \
		--storage file --replicas 3 --clients 50 --msgs "$NATS_MSGS" --size 16 --no-progress 2>&1); then
		echo "$out" >>"$work/runs.log"
		# " NATS JetStream synchronous publisher aggregated stats: 5,899 msgs/sec ~ 92 KiB/sec"
		# " latencies per operation min ... | P50 7,728.39us | P90 ... | P99 19,159.57us | ..."
		rate=$(sed -n 's/.*aggregated stats: *\([0-9,.]*\) msgs\/sec.*/\1/p' <<<"$out" | head -1 | tr -d ,)
		lat=$(grep 'latencies per operation' <<<"$out" | head -1 | tr -d ,)
		p50=$(sed -n 's/.*| P50 \([0-9.]*\)us.*/\1/p' <<<"$lat")
		p99=$(sed -n 's/.*| P99 \([0-9.]*\)us.*/\1/p' <<<"$lat")
		if [[ -n "$rate" && -n "$p50" && -n "$p99" ]]; then
			awk -v w="$workload" -v r="$rate" -v p50="$p50" -v p99="$p99" 'BEGIN {
				printf "nats-jetstream-R3\t%s\tmsgs/s\t%s\n", w, r
				printf "nats-jetstream-R3\t%s\tp50 ms\t%g\n", w, p50 / 1000
				printf "nats-jetstream-R3\t%s\tp99 ms\t%g\n", w, p99 / 1000
			}' >>"$work/metrics"
		else
			echo "round $r: no msgs/sec and P50/P99 in nats bench output" | tee -a "$work/runs.log" >&2
		fi
	else
		echo "$out" >>"$work/runs.log"
		echo "round $r: nats bench failed" | tee -a "$work/runs.log" >&2
	fi
	if [[ $r == 1 ]]; then
		"$natsbin/nats" -s "$urls" stream info rsbench --json | grep -E '"(storage|num_replicas)"' | tr -d ' \n' >>"$work/runs.log"
		echo >>"$work/runs.log"
	fi
	echo "# round $r/$RUNS: raftstream-3-leader" >>"$work/runs.log"
	"$bench" -addr "$leader" -label raftstream-3-leader -clients 50 -pipeline 1 -value-size 16 \
		-duration "$DURATION" -workload "$workload" -format metrics 2>>"$work/runs.log" |
		awk -F'\t' -v OFS='\t' '$3 == "ops/s" { $3 = "msgs/s" } { print }' >>"$work/metrics" ||
		echo "round $r: raftstream run failed" | tee -a "$work/runs.log" >&2
done

echo "## Three nodes: NATS JetStream (R3 file stream, sync_interval always) vs raftstream (median of $RUNS alternating runs)"
echo
echo "$("$natsbin/nats-server" --version), nats CLI $("$natsbin/nats" --version 2>&1), $NATS_MSGS messages per NATS run;" \
	"raftstream via the leader, runs of $DURATION, flags: ${RAFTSTREAM_FLAGS:-(defaults)}"
echo
report nats-jetstream-R3
