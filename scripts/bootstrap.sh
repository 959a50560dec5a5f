#!/usr/bin/env bash
# Create (or update) the project's virtualenv in .venv: Python 3.11+, the package in editable
# mode with its test extras, and the BigQuery emulator's own virtualenv inside it.
# Idempotent: a second run only checks that everything is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $($PY --version)"
  "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
stamp=.venv/.taxi_assets-installed
if [ ! -f "$stamp" ] || [ setup.py -nt "$stamp" ]; then
  echo "installing taxi_assets and its dependencies into .venv"
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  touch "$stamp"
fi
# the BigQuery emulator lives in a virtualenv of its own (one of its pins conflicts with ours)
.venv/bin/python -c "from taxi_assets.localstack import Stack; Stack().ensure_bq_venv()"

