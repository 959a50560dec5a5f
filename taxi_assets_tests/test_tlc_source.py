"""The TLC's own source (issue 15, acceptance): with `TAXI_SOURCE=tlc`, a month of every listed era --
each a small parquet file with that month's real column names and physical types, served over
loopback HTTP by a server that answers 403 for anything else, as CloudFront does -- loads through
the whole job into the same tables, its counts reconciled in every store (the asset checks run in
the same runs) and every column the month's file carries populated in Postgres and BigQuery.
The current zone lookup ("N/A" rows, LF) loads as text, and a fhvhv month joins to zone names in
BigQuery. About 2 minutes (eleven months through every store)."""

import datetime as dt
import os

import dagster as dg
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from taxi_assets import report
from taxi_assets.core.config import load_settings
from taxi_assets.core.formats import is_pandas_index
from taxi_assets.core.taxi_types import TAXI_TYPES
from taxi_assets.defs.taxi import build_taxi_defs
from taxi_assets.defs.zones import taxi_zone_lookup
from taxi_assets.localstack import sample
from taxi_assets_tests.http_source import SourceServer
from taxi_assets_tests.pipeline import build_resources, stores

MONTHS = [("yellow", "2009-01"), ("yellow", "2010-02"), ("yellow", "2015-06"), ("yellow", "2023-02"),
          ("yellow", "2025-01"), ("green", "2014-01"), ("green", "2025-01"), ("fhv", "2015-01"), ("fhv", "2025-01"),
          ("fhvhv", "2019-02"), ("fhvhv", "2025-01")]
ROWS = 600


@pytest.fixture(scope="module")
def tlc_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("tlc")
    for taxi, month in MONTHS:
        sample.write_tlc_parquet(root, taxi, dt.date.fromisoformat(month + "-01"), rows=ROWS)
    sample.write_zones(root, current=True)
    with SourceServer(root, missing_status=403) as server:
        yield server


@pytest.fixture
def tlc_env(pipeline_env, tlc_site, monkeypatch):
    monkeypatch.setenv("TAXI_SOURCE", "tlc")
    monkeypatch.setenv("TAXI_SOURCE_URL", tlc_site.url + "/{taxi}/{taxi}_tripdata_{year}-{month}.parquet")
    monkeypatch.setenv("TAXI_ZONES_URL", tlc_site.url + "/misc/taxi_zone_lookup.csv")
    return pipeline_env


def expected_rows(path, taxi) -> int:
    """Rows of the source file, less the zero-passenger rows where the rule applies (pyarrow, not the transform)."""
    t = pq.read_table(path)
    col = taxi.passenger_count
    if not taxi.drop_zero_passengers:
        return t.num_rows
    name = next(h for h in t.column_names if col.matches(h))
    return t.num_rows - (pc.sum(pc.fill_null(pc.equal(t.column(name), 0), False).cast("int64")).as_py() or 0)


def populated_columns(taxi, month: dt.date) -> set[str]:
    """The columns the month's layout feeds with values: every header but the all-NULL ones, and
    the text columns of codes the era writes as text."""
    layout = taxi.layout("parquet", month)
    out = set()
    for header, typ in zip(layout.headers, layout.types):
        if header in layout.empty or is_pandas_index(header):
            continue
        col = taxi.column_for(header)
        out.add(col.name)
        if col.text_column and str(typ) == "string":
            out.add(col.text_column)
    return out


def test_every_era_of_the_tlc_files_loads_into_the_same_tables(tlc_env, tlc_site):
    settings = load_settings()
    assert settings.zones_url.endswith("/misc/taxi_zone_lookup.csv")
    zones = dg.materialize([taxi_zone_lookup], resources=build_resources())
    assert zones.success
    for taxi_name, key in MONTHS:
        taxi, month = TAXI_TYPES[taxi_name], dt.date.fromisoformat(key + "-01")
        d = build_taxi_defs(taxi, settings)
        result = dg.materialize([*d.assets, *d.asset_checks], partition_key=month.isoformat(), resources=build_resources(),
                                raise_on_error=False)
        assert result.success, (taxi_name, key, [e.message for e in result.all_events if e.is_failure])
        checks = [e.event_specific_data for e in result.all_events if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION]
        reconciles = [c for c in checks if c.check_name.startswith("rows_reconcile")]
        assert len(reconciles) == 4 and all(c.passed for c in reconciles), (taxi_name, key, reconciles)

        source = tlc_site.root / taxi_name / f"{taxi_name}_tripdata_{key}.parquet"
        rows = expected_rows(source, taxi)
        counts = {store: n for store, (_, n) in report.store_counts(taxi, month).items()}
        assert counts == dict.fromkeys(("parquet", "postgres", "gcs", "bigquery"), rows), (taxi_name, key, counts)

        names = [c.name for c in taxi.all_columns]
        want = populated_columns(taxi, month)
        with stores() as res:
            with res.postgres.connect() as conn:
                pg = conn.execute(
                    "SELECT " + ", ".join(f'count("{n}")' for n in names)
                    + f' FROM "{res.postgres.db_schema}"."{taxi.table}" WHERE source_month = %s', (month,)
                ).fetchone()
            [bq] = res.bigquery.query(
                "SELECT " + ", ".join(f"COUNT(`{n}`) AS `{n}`" for n in names)
                + f" FROM `{res.bigquery.table_id(taxi.table)}` WHERE source_month = DATE '{month.isoformat()}'"
            )
        pg_filled = {n for n, c in zip(names, pg) if c}
        bq_filled = {n for n in names if bq[n]}
        assert want - pg_filled == set() and want - bq_filled == set(), (taxi_name, key, want - pg_filled, want - bq_filled)
        # and nothing is filled that the file did not carry (coordinates stay NULL after 2010, fees before they existed)
        assert pg_filled - want - {"source_month"} == set(), (taxi_name, key, pg_filled - want)

    # one table per type, every month in it
    with stores() as res, res.postgres.connect() as conn:
        for taxi_name in TAXI_TYPES:
            months = {r[0].isoformat()[:7] for r in conn.execute(
                f'SELECT DISTINCT source_month FROM "{res.postgres.db_schema}"."{TAXI_TYPES[taxi_name].table}"')}
            assert months == {m for t, m in MONTHS if t == taxi_name}


def test_the_current_zone_file_keeps_na_as_text_and_fhvhv_joins_to_zone_names(tlc_env, tlc_site):
    assert dg.materialize([taxi_zone_lookup], resources=build_resources()).success
    with stores() as res:
        rows = res.bigquery.query(
            f"SELECT location_id, borough, zone, service_zone FROM `{res.bigquery.table_id('taxi_zone_lookup')}` "
            "WHERE location_id >= 264 ORDER BY location_id"
        )
    assert [tuple(r.values()) for r in rows] == [(264, "Unknown", "N/A", "N/A"), (265, "N/A", "Outside of NYC", "N/A")]

    taxi, month = TAXI_TYPES["fhvhv"], dt.date(2025, 1, 1)
    d = build_taxi_defs(taxi, load_settings())
    assert dg.materialize(list(d.assets), partition_key=month.isoformat(), resources=build_resources()).success
    joined = report.borough_join(taxi, month, limit=10)
    source = pq.read_table(tlc_site.root / "fhvhv" / "fhvhv_tripdata_2025-01.parquet", columns=["PULocationID"])
    assert sum(r["trips"] for r in joined) == source.num_rows  # every trip found its zone (ids 1..265)
    assert {r["borough"] for r in joined} <= {z[1] for z in sample.zone_rows()} | {"N/A"}
