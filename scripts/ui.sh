#!/usr/bin/env bash
# The Dagster UI on the local stack, at http://127.0.0.1:3000 (override: TAXI_UI_PORT):
# venv, `taxi-stack up`, offline sample files (2021-01..03), then `dagster dev` from the repo
# root (workspace.yaml; webserver + daemon, which runs the queued runs). Ctrl-C stops the UI;
# the stack keeps running (`taxi-stack down` stops it). TAXI_UI_SOURCE=real: download the
# real DataTalksClub files instead of the sample (needs internet).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
source .venv/bin/activate

taxi-stack up
if [ "${TAXI_UI_SOURCE:-sample}" = real ]; then
  eval "$(taxi-stack env)"
  unset TAXI_SOURCE_URL TAXI_ZONES_URL
  source_note="the real DataTalksClub files"
else
  taxi-stack sample --month 2021-01 --month 2021-02 --month 2021-03 --rows "${TAXI_SAMPLE_ROWS:-20000}" >/dev/null
  eval "$(taxi-stack env)"
  source_note="offline sample months 2021-01..2021-03"
fi

port=${TAXI_UI_PORT:-3000}
echo "== Dagster UI: http://127.0.0.1:$port  (source: $source_note; Ctrl-C stops the UI)"
exec dagster dev -h 127.0.0.1 -p "$port"
