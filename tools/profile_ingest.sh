#!/usr/bin/env bash
# Where ledgerd's CPU goes while it takes marks: CPU time per thread.
#
#   tools/profile_ingest.sh [BUILD_DIR]        (default: build/ in this repo)
#
# Environment (defaults): MARKS=400000 CLIENTS=4 BATCH=500 PUPILS=2000
#   MODE=batch (or stream), PERF=1 also records `perf record -g` of the whole
#   process (needs perf; kept as $work/perf.data with KEEP=1), KEEP=1 keeps
#   the temp dir (data dir included, to count keys and bytes afterwards).
#
# Starts ledgerd on a fresh data dir, sets up a school, then reads every
# thread's user+system CPU from /proc before and after loadgen pushes MARKS
# marks, and prints it by thread name (ledger-writer and ledger-commit are
# the commit pipeline, rm-* the read models, rocksdb:* RocksDB's flushes and
# compactions, the rest gRPC's: its handler threads come and go, and the
# ones that ended are counted together), with the share of the process and CPU
# microseconds per mark. Run it under `exclusive` on a shared machine.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench_common.sh
source "$here/bench_common.sh"
build="${1:-$here/../build}"
LEDGERD="${LEDGERD:-$build/tools/ledgerd}"
LOADGEN="${LOADGEN:-$build/tools/loadgen}"
MARKS="${MARKS:-400000}"
CLIENTS="${CLIENTS:-4}"
BATCH="${BATCH:-500}"
PUPILS="${PUPILS:-2000}"
MODE="${MODE:-batch}"

bench_workdir profile_ingest ledger-profile "$LEDGERD" "$LOADGEN"
start_ledgerd "$work/data"
"$LOADGEN" --target "$target" --school profile --setup --pupils "$PUPILS" --marks "$BATCH" \
  --batch "$BATCH" --clients 1 >/dev/null

# tid name ticks (utime + stime; the name may hold spaces, so it is read
# between the parentheses of /proc/PID/task/TID/stat).
thread_ticks() {
  local stat tid
  for stat in /proc/"$server_pid"/task/*/stat; do
    tid="${stat%/stat}"
    tid="${tid##*/}"
    sed -E 's/^[0-9]+ \((.*)\) (.*)$/\1\t\2/' "$stat" 2>/dev/null |
      awk -F'\t' -v tid="$tid" '{split($2, f, " "); n = $1; gsub(/ /, "_", n);
                                  print tid, n, f[12] + f[13]}'
  done
  # The process as a whole, which also counts threads that have ended.
  sed -E 's/^[0-9]+ \((.*)\) (.*)$/\2/' /proc/"$server_pid"/stat | awk '{print "process", "process", $12 + $13}'
}
thread_ticks >"$work/before"
if [[ "${PERF:-0}" == 1 ]]; then
  perf record -F 499 -g -p "$server_pid" -o "$work/perf.data" 2>"$work/perf.log" &
  perf_pid=$!
  sleep 0.5
fi
out="$("$LOADGEN" --target "$target" --school "profile-$MODE" --setup --pupils "$PUPILS" \
  --marks "$MARKS" --batch "$BATCH" --clients "$CLIENTS" --mode "$MODE")"
thread_ticks >"$work/after"
if [[ "${PERF:-0}" == 1 ]]; then
  kill -INT "$perf_pid"
  wait "$perf_pid" || true
fi
echo "$out" | grep '^RESULT'

# Threads that started during the run count from zero; the CPU of ones
# that ended (gRPC's handler threads come and go) is the process's total
# less the living threads', shown as "threads that ended".
hz="$(getconf CLK_TCK)"
awk -v hz="$hz" -v marks="$MARKS" '
  NR == FNR { before[$1] = $3; next }
  $1 == "process" { total = $3 - before["process"]; next }
  { name = $2; if (name !~ /^rm-/) sub(/-?[0-9]+$/, "", name)
    t = $3 - before[$1]; ticks[name] += t; living += t }
  END {
    ticks["threads that ended"] = total - living
    printf "%-28s %9s %8s %12s\n", "thread", "CPU s", "share", "CPU us/mark"
    for (n in ticks) if (ticks[n] > 0)
      printf "%-28s %9.2f %7.1f%% %12.2f\n", n, ticks[n] / hz, 100 * ticks[n] / total, 1e6 * ticks[n] / hz / marks | "sort -k2 -n -r"
    close("sort -k2 -n -r")
    printf "%-28s %9.2f %7.1f%% %12.2f\n", "total", total / hz, 100, 1e6 * total / hz / marks
  }' "$work/before" "$work/after"
if [[ "${PERF:-0}" == 1 ]]; then
  perf report -i "$work/perf.data" --no-children --sort comm,sym --stdio 2>/dev/null |
    grep -v '^#' | grep -v '^$' | head -40
fi
