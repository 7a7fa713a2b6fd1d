#!/usr/bin/env bash
# Measures backup and restore of a large state (docs/operations.md, "Backup
# and restore"): fills a single node with ENTRIES entries of three short
# fields (rsbench -mode memory) plus a consumer group with PENDING pending
# entries, then RUNS rounds of:
#   - backup: `raftstream backup` from the live node to a file (read
#     barrier, two encoding passes on the node, the client's fsync and
#     read-back verification included), with the node's RSS before and
#     its peak RSS during the backup (VmHWM, reset through clear_refs);
#   - restore: `raftstream restore` of that file into a new data dir
#     (verification pass, decode, snapshot write);
#   - start: the restored node started, time until XLEN answers ENTRIES.
# Prints every round's figures and the backup file's size.
#
# Usage: cmd/rsbench/backup.sh   (from anywhere inside the repo)
# Environment: ENTRIES (1000000), PENDING (10000), RUNS (3), KEEP=1 keeps
# the temp dir, RAFTSTREAM_BIN uses a prebuilt binary.
set -euo pipefail

ENTRIES=${ENTRIES:-1000000}
PENDING=${PENDING:-10000}
RUNS=${RUNS:-3}
KEY=rsbench:backup

WORK_PREFIX=rsbench-backup
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

seconds_since() { # start ($EPOCHREALTIME)
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'
}

node_new src
node_run src --command-timeout 10m
node_wait src
addr="127.0.0.1:${cport[src]}"
echo "# filling with $ENTRIES entries" >&2
"$bench" -addr "$addr" -label raftstream -mode memory -entries "$ENTRIES" -workload fill \
	-key "$KEY" -no-cleanup -format metrics -timeout 10m >/dev/null 2>>"$work/runs.log"
redis-cli -p "${cport[src]}" XGROUP CREATE "$KEY" g 0 >/dev/null
redis-cli -p "${cport[src]}" XREADGROUP GROUP g c1 COUNT "$PENDING" STREAMS "$KEY" '>' >/dev/null

kib() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/${npid[src]}/status"; }

printf '| round | backup (s) | file (bytes) | node RSS before (MiB) | node peak RSS during backup (MiB) | restore (s) | start until serving (s) |\n'
printf '| --- | --- | --- | --- | --- | --- | --- |\n'
for r in $(seq 1 "$RUNS"); do
	file="$work/backup-$r.rsb"
	rss_before=$(kib VmRSS)
	echo 5 >"/proc/${npid[src]}/clear_refs" # resets VmHWM to the current RSS
	start=$EPOCHREALTIME
	"$work/raftstream" backup --from "$addr" --out "$file" --timeout 5m >>"$work/runs.log"
	took_backup=$(seconds_since "$start")
	rss_peak=$(kib VmHWM)

	node_new "r$r"
	rmdir "$work/data/r$r"
	start=$EPOCHREALTIME
	"$work/raftstream" restore --in "$file" --data-dir "$work/data/r$r" --node-id "r$r" \
		--raft-advertise "127.0.0.1:${rport[r$r]}" >>"$work/runs.log"
	took_restore=$(seconds_since "$start")

	start=$EPOCHREALTIME
	node_run "r$r"
	"$bench" -mode xlen -addr "127.0.0.1:${cport[r$r]}" -key "$KEY" -entries "$ENTRIES" -timeout 10m \
		-label raftstream -workload start -format metrics >/dev/null 2>>"$work/runs.log"
	took_start=$(seconds_since "$start")
	kill -TERM "${npid[r$r]}"
	wait "${npid[r$r]}" 2>/dev/null || true
	printf '| %d | %s | %s | %d | %d | %s | %s |\n' "$r" "$took_backup" "$(stat -c %s "$file")" \
		$((rss_before / 1024)) $((rss_peak / 1024)) "$took_restore" "$took_start"
	rm -f "$file"
done
