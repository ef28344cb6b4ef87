#!/usr/bin/env bash
# Installs what tools/bench_all.sh compares ledgerd with, beyond what the
# project builds and tests with (tools/install_deps.sh; CI needs none of
# this): PostgreSQL 15 and libpq's headers (the baseline and its client,
# tools/pg_baseline, built when libpq is found). db_bench and ldb come with
# rocksdb-tools, already in install_deps.sh. Re-run tools/build.sh after it.
set -euo pipefail

PACKAGES=(postgresql-15 libpq-dev)

# shellcheck source=apt_install.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh"
install_missing "${PACKAGES[@]}"
# Debian starts a "main" cluster on install; the benchmark runs its own.
