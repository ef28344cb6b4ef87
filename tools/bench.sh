#!/usr/bin/env bash
# Write throughput of ledgerd against raw RocksDB with the same durability.
#
#   tools/bench.sh [BUILD_DIR]        (default: build/ in this repo)
#
# Environment (defaults): MARKS=400000 CLIENTS=4 BATCH=500 WINDOW=8 PUPILS=2000
#   LEDGERD, LOADGEN, DB_BENCH (paths), KEEP=1 keeps the temp dir.
#
# Starts ledgerd on a fresh temp data dir and a free port, runs loadgen in
# batch mode (unary RecordMarks) and stream mode (StreamMarks, WINDOW batches
# in flight per stream), each against its own freshly set-up school, then
# db_bench fillseq / fillrandom with sync=1 and the same batch size and a
# value of about a stored mark's size, and prints a table. The target is
# 150,000 marks/s through RecordMarks batches of 500.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench_common.sh
source "$here/bench_common.sh"
build="${1:-$here/../build}"
LEDGERD="${LEDGERD:-$build/tools/ledgerd}"
LOADGEN="${LOADGEN:-$build/tools/loadgen}"
DB_BENCH="${DB_BENCH:-$(command -v db_bench || echo /usr/bin/db_bench)}"
MARKS="${MARKS:-400000}"
CLIENTS="${CLIENTS:-4}"
BATCH="${BATCH:-500}"
WINDOW="${WINDOW:-8}"
PUPILS="${PUPILS:-2000}"
TARGET_RATE=150000

bench_workdir bench ledger-bench "$LEDGERD" "$LOADGEN"

start_ledgerd "$work/data"
echo "bench: ledgerd at $target, data $work/data; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

declare -A rate p50 p95 p99 pmax
run_loadgen() {  # name mode
  local name=$1 mode=$2 out
  out="$("$LOADGEN" --target "$target" --school "bench-$mode" --setup --pupils "$PUPILS" \
    --marks "$MARKS" --batch "$BATCH" --clients "$CLIENTS" --mode "$mode" --window "$WINDOW")" || {
    echo "$out" >&2
    echo "bench: loadgen $mode failed" >&2
    exit 1
  }
  echo "$out" | grep -v '^RESULT' | sed "s/^/  [$name] /"
  local line
  line="$(echo "$out" | grep '^RESULT')"
  rate[$name]="$(sed -E 's/.*marks_per_s=([0-9.]+).*/\1/' <<<"$line")"
  p50[$name]="$(sed -E 's/.*p50_ms=([0-9.]+).*/\1/' <<<"$line")"
  p95[$name]="$(sed -E 's/.*p95_ms=([0-9.]+).*/\1/' <<<"$line")"
  p99[$name]="$(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' <<<"$line")"
  pmax[$name]="$(sed -E 's/.*max_ms=([0-9.]+).*/\1/' <<<"$line")"
}

run_loadgen "ledgerd RecordMarks" batch
run_loadgen "ledgerd StreamMarks" stream

stop_ledgerd

run_db_bench() {  # name benchmark threads
  local name=$1 bench=$2 threads=$3 out
  if [[ ! -x "$DB_BENCH" ]]; then
    rate[$name]="n/a"
    return
  fi
  rm -rf "$work/db_bench"
  # A stored mark is a ~150-byte event plus index entries; key ~24 bytes.
  out="$("$DB_BENCH" --benchmarks="$bench" --sync=1 --batch_size="$BATCH" --value_size=150 \
    --key_size=24 --num=$((MARKS / threads)) --threads="$threads" --db="$work/db_bench" 2>&1)"
  local line
  line="$(grep -E "^$bench +:" <<<"$out" | tail -1)"
  echo "  [$name] $line"
  rate[$name]="$(sed -E 's/.* ([0-9]+) ops\/sec.*/\1/' <<<"$line")"
  local us
  us="$(sed -E 's/^[^:]+: +([0-9.]+) micros\/op.*/\1/' <<<"$line")"
  # db_bench's micros/op is per thread, so this is the mean time one thread
  # spends on a WriteBatch of BATCH entries.
  p50[$name]="$(awk -v us="$us" -v b="$BATCH" 'BEGIN{printf "~%.2f", us*b/1000}')"
  p95[$name]="-"; p99[$name]="-"; pmax[$name]="-"
}
run_db_bench "db_bench fillseq sync=1 t=1" fillseq 1
run_db_bench "db_bench fillrandom sync=1 t=$CLIENTS" fillrandom "$CLIENTS"

echo
printf "%-34s %12s %10s %10s %10s %10s\n" "run ($MARKS marks, batch $BATCH)" "marks/s" "p50 ms" "p95 ms" "p99 ms" "max ms"
for name in "ledgerd RecordMarks" "ledgerd StreamMarks" "db_bench fillseq sync=1 t=1" \
            "db_bench fillrandom sync=1 t=$CLIENTS"; do
  printf "%-34s %12s %10s %10s %10s %10s\n" "$name" "${rate[$name]}" "${p50[$name]}" \
    "${p95[$name]}" "${p99[$name]}" "${pmax[$name]}"
done
echo "(ledgerd: $CLIENTS clients; latency per RPC (batch) or per acknowledged batch" \
  "(stream, window $WINDOW); db_bench p50 column: mean per WriteBatch)"
verdict=$(awk -v r="${rate["ledgerd RecordMarks"]}" -v t=$TARGET_RATE 'BEGIN{print (r >= t ? "met" : "NOT met")}')
echo "target $TARGET_RATE marks/s via RecordMarks batches of $BATCH: $verdict"
