#!/usr/bin/env bash
# run_fuzzer.sh <fuzzer> <work dir> [libFuzzer flags...] <corpus dirs...>
# Runs a fuzz target from its corpus dirs (missing ones are skipped) with a
# fixed seed (ATTENDANCE_FUZZ_SEED overrides it; 0 = random), so that a run is
# repeatable. New inputs go to <work dir>/corpus, emptied first, never into
# the repository; a failing input is kept in <work dir>/artifacts/ and the
# exit code is non-zero.
set -euo pipefail
fuzzer=$1 work=$2
shift 2
args=()
for a in "$@"; do
  if [[ $a == -* || -d $a ]]; then args+=("$a"); fi
done
rm -rf "$work/corpus"
mkdir -p "$work/corpus" "$work/artifacts"
exec "$fuzzer" -seed="${ATTENDANCE_FUZZ_SEED:-1}" -timeout=30 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" "${args[@]}"
