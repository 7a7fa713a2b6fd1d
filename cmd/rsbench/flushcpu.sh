#!/usr/bin/env bash
# Measures whether CPU work in the guest slows the device's flush
# (docs/benchmarks.md, "Fifteenth session"): dd writes 128-byte blocks
# with O_DSYNC (a write and its flush, as a log append with fdatasync) over
# a preallocated file, first with the machine otherwise idle, then while
# one shell loop keeps another CPU busy. The two alternate, RUNS rounds.
# Prints flushes/s for each and the busy/idle ratio per round.
#
# On real hardware the two are independent. On a VM whose disk is
# emulated by a host thread that competes with the vCPUs for the host's
# CPUs, the busy round is slower: every microsecond a server spends on
# the CPU while its flush is under way then costs flush time too.
#
# Usage: cmd/rsbench/flushcpu.sh   (from anywhere; writes a 4 MiB file under DIR)
# Environment: RUNS (5), BLOCKS (3000 flushes per measurement),
# DIR (the directory whose device is measured; default $TMPDIR or /tmp).
set -euo pipefail

RUNS=${RUNS:-5}
BLOCKS=${BLOCKS:-3000}
dir=$(mktemp -d "${DIR:-${TMPDIR:-/tmp}}/rsbench-flushcpu.XXXXXX")
busy=
cleanup() {
	[[ -n "$busy" ]] && kill "$busy" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

f="$dir/log"
dd if=/dev/zero of="$f" bs=1M count=4 status=none
sync "$f"

# flushes prints the flushes per second of one dd run.
flushes() {
	local secs
	secs=$(LC_ALL=C dd if=/dev/zero of="$f" bs=128 count="$BLOCKS" oflag=dsync conv=notrunc 2>&1 |
		awk '/copied/ { for (i = 1; i <= NF; i++) if ($i == "s,") print $(i - 1) }')
	awk -v n="$BLOCKS" -v s="$secs" 'BEGIN { printf "%.0f", n / s }'
}

ratios=()
echo "| round | idle, flushes/s | one CPU busy, flushes/s | busy / idle |"
echo "| ---: | ---: | ---: | ---: |"
for r in $(seq 1 "$RUNS"); do
	idle=$(flushes)
	sh -c 'while :; do :; done' &
	busy=$!
	loaded=$(flushes)
	kill "$busy"
	wait "$busy" 2>/dev/null || true
	busy=
	ratio=$(awk -v a="$idle" -v b="$loaded" 'BEGIN { printf "%.3f", b / a }')
	ratios+=("$ratio")
	printf '| %d | %d | %d | %.2f |\n' "$r" "$idle" "$loaded" "$ratio"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "\nmedian busy / idle: %.2f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
