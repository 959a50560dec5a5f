#!/usr/bin/env bash
# The benchmark of docs/BENCHMARKS.md, from a clean clone: sets up .venv (scripts/bootstrap.sh),
# starts a local stack in a temporary folder (stopped and removed at the end), writes the
# full-size months and prints the table. Options go to `python -m benchmarks.benchmark`:
#   bash scripts/benchmark.sh                       # full run (~6 min on 2 cores)
#   bash scripts/benchmark.sh --quick               # pandas baseline on a slice, extrapolated
#   bash scripts/benchmark.sh --write docs/BENCHMARKS.md
# Set TAXI_BENCH_USE_ENV=1 to measure on the stack the current shell points at (taxi-stack env).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
if [ "${TAXI_BENCH_USE_ENV:-0}" != 1 ]; then
  # a stack of its own: never the developer's data, never another run's ports
  unset TAXI_POSTGRES_URL STORAGE_EMULATOR_HOST BIGQUERY_EMULATOR_HOST TAXI_GCS_BUCKET TAXI_BQ_PROJECT \
        TAXI_DAGSTER_PG_URL DAGSTER_HOME TAXI_DATA_DIR TAXI_STACK_HOME TAXI_SOURCE_URL TAXI_ZONES_URL
fi
exec .venv/bin/python -m benchmarks.benchmark "$@"
