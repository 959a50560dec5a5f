#!/bin/sh
# One local-stack server in the foreground, as a Compose service (compose.emulators.yaml):
#   stack-service postgres | gcs | bigquery
# postgres follows the official image's contract: POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB,
# PGDATA, and the *.sql files of /docker-entrypoint-initdb.d run once, on the first start.
set -eu
case "${1:-}" in
postgres)
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is not set (the env file)}"
  user=${POSTGRES_USER:-postgres}
  db=${POSTGRES_DB:-$user}
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pw=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pw"
    initdb -D "$PGDATA" -U "$user" --pwfile="$pw" --auth-local=trust --auth-host=scram-sha-256 \
      -E UTF8 --no-locale --no-instructions >/dev/null
    rm -f "$pw"
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"  # the Compose network, by password
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=/tmp" -w -s start
    [ "$db" = postgres ] || psql -q -h /tmp -U "$user" -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\""
    for f in /docker-entrypoint-initdb.d/*.sql; do
      [ -e "$f" ] && psql -q -h /tmp -U "$user" -d "$db" -v ON_ERROR_STOP=1 -f "$f"
    done
    pg_ctl -D "$PGDATA" -m fast -w -s stop
    echo "postgres: initialised $PGDATA (user $user, database $db)"
  fi
  # the settings of the local stack's Postgres (PG_SETTINGS in taxi_assets/localstack/stack.py)
  exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/tmp \
    -c shared_buffers=256MB -c max_wal_size=2GB -c synchronous_commit=off
  ;;
gcs)
  mkdir -p "/data/gcs/${TAXI_GCS_BUCKET:?TAXI_GCS_BUCKET is not set}"  # a folder of the root is a bucket
  exec fake-gcs-server -scheme http -host 0.0.0.0 -port 4443 -backend filesystem -filesystem-root /data/gcs \
    -external-url http://gcs:4443 -public-host gcs:4443 -log-level warn
  ;;
bigquery)
  # load jobs read gs:// objects straight from the GCS emulator's root (mounted read-only)
  mkdir -p /data/bigquery/uploads
  export BQEMU_GCS_LOCAL_ROOT=/data/gcs BQEMU_UPLOAD_STAGING_DIR=/data/bigquery/uploads \
    BQEMU_ENABLE_FORMAT_EXTENSIONS=false BQEMU_METRICS_ENABLED=false BQEMU_TRACING_ENABLED=false
  exec /opt/bq/bin/python -I /opt/bq/launcher.py start --rest-host 0.0.0.0 --rest-port 9050 \
    --grpc-host 0.0.0.0 --grpc-port 9060 --persistent --data-dir /data/bigquery \
    --project "${TAXI_BQ_PROJECT:?TAXI_BQ_PROJECT is not set}"
  ;;
*)
  echo "usage: stack-service postgres|gcs|bigquery" >&2
  exit 2
  ;;
esac
