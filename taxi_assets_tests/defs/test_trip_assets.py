import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from taxi_assets import report
from taxi_assets_tests.pipeline import taxi_zone_lookup, trip_assets
from taxi_assets_tests.pipeline import build_resources, stores
from taxi_assets.core.taxi_types import TAXI_TYPES
from taxi_assets_tests.helpers import expected_kept, refusal

JAN, FEB = dt.date(2021, 1, 1), dt.date(2021, 2, 1)


def materialize(taxi: str, month: dt.date, raise_on_error=True) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*trip_assets],
        selection=dg.AssetSelection.groups(taxi),
        partition_key=month.isoformat(),
        resources=build_resources(),
        raise_on_error=raise_on_error,
    )


def store_counts(taxi: str, month: dt.date) -> dict[str, int]:
    return {store: rows for store, (_, rows) in report.store_counts(taxi, month).items()}


def mat_metadata(result: dg.ExecuteInProcessResult, taxi: str, name: str) -> dict:
    [m] = [e.materialization for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey([taxi, name])]
    return {k: v.value for k, v in m.metadata.items()}


@pytest.mark.parametrize("taxi, pipeline_env", [("yellow", "local"), ("green", "local"), ("fhv", "local"),
                                                ("fhvhv", "local"), ("yellow", "gcs"), ("fhvhv", "gcs")],
                         indirect=["pipeline_env"])
def test_a_month_end_to_end_equal_counts_everywhere(pipeline_env, sample_site, taxi, tmp_path):
    result = materialize(taxi, JAN)
    assert result.success
    if pipeline_env["TAXI_DATA_DIR"].startswith("gs://"):  # the files are objects, not on a local disk
        assert not (tmp_path / "data").exists()
        for name in ("raw_file", "cleaned_parquet"):
            assert mat_metadata(result, taxi, name)["dagster/uri"].startswith(pipeline_env["TAXI_DATA_DIR"] + f"/{taxi}/{name}/")
        assert report.store_counts(taxi, JAN)["parquet"][0].startswith("gs://")
    rows_in, dropped = expected_kept(sample_site / taxi / f"{taxi}_tripdata_2021-01.csv.gz", TAXI_TYPES[taxi].drop_zero_passengers)
    counts = store_counts(taxi, JAN)
    assert counts == dict.fromkeys(counts, rows_in - dropped)
    meta = mat_metadata(result, taxi, "cleaned_parquet")
    assert (meta["rows_in"], meta["rows_dropped_zero_passengers"]) == (rows_in, dropped)
    assert all(v not in ("", None) for v in meta.values()), meta  # no empty rows in the UI (issue 14)
    assert "unknown_columns" not in meta  # the sample has no unknown column
    assert mat_metadata(result, taxi, "postgres_table")["dagster/row_count"] == rows_in - dropped


def test_materializing_again_changes_no_count_and_months_stay_independent(pipeline_env):
    assert materialize("yellow", JAN).success
    jan = store_counts("yellow", JAN)
    assert materialize("yellow", FEB).success
    feb = store_counts("yellow", FEB)
    assert materialize("yellow", JAN).success
    assert store_counts("yellow", JAN) == jan
    assert store_counts("yellow", FEB) == feb
    assert jan["postgres"] != feb["postgres"]


def test_missing_month_fails_cleanly_and_loads_nothing(pipeline_env):
    assert materialize("green", JAN).success
    before = store_counts("green", JAN)
    result = materialize("green", dt.date(2020, 6, 1), raise_on_error=False)
    assert not result.success
    failures = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert [e.step_key for e in failures] == ["green__raw_file"]
    assert "green 2020-06" in str(failures[0].event_specific_data.error.message) or "green 2020-06" in str(
        failures[0].event_specific_data.error
    )
    assert result.asset_materializations_for_node("green__load_month") == []
    assert store_counts("green", JAN) == before


def test_zone_lookup_joins_trips_to_boroughs(pipeline_env):
    assert materialize("yellow", JAN).success
    result = dg.materialize([taxi_zone_lookup], resources=build_resources())
    meta = {k: v.value for k, v in result.asset_materializations_for_node("taxi_zone_lookup")[0].metadata.items()}
    assert meta["dagster/row_count"] == meta["postgres_rows"] == meta["bigquery_rows"] == 265
    with stores() as res:
        _check_zone_join(res)


def _check_zone_join(res):
    wh = res.bigquery
    rows = wh.query(
        f"SELECT z.borough, COUNT(*) AS n FROM `{wh.table_id('yellow_taxi_trips')}` t "
        f"JOIN `{wh.table_id('taxi_zone_lookup')}` z ON t.pu_location_id = z.location_id "
        "GROUP BY z.borough ORDER BY n DESC"
    )
    boroughs = {r["borough"] for r in rows}
    assert {"Manhattan", "Queens", "Brooklyn"} <= boroughs
    assert sum(r["n"] for r in rows) == wh.count_month("yellow_taxi_trips", JAN)
    na = wh.query(f"SELECT zone FROM `{wh.table_id('taxi_zone_lookup')}` WHERE location_id = 265")
    assert na == [{"zone": "NA"}]
    with res.postgres.connect() as conn:
        schema = res.postgres.db_schema
        assert conn.execute(f'SELECT zone FROM "{schema}".taxi_zone_lookup WHERE location_id = 265').fetchone() == ("NA",)


def test_failed_download_leaves_nothing_in_staging(pipeline_env, source_server):
    source_server.script("/fhv/fhv_tripdata_2021-03.csv.gz", ["truncate"])
    result = materialize("fhv", dt.date(2021, 3, 1), raise_on_error=False)
    assert not result.success
    staging = Path(pipeline_env["TAXI_DATA_DIR"]) / ".staging"
    assert staging.is_dir()  # the download was staged there ...
    assert list(staging.iterdir()) == []  # ... and removed with the failure


def test_template_without_month_fails_at_once(pipeline_env, source_server, monkeypatch):
    monkeypatch.setenv("TAXI_SOURCE_URL", source_server.url + "/{taxi}/{taxi}_tripdata_{year}-01.csv.gz")
    result = materialize("yellow", FEB, raise_on_error=False)
    assert not result.success
    # refused by the preflight when the run starts: no step ran, so nothing was retried or touched
    assert "{month}" in refusal(result) and "refused before any step ran" in refusal(result)
    assert not [e for e in result.all_events if e.event_type in (dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_UP_FOR_RETRY)]


def test_a_token_in_the_source_url_stays_out_of_metadata_and_logs(pipeline_env, source_server, monkeypatch):
    secret = "tok-" + "9f8e7d6c5b4a"
    monkeypatch.setenv("TAXI_SOURCE_URL", source_server.url + "/{taxi}/{taxi}_tripdata_{year}-{month}.csv.gz?token=" + secret)
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [*trip_assets], selection=dg.AssetSelection.assets(dg.AssetKey(["yellow", "raw_file"])),
            partition_key=JAN.isoformat(), resources=build_resources(), instance=instance,
        )
        assert result.success
        meta = mat_metadata(result, "yellow", "raw_file")
        assert meta["source_url"].endswith("?token=***")
        stored = instance.all_logs(result.run_id)
        assert stored and not [e for e in stored if secret in str(e)]


def test_run_config_schema_override_loads_there_and_checks_follow(pipeline_env):
    from taxi_assets_tests.pipeline import trip_checks

    other = pipeline_env["TAXI_POSTGRES_SCHEMA"] + "_alt"
    result = dg.materialize(
        [*trip_assets, *trip_checks],
        selection=dg.AssetSelection.groups("fhv"),
        partition_key=JAN.isoformat(),
        resources=build_resources(),
        run_config={"ops": {"fhv__load_month": {"config": {"db_schema": other}}}},
    )
    assert result.success
    pg_check = next(
        c for c in result.get_asset_check_evaluations()
        if c.asset_key == dg.AssetKey(["fhv", "postgres_table"]) and c.check_name == "rows_reconcile_with_parquet"
    )
    assert pg_check.passed, pg_check.description
    assert mat_metadata(result, "fhv", "postgres_table")["dagster/table_name"] == f"{other}.fhv_taxi_trips"
    with stores() as res:
        with res.postgres.connect() as conn:
            n = conn.execute(f'SELECT count(*) FROM "{other}".fhv_taxi_trips').fetchone()[0]
    assert n == pg_check.metadata["rows"].value > 0
