#!/usr/bin/env bash
# Installs what tools/bench_all.sh compares ledgerd with, beyond what the
# project builds and tests with (tools/install_deps.sh; CI needs none of
# this): PostgreSQL 15 and libpq's headers (the baseline and its client,
# tools/pg_baseline, built when libpq is found). db_bench and ldb come with
# rocksdb-tools, already in install_deps.sh. Re-run tools/build.sh after it.
set -euo pipefail

PACKAGES=(postgresql-15 libpq-dev)

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
# Debian starts a "main" cluster on install; the benchmark runs its own.
