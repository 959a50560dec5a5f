"""Schema contracts across eras and sources: every header variant lands in the one schema.

- through the whole pipeline (dg.materialize, every store): a 2019 csv.gz month, a 2021 csv.gz
  month (the DataTalksClub releases) and a 2024 parquet month (the TLC's files) of each type load
  into the same tables with the same columns;
- through the transform: the original 2017-2018 CSVs, 2025 parquet (`cbd_congestion_fee`),
  `airport_fee` vs `Airport_fee`, NaN in a parquet double that feeds an integer, an unknown extra
  column (reported, not a crash), a missing required column (expected and found listed).
"""

import datetime as dt
import os

import dagster as dg
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from taxi_assets import report
from taxi_assets.localstack import sample
from taxi_assets.core.config import load_settings
from taxi_assets.defs.taxi import build_taxi_defs
from taxi_assets.defs.resources import SourceResource as TaxiSource
from taxi_assets_tests.pipeline import build_resources, stores
from taxi_assets.core.taxi_types import TAXI_TYPES
from taxi_assets.core.errors import TaxiFileError
from taxi_assets.core.transform import write_parquet
from taxi_assets_tests.helpers import expected_kept

CSV_2019, CSV_2021, PARQUET_2024 = dt.date(2019, 3, 1), dt.date(2021, 6, 1), dt.date(2024, 2, 1)
ROWS = 800


def parquet_expected(path, drops_zero: bool) -> int:
    t = pq.read_table(path)
    if not drops_zero:
        return t.num_rows
    zeros = pc.sum(pc.fill_null(pc.equal(t.column("passenger_count"), 0), False).cast(pa.int64())).as_py()
    return t.num_rows - zeros


def materialize(taxi: str, month: dt.date, template: str) -> dg.ExecuteInProcessResult:
    """One month of `taxi` with the TLC's partitions (2019 to now: the DataTalksClub's end in 2021-07)."""
    res = build_resources()
    res["source"] = TaxiSource(url_template=template, file_root=os.environ["TAXI_SOURCE_FILE_ROOT"])
    assets = build_taxi_defs(TAXI_TYPES[taxi], load_settings({**os.environ, "TAXI_SOURCE": "tlc"})).assets
    return dg.materialize(list(assets), partition_key=month.isoformat(), resources=res)


@pytest.mark.parametrize("taxi", sorted(TAXI_TYPES))
def test_2019_csv_2021_csv_and_2024_parquet_load_into_the_same_tables(pipeline_env, tmp_path, taxi, monkeypatch):
    monkeypatch.setenv("TAXI_SOURCE", "tlc")  # the preflight checks the month against the TLC's partitions
    ttype = TAXI_TYPES[taxi]
    site = tmp_path / "site"
    expected = {}
    for month in (CSV_2019, CSV_2021):
        src = sample.write_month(site, taxi, month, rows=ROWS)
        rows_in, dropped = expected_kept(src, ttype.drop_zero_passengers)
        expected[month] = rows_in - dropped
    tlc = sample.write_tlc_parquet(site, taxi, PARQUET_2024, rows=ROWS)
    expected[PARQUET_2024] = parquet_expected(tlc, ttype.drop_zero_passengers)

    base = site.as_uri() + "/{taxi}/{taxi}_tripdata_{year}-{month}"
    formats = {}
    for month, suffix in ((CSV_2019, ".csv.gz"), (CSV_2021, ".csv.gz"), (PARQUET_2024, ".parquet")):
        result = materialize(taxi, month, base + suffix)
        [m] = result.asset_materializations_for_node(f"{taxi}__cleaned_parquet")
        formats[month] = m.metadata["source_format"].value
        assert "unknown_columns" not in m.metadata  # written only when there are some

    assert formats == {CSV_2019: "csv.gz", CSV_2021: "csv.gz", PARQUET_2024: "parquet"}
    for month, rows in expected.items():
        counts = {store: n for store, (_, n) in report.store_counts(taxi, month).items()}
        assert counts == dict.fromkeys(counts, rows), (month, counts)

    # one schema: every month's parquet, the Postgres table, the BigQuery table
    with stores() as res:
        for month in expected:
            path = res.file_store.path_for((taxi, "cleaned_parquet"), month.isoformat())
            assert pq.read_schema(path).equals(ttype.arrow_schema, check_metadata=False)
        names = [c.name for c in ttype.all_columns]
        with psycopg.connect(os.environ["TAXI_POSTGRES_URL"]) as conn:
            pg_cols = [
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                    "ORDER BY ordinal_position",
                    (pipeline_env["TAXI_POSTGRES_SCHEMA"], ttype.table),
                )
            ]
            months = [r[0] for r in conn.execute(
                f'SELECT DISTINCT source_month FROM "{pipeline_env["TAXI_POSTGRES_SCHEMA"]}".{ttype.table} ORDER BY 1'
            )]
        assert pg_cols == names
        assert months == sorted(expected)
        bq = res.bigquery.client().get_table(res.bigquery.table_id(ttype.table))
        assert [f.name for f in bq.schema] == names

    if taxi == "yellow":  # the parquet era's airport fee arrives; the csv era has none
        with stores() as res:
            fees = {
                m: pq.read_table(res.file_store.path_for((taxi, "cleaned_parquet"), m.isoformat()),
                                 columns=["airport_fee"]).column(0).null_count
                for m in expected
            }
        assert fees[PARQUET_2024] == 0 and fees[CSV_2021] == expected[CSV_2021]


@pytest.mark.parametrize("taxi", ["fhv", "green", "yellow"])  # fhvhv began in 2019-02
@pytest.mark.parametrize("month", [dt.date(2017, 6, 1), dt.date(2018, 11, 1)])
def test_original_2017_2018_csv(tmp_path, taxi, month):
    ttype = TAXI_TYPES[taxi]
    src = sample.write_legacy_csv(tmp_path, taxi, month, rows=500)
    assert src.read_bytes().split(b"\r\n")[1] == b"", "the blank second line"
    out = tmp_path / "o.parquet"
    stats = write_parquet(src, out, ttype, month)
    assert stats.source_format == "csv" and stats.unknown_columns == ()
    assert stats.rows_in == 500
    t = pq.read_table(out)
    assert t.schema.equals(ttype.arrow_schema, check_metadata=False)
    assert t.num_rows == stats.rows_out
    if taxi in ("yellow", "green"):
        assert "congestion_surcharge" in stats.missing_optional_columns
        assert t.column("congestion_surcharge").null_count == t.num_rows
    else:
        assert t.column("dispatching_base_num").null_count == 0  # quoted "Dispatching_base_num"
        assert t.column("dropoff_datetime").null_count == 0  # "DropOff_datetime"
        assert {"sr_flag", "affiliated_base_number"} <= set(stats.missing_optional_columns)


@pytest.mark.parametrize("taxi", sorted(TAXI_TYPES))
@pytest.mark.parametrize("month", [dt.date(2019, 1, 1), dt.date(2022, 7, 1), dt.date(2024, 2, 1), dt.date(2025, 3, 1)])
def test_tlc_parquet_every_era(tmp_path, taxi, month):
    ttype = TAXI_TYPES[taxi]
    month = max(month, ttype.published)  # fhvhv: from 2019-02
    src = sample.write_tlc_parquet(tmp_path, taxi, month, rows=400)
    headers = pq.read_schema(src).names
    out = tmp_path / "o.parquet"
    stats = write_parquet(src, out, ttype, month)
    assert stats.unknown_columns == ()
    t = pq.read_table(out)
    assert t.schema.equals(ttype.arrow_schema, check_metadata=False)
    assert t.num_rows == parquet_expected(src, ttype.drop_zero_passengers)
    if taxi == "yellow":
        assert ("Airport_fee" in headers) == (month.year > 2022)
        assert (t.column("airport_fee").null_count == 0) == (month.year >= 2021)  # all NULL before it existed
    if taxi in ("yellow", "green"):
        assert (t.column("cbd_congestion_fee").null_count == 0) == (month.year >= 2025)
    if taxi == "fhv":  # doubles in the source, integers in the schema
        assert pq.read_schema(src).field("PUlocationID").type == pa.float64()
        assert t.schema.field("pu_location_id").type == pa.int64()


def test_parquet_nan_in_an_integer_column_is_null(tmp_path):
    month = dt.date(2022, 1, 1)
    src = sample.write_tlc_parquet(tmp_path, "fhv", month, rows=50)
    t = pq.read_table(src)
    pu = t.column("PUlocationID").to_pylist()
    pu[3] = float("nan")
    t = t.set_column(t.schema.get_field_index("PUlocationID"), "PUlocationID", pa.array(pu, pa.float64()))
    pq.write_table(t, src)
    stats = write_parquet(src, tmp_path / "o.parquet", TAXI_TYPES["fhv"], month)
    assert stats.rows_out == 50
    assert pq.read_table(tmp_path / "o.parquet").column("pu_location_id")[3].as_py() is None


def test_unknown_extra_column_is_reported_not_a_crash(tmp_path):
    month = dt.date(2025, 1, 1)
    src = sample.write_tlc_parquet(tmp_path, "yellow", month, rows=100)
    t = pq.read_table(src)
    pq.write_table(t.append_column("surprise_fee", pa.array([1.0] * t.num_rows)), src)
    stats = write_parquet(src, tmp_path / "o.parquet", TAXI_TYPES["yellow"], month)
    assert stats.unknown_columns == ("surprise_fee",)
    assert "surprise_fee" not in pq.read_schema(tmp_path / "o.parquet").names


def test_missing_required_column_lists_expected_and_found(tmp_path):
    month = dt.date(2024, 2, 1)
    src = sample.write_tlc_parquet(tmp_path, "yellow", month, rows=100)
    pq.write_table(pq.read_table(src).drop_columns(["tpep_dropoff_datetime"]), src)
    with pytest.raises(TaxiFileError) as e:
        write_parquet(src, tmp_path / "o.parquet", TAXI_TYPES["yellow"], month)
    msg = str(e.value)
    assert msg.startswith("yellow 2024-02: required column(s) missing: dropoff_datetime.")
    assert "dropoff_datetime/tpep_dropoff_datetime" in msg  # expected, with its spellings
    assert "'tpep_pickup_datetime'" in msg and "'Airport_fee'" in msg  # found
    assert not (tmp_path / "o.parquet").exists()
