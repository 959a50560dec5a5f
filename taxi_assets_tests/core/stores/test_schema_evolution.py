"""Schema evolution in Postgres and BigQuery (issue 15.5): a column added to a record is added to the
existing tables in place (nullable; the months loaded before stay as they were, NULL there), and a
change that is not additive is refused naming table, column and the way out. Real Postgres and the
BigQuery emulator (the `stack` tier)."""

import dataclasses
import datetime as dt
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster_gcp import GCSResource

from taxi_assets.core.errors import SchemaChangeRefused
from taxi_assets.core.formats import parquet_batches
from taxi_assets.core.stores.bigquery import BigQueryStore
from taxi_assets.core.stores.lake import LakeStore
from taxi_assets.core.stores.postgres import PostgresStore
from taxi_assets.core.tables import Column, Role
from taxi_assets.core.taxi_types import GREEN, YELLOW
from taxi_assets.core.transform import write_parquet
from taxi_assets.localstack import sample

JAN, FEB = dt.date(2024, 1, 1), dt.date(2024, 2, 1)
NEW_FEE = Column("next_year_fee", "float", "A fee the TLC adds next year (USD).", {Role.MONEY}, ("Next_Year_Fee",), False)
NEWER = dataclasses.replace(GREEN, columns=GREEN.columns + (NEW_FEE,))


@pytest.fixture
def stores(pipeline_env):
    pg = PostgresStore(os.environ["TAXI_POSTGRES_URL"], pipeline_env["TAXI_POSTGRES_SCHEMA"])
    bq = BigQueryStore(os.environ["TAXI_BQ_PROJECT"], pipeline_env["TAXI_BQ_DATASET"])
    with LakeStore(GCSResource(project=os.environ["TAXI_GCP_PROJECT"]).get_client(), os.environ["TAXI_GCS_BUCKET"],
                   pipeline_env["TAXI_GCS_PREFIX"]) as lake:
        yield pg, lake, bq


def cleaned(tmp_path, record, month, extra: str | None = None):
    src = sample.write_tlc_parquet(tmp_path / f"site{month:%m}", "green", month, rows=400)
    if extra:  # the new column arrives in the month's file
        t = pq.read_table(src)
        pq.write_table(t.append_column(extra, pa.array([1.25] * t.num_rows)), src)
    out = tmp_path / f"{record.name}_{month:%Y%m}.parquet"
    write_parquet(src, out, record, month)
    return out


def load(stores, record, month, path):
    pg, lake, bq = stores
    pg.replace_month(record.table, record.all_columns, month, parquet_batches(path))
    uri = lake.upload(path, record.lake_object(month)).uri
    bq.replace_month_from_uri(record.table, record.all_columns, month, uri)


def test_a_column_added_to_the_schema_is_added_in_place_and_both_months_read(stores, tmp_path):
    pg, _, bq = stores
    jan = cleaned(tmp_path, GREEN, JAN)
    load(stores, GREEN, JAN, jan)
    with pg.connect() as conn:
        before = conn.execute(
            f'SELECT count(*), sum(fare_amount) FROM "{pg.db_schema}".{GREEN.table} WHERE source_month = %s', (JAN,)
        ).fetchone()

    feb = cleaned(tmp_path, NEWER, FEB, extra="Next_Year_Fee")  # the new code, a month with the new fee
    load(stores, NEWER, FEB, feb)

    n = {m: pq.ParquetFile(p).metadata.num_rows for m, p in ((JAN, jan), (FEB, feb))}
    with pg.connect() as conn:
        rows = conn.execute(
            f'SELECT source_month, count(*), count(next_year_fee), sum(fare_amount) FROM "{pg.db_schema}".{GREEN.table} '
            "GROUP BY 1 ORDER BY 1"
        ).fetchall()
        nullable = conn.execute(
            "SELECT is_nullable FROM information_schema.columns WHERE table_schema = %s AND table_name = %s AND column_name = %s",
            (pg.db_schema, GREEN.table, NEW_FEE.name),
        ).fetchone()
    assert [(m, c, f) for m, c, f, _ in rows] == [(JAN, n[JAN], 0), (FEB, n[FEB], n[FEB])]
    assert (rows[0][1], rows[0][3]) == before  # January as it was, NULL in the new column
    assert nullable == ("YES",)

    got = bq.query(
        f"SELECT source_month, COUNT(*) AS n, COUNT(next_year_fee) AS fee FROM `{bq.table_id(GREEN.table)}` "
        "GROUP BY source_month ORDER BY source_month"
    )
    assert [(r["source_month"], r["n"], r["fee"]) for r in got] == [(JAN, n[JAN], 0), (FEB, n[FEB], n[FEB])]
    field = next(f for f in bq.client().get_table(bq.table_id(GREEN.table)).schema if f.name == NEW_FEE.name)
    assert field.mode == "NULLABLE"

    # loading January again with the new code: the month is replaced, the other one untouched
    load(stores, NEWER, JAN, cleaned(tmp_path / "again", NEWER, JAN))
    assert pg.count_month(GREEN.table, FEB) == n[FEB] and bq.count_month(GREEN.table, FEB) == n[FEB]


def renamed():
    cols = tuple(dataclasses.replace(c, name="extra_charge", sources=("extra",)) if c.name == "extra" else c for c in GREEN.columns)
    return dataclasses.replace(GREEN, columns=cols), "extra"


def retyped():
    cols = tuple(dataclasses.replace(c, kind="float") if c.name == "trip_type" else c for c in GREEN.columns)
    return dataclasses.replace(GREEN, columns=cols), "trip_type"


@pytest.mark.parametrize("change", [renamed, retyped])
def test_a_change_that_is_not_additive_is_refused_naming_table_column_and_way_out(stores, tmp_path, change):
    pg, lake, bq = stores
    jan = cleaned(tmp_path, GREEN, JAN)
    load(stores, GREEN, JAN, jan)
    record, column = change()
    feb = cleaned(tmp_path, record, FEB)
    with pytest.raises(SchemaChangeRefused) as pg_error:
        pg.replace_month(record.table, record.all_columns, FEB, parquet_batches(feb))
    uri = lake.upload(feb, record.lake_object(FEB)).uri
    with pytest.raises(SchemaChangeRefused) as bq_error:
        bq.replace_month_from_uri(record.table, record.all_columns, FEB, uri)
    for e, table, where in ((pg_error, f"{pg.db_schema}.{GREEN.table}", "TAXI_POSTGRES_SCHEMA"),
                            (bq_error, bq.table_id(GREEN.table), "TAXI_BQ_DATASET")):
        msg = str(e.value)
        assert table in msg and column in msg and "not additive" in msg and where in msg, msg
    # nothing changed: January is there, February is not, the columns are the old ones
    n = pq.ParquetFile(jan).metadata.num_rows
    assert (pg.count_month(GREEN.table, JAN), pg.count_month(GREEN.table, FEB)) == (n, 0)
    assert (bq.count_month(GREEN.table, JAN), bq.count_month(GREEN.table, FEB)) == (n, 0)
    assert [f.name for f in bq.client().get_table(bq.table_id(GREEN.table)).schema] == [c.name for c in GREEN.all_columns]


# the yellow columns this version adds to the record of 0.2 (the 2009-2010 layouts' coordinates and texts)
ADDED_FOR_2009_2010 = {"pickup_longitude", "pickup_latitude", "dropoff_longitude", "dropoff_latitude", "vendor_name",
                       "payment_type_name"}


def test_a_yellow_table_of_the_previous_version_gains_the_2009_columns_in_place(stores, tmp_path):
    pg, _, bq = stores
    previous = dataclasses.replace(YELLOW, columns=tuple(c for c in YELLOW.columns if c.name not in ADDED_FOR_2009_2010))
    assert len(previous.columns) == len(YELLOW.columns) - len(ADDED_FOR_2009_2010)
    jan21 = dt.date(2021, 1, 1)
    old = tmp_path / "old.parquet"
    write_parquet(sample.write_month(tmp_path / "dtc", "yellow", jan21, rows=500), old, previous, jan21)
    load(stores, previous, jan21, old)

    feb10 = dt.date(2010, 2, 1)
    new = tmp_path / "new.parquet"
    write_parquet(sample.write_tlc_parquet(tmp_path / "tlc", "yellow", feb10, rows=500), new, YELLOW, feb10)
    load(stores, YELLOW, feb10, new)

    n_old, n_new = pq.ParquetFile(old).metadata.num_rows, pq.ParquetFile(new).metadata.num_rows
    with pg.connect() as conn:
        rows = dict((m, (c, lon)) for m, c, lon in conn.execute(
            f'SELECT source_month, count(*), count(pickup_longitude) FROM "{pg.db_schema}".{YELLOW.table} GROUP BY 1'
        ).fetchall())
    assert rows == {jan21: (n_old, 0), feb10: (n_new, n_new)}
    got = {r["source_month"]: (r["n"], r["lon"]) for r in bq.query(
        f"SELECT source_month, COUNT(*) AS n, COUNT(pickup_longitude) AS lon FROM `{bq.table_id(YELLOW.table)}` "
        "GROUP BY source_month")}
    assert got == {jan21: (n_old, 0), feb10: (n_new, n_new)}
