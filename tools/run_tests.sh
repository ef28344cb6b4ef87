#!/usr/bin/env bash
# The one command that runs every test: installs what is missing, checks the
# sources (format, module fences), builds, runs the C++ (Catch2) and Python
# end-to-end tests through CTest, then the same suite built with
# AddressSanitizer and UndefinedBehaviorSanitizer (the `debug` preset; the
# two slow crash tests run in the first pass only), then the fuzz targets.
# SANITIZE=0 / FUZZ=0 skip those passes; the arguments go to the first ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install_deps.sh
bash tools/check_sources.sh
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR=1
bash tools/build.sh
(cd build && ctest -j"$(nproc)" --output-on-failure --timeout 600 "$@")

if [[ ${SANITIZE:-1} != 0 ]]; then
  cmake --preset debug >/dev/null
  cmake --build build-debug -j"$(nproc)"
  (cd build-debug && ASAN_OPTIONS=detect_leaks=1 ctest -j"$(nproc)" --output-on-failure --timeout 900 -LE slow)
fi

# tests/fuzz/: libFuzzer targets built with clang, ASan and UBSan in
# build-fuzz/ (asserts on), each run for a fixed number of inputs.
if [[ ${FUZZ:-1} != 0 ]]; then
  CXX=clang++ cmake -S . -B build-fuzz -DATTENDANCE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" >/dev/null
  cmake --build build-fuzz -j"$(nproc)" --target fuzz_targets
  ctest --test-dir build-fuzz -L fuzz --output-on-failure --timeout 1200
fi
