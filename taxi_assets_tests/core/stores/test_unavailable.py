"""Bounded waits (issue 12.3): a BigQuery or GCS that does not answer fails the call within its
bounds, naming the service, and the step within the documented time. No server: a closed port."""

import datetime as dt
import socket
import time

import dagster as dg
import pytest
from google.cloud import storage

from taxi_assets.core.errors import StoreUnavailable
from taxi_assets.core.stores.bigquery import BigQueryStore
from taxi_assets.core.stores.lake import LakeStore
from taxi_assets.core.taxi_types import TAXI_TYPES
from taxi_assets.defs.partitions import monthly_partitions
from taxi_assets.defs.preflight import PreflightResource
from taxi_assets.defs.resources import BigQueryResource, FileStoreResource, LakeResource, PostgresResource
from taxi_assets.defs.trip_assets import build_trip_assets
from taxi_assets.core.config import load_settings

GREEN = TAXI_TYPES["green"]
JAN = dt.date(2021, 1, 1)


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


def test_a_dead_bigquery_fails_the_load_within_its_bounds(monkeypatch, closed_port):
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", f"http://127.0.0.1:{closed_port}")
    store = BigQueryStore("taxi-local", "nyc_taxi", timeout_seconds=2, retry_seconds=3)
    t0 = time.monotonic()
    with pytest.raises(StoreUnavailable, match=rf"BigQuery \(http://127.0.0.1:{closed_port}\) did not answer within 3 s"):
        store.replace_month_from_uri(GREEN.table, GREEN.all_columns, JAN, "gs://b/o.parquet")
    assert time.monotonic() - t0 < 20
    with pytest.raises(StoreUnavailable):
        store.count_month(GREEN.table, JAN)


def test_a_dead_gcs_fails_the_upload_and_the_footer_read_within_its_bounds(monkeypatch, closed_port, tmp_path):
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{closed_port}")
    local = tmp_path / "m.parquet"
    local.write_bytes(b"PAR1" + b"\0" * 100 + b"PAR1")
    with LakeStore(storage.Client(project="taxi-local"), "taxi-lake", timeout_seconds=2, retry_seconds=3) as lake:
        t0 = time.monotonic()
        with pytest.raises(StoreUnavailable, match=rf"GCS \(http://127.0.0.1:{closed_port}\) did not answer within 3 s"):
            lake.upload(local, GREEN.lake_object(JAN))
        with pytest.raises(StoreUnavailable):
            lake.parquet_rows(GREEN.lake_object(JAN))
    assert time.monotonic() - t0 < 30


def test_the_bigquery_step_fails_after_its_retries_in_bounded_time(monkeypatch, closed_port, tmp_path):
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{closed_port}")  # no Google credentials lookup
    assets = build_trip_assets(GREEN, monthly_partitions(load_settings(), GREEN))
    t0 = time.monotonic()
    result = dg.materialize(
        [assets.load_month], selection=[assets.bigquery_table.key], partition_key=JAN.isoformat(), raise_on_error=False,
        resources={
            "preflight": PreflightResource(enabled=False),
            # the load step's other resources (Postgres, the file store): unused when only bigquery_table runs
            "postgres": PostgresResource(url="postgresql://taxi@127.0.0.1:9/taxi"),
            "file_store": FileStoreResource(base_dir=str(tmp_path)),
            "lake": LakeResource(project="taxi-local", bucket="taxi-lake"),
            "bigquery": BigQueryResource(project="taxi-local", dataset="nyc_taxi", timeout_seconds=2, retry_seconds=2),
        },
    )
    seconds = time.monotonic() - t0
    assert not result.success
    retries = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert len(retries) == 3 and "did not answer" in str(failure.event_specific_data.error)
    # 4 attempts of ~2 s plus the RetryPolicy's backoff (2, 4, 8 s, +-jitter): well under a minute
    assert seconds < 60
