#!/usr/bin/env bash
# Every benchmark, one table: ledgerd's figures beside the storage limit
# (RocksDB's db_bench, sync per batch, the same batch size) and a baseline
# (PostgreSQL 15, an append-only events table, one transaction per batch,
# synchronous_commit on), each as a ratio. Run after tools/build.sh.
#
#   tools/bench_all.sh [--size quick|school|la|smoke] [--only SECTIONS] [--table] [--build DIR]
#
# Sections (default: all, in this order), each a few minutes at most at the
# quick size, so that one can be run at a time (results are kept in
# $RESULTS between runs and the table is printed from all of them):
#   storage   db_bench: fillseq and fillrandom of 500-key batches, a 30-key
#             batch's latency, readseq
#   postgres  a private PostgreSQL cluster in a temp dir: the same batches, the
#             same clients, the morning peak, a scan, pupil and cohort queries,
#             bytes per row; needs tools/install_bench_deps.sh (else "n/a")
#   ingest    ledgerd: RecordMarks and StreamMarks (tools/loadgen), resident
#             memory, the rebuild of every read model on restart, disk bytes
#             per mark after a full compaction (RocksDB's ldb)
#   peak      ledgerd: a morning's AM class registers (tools/morning-peak)
#   projections, audit   the read models' own benchmarks (parsed)
#   queries   tools/bench_queries.py: a synthetic history (tools/history) in a
#             real ledgerd; pupil, cohort and worklist calls through gRPC
#   feeds     tests/e2e/bench_feeds.py (feed latency under ingest)
# --table prints the table from $RESULTS without running anything.
#
# Sizes (smoke: a few seconds, to check the script, not to measure):
# quick (default) 400,000 marks from 2,000 pupils; a peak of 10,000
# pupils' registers in 60 s (the local authority's rate, for a tenth of its
# window); the read-model benchmarks at 2,000 pupils x 3 years (audit: 1).
# school: 2,000 pupils x 3 years (2,280,000 marks a mode); the AM registers
# of the school's 2,000 pupils in 120 s. la: 100,000 pupils x 1 year
# (38,000,000 marks a mode, several minutes each); 100,000 pupils' AM
# registers in 600 s.
# Environment overrides: MARKS PUPILS CLIENTS BATCH WINDOW PEAK_PUPILS
# PEAK_SECONDS PEAK_WORKERS SUBSCRIBERS RM_PUPILS RM_YEARS AUDIT_YEARS
# FEED_MARKS, RESULTS (default /tmp/ledger-bench-results), KEEP=1.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
build="$repo/build"
size="${SIZE:-quick}"
only="storage,postgres,ingest,peak,projections,queries,audit,feeds"
table_only=0
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
    --size) size="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --table) table_only=1; shift ;;
    --build) build="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench_all: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

case "$size" in
  quick) d_marks=400000 d_pupils=2000 d_peak=10000 d_peak_s=60 d_rm=2000 d_rmy=3 d_ay=1 d_feed=100000 ;;
  school) d_marks=2280000 d_pupils=2000 d_peak=2000 d_peak_s=120 d_rm=2000 d_rmy=3 d_ay=3 d_feed=300000 ;;
  # A check that every section here runs and parses (ctest bench.smoke): no figures.
  smoke) d_marks=4000 d_pupils=200 d_peak=120 d_peak_s=2 d_rm=60 d_rmy=1 d_ay=1 d_feed=2000
    only="${SMOKE_SECTIONS:-ingest,peak,projections,queries,audit}" ;;
  la) d_marks=38000000 d_pupils=100000 d_peak=100000 d_peak_s=600 d_rm=100000 d_rmy=1 d_ay=1 d_feed=1000000 ;;
  *) echo "bench_all: --size must be quick, school, la or smoke" >&2; exit 2 ;;
esac
MARKS="${MARKS:-$d_marks}" PUPILS="${PUPILS:-$d_pupils}" CLIENTS="${CLIENTS:-4}"
BATCH="${BATCH:-500}" WINDOW="${WINDOW:-8}" CLASS=30
PEAK_PUPILS="${PEAK_PUPILS:-$d_peak}" PEAK_SECONDS="${PEAK_SECONDS:-$d_peak_s}"
PEAK_WORKERS="${PEAK_WORKERS:-64}" SUBSCRIBERS="${SUBSCRIBERS:-3}"
RM_PUPILS="${RM_PUPILS:-$d_rm}" RM_YEARS="${RM_YEARS:-$d_rmy}" AUDIT_YEARS="${AUDIT_YEARS:-$d_ay}"
FEED_MARKS="${FEED_MARKS:-$d_feed}"
RESULTS="${RESULTS:-/tmp/ledger-bench-results}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"

# Results are "key value" lines, one file per section.
put() {  # section key value; a value that did not parse is noted in $RESULTS/missing
  [[ -n "$3" ]] || echo "$1 $2" >>"$RESULTS/missing"
  echo "$2 $3" >>"$RESULTS/$1.txt"
}
get() { awk -v k="$2" '$1 == k { v = $2 } END { print v }' "$RESULTS/$1.txt" 2>/dev/null || true; }
field() { sed -nE "s/.*[ ^]$1=([0-9.]+).*/\1/p" <<<" $2" | head -1; }  # key=value from a RESULT line
section() { [[ ",$only," == *",$1,"* ]]; }
log() { echo "bench_all $(date -u +%T): $*" >&2; }

work=""
server_pid=""
pg_data=""
cleanup() {
  [[ -n "$server_pid" ]] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  if [[ -n "$pg_data" && -d "$pg_data" ]]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [[ -n "$work" ]]; then
    if [[ "${KEEP:-0}" == 1 ]]; then log "kept $work"; else rm -rf "$work"; fi
  fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT

new_work() { work="$(mktemp -d "${TMPDIR:-/tmp}/ledger-bench-all.XXXXXX")"; chmod 755 "$work"; }

# start_ledgerd DATA_DIR [FLAGS...] and stop_ledgerd (a large history takes
# a while to open).
bench_program=bench_all LEDGERD="$build/tools/ledgerd" LEDGERD_START_SECONDS=300
# shellcheck source=bench_common.sh
source "$here/bench_common.sh"
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$server_pid/status"; }

run_storage() {
  rm -f "$RESULTS/storage.txt"
  command -v db_bench >/dev/null || { log "no db_bench (Debian's rocksdb-tools)"; return; }
  local db="$work/db_bench" out line
  # fillseq (keys in order: the WAL and memtable's best case), then readseq
  # over the same keys; a key of 24 bytes and a value of 150, about a stored
  # mark's event.
  local common=(--sync=1 --value_size=150 --key_size=24 --db="$db" --histogram=1)
  db_line() { grep -E "^$1 +:" <<<"$2" | tail -1; }
  ops() { sed -E 's/.* ([0-9]+) ops\/sec.*/\1/' <<<"$1"; }
  pct() {  # the histogram after the benchmark named $1: P50 or P99, ms
    awk -v b="$1" -v p="$2" '$1 == b { f = 1 } f && /^Percentiles:/ {
      for (i = 1; i < NF; i++) if ($i == p ":") { printf "%.2f", $(i + 1) / 1000; exit } }' <<<"$3"
  }
  rm -rf "$db"
  out="$(db_bench --benchmarks=fillseq,readseq --batch_size="$BATCH" --num="$MARKS" "${common[@]}" 2>&1)"
  line="$(db_line fillseq "$out")"; log "db_bench $line"
  put storage fillseq_keys_s "$(ops "$line")"
  put storage fillseq_p50_ms "$(pct fillseq P50 "$out")"
  put storage fillseq_p99_ms "$(pct fillseq P99 "$out")"
  line="$(db_line readseq "$out")"; log "db_bench $line"
  put storage readseq_keys_s "$(ops "$line")"
  rm -rf "$db"
  out="$(db_bench --benchmarks=fillrandom --batch_size="$BATCH" --num=$((MARKS / CLIENTS)) \
    --threads="$CLIENTS" "${common[@]}" 2>&1)"
  line="$(db_line fillrandom "$out")"; log "db_bench $line ($CLIENTS threads)"
  put storage fillrandom_keys_s "$(ops "$line")"
  put storage fillrandom_p50_ms "$(pct fillrandom P50 "$out")"
  put storage fillrandom_p99_ms "$(pct fillrandom P99 "$out")"
  # A class register: 30 keys, synced, one writer at a time (the floor of a
  # register's latency; the peak's registers rarely overlap).
  rm -rf "$db"
  out="$(db_bench --benchmarks=fillrandom --batch_size=$CLASS --num=$((CLASS * 500)) \
    "${common[@]}" 2>&1)"
  line="$(db_line fillrandom "$out")"; log "db_bench batch $CLASS: $line"
  put storage register_p50_ms "$(pct fillrandom P50 "$out")"
  put storage register_p99_ms "$(pct fillrandom P99 "$out")"
  rm -rf "$db"
}

run_postgres() {
  rm -f "$RESULTS/postgres.txt"
  local tool="$build/tools/pg_baseline/pg-baseline"
  if [[ ! -x "$PG_BIN/initdb" || ! -x "$tool" ]]; then
    log "no PostgreSQL 15 or pg-baseline (tools/install_bench_deps.sh, then rebuild): skipped"
    return
  fi
  mkdir -p "$work/pg" && chown postgres: "$work/pg"  # postgres writes the log and socket there
  pg_data="$work/pg/data"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$pg_data" -A trust -U postgres >/dev/null
  # Durability as shipped (fsync, synchronous_commit and full_page_writes on);
  # memory and connections sized as anyone running it would.
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$pg_data" -w -l "$work/pg/log" start \
    -o "-c listen_addresses='' -k $work/pg -c shared_buffers=1GB -c max_connections=200 \
        -c max_wal_size=4GB -c synchronous_commit=on -c fsync=on" >/dev/null
  local conn="host=$work/pg user=postgres dbname=postgres" out
  pg() { "$tool" --conninfo "$conn" "$@"; }
  pg --mode setup
  out="$(pg --mode ingest --marks "$MARKS" --pupils "$PUPILS" --batch "$BATCH" --clients "$CLIENTS" \
    | tee >(cat >&2) | grep '^RESULT')"
  put postgres ingest_marks_s "$(field marks_per_s "$out")"
  put postgres ingest_p50_ms "$(field p50_ms "$out")"
  put postgres ingest_p99_ms "$(field p99_ms "$out")"
  out="$(pg --mode scan | tee >(cat >&2) | grep '^RESULT')"
  put postgres scan_rows_s "$(field rows_per_s "$out")"
  out="$(pg --mode query --pupils "$PUPILS" --marks "$MARKS" --queries 200 | tee >(cat >&2) | grep '^RESULT')"
  put postgres history_p99_ms "$(field history_p99_ms "$out")"
  put postgres pupil_p99_ms "$(field pupil_p99_ms "$out")"
  put postgres cohort_p50_ms "$(field cohort_p50_ms "$out")"
  local bytes
  bytes="$("$PG_BIN/psql" -h "$work/pg" -U postgres -At -c "VACUUM FULL events" -c "VACUUM FULL requests" \
    -c "SELECT pg_total_relation_size('events') + pg_total_relation_size('requests')" \
    -c "CHECKPOINT" | tail -2 | head -1)"  # VACUUM FULL's writes flushed before the peak
  put postgres bytes_per_mark "$(awk -v b="$bytes" -v m="$MARKS" 'BEGIN { printf "%.0f", b / m }')"
  out="$(pg --mode peak --school pg-peak --registers $(((PEAK_PUPILS + CLASS - 1) / CLASS)) \
    --batch $CLASS --seconds "$PEAK_SECONDS" --clients "$PEAK_WORKERS" | tee >(cat >&2) | grep '^RESULT')"
  put postgres peak_p50_ms "$(field p50_ms "$out")"
  put postgres peak_p99_ms "$(field p99_ms "$out")"
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null
  pg_data=""
}

run_ingest() {
  rm -f "$RESULTS/ingest.txt"
  local data="$work/data" out start_rss
  start_ledgerd "$data"
  start_rss=$(rss_kb)
  for mode in batch stream; do
    out="$("$build/tools/loadgen" --target "$target" --school "bench-$mode" --setup \
      --pupils "$PUPILS" --marks "$MARKS" --batch "$BATCH" --clients "$CLIENTS" --mode "$mode" \
      --window "$WINDOW" | tee >(cat >&2) | grep '^RESULT')"
    put ingest "${mode}_marks_s" "$(field marks_per_s "$out")"
    put ingest "${mode}_p50_ms" "$(field p50_ms "$out")"
    put ingest "${mode}_p99_ms" "$(field p99_ms "$out")"
  done
  # A pupil-year is 380 sessions; two schools of PUPILS took MARKS each.
  local rss pupil_years
  rss=$(rss_kb)
  pupil_years=$(awk -v m="$MARKS" 'BEGIN { printf "%.1f", 2 * m / 380 }')
  log "ledgerd RSS ${start_rss} kB at start, ${rss} kB after $((2 * MARKS)) marks ($pupil_years pupil-years)"
  put ingest rss_mb "$((rss / 1024))"
  put ingest rss_per_pupil_year_b "$(awk -v r="$rss" -v s="$start_rss" -v p="$pupil_years" \
    'BEGIN { printf "%.0f", (r - s) * 1024 / p }')"
  stop_ledgerd
  # Every read model rebuilt from position 1, side by side, before ledgerd
  # serves: from its log, the first "rebuilding" line to the "at position"
  # lines (the rebuild alone, without opening the ledger).
  : >"$work/ledgerd.log"
  start_ledgerd "$data" --rebuild-read-models --log-level info
  stop_ledgerd
  local times rebuild_s events
  times="$(awk '/rebuilding from position 1/ && !a { a = $1 } / at position / { b = $1 }
    END { print a, b }' "$work/ledgerd.log")"
  events="$(sed -nE 's/.*read model .* at position ([0-9]+)$/\1/p' "$work/ledgerd.log" | sort -n | tail -1)"
  rebuild_s="$(python3 -c 'import sys, datetime as d
a, b = (d.datetime.fromisoformat(t) for t in sys.argv[1:3])
print(f"{(b - a).total_seconds():.3f}")' $times)"
  log "every read model rebuilt from position 1: $events events in $rebuild_s s"
  put ingest rebuild_s "$rebuild_s"
  put ingest rebuild_events_s "$(awk -v e="$events" -v s="$rebuild_s" 'BEGIN { printf "%.0f", e / s }')"
  # Disk after a full compaction of every column family (RocksDB's ldb).
  if command -v ldb >/dev/null; then
    local cf
    while read -r cf; do
      ldb --db="$data" --column_family="$cf" compact >/dev/null 2>&1 || log "ldb compact $cf failed"
    done < <(ldb --db="$data" list_column_families 2>/dev/null | sed -nE 's/.*\{(.*)\}.*/\1/p' | tr ',' '\n' | tr -d ' ')
  fi
  local sst
  sst=$(find "$data" -name '*.sst' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
  log "after compaction: $sst bytes of SST files for $((2 * MARKS)) marks"
  put ingest bytes_per_mark "$(awk -v b="$sst" -v m="$MARKS" 'BEGIN { printf "%.0f", b / (2 * m) }')"
}

run_peak() {
  rm -f "$RESULTS/peak.txt"
  local out
  start_ledgerd "$work/peak-data"
  out="$("$build/tools/morning-peak" --target "$target" --pupils "$PEAK_PUPILS" \
    --seconds "$PEAK_SECONDS" --workers "$PEAK_WORKERS" --subscribers "$SUBSCRIBERS" \
    --class-size $CLASS | tee >(cat >&2) | grep '^RESULT')"
  stop_ledgerd
  put peak p50_ms "$(field p50_ms "$out")"
  put peak p99_ms "$(field p99_ms "$out")"
  put peak feed_p99_ms "$(field feed_p99_ms "$out")"
}

# Runs a benchmark binary and keeps its output for the parsers below.
run_logged() { "$@" 2>&1 | tee >(cat >&2); }

run_projections() {
  rm -f "$RESULTS/projections.txt"
  local out
  out="$(run_logged "$build/projections/bench/bench_projections" --pupils "$RM_PUPILS" \
    --years "$RM_YEARS" --ledger 1)"
  put projections rebuild_events_s "$(sed -nE 's/^rebuild from position 1 through the ledger: .*, ([0-9.]+) M events\/s.*/\1/p' <<<"$out" | awk '{ printf "%.0f", $1 * 1e6 }')"
  put projections pupil_p99_ms "$(sed -nE 's/^pupil, all 10 windows \(as of today\): .*p99 ([0-9.]+) ms.*/\1/p' <<<"$out" | head -1)"
  put projections pupil_past_p99_ms "$(sed -nE 's/^pupil, all 10 windows \(as of a past.*p99 ([0-9.]+) ms.*/\1/p' <<<"$out" | head -1)"
  put projections cohort_p50_ms "$(sed -nE 's/^cohort table, [^:]*: p50 ([0-9.]+) ms.*/\1/p' <<<"$out" | head -1)"
  put projections memory_b "$(sed -nE 's/^memory: ([0-9]+) bytes per pupil-year.*/\1/p' <<<"$out")"
}

run_queries() {
  rm -f "$RESULTS/queries.txt"
  local out k
  out="$(run_logged /usr/bin/python3 "$here/bench_queries.py" "$build" "$repo/proto" "$RM_PUPILS" \
    "$RM_YEARS" 2000 | grep '^RESULT')"
  for k in pupil_p99_ms cohort_p50_ms cohort_p99_ms worklist_p50_ms worklist_p99_ms due; do
    put queries "$k" "$(field "$k" "$out")"
  done
}

run_audit() {
  rm -f "$RESULTS/audit.txt"
  local out
  out="$(run_logged "$build/services/bench/bench_audit" --pupils "$RM_PUPILS" --years "$AUDIT_YEARS")"
  put audit history_p99_ms "$(sed -nE 's/^GetMarkHistory .*p99 ([0-9.]+) ms.*/\1/p' <<<"$out")"
  put audit asof_p99_ms "$(sed -nE 's/^GetRegisterAsOf, .*p99 ([0-9.]+) ms.*/\1/p' <<<"$out")"
  put audit verify_events_s "$(sed -nE 's/^VerifyLedger, whole log: .*s \(([0-9]+) events\/s.*/\1/p' <<<"$out")"
  put audit rebuild_events_s "$(sed -nE 's/^audit read models .* \(([0-9]+) events\/s\)/\1/p' <<<"$out")"
}

run_feeds() {
  rm -f "$RESULTS/feeds.txt"
  local out n
  out="$(cd "$repo/tests/e2e" && run_logged /usr/bin/python3 bench_feeds.py "$build" "$repo/proto" "$FEED_MARKS")"
  for n in 1 10 100; do
    put feeds "p50_ms_$n" "$(sed -nE "s/^ *$n subscribers: .*probe latency p50 ([0-9.]+) ms.*/\1/p" <<<"$out")"
    put feeds "p99_ms_$n" "$(sed -nE "s/^ *$n subscribers: .*p99 ([0-9.]+) ms over.*/\1/p" <<<"$out")"
  done
}

# ---------------------------------------------------------------------------
# The table.
ratio() {  # ours other -> "ours/other x", or "" when either is missing
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) exit;
    r = a / b; printf(r >= 10 ? "%.0f×" : r >= 0.1 ? "%.2f×" : "%.3f×", r) }'
}
num() {  # thousands separators for big numbers, as is for small ones
  awk -v x="$1" 'BEGIN { if (x == "") { print "n/a"; exit }
    if (x < 1000) { print x; exit }
    s = sprintf("%.0f", x); o = ""; while (length(s) > 3) { o = "," substr(s, length(s) - 2) o;
    s = substr(s, 1, length(s) - 3) } print s o }'
}
row() {  # measure unit ours limit limit-name pg
  local ours="$3" limit="$4" pg="$6" lim_txt="" pg_txt=""
  [[ -n "$limit" ]] && lim_txt="$(num "$limit") ($5)"
  [[ -n "$pg" ]] && pg_txt="$(num "$pg")"
  echo "| $1 | $at | $2 | $(num "$ours") | ${lim_txt:--} | $(ratio "$ours" "$limit") | ${pg_txt:--} | $(ratio "$ours" "$pg") |"
}

print_table() {
  local sizes
  sizes="$(cat "$RESULTS"/size-*.txt 2>/dev/null | awk '{ print $2 }' | sort -u | paste -sd/)"
  echo "Benchmarks, $(date -u +%Y-%m-%d) (results of \`tools/bench_all.sh\`, size ${sizes:-?}), on"
  echo "$(sed -nE 's/^model name\s*:\s*//p' /proc/cpuinfo | head -1), $(nproc) cores," \
    "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)," \
    "$(. /etc/os-release && echo "$PRETTY_NAME"), $(df -T "${TMPDIR:-/tmp}" | awk 'NR == 2 { print $2 }') on $(df "${TMPDIR:-/tmp}" | awk 'NR == 2 { print $1 }')," \
    "commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')."
  echo "Rates: higher is better; times and sizes: lower is better; a ratio is ours ÷ theirs."
  echo "Limit: RocksDB 7.8 db_bench, sync=1 (one WAL fsync per batch), the same batch; baseline:"
  echo "PostgreSQL 15 (Debian), events table + request ids, one transaction per batch, synchronous_commit on."
  echo
  echo "| measure | size | unit | ledgerd | limit (db_bench) | ÷ limit | PostgreSQL 15 | ÷ PostgreSQL |"
  echo "|---|---|---|---|---|---|---|---|"
  local c="$CLIENTS" at
  at="$(num "$MARKS") marks a mode"
  row "ingest, RecordMarks, $BATCH-mark batches, $c clients" "marks/s" "$(get ingest batch_marks_s)" \
    "$(get storage fillseq_keys_s)" "fillseq keys/s" "$(get postgres ingest_marks_s)"
  row "ingest, RecordMarks: p99 per batch" "ms" "$(get ingest batch_p99_ms)" "$(get storage fillseq_p99_ms)" \
    "fillseq" "$(get postgres ingest_p99_ms)"
  row "ingest, StreamMarks, $c streams, window $WINDOW" "marks/s" "$(get ingest stream_marks_s)" \
    "$(get storage fillseq_keys_s)" "fillseq keys/s" "$(get postgres ingest_marks_s)"
  row "ingest beside $c-thread fillrandom" "marks/s" "$(get ingest batch_marks_s)" \
    "$(get storage fillrandom_keys_s)" "fillrandom keys/s, $c threads" ""
  at="$(num "$PEAK_PUPILS") pupils, ${PEAK_SECONDS} s"
  row "morning peak: AM registers of $CLASS marks, submission p50" "ms" \
    "$(get peak p50_ms)" "$(get storage register_p50_ms)" "one $CLASS-key batch" "$(get postgres peak_p50_ms)"
  row "morning peak: submission p99 ($SUBSCRIBERS subscribers)" "ms" "$(get peak p99_ms)" \
    "$(get storage register_p99_ms)" "one $CLASS-key batch" "$(get postgres peak_p99_ms)"
  row "morning peak: subscribers' delivery lag p99" "ms" "$(get peak feed_p99_ms)" "" "" ""
  at="$(num $((2 * MARKS))) marks"
  row "rebuild every read model, side by side (ledgerd --rebuild-read-models)" "events/s" \
    "$(get ingest rebuild_events_s)" "$(get storage readseq_keys_s)" "readseq keys/s" "$(get postgres scan_rows_s)"
  at="$(num "$RM_PUPILS") pupils × $RM_YEARS y"
  row "rebuild the attendance figures (bench_projections)" "events/s" \
    "$(get projections rebuild_events_s)" "$(get storage readseq_keys_s)" "readseq keys/s" "$(get postgres scan_rows_s)"
  row "pupil, all 10 windows, p99 (bench_projections)" "ms" "$(get projections pupil_p99_ms)" "" "" \
    "$(get postgres pupil_p99_ms)"
  row "cohort table, whole school, p50 (bench_projections)" "ms" "$(get projections cohort_p50_ms)" "" "" \
    "$(get postgres cohort_p50_ms)"
  at="$(num "$RM_PUPILS") pupils × $RM_YEARS y, history"
  row "pupil, all windows, p99, through gRPC (bench_queries.py)" "ms" \
    "$(get queries pupil_p99_ms)" "" "" "$(get postgres pupil_p99_ms)"
  row "cohort, whole school, p50, through gRPC" "ms" "$(get queries cohort_p50_ms)" "" "" \
    "$(get postgres cohort_p50_ms)"
  row "cohort, whole school, p99, through gRPC" "ms" "$(get queries cohort_p99_ms)" "" "" ""
  row "worklist (ListDueActions, $(get queries due) due, first 100), p50" "ms" \
    "$(get queries worklist_p50_ms)" "" "" ""
  row "worklist, p99" "ms" "$(get queries worklist_p99_ms)" "" "" ""
  at="$(num "$RM_PUPILS") pupils × $AUDIT_YEARS y"
  row "audit: GetMarkHistory p99, through gRPC (bench_audit)" "ms" "$(get audit history_p99_ms)" "" "" \
    "$(get postgres history_p99_ms)"
  row "audit: GetRegisterAsOf, whole school, p99" "ms" "$(get audit asof_p99_ms)" "" "" ""
  row "audit: VerifyLedger" "events/s" "$(get audit verify_events_s)" "$(get storage readseq_keys_s)" \
    "readseq keys/s" "$(get postgres scan_rows_s)"
  local n
  for n in 1 10 100; do
    echo "| feed latency under ingest, $n subscribers, p50 / p99 (bench_feeds.py) | $(num "$FEED_MARKS") marks | ms |" \
      "$(num "$(get feeds "p50_ms_$n")") / $(num "$(get feeds "p99_ms_$n")") | - | | - | |"
  done
  at="$(num $((2 * MARKS))) marks"
  row "memory: ledgerd RSS growth per pupil-year" "bytes" "$(get ingest rss_per_pupil_year_b)" "" "" ""
  at="$(num "$RM_PUPILS") pupils × $RM_YEARS y" row "memory: attendance projection per pupil-year" "bytes" "$(get projections memory_b)" "" "" ""
  at="$(num $((2 * MARKS))) marks"
  row "disk after compaction, per mark" "bytes" "$(get ingest bytes_per_mark)" "" "" \
    "$(get postgres bytes_per_mark)"
}

if ((table_only == 0)); then
  new_work
  [[ "$size" == smoke ]] && RESULTS="$work/results"  # thrown away with the temp dir
  mkdir -p "$RESULTS"
  rm -f "$RESULTS/missing"
  log "size $size; results in $RESULTS; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "size $size" >"$RESULTS/size-$(tr , - <<<"$only").txt"
  for s in storage postgres ingest peak projections queries audit feeds; do
    if section "$s"; then
      log "== $s"
      "run_$s"
    fi
  done
fi
print_table
if [[ -s "$RESULTS/missing" ]]; then
  log "figures missing (a benchmark failed or its output changed):" $(tr '\n' ' ' <"$RESULTS/missing")
  [[ "$size" == smoke ]] && exit 1
fi
exit 0
