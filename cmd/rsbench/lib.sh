# Shared setup of the rsbench comparison scripts (run.sh, wait_cluster.sh,
# jetstream.sh, snapshot.sh): a temp work dir removed on exit (KEEP=1 keeps
# it), the processes started into pids stopped on exit, raftstream and
# rsbench built into the work dir ($RAFTSTREAM_BIN: use that binary
# instead; $RAFTSTREAM_BIN_B: the binary of run.sh's raftstream-B), and helpers to start redis-server and raftstream nodes, wait
# until a server answers, run alternating rounds of rsbench and print the
# median table.
#
# Usage: WORK_PREFIX=name source "$(dirname "$0")/lib.sh"

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PATH="/usr/local/go/bin:$PATH"
work=$(mktemp -d "/tmp/${WORK_PREFIX:-rsbench}.XXXXXX")
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
if [[ -n "${RAFTSTREAM_BIN_B:-}" ]]; then
	cp "$RAFTSTREAM_BIN_B" "$work/raftstream-B-bin"
fi
(cd "$root" && go build -o "$work/rsbench" ./cmd/rsbench)
bench="$work/rsbench"

wait_cmd() { # addr pid name want cmd...
	local host=${1%:*} port=${1##*:} pid=$2 name=$3 want=$4
	shift 4
	for _ in $(seq 1 600); do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "$name exited during startup; log:" >&2
			cat "$work/$name.log" >&2
			exit 1
		fi
		if [[ "$(redis-cli -h "$host" -p "$port" "$@" 2>/dev/null)" == "$want" ]]; then
			return 0
		fi
		sleep 0.1
	done
	echo "$name not ready after 60s" >&2
	exit 1
}

redis_start() { # name port extra...
	local name=$1 port=$2
	shift 2
	mkdir -p "$work/$name"
	redis-server --port "$port" --bind 127.0.0.1 --dir "$work/$name" --appendonly yes \
		--appendfsync always --save "" --daemonize no --protected-mode no "$@" \
		>"$work/$name.log" 2>&1 &
	pids+=($!)
	wait_cmd "127.0.0.1:$port" "$!" "$name" 0 XLEN __ready__
}

# raftstream nodes: node_new allocates a node's ports, node_run starts it
# (again, after a kill: same ports and data dir) with $RAFTSTREAM_FLAGS and
# the extra flags given, and node_wait waits until it answers XLEN.
declare -A cport rport npid
node_new() { # name
	cport[$1]=$("$bench" -freeport)
	rport[$1]=$("$bench" -freeport)
	mkdir -p "$work/data/$1"
}

node_run() { # name extra-flags...
	local name=$1 bin="$work/raftstream"
	shift
	if [[ $name == raftstream-B && -n "${RAFTSTREAM_BIN_B:-}" ]]; then
		bin="$work/raftstream-B-bin"
	fi
	# shellcheck disable=SC2086
	"$bin" --node-id "$name" --data-dir "$work/data/$name" --listen "127.0.0.1:${cport[$name]}" \
		--raft-listen "127.0.0.1:${rport[$name]}" ${RAFTSTREAM_FLAGS:-} "$@" >>"$work/$name.log" 2>&1 &
	npid[$name]=$!
	pids+=($!)
}

node_wait() { # name
	wait_cmd "127.0.0.1:${cport[$1]}" "${npid[$1]}" "$1" 0 XLEN __ready__
}

# cluster_start starts nodes ${prefix}1..3 as one cluster (--peers) with
# the extra flags given and sets leader and follower to client addresses.
cluster_start() { # prefix extra-flags...
	local prefix=$1 peers="" i
	shift
	for i in 1 2 3; do
		node_new "$prefix$i"
		peers+="${peers:+,}$prefix$i=127.0.0.1:${rport[$prefix$i]}"
	done
	for i in 1 2 3; do
		node_run "$prefix$i" --peers "$peers" "$@"
	done
	leader="" follower=""
	for i in 1 2 3; do
		node_wait "$prefix$i"
	done
	for i in 1 2 3; do
		if redis-cli -p "${cport[$prefix$i]}" INFO raft | grep -q '^raft_state:leader'; then
			leader="127.0.0.1:${cport[$prefix$i]}"
		elif [[ -z "$follower" ]]; then
			follower="127.0.0.1:${cport[$prefix$i]}"
		fi
	done
	[[ -n "$leader" && -n "$follower" ]] || { echo "no leader/follower found in $prefix cluster" >&2; exit 1; }
}

# one_node_setup starts a redis-server and a raftstream node (and, with
# RAFTSTREAM_FLAGS_B set, raftstream-B with those flags on top) and sets
# servers to "label addr pid" per server, Redis first.
one_node_setup() {
	local rp
	rp=$("$bench" -freeport)
	redis_start redis "$rp"
	servers=("redis 127.0.0.1:$rp ${pids[-1]}")
	local names=(raftstream) name
	if [[ -n "${RAFTSTREAM_FLAGS_B:-}" ]]; then
		names+=(raftstream-B)
	fi
	for name in "${names[@]}"; do
		node_new "$name"
		if [[ $name == raftstream-B ]]; then
			# shellcheck disable=SC2086
			node_run "$name" $RAFTSTREAM_FLAGS_B
		else
			node_run "$name"
		fi
		node_wait "$name"
		servers+=("$name 127.0.0.1:${cport[$name]} ${npid[$name]}")
	done
}

# bench_rounds runs RUNS rounds; each round runs rsbench once against every
# entry of the targets array ("label addr rsbench-flags..."), in order, so
# servers alternate and machine noise hits all of them. The arguments are
# rsbench flags shared by all targets. Metrics lines go to $work/metrics,
# per-run descriptions to $work/runs.log.
bench_rounds() { # rsbench-flags...
	local r t label addr args
	for r in $(seq 1 "$RUNS"); do
		for t in "${targets[@]}"; do
			read -r label addr args <<<"$t"
			echo "# round $r/$RUNS: $label $args $*" >>"$work/runs.log"
			# shellcheck disable=SC2086
			"$bench" -addr "$addr" -label "$label" $args "$@" -runs 1 -format metrics \
				>>"$work/metrics" 2>>"$work/runs.log" || echo "round $r: $label $args $* failed" | tee -a "$work/runs.log" >&2
		done
	done
}

# report prints the median table of $work/metrics (ratios against the
# baseline label) and then every run's figures on stderr.
report() { # baseline-label
	"$bench" -mode report -baseline "$1" <"$work/metrics"
	echo
	echo "Per-run figures:" >&2
	cat "$work/runs.log" >&2
}
