#!/usr/bin/env bash
# The one command that runs every test: installs what is missing, builds,
# then runs the C++ (Catch2) and Python end-to-end tests through CTest, then
# the fuzz targets (FUZZ=0 skips them; the arguments go to the first ctest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
(cd build && ctest --output-on-failure --timeout 600 "$@")

# tests/fuzz/: libFuzzer targets built with clang, ASan and UBSan in
# build-fuzz/ (asserts on), each run for a fixed number of inputs.
if [[ ${FUZZ:-1} != 0 ]]; then
  CXX=clang++ cmake -S . -B build-fuzz -DATTENDANCE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" >/dev/null
  cmake --build build-fuzz -j"$(nproc)" --target fuzz_targets
  ctest --test-dir build-fuzz -L fuzz --output-on-failure --timeout 1200
fi
