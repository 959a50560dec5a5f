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

# headless Chromium for the browser test (taxi_assets_tests/test_ui.py): Debian's `chromium`
# package, driven by the Playwright Python package (never Playwright's own browser download)
if [ -z "${TAXI_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser test (apt-get)"
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq \
           && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; then
      echo "warning: apt-get could not install chromium; the browser test will be skipped" >&2
    fi
  else
    echo "note: no chromium found, so the browser test (taxi_assets_tests/test_ui.py) will be skipped;" >&2
    echo "      install it with:  sudo apt-get install -y chromium   (Debian; or set TAXI_CHROMIUM=/path/to/chromium)" >&2
  fi
fi
