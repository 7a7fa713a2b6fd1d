# Shared setup of the rsbench comparison scripts (run.sh, wait_cluster.sh):
# a temp work dir removed on exit (KEEP=1 keeps it), the processes started
# into pids stopped on exit, raftstream and rsbench built into the work
# dir ($RAFTSTREAM_BIN: use that binary instead), and helpers to start
# redis-server and wait until a server answers.
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
