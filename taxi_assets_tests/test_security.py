"""Security: identifiers from configuration are validated before any SQL; secrets never reach a
run's logs, events or metadata."""

import datetime as dt
import json
import os
import socket
import urllib.parse

import dagster as dg
import psycopg
import pytest

from taxi_assets_tests.pipeline import trip_assets
from taxi_assets_tests.pipeline import trip_checks
from taxi_assets.core.stores.bigquery import BigQueryStore as BigQueryWarehouse
from taxi_assets.core.stores.postgres import PostgresStore as PostgresWarehouse
from taxi_assets_tests.helpers import refusal
from taxi_assets_tests.pipeline import build_resources
from taxi_assets.core.taxi_types import TAXI_TYPES

JAN = dt.date(2021, 1, 1)
EVIL = 'x"; drop table sentinel.y; --'
YELLOW = TAXI_TYPES["yellow"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed when we return: nothing listens there


@pytest.mark.parametrize("name", [EVIL, "Public", "a b", "x;y", "", "a" * 64, "ä"])
def test_bad_schema_name_fails_before_any_sql(name):
    # a URL where no server listens: if the name were not refused first, the error would be a connection error
    pg = PostgresWarehouse(url=f"postgresql://u:p@127.0.0.1:{closed_port()}/db", db_schema=name)
    with pytest.raises(ValueError, match="invalid schema"):
        pg.ensure_table(YELLOW.table, YELLOW.all_columns)
    with pytest.raises(ValueError, match="invalid schema"):
        pg.replace_month(YELLOW.table, YELLOW.all_columns, JAN, iter(()))


def test_bad_dataset_name_fails_before_any_request(monkeypatch):
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", f"http://127.0.0.1:{closed_port()}")
    wh = BigQueryWarehouse(project="taxi-local", dataset="d`; DROP TABLE t; --")
    with pytest.raises(ValueError, match="invalid dataset"):
        wh.replace_month_from_uri(YELLOW.table, YELLOW.all_columns, JAN, "gs://b/o.parquet")


def test_bad_bigquery_project_fails_before_any_request(monkeypatch):
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", f"http://127.0.0.1:{closed_port()}")
    wh = BigQueryWarehouse(project="p`.x; DROP TABLE t; --", dataset="nyc_taxi")
    with pytest.raises(ValueError, match="invalid project"):
        wh.table_id(YELLOW.table)


def test_evil_schema_through_the_pipeline_touches_nothing(pipeline_env, monkeypatch):
    with psycopg.connect(os.environ["TAXI_POSTGRES_URL"], autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS sentinel; CREATE TABLE IF NOT EXISTS sentinel.y (i int)")
    monkeypatch.setenv("TAXI_POSTGRES_SCHEMA", EVIL)
    result = dg.materialize(
        [*trip_assets],
        selection=dg.AssetSelection.assets(*(dg.AssetKey(["yellow", n]) for n in ("raw_file", "cleaned_parquet", "postgres_table"))),
        partition_key=JAN.isoformat(),
        resources=build_resources(),
        raise_on_error=False,
    )
    assert not result.success
    # refused by the preflight when the run starts: no step ran, no store was touched
    assert not [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_START]
    assert "invalid schema" in refusal(result)
    with psycopg.connect(os.environ["TAXI_POSTGRES_URL"]) as conn:
        assert conn.execute("SELECT to_regclass('sentinel.y')").fetchone()[0] is not None
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'x%%drop%%'").fetchone()[0] == 0


def _everything_a_run_left(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> str:
    """Every log line, event (with its metadata), the run record and its tags, as text."""
    parts = []
    for entry in instance.all_logs(result.run_id):
        parts.append(entry.user_message or "")
        parts.append(repr(entry))
        if entry.dagster_event is not None:
            parts.append(dg.serialize_value(entry.dagster_event))
    run = instance.get_run_by_id(result.run_id)
    parts.append(dg.serialize_value(run))
    parts.append(json.dumps(run.tags))
    for e in result.all_events:
        parts.append(repr(e))
    for m in result.get_asset_materialization_events():
        parts += [f"{k}={v.value}" for k, v in m.materialization.metadata.items()]
    for c in result.get_asset_check_evaluations():
        parts += [c.description or ""] + [f"{k}={v.value}" for k, v in c.metadata.items()]
    return "\n".join(parts)


def _assert_secret_absent(text: str, secret: str) -> None:
    for form in {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}:
        assert form not in text, "a secret reached the run's logs, events or metadata"


def test_no_secret_in_a_successful_run(pipeline_env, tmp_path):
    url = urllib.parse.urlparse(os.environ["TAXI_POSTGRES_URL"])
    secret = urllib.parse.unquote(url.password or "")
    assert len(secret) >= 12, "the stack's Postgres has a generated password"
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [*trip_assets, *trip_checks],
            selection=dg.AssetSelection.groups("yellow"),
            partition_key=JAN.isoformat(),
            resources=build_resources(),
            instance=instance,
        )
        assert result.success
        text = _everything_a_run_left(instance, result)
    assert "yellow_taxi_trips" in text  # the search does see the run's metadata
    _assert_secret_absent(text, secret)


def test_no_secret_in_a_failing_run(pipeline_env, tmp_path, monkeypatch):
    secret = "planted-Secret-" + os.urandom(6).hex()
    url = urllib.parse.urlparse(os.environ["TAXI_POSTGRES_URL"])
    bad = url._replace(netloc=f"{url.username}:{secret}@{url.hostname}:{url.port}").geturl()
    monkeypatch.setenv("TAXI_POSTGRES_URL", bad)  # wrong password: the load fails to authenticate
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [*trip_assets],
            selection=dg.AssetSelection.assets(*(dg.AssetKey(["yellow", n]) for n in ("raw_file", "cleaned_parquet", "postgres_table"))),
            partition_key=JAN.isoformat(),
            resources=build_resources(),
            instance=instance,
            raise_on_error=False,
        )
        assert not result.success
        text = _everything_a_run_left(instance, result)
    assert "password authentication failed" in text  # the failure itself is logged …
    _assert_secret_absent(text, secret)  # … without the password
