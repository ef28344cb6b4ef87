#!/usr/bin/env bash
# Source checks CI runs before building: formatting (.clang-format) and the
# module fences -- only ledger/src may include RocksDB, and only services/,
# tools/ and tests/ may include gRPC's C++ API (projections/ and ledger/ stay
# free of transport code; proto/ is generated).
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0

mapfile -t sources < <(git ls-files '*.cc' '*.h')

if ! clang-format --dry-run --Werror --style=file "${sources[@]}" 2>/tmp/format.$$; then
  echo "check_sources: files differ from .clang-format (run: clang-format -i \$(git ls-files '*.cc' '*.h')):"
  grep -oE '^[^ :]+\.(cc|h):[0-9]+' /tmp/format.$$ | cut -d: -f1 | sort -u | head -40
  fail=1
fi
rm -f /tmp/format.$$

fence() {  # fence PATTERN ALLOWED_REGEX WHAT
  local hits
  hits=$(grep -nE "#include [<\"]$1" "${sources[@]}" | grep -vE "^($2)" || true)
  if [[ -n $hits ]]; then
    echo "check_sources: $3 included outside its module:"
    echo "$hits"
    fail=1
  fi
}
fence 'rocksdb/' 'ledger/src/|tests/ledger/' 'RocksDB'
fence 'grpcpp/' 'services/|tools/|tests/' "gRPC's C++ API"

# The projections and the vocabulary itself see only the vocabulary's
# ledger/ headers (README, "Layout": dependencies run one way); the CMake
# side of the rule is attendance_require_no_link.
mapfile -t vocabulary < <(git ls-files 'ledger/vocabulary/include/ledger/*.h' | xargs -n1 basename)
vocabulary_re=$(IFS='|'; echo "${vocabulary[*]//./\\.}")
pure=$(git ls-files 'projections/include/*' 'projections/src/*' 'ledger/vocabulary/*' |
  grep -E '\.(cc|h)$' || true)
if [[ -n $pure ]]; then
  hits=$(grep -nE '#include "ledger/' $pure | grep -vE "#include \"ledger/($vocabulary_re)\"" || true)
  if [[ -n $hits ]]; then
    echo "check_sources: a ledger header outside the vocabulary included by projections/ or the vocabulary:"
    echo "$hits"
    fail=1
  fi
fi

if ((fail)); then exit 1; fi
echo "check_sources: format and module fences OK (${#sources[@]} files)"
