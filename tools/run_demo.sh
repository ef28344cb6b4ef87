#!/usr/bin/env bash
# The one command that starts the service with demo data: installs what is
# missing, builds, and runs ledgerd on 127.0.0.1:50051 with a demo school
# loaded into ./data (kept between runs; delete it to start again).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
exec build/tools/ledgerd --listen "${LISTEN:-127.0.0.1:50051}" --data "${DATA:-./data}" --demo "$@"
