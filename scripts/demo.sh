#!/usr/bin/env bash
# The main job for one month of generated sample data on the embedded local stack, end to end:
# download -> cleaned parquet -> Postgres -> GCS emulator -> BigQuery emulator.
# No Docker, no cloud account, no internet (after the package install).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh local
source .venv/bin/activate

taxi-stack up
taxi-stack sample --month 2021-01 --month 2021-02 --month 2021-03 --rows "${TAXI_SAMPLE_ROWS:-20000}" >/dev/null
eval "$(taxi-stack env)"

echo "== zone lookup"
dg launch --job taxi_zone_lookup_job >"$TAXI_STACK_HOME/demo-zones.log" 2>&1 \
  || { tail -n 40 "$TAXI_STACK_HOME/demo-zones.log"; exit 1; }
echo "== yellow_taxi_job for 2021-01"
dg launch --job yellow_taxi_job --partition 2021-01-01 \
  >"$TAXI_STACK_HOME/demo-yellow.log" 2>&1 || { tail -n 40 "$TAXI_STACK_HOME/demo-yellow.log"; exit 1; }
echo "   (run log: $TAXI_STACK_HOME/demo-yellow.log)"

python -m taxi_assets.report --taxi yellow --month 2021-01
cat <<TXT

The stack keeps running. Next:
  bash scripts/ui.sh                    # the Dagster UI (and daemon) on http://127.0.0.1:3000
  source .venv/bin/activate && eval "\$(taxi-stack env)"   # a shell for taxi-run / dg / taxi-stack commands
  taxi-run yellow 2021-02               # another month (the sample has 2021-01..03; taxi-stack sample --month for more)
  taxi-stack down                       # stop the servers (data is kept in $TAXI_STACK_HOME)
  taxi-stack down --purge               # start over: stop and delete $TAXI_STACK_HOME
TXT
