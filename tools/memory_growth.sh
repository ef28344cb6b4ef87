#!/usr/bin/env bash
# ledgerd's resident memory and ingest rate as the ledger grows.
#
#   tools/memory_growth.sh [BUILD_DIR] [-- LEDGERD_FLAGS...]   (default: build/ in this repo)
#
# Environment (defaults): SCHOOLS=6 PUPILS=4000 MARKS=1000000 (per school)
#   CLIENTS=4 BATCH=500 MODE=batch SETTLE=3 (seconds before each RSS sample)
#   LEDGERD, LOADGEN (paths), KEEP=1 keeps the temp dir.
#   DATA=DIR FIRST=N: resume a run that stopped after school N-1 on its data
#   dir DIR (kept), so that 10M marks fit in runs of under five minutes; the
#   rows after a resume are of a restarted ledgerd (read models restored from
#   their checkpoints), not of one that has run all along.
#
# Starts one ledgerd on a fresh temp data dir, then pushes SCHOOLS schools of
# PUPILS pupils and MARKS distinct marks each, one after another, with
# tools/loadgen (RecordMarks batches of BATCH from CLIENTS clients). After
# each school it waits SETTLE seconds (the read models catch up) and prints
# one row: total marks, ingest rate and p99 of that school, ledgerd's RSS
# and peak RSS, and RSS per million marks and per pupil-year (a school's
# pupils over the one academic year its marks fall in). Run it under
# `exclusive` on a quiet machine.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench_common.sh
source "$here/bench_common.sh"
build="$here/../build"
if [[ $# -gt 0 && "$1" != "--" ]]; then
  build="$1"
  shift
fi
[[ "${1:-}" == "--" ]] && shift
LEDGERD="${LEDGERD:-$build/tools/ledgerd}"
LOADGEN="${LOADGEN:-$build/tools/loadgen}"
SCHOOLS="${SCHOOLS:-6}"
PUPILS="${PUPILS:-4000}"
MARKS="${MARKS:-1000000}"
CLIENTS="${CLIENTS:-4}"
BATCH="${BATCH:-500}"
MODE="${MODE:-batch}"
SETTLE="${SETTLE:-3}"
FIRST="${FIRST:-1}"

bench_workdir memory_growth ledger-memory "$LEDGERD" "$LOADGEN"

data="${DATA:-$work/data}"
start_ledgerd "$data" --log-level info "$@"
kb() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$server_pid/status"; }
echo "memory_growth: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)," \
  "ledgerd $* (RSS at start $(($(kb VmRSS) / 1024)) MB)"
printf '%-10s %12s %8s %8s %9s %9s %12s %14s\n' marks "marks/s" p50_ms p99_ms rss_MB peak_MB \
  "MB/M marks" "kB/pupil-year"
total=$(((FIRST - 1) * MARKS))
for i in $(seq "$FIRST" $((FIRST + SCHOOLS - 1))); do
  out="$("$LOADGEN" --target "$target" --school "growth-$i" --setup --pupils "$PUPILS" \
    --marks "$MARKS" --batch "$BATCH" --clients "$CLIENTS" --mode "$MODE")" || {
    echo "$out" >&2
    echo "memory_growth: loadgen failed at school $i" >&2
    exit 1
  }
  line="$(grep '^RESULT' <<<"$out")"
  rate="$(sed -E 's/.*marks_per_s=([0-9.]+).*/\1/' <<<"$line")"
  p50="$(sed -E 's/.*p50_ms=([0-9.]+).*/\1/' <<<"$line")"
  p99="$(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' <<<"$line")"
  total=$((total + MARKS))
  sleep "$SETTLE"
  rss=$(kb VmRSS)
  hwm=$(kb VmHWM)
  awk -v m="$total" -v r="$rate" -v p50="$p50" -v p99="$p99" -v rss="$rss" -v hwm="$hwm" \
    -v py=$((i * PUPILS)) 'BEGIN {
      printf "%-10d %12.0f %8s %8s %9.0f %9.0f %12.0f %14.1f\n", m, r, p50, p99, rss / 1024,
        hwm / 1024, rss / 1024 / (m / 1e6), rss * 1.024 / py }'
  # The ledger's own account, now rather than at the end (a run cut short keeps it).
  grep -E 'memory:' "$work/ledgerd.log" | tail -n 1 | sed 's/^/# /' || true
done
