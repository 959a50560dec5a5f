#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: sets up .venv, then runs pytest. The tests
# start their own local stack (Postgres, GCS and BigQuery emulators) in a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh

# headless Chromium for the browser test (taxi_assets_tests/test_ui.py): Debian's `chromium`
# package, driven by the Playwright Python package (never Playwright's own browser download).
# Only the tests need it, so only this script installs it (as root, with apt-get).
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
# the deployment test (taxi_assets_tests/test_deployment.py) builds an image and runs the Compose
# deployment with podman; as root, install podman, runc and debootstrap (Debian packages)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && ! { command -v podman && command -v debootstrap; } >/dev/null 2>&1; then
  echo "installing podman, runc and debootstrap for the deployment test (apt-get)"
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq \
         && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap uidmap >/dev/null; }; then
    echo "warning: apt-get could not install podman; the deployment test will be skipped" >&2
  fi
fi
exec .venv/bin/python -m pytest "$@"
