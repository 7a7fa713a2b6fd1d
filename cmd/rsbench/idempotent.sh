#!/usr/bin/env bash
# Measures what raftstream's --auto-idempotent costs (docs/benchmarks.md,
# "Automatic idempotency"): two single nodes, one with the default
# settings and one with --auto-idempotent, loaded by rsbench with
# -client-name (every connection named, every XADD's value unique, so the
# option rewrites each XADD to IDMP and deduplicates none) at 1 client, 50
# clients and 50 clients pipelining 16. Each workload runs RUNS times,
# alternating the nodes run by run. Prints one markdown table of the
# medians with ratios to the default node, then every run's figures on
# stderr.
#
# Usage: cmd/rsbench/idempotent.sh      (from anywhere inside the repo)
# Environment: RUNS (5), DURATION (5s), RAFTSTREAM_FLAGS adds flags to
# both nodes, KEEP=1 keeps the temp dir, RAFTSTREAM_BIN uses a prebuilt
# binary.
set -euo pipefail

RUNS=${RUNS:-5}
DURATION=${DURATION:-5s}

WORK_PREFIX=rsbench-idem
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

node_new plain
node_run plain
node_new auto
node_run auto --auto-idempotent
node_wait plain
node_wait auto

targets=("raftstream 127.0.0.1:${cport[plain]}" "raftstream-auto-idempotent 127.0.0.1:${cport[auto]}")
for wl in "-clients 1 -pipeline 1" "-clients 50 -pipeline 1" "-clients 50 -pipeline 16"; do
	# shellcheck disable=SC2086
	bench_rounds -mix xadd $wl -client-name bench -duration "$DURATION"
done

echo "## --auto-idempotent: one node, named clients, unique XADDs (median of $RUNS alternating runs of $DURATION)"
echo
echo "raftstream flags: ${RAFTSTREAM_FLAGS:-(defaults)}; raftstream-auto-idempotent adds --auto-idempotent"
echo
report raftstream
