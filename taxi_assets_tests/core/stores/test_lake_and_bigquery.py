import datetime as dt
import contextlib
import os

import pyarrow.parquet as pq
import pytest

from taxi_assets.localstack import sample
from taxi_assets.core.stores.bigquery import BigQueryStore as BigQueryWarehouse
from taxi_assets.core.stores.lake import LakeStore, gcs_client
from taxi_assets.core.taxi_types import TAXI_TYPES
from taxi_assets.core.transform import write_parquet

GREEN = TAXI_TYPES["green"]
JAN, FEB = dt.date(2021, 1, 1), dt.date(2021, 2, 1)


@pytest.fixture
def lake(pipeline_env):
    with LakeStore(
        gcs_client(os.environ["TAXI_GCP_PROJECT"]),
        bucket=os.environ["TAXI_GCS_BUCKET"],
        prefix=pipeline_env["TAXI_GCS_PREFIX"],
    ) as store:
        yield store


@pytest.fixture
def warehouse(pipeline_env):
    return BigQueryWarehouse(project=os.environ["TAXI_BQ_PROJECT"], dataset=pipeline_env["TAXI_BQ_DATASET"])


def month_parquet(tmp_path, month, rows):
    src = sample.write_month(tmp_path / f"src{rows}", "green", month, rows=rows)
    out = tmp_path / f"green_{month:%Y%m}_{rows}.parquet"
    write_parquet(src, out, GREEN, month)
    return out


def test_upload_then_upload_again_overwrites_in_place(lake, tmp_path):
    first, second = month_parquet(tmp_path, JAN, 800), month_parquet(tmp_path, JAN, 1200)
    a = lake.upload(first, "green/green_tripdata_2021-01.parquet")
    b = lake.upload(second, "green/green_tripdata_2021-01.parquet")
    assert a.uri == b.uri and a.uri.startswith(f"gs://{lake.bucket}/")
    assert (a.bytes, b.bytes) == (first.stat().st_size, second.stat().st_size)
    assert a.crc32c != b.crc32c
    blob = lake.client.bucket(lake.bucket).blob(lake.object_name("green/green_tripdata_2021-01.parquet"))
    assert blob.download_as_bytes() == second.read_bytes()


def test_bigquery_month_loaded_twice_is_there_once_and_months_are_independent(lake, warehouse, tmp_path):
    jan, feb = month_parquet(tmp_path, JAN, 900), month_parquet(tmp_path, FEB, 1300)
    n_jan, n_feb = pq.ParquetFile(jan).metadata.num_rows, pq.ParquetFile(feb).metadata.num_rows
    uri_jan = lake.upload(jan, "green/jan.parquet").uri
    uri_feb = lake.upload(feb, "green/feb.parquet").uri
    assert warehouse.replace_month_from_uri(GREEN.table, GREEN.all_columns, JAN, uri_jan) == n_jan
    assert warehouse.replace_month_from_uri(GREEN.table, GREEN.all_columns, FEB, uri_feb) == n_feb
    assert warehouse.replace_month_from_uri(GREEN.table, GREEN.all_columns, JAN, uri_jan) == n_jan
    rows = warehouse.query(
        f"SELECT source_month, COUNT(*) AS n FROM `{warehouse.table_id(GREEN.table)}` GROUP BY source_month ORDER BY source_month"
    )
    assert [(r["source_month"], r["n"]) for r in rows] == [(JAN, n_jan), (FEB, n_feb)]
    # no staging table left behind
    tables = {t.table_id for t in warehouse.client().list_tables(f"{warehouse.project}.{warehouse.dataset}")}
    assert tables == {GREEN.table}


def test_a_first_load_appends_straight_into_the_table_and_a_reload_swaps_through_staging(lake, warehouse, tmp_path, monkeypatch):
    small, big = month_parquet(tmp_path, JAN, 400), month_parquet(tmp_path, JAN, 700)
    uri_small, uri_big = lake.upload(small, "green/first.parquet").uri, lake.upload(big, "green/second.parquet").uri
    loads = []  # (destination, uri) of every load job
    real_client = warehouse.client

    def recording_client():
        client = real_client()
        real_load = client.load_table_from_uri
        monkeypatch.setattr(client, "load_table_from_uri",
                            lambda u, d, **kw: loads.append((str(d), u)) or real_load(u, d, **kw))
        return client

    monkeypatch.setattr(warehouse, "client", recording_client)
    target = warehouse.table_id(GREEN.table)
    assert warehouse.replace_month_from_uri(GREEN.table, GREEN.all_columns, JAN, uri_small) == pq.ParquetFile(small).metadata.num_rows
    assert loads == [(target, uri_small)]  # the month was not there: one load job into the table
    n_big = pq.ParquetFile(big).metadata.num_rows
    assert warehouse.replace_month_from_uri(GREEN.table, GREEN.all_columns, JAN, uri_big) == n_big
    assert loads[1] == (warehouse.table_id(f"{GREEN.table}__load_202101"), uri_big)  # replaced through staging
    assert warehouse.count_month(GREEN.table, JAN) == n_big  # the first file's rows are gone, not added to


def test_times_keep_their_wall_clock_value_in_bigquery(lake, warehouse, tmp_path):
    jan = month_parquet(tmp_path, JAN, 500)
    uri = lake.upload(jan, "green/times.parquet").uri
    warehouse.replace_month_from_uri(GREEN.table, GREEN.all_columns, JAN, uri)
    times = pq.read_table(jan, columns=["pickup_datetime"]).column(0).to_pylist()
    [row] = warehouse.query(
        f"SELECT MIN(pickup_datetime) AS lo, MAX(pickup_datetime) AS hi FROM `{warehouse.table_id(GREEN.table)}`"
    )
    assert (row["lo"], row["hi"]) == (min(times), max(times))  # naive datetimes, no zone shift


def test_a_staging_table_always_carries_an_expiry(lake, warehouse, tmp_path, monkeypatch):
    # load_staging is what a crashed swap leaves behind: it is created with an expiry and appended to
    # (WRITE_TRUNCATE would replace it, dropping the expiry). The emulator does not keep expiries, so
    # the test records what is asked of BigQuery, and checks the rows with the emulator.
    local = month_parquet(tmp_path, JAN, 300)
    uri = lake.upload(local, "green/staging_probe.parquet").uri
    staging = warehouse.table_id(f"{GREEN.table}__load_probe")
    created, loads = [], []
    with contextlib.closing(warehouse.client()) as client:
        real_create, real_load = client.create_table, client.load_table_from_uri
        monkeypatch.setattr(client, "create_table", lambda t, **kw: created.append(t) or real_create(t, **kw))
        monkeypatch.setattr(client, "load_table_from_uri",
                            lambda u, d, job_config, **kw: loads.append(job_config) or real_load(u, d, job_config=job_config, **kw))
        warehouse.ensure_dataset(client)
        warehouse.load_staging(client, staging, GREEN.all_columns, uri)
        assert client.get_table(staging).num_rows == pq.ParquetFile(local).metadata.num_rows
        client.delete_table(staging)
    [table] = [t for t in created if t.table_id.endswith("__load_probe")]
    assert table.expires is not None and table.expires > dt.datetime.now(dt.timezone.utc)
    assert [j.write_disposition for j in loads] == ["WRITE_APPEND"]
