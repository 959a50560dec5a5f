#!/usr/bin/env bash
# The Dagster UI on the local stack, at http://127.0.0.1:3000 (override: TAXI_UI_PORT):
# venv, `taxi-stack up`, offline sample files (2021-01..03), then `dg dev` from the repo root
# (webserver + daemon, which runs the queued runs). Its output (every run's events) goes to
# $TAXI_STACK_HOME/ui.log, not the terminal. Ctrl-C or SIGTERM (foreground or background) stops
# the UI and all its processes; the stack keeps running (`taxi-stack down` stops it).
# TAXI_UI_SOURCE=real: download the real DataTalksClub files instead of the sample (needs internet).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh local
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
log="$TAXI_STACK_HOME/ui.log"
echo "== Dagster UI: http://127.0.0.1:$port  (source: $source_note)"
echo "   its log (this session, every run's events): $log   Ctrl-C stops the UI"

# `dg dev` in a session of its own, so that stopping it reaches every process it starts (webserver,
# daemon, code server). Dagster's dev command gives SIGTERM the handler of SIGINT, and a background
# job starts with SIGINT ignored (so SIGTERM would be ignored too): env --default-signal restores it.
setsid env --default-signal=INT dg dev -h 127.0.0.1 -p "$port" >"$log" 2>&1 </dev/null &
ui=$!
# Every process of dg dev's session, whatever its process group (run workers included), by session id.
stop() {
  trap - INT TERM
  pkill -TERM -s "$ui" 2>/dev/null || true
  for _ in $(seq 1 30); do pgrep -s "$ui" >/dev/null || { echo "== UI stopped"; return 0; }; sleep 1; done
  pkill -KILL -s "$ui" 2>/dev/null || true
  echo "== UI stopped (killed after 30 s)"
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM

for _ in $(seq 1 120); do
  if grep -q "Serving dagster-webserver" "$log" 2>/dev/null; then echo "== ready: http://127.0.0.1:$port"; break; fi
  kill -0 "$ui" 2>/dev/null || { echo "dg dev ended; the end of $log:" >&2; tail -n 20 "$log" >&2; exit 1; }
  sleep 1
done
wait "$ui"
