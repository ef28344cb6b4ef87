#!/usr/bin/env bash
# The tools' command lines (Abseil flags through tools/command_line), with the
# real binaries: `--flag value` and `--flag=value` both set a flag, a bool
# flag stands alone, --help prints the usage and exits 0, and a bad flag (an
# unknown one, a missing or malformed value, a number out of range) says
# which and exits 2 without doing anything. (Abseil's own --log_level spelling
# is accepted too.)
#   command_line_test.sh LEDGERD LOADGEN LEDGER_BACKUP BENCH_PROJECTIONS
set -uo pipefail
ledgerd=$1
loadgen=$2
backup=$3
bench=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# expect CODE PATTERN COMMAND...: runs COMMAND, wants exit CODE and PATTERN
# (grep -E) somewhere in its stdout or stderr. A command that does not exit
# within 30 s (a server started by mistake) is stopped and fails.
expect() {
  local code=$1 pattern=$2
  shift 2
  timeout 30 "$@" >"$work/out" 2>&1
  local got=$?
  [[ $got == "$code" ]] || fail "$* exited $got, want $code: $(head -3 "$work/out")"
  grep -qE -- "$pattern" "$work/out" || fail "$*: no \"$pattern\" in: $(head -3 "$work/out")"
}

# --verify of a directory that does not exist fails to open it (exit 1),
# naming the directory: so the flags parsed, and --data took its value.
expect 1 "cannot open: open $work/a read-only" "$ledgerd" --verify --data "$work/a"
expect 1 "cannot open: open $work/b read-only" "$ledgerd" --data="$work/b" --verify=true \
  --log-level=error --max-calls 3 --max-idle-ms=10 --rebuild-read-models
expect 0 "^usage: ledgerd" "$ledgerd" --help
expect 0 "--max-streams-per-connection N" "$ledgerd" -h
expect 2 "unknown flag --bogus" "$ledgerd" --bogus
expect 1 "cannot open: open $work/c read-only" "$ledgerd" --log_level=error --verify --data "$work/c"
expect 2 "--data needs a value" "$ledgerd" --data
expect 2 "--max-calls 0: must be at least 1" "$ledgerd" --max-calls 0 --verify
expect 2 "--backup-every -5: must be at least 1" "$ledgerd" --backup-every=-5 --verify
expect 2 "--max-threads: \"x\" is not a whole number" "$ledgerd" --max-threads x
expect 2 "--demo: \"maybe\" is not true or false" "$ledgerd" --demo=maybe
expect 2 "unexpected argument stray" "$ledgerd" stray
expect 2 "unknown flag ---" "$ledgerd" ---
expect 2 "unknown flag --" "$ledgerd" --=x
[[ -e ./data || -e "$work/a" || -e "$work/b" ]] && fail "a rejected command line created a directory"

expect 0 "^usage: loadgen" "$loadgen" --help
expect 0 "--deadline S" "$loadgen" --help
expect 2 "--mode must be batch or stream" "$loadgen" --mode=unary
expect 2 "need 1 <= batch <= 10000" "$loadgen" --batch 10001
expect 2 "need 1 <= batch <= 10000" "$loadgen" --clients=5 --pupils 4
expect 2 "--pupils -1: must be at least 0" "$loadgen" --pupils -1
expect 2 "--marks: \"1e6\" is not a whole number" "$loadgen" --marks 1e6
expect 2 "unknown flag --speed" "$loadgen" --setup --speed 3

expect 1 "backup dir $work/none: no such directory" "$backup" list --backup-dir "$work/none"
expect 1 "backup dir $work/none: no such directory" "$backup" --backup-dir="$work/none" list
expect 2 "^usage:" "$backup"
expect 2 "^usage:" "$backup" list
expect 2 "--keep 0: must be at least 1" "$backup" purge --backup-dir "$work/none" --keep 0
expect 2 "unknown command frob" "$backup" frob --backup-dir "$work/none"
expect 2 "^usage:" "$backup" list extra --backup-dir "$work/none"

expect 0 "^usage: bench_projections" "$bench" --help
expect 2 "--years: at most 6" "$bench" --years=7
expect 2 "--queries 0: must be at least 1" "$bench" --queries 0

if ((failures > 0)); then
  echo "$failures failed"
  exit 1
fi
echo "command lines OK"
