#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: sets up .venv, then runs pytest. The tests
# start their own local stack (Postgres, GCS and BigQuery emulators) in a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
exec .venv/bin/python -m pytest "$@"
