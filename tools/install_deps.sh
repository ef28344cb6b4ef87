#!/usr/bin/env bash
# Installs the Debian 12 packages the project builds, runs and tests with.
# Safe to re-run: it only calls apt-get when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ccache pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev rocksdb-tools libspdlog-dev libfmt-dev catch2 libssl-dev
  python3-grpcio python3-protobuf tzdata
  e2fsprogs openssl  # mkfs.ext4 for the full-disk tests; throwaway TLS certificates
  clang libclang-rt-14-dev clang-format  # the fuzz targets (libFuzzer, sanitizer runtimes); format check
  libbenchmark-dev  # micro-benchmarks (ledger/bench)
  libjemalloc-dev  # the allocator of ledgerd, the tools and the benchmarks (cmake/AttendanceModule.cmake)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
