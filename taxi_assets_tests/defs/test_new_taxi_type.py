"""Adding a taxi type is one record: a type defined here only (a copy of green under another name,
with its pickup column spelled differently in the source header) gets its assets, checks, job,
schedule and sensor from `build_taxi_defs`, and a sample month of it loads into every store."""

import dataclasses
import datetime as dt
import gzip

import dagster as dg

from taxi_assets.defs.freshness import CHECK_NAME

from taxi_assets import TAXI_TYPES, Layout, build_taxi_defs, shared_defs
from taxi_assets import report
from taxi_assets.localstack import sample
from taxi_assets_tests.helpers import expected_kept

MONTH = dt.date(2021, 2, 1)


def teal_record():
    green = TAXI_TYPES["green"]
    columns = tuple(
        dataclasses.replace(c, sources=("lpep_pickup_at",)) if c.name == "pickup_datetime" else c for c in green.columns
    )
    dtc = green.layout("csv.gz")
    header = tuple("lpep_pickup_at" if h == "lpep_pickup_datetime" else h for h in dtc.headers)
    return dataclasses.replace(
        green, name="teal", description="Teal test taxis: green under another name.", columns=columns,
        layouts=(Layout("dtc", "csv.gz", header),),
    )


def test_a_record_defined_in_a_test_gets_every_definition():
    teal = teal_record()
    defs = build_taxi_defs(teal)
    keys = {k.to_user_string() for a in defs.assets for k in a.keys}
    assert keys == {f"teal/{n}" for n in ("raw_file", "cleaned_parquet", "postgres_table", "gcs_object", "bigquery_table")}
    assert {j.name for j in defs.jobs} == {"teal_taxi_job"}
    assert {s.name for s in defs.schedules} == {"teal_monthly_schedule"}
    assert {s.name for s in defs.sensors} == {"teal_new_file_sensor", "teal_republished_file_sensor"}
    checks = {(k.asset_key.to_user_string(), k.name) for c in defs.asset_checks for k in c.check_keys}
    assert ("teal/cleaned_parquet", "rows_reconcile_with_raw") in checks
    assert ("teal/bigquery_table", "rows_reconcile_with_parquet") in checks


def test_a_new_type_loads_a_sample_month_into_every_store(pipeline_env, tmp_path, monkeypatch):
    teal = teal_record()
    site = tmp_path / "site"
    path = sample.write_month(site, teal, MONTH, rows=3_000)
    assert gzip.decompress(path.read_bytes()).split(b"\r\n", 1)[0].split(b",")[1] == b"lpep_pickup_at"
    monkeypatch.setenv("TAXI_SOURCE_URL", site.as_uri() + "/{taxi}/{taxi}_tripdata_{year}-{month}.csv.gz")
    defs = dg.Definitions.merge(shared_defs(), build_taxi_defs(teal))
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("teal_taxi_job").execute_in_process(partition_key=MONTH.isoformat(), instance=instance)
    assert result.success
    failed = [(e.asset_key.to_user_string(), e.check_name) for e in result.get_asset_check_evaluations() if not e.passed]
    # the freshness check judges the type's newest month (2021-01 of a source that has up to 2021-07): WARN
    assert failed == [("teal/bigquery_table", CHECK_NAME)]
    rows_in, dropped = expected_kept(path, teal.drop_zero_passengers)
    assert dropped > 0
    counts = {store: rows for store, (_, rows) in report.store_counts(teal, MONTH).items()}
    assert counts == dict.fromkeys(("parquet", "postgres", "gcs", "bigquery"), rows_in - dropped)
