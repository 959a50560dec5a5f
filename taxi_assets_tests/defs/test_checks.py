"""Asset checks (`taxi_assets.defs.checks`): they pass on clean sample data and fail, with counts and
the documented severity, on planted bad data and on stores that do not reconcile."""

import datetime as dt
import gzip
import io
import os

import dagster as dg
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from taxi_assets.localstack import sample
from taxi_assets_tests.pipeline import trip_assets
from taxi_assets.core.quality import RULES
from taxi_assets.defs.checks import cleaned_frame_type, to_frame
from taxi_assets.defs.resources import SourceResource as TaxiSource
from taxi_assets_tests.pipeline import TAXI_DEFS, build_resources, stores, trip_checks
from taxi_assets.core.taxi_types import TAXI_TYPES
from taxi_assets.defs.freshness import CHECK_NAME

MONTH = dt.date(2021, 3, 1)
ROWS = 2_000
ERROR, WARN = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN


def run(taxi: str, site, checks_only: bool = False, instance: dg.DagsterInstance | None = None,
        only: str | None = None) -> dg.ExecuteInProcessResult:
    """Materialize the type's month (or only the asset `only`, or only the checks) in `instance`
    (default: an ephemeral instance of its own, which knows no earlier materialization)."""
    res = build_resources()
    res["source"] = TaxiSource(url_template=site.as_uri() + "/{taxi}/{taxi}_tripdata_{year}-{month}.csv.gz", file_root=str(site))
    if not checks_only:
        return dg.materialize(
            [*trip_assets, *trip_checks],
            selection=dg.AssetSelection.assets(dg.AssetKey([taxi, only])) if only else dg.AssetSelection.groups(taxi),
            partition_key=MONTH.isoformat(),
            resources=res,
            instance=instance,
            raise_on_error=False,
        )
    # the checks of the month alone, as the UI's "Execute checks" runs them: no asset materialized
    job = dg.define_asset_job(
        "checks_only",
        selection=dg.AssetSelection.checks_for_assets(*[k for a in trip_assets for k in a.keys if k.path[0] == taxi]),
    )
    defs = dg.Definitions(assets=trip_assets, asset_checks=trip_checks, jobs=[job], resources=res)
    # (partition_key= would look for a partitioned asset in the selection; the run tag is what it sets)
    return defs.resolve_job_def("checks_only").execute_in_process(
        tags={"dagster/partition": MONTH.isoformat()}, instance=instance, raise_on_error=False
    )


def evaluations(result) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}


@pytest.mark.parametrize("taxi", sorted(TAXI_TYPES))
def test_every_check_passes_on_clean_sample_data(pipeline_env, tmp_path, taxi):
    sample.write_month(tmp_path, taxi, MONTH, rows=ROWS)
    result = run(taxi, tmp_path)
    assert result.success
    evals = evaluations(result)
    expected = {(spec.asset_key.path[-1], spec.name) for c in TAXI_DEFS[taxi].asset_checks for spec in c.check_specs}
    assert set(evals) == expected
    assert {("cleaned_parquet", "rows_reconcile_with_raw"), ("postgres_table", "rows_reconcile_with_parquet"),
            ("gcs_object", "rows_reconcile_with_parquet"), ("bigquery_table", "rows_reconcile_with_parquet"),
            ("cleaned_parquet", "schema_contract"), ("cleaned_parquet", "pickups_in_month")} <= expected
    # the freshness check judges the type's newest month, not this one (2021-01 of a source that has 2021-07):
    # defs/test_freshness.py
    failed = {k: e.description for k, e in evals.items() if not e.passed and k[1] != CHECK_NAME}
    assert failed == {}
    assert all(e.partition == MONTH.isoformat() for k, e in evals.items() if k[1] != CHECK_NAME)
    raw = evals[("cleaned_parquet", "rows_reconcile_with_raw")].metadata
    assert raw["difference"].value == 0 and raw["raw_rows"].value == ROWS
    assert raw["raw_rows_from"].value == "the cleaning step's count of the raw file"  # not read again
    if TAXI_TYPES[taxi].drop_zero_passengers:  # not fhv, fhvhv: no passenger count
        assert raw["raw_zero_passenger_rows"].value > 0
    # what is compared, not measured over time, is text (the UI plots numbers): issue 14
    schema = evals[("cleaned_parquet", "schema_contract")].metadata
    assert schema["columns"] == dg.MetadataValue.text(str(len(TAXI_TYPES[taxi].arrow_schema)))
    assert isinstance(evals[("cleaned_parquet", "pickups_in_month")].metadata["thresholds"], dg.TextMetadataValue)


def _planted_yellow(site) -> list[dict]:
    """A yellow month with bad rows planted; returns the rows the cleaning keeps (as strings)."""
    table = sample.generate_table(TAXI_TYPES["yellow"], MONTH, ROWS).to_pylist()
    for i, row in enumerate(table):
        if i < 200:  # 10 %: another month -> ERROR (above 5 %)
            row["tpep_pickup_datetime"] = "2020-05-04 10:00:00"
            row["tpep_dropoff_datetime"] = "2020-05-04 10:20:00"
        elif i < 260:  # +3 %: refunds -> about 3.5 % with the sample's own: WARN (2 %..10 %)
            row["total_amount"] = "-12.5"
        elif i < 270:  # 0.5 %: ends before it starts -> WARN (0.1 %..1 %)
            row["tpep_dropoff_datetime"] = "2021-03-01 00:00:00"
            row["tpep_pickup_datetime"] = "2021-03-01 00:10:00"
        elif i < 310:  # 2 %: zone 300 -> ERROR (above 1 %)
            row["PULocationID"] = "300"
        if i < 310:
            row["passenger_count"] = "1"  # planted rows are kept by the cleaning rule
    dest = sample.source_path(site, "yellow", MONTH)
    dest.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    pacsv.write_csv(pa.Table.from_pylist(table), buf, pacsv.WriteOptions(quoting_style="none"))
    dest.write_bytes(gzip.compress(buf.getvalue().replace(b'"', b"")))
    return [r for r in table if r["passenger_count"] != "0"]


def _expected_flags(kept: list[dict]) -> dict[str, int]:
    """The rules, evaluated in plain Python on the planted rows (not the code under test)."""
    ym = MONTH.strftime("%Y-%m")
    money = ["fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount", "improvement_surcharge",
             "total_amount", "congestion_surcharge"]
    return {
        "pickups_in_month": sum(1 for r in kept if not r["tpep_pickup_datetime"].startswith(ym)),
        "no_negative_amounts": sum(1 for r in kept if any(r[m] and float(r[m]) < 0 for m in money)),
        "dropoff_not_before_pickup": sum(1 for r in kept if r["tpep_dropoff_datetime"] < r["tpep_pickup_datetime"]),
        "known_zone_ids": sum(
            1 for r in kept for z in [(r["PULocationID"], r["DOLocationID"])] if any(v and not 1 <= int(v) <= 265 for v in z)
        ),
    }


def test_quality_checks_fail_with_counts_and_severity_on_planted_bad_data(pipeline_env, tmp_path):
    kept = _planted_yellow(tmp_path)
    expected = _expected_flags(kept)
    result = run("yellow", tmp_path)
    # the cleaned_parquet checks are blocking: a month with ERROR findings is not loaded further
    assert not result.success
    for name in ("postgres_table", "gcs_object", "bigquery_table"):
        assert result.asset_materializations_for_node(f"yellow__{name}") == [], name
    evals = evaluations(result)
    severity = {"pickups_in_month": ERROR, "no_negative_amounts": WARN, "dropoff_not_before_pickup": WARN, "known_zone_ids": ERROR}
    for name, sev in severity.items():
        e = evals[("cleaned_parquet", name)]
        meta = {k: v.value for k, v in e.metadata.items()}
        assert not e.passed, name
        assert e.severity == sev, (name, e.severity, meta["share"])
        assert meta["flagged_rows"] == expected[name], name
        assert meta["rows"] == len(kept)
        assert meta["thresholds"] == f"passes up to {RULES[name].pass_max:.2%}, ERROR above {RULES[name].error_above:.2%}"
        assert f"{expected[name]} of {len(kept)} rows" in e.description
    # the counts still reconcile: bad data is reported, not dropped
    for key in [("cleaned_parquet", "rows_reconcile_with_raw"), ("cleaned_parquet", "schema_contract")]:
        assert evals[key].passed, evals[key].description


def test_reconciliation_checks_fail_with_counts_when_a_store_lost_rows(pipeline_env, tmp_path):
    sample.write_month(tmp_path, "yellow", MONTH, rows=ROWS)
    assert run("yellow", tmp_path).success
    ttype = TAXI_TYPES["yellow"]
    schema = pipeline_env["TAXI_POSTGRES_SCHEMA"]
    with psycopg.connect(os.environ["TAXI_POSTGRES_URL"]) as conn:
        ids = conn.execute(f'SELECT ctid FROM "{schema}".{ttype.table} WHERE source_month = %s LIMIT 7', (MONTH,)).fetchall()
        conn.execute(f'DELETE FROM "{schema}".{ttype.table} WHERE ctid = ANY(%s)', ([i[0] for i in ids],))
    with stores() as res:
        parquet = res.file_store.path_for(("yellow", "cleaned_parquet"), MONTH.isoformat())
        rows = pq.ParquetFile(parquet).metadata.num_rows
        short = tmp_path / "short.parquet"
        pq.write_table(pq.read_table(parquet).slice(0, rows - 3), short)
        res.lake.upload(short, ttype.lake_object(MONTH))
        wh = res.bigquery
        gone = wh.query(f"SELECT COUNT(*) AS n FROM `{wh.table_id(ttype.table)}` WHERE pu_location_id = 1")[0]["n"]
        wh.client().query(f"DELETE FROM `{wh.table_id(ttype.table)}` WHERE pu_location_id = 1").result()

    result = run("yellow", tmp_path, checks_only=True)
    assert result.get_asset_materialization_events() == []  # only the checks ran
    evals = evaluations(result)
    for store, missing in (("postgres_table", 7), ("gcs_object", 3), ("bigquery_table", gone)):
        e = evals[(store, "rows_reconcile_with_parquet")]
        assert not e.passed and e.severity == ERROR
        assert e.metadata["difference"].value == -missing, store
        assert e.metadata["parquet_rows"].value == rows
    assert evals[("cleaned_parquet", "rows_reconcile_with_raw")].passed


def test_raw_to_parquet_reconciliation_fails_when_the_parquet_lost_rows(pipeline_env, tmp_path):
    sample.write_month(tmp_path, "green", MONTH, rows=ROWS)
    assert run("green", tmp_path).success
    with stores() as res:
        parquet = res.file_store.path_for(("green", "cleaned_parquet"), MONTH.isoformat())
    t = pq.read_table(parquet)
    pq.write_table(t.slice(0, t.num_rows - 11), parquet)
    e = evaluations(run("green", tmp_path, checks_only=True))[("cleaned_parquet", "rows_reconcile_with_raw")]
    assert not e.passed and e.severity == ERROR
    assert e.metadata["difference"].value == -11
    assert "expected" in e.description
    # a new instance has no record of the cleaning step's count: the raw file was counted again
    assert e.metadata["raw_rows_from"].value == "counted again from the raw file"
    assert e.metadata["raw_rows"].value == ROWS


def test_raw_reconciliation_uses_the_step_count_unless_the_raw_file_is_newer(pipeline_env, tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    sample.write_month(tmp_path, "yellow", MONTH, rows=ROWS)
    assert run("yellow", tmp_path, instance=instance).success
    with stores() as res:
        parquet = res.file_store.path_for(("yellow", "cleaned_parquet"), MONTH.isoformat())
    t = pq.read_table(parquet)
    pq.write_table(t.slice(0, t.num_rows - 5), parquet)
    e = evaluations(run("yellow", tmp_path, checks_only=True, instance=instance))[("cleaned_parquet", "rows_reconcile_with_raw")]
    assert not e.passed and e.metadata["difference"].value == -5
    assert e.metadata["raw_rows_from"].value == "the cleaning step's count of the raw file"

    # the source republished a bigger month and only raw_file was materialized: the parquet's count is
    # older than the raw file, so the check reads the raw file again and finds the parquet short
    sample.write_month(tmp_path, "yellow", MONTH, rows=ROWS + 300)
    assert run("yellow", tmp_path, instance=instance, only="raw_file").success
    e = evaluations(run("yellow", tmp_path, checks_only=True, instance=instance))[("cleaned_parquet", "rows_reconcile_with_raw")]
    assert not e.passed
    assert e.metadata["raw_rows_from"].value == "counted again from the raw file"
    assert e.metadata["raw_rows"].value == ROWS + 300


def test_cleaned_frame_type_is_a_dagster_pandas_contract(tmp_path):
    src = sample.write_month(tmp_path, "fhv", MONTH, rows=300)
    from taxi_assets.core.transform import write_parquet

    write_parquet(src, tmp_path / "o.parquet", TAXI_TYPES["fhv"], MONTH)
    frame = to_frame(pq.read_table(tmp_path / "o.parquet"))
    ftype = cleaned_frame_type(TAXI_TYPES["fhv"])
    assert dg.check_dagster_type(ftype, frame).success
    broken = frame.assign(pickup_datetime=frame["pickup_datetime"].astype(str))
    assert not dg.check_dagster_type(ftype, broken).success
    assert not dg.check_dagster_type(ftype, frame.drop(columns=["source_month"])).success
