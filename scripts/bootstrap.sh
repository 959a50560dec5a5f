#!/usr/bin/env bash
# Create (or update) the project's virtualenv in .venv: Python 3.11+, the package in editable mode
# with an extra (`local`: the pipeline and the local stack, for the demo and the UI; `dev`, the
# default: `local` plus the test tools), and the BigQuery emulator's own virtualenv inside it,
# built at the same time as the main install (two pip processes: about a minute less on a fresh machine).
# Idempotent: a second run only checks that everything is installed. Installs nothing outside the folder.
set -euo pipefail
cd "$(dirname "$0")/.."

extra=${1:-dev}
case "$extra" in local|dev) ;; *) echo "usage: bash scripts/bootstrap.sh [local|dev]" >&2; exit 2 ;; esac
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $($PY --version)"
  "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi

# the BigQuery emulator lives in a virtualenv of its own (one of its pins conflicts with ours): in the
# background, from the source tree (it needs only psutil), while the main install runs
.venv/bin/python -c "import psutil" 2>/dev/null || .venv/bin/python -m pip install --quiet "psutil>=5.9"
bq_log=.venv/bqemulator-install.log
PYTHONPATH="$PWD" .venv/bin/python -c "from taxi_assets.localstack import Stack; Stack().ensure_bq_venv()" >"$bq_log" 2>&1 &
bq=$!

dev_stamp=.venv/.taxi_assets-installed        # the dev extra (includes local)
local_stamp=.venv/.taxi_assets-installed-local
fresh() { [ -f "$1" ] && ! [ setup.py -nt "$1" ]; }
if ! fresh "$dev_stamp" && { [ "$extra" = dev ] || ! fresh "$local_stamp"; }; then
  echo "installing taxi_assets[$extra] and its dependencies into .venv"
  .venv/bin/python -m pip install --quiet -e ".[$extra]"
  touch ".venv/.taxi_assets-installed$([ "$extra" = local ] && echo -local)"
fi

if ! wait "$bq"; then
  echo "the BigQuery emulator's virtualenv could not be created:" >&2
  tail -n 20 "$bq_log" >&2
  exit 1
fi
grep -v '^$' "$bq_log" || true
