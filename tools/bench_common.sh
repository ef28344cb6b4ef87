# Sourced by the benchmark scripts (bench.sh, memory_growth.sh,
# bench_all.sh): their temp dir, and one way to start ledgerd on a free port
# and to stop it. Expects $LEDGERD (the binary).

# bench_workdir PROGRAM NAME BINARY...: names the messages PROGRAM
# ($bench_program); exits 2 if a BINARY is not built;
# makes $work (a temp dir ${TMPDIR:-/tmp}/NAME.XXXXXX: the port file and
# ledgerd.log go there) and, at exit, stops ledgerd and removes $work
# (KEEP=1 keeps it).
bench_workdir() {
  local program=$1 name=$2 bin
  shift 2
  bench_program=$program
  for bin in "$@"; do
    [[ -x "$bin" ]] || { echo "$program: $bin not built" >&2; exit 2; }
  done
  work="$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")"
  server_pid=""
  # shellcheck disable=SC2064  # the program's name, fixed now
  trap "bench_cleanup $program" EXIT
}
bench_cleanup() {
  stop_ledgerd
  if [[ "${KEEP:-0}" == 1 ]]; then echo "$1: kept $work"; else rm -rf "$work"; fi
}

# start_ledgerd DATA_DIR [LEDGERD_FLAGS...]: starts $LEDGERD on 127.0.0.1:0
# (--log-level warn unless the flags give another), its output appended to
# $work/ledgerd.log, and waits up to ${LEDGERD_START_SECONDS:-30} s for its
# port; sets server_pid and target. If ledgerd exits first, prints its log;
# either way exits 1, naming $bench_program.
start_ledgerd() {
  local data=$1 tries
  shift
  rm -f "$work/port"
  "$LEDGERD" --listen 127.0.0.1:0 --data "$data" --port-file "$work/port" \
    --log-level warn "$@" >>"$work/ledgerd.log" 2>&1 &
  server_pid=$!
  tries=$((${LEDGERD_START_SECONDS:-30} * 20))
  for _ in $(seq 1 "$tries"); do
    [[ -s "$work/port" ]] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/ledgerd.log" >&2; exit 1; }
    sleep 0.05
  done
  [[ -s "$work/port" ]] || { echo "$bench_program: ledgerd did not start" >&2; exit 1; }
  target="127.0.0.1:$(cat "$work/port")"
}

# stop_ledgerd: stops the ledgerd start_ledgerd started, if it still runs.
stop_ledgerd() {
  if [[ -n "${server_pid:-}" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
