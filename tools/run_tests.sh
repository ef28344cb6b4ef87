#!/usr/bin/env bash
# The one command that runs every test: installs what is missing, builds,
# then runs the C++ (Catch2) and Python end-to-end tests through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
cd build
ctest --output-on-failure --timeout 600 "$@"
