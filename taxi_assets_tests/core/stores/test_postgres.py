import datetime as dt
import os
import threading

import pyarrow.parquet as pq
import pytest

from taxi_assets.localstack import sample
from taxi_assets.core.identifiers import check_identifier
from taxi_assets.core.stores.postgres import PostgresStore as PostgresWarehouse
from taxi_assets.core.taxi_types import TAXI_TYPES
from taxi_assets.core.formats import parquet_batches
from taxi_assets.core.transform import write_parquet

YELLOW = TAXI_TYPES["yellow"]
JAN, FEB = dt.date(2021, 1, 1), dt.date(2021, 2, 1)


@pytest.fixture
def pg(pipeline_env):
    return PostgresWarehouse(url=os.environ["TAXI_POSTGRES_URL"], db_schema=pipeline_env["TAXI_POSTGRES_SCHEMA"])


@pytest.fixture
def months(tmp_path):
    out = {}
    for i, month in enumerate((JAN, FEB)):
        src = sample.write_month(tmp_path, "yellow", month, rows=1_500 + 500 * i)
        out[month] = tmp_path / f"{month:%Y%m}.parquet"
        write_parquet(src, out[month], YELLOW, month)
    return out


def counts(pg: PostgresWarehouse) -> dict:
    with pg.connect() as conn:
        q = f'SELECT source_month, count(*) FROM "{pg.db_schema}"."{YELLOW.table}" GROUP BY 1 ORDER BY 1'
        return dict(conn.execute(q).fetchall())


def test_same_month_twice_gives_the_same_rows_once(pg, months):
    expected = pq.ParquetFile(months[JAN]).metadata.num_rows
    assert pg.replace_month(YELLOW.table, YELLOW.all_columns, JAN, parquet_batches(months[JAN])) == expected
    assert pg.replace_month(YELLOW.table, YELLOW.all_columns, JAN, parquet_batches(months[JAN])) == expected
    assert counts(pg) == {JAN: expected}


def test_two_months_are_independent(pg, months):
    n = {m: pq.ParquetFile(p).metadata.num_rows for m, p in months.items()}
    assert n[JAN] != n[FEB]
    pg.replace_month(YELLOW.table, YELLOW.all_columns, JAN, parquet_batches(months[JAN]))
    pg.replace_month(YELLOW.table, YELLOW.all_columns, FEB, parquet_batches(months[FEB]))
    pg.replace_month(YELLOW.table, YELLOW.all_columns, JAN, parquet_batches(months[JAN]))
    assert counts(pg) == n


def test_values_and_nulls_round_trip(pg, months):
    pg.replace_month(YELLOW.table, YELLOW.all_columns, JAN, parquet_batches(months[JAN]))
    expected = pq.read_table(months[JAN])
    with pg.connect() as conn:
        got = conn.execute(
            f'SELECT count(*) FILTER (WHERE vendor_id IS NULL), sum(total_amount), min(pickup_datetime) '
            f'FROM "{pg.db_schema}"."{YELLOW.table}"'
        ).fetchone()
    assert got[0] == expected.column("vendor_id").null_count > 0
    assert got[1] == pytest.approx(sum(v for v in expected.column("total_amount").to_pylist() if v is not None))
    assert got[2] == min(expected.column("pickup_datetime").to_pylist())


def test_failed_load_leaves_the_month_intact(pg, months):
    pg.replace_month(YELLOW.table, YELLOW.all_columns, JAN, parquet_batches(months[JAN]))
    before = counts(pg)

    def broken():
        yield from parquet_batches(months[JAN])
        raise OSError("disk went away mid-load")

    with pytest.raises(OSError):
        pg.replace_month(YELLOW.table, YELLOW.all_columns, JAN, broken())
    assert counts(pg) == before


def test_concurrent_loads_of_one_month_never_duplicate(pg, months):
    errors = []

    def load():
        try:
            pg.replace_month(YELLOW.table, YELLOW.all_columns, JAN, parquet_batches(months[JAN]))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=load) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert counts(pg) == {JAN: pq.ParquetFile(months[JAN]).metadata.num_rows}


def test_identifiers_are_validated():
    with pytest.raises(ValueError):
        check_identifier('x"; DROP TABLE y; --', "schema")
    with pytest.raises(ValueError):
        check_identifier("Trips", "table")
    assert check_identifier("yellow_taxi_trips") == "yellow_taxi_trips"


def test_reloading_two_loaded_months_at_once_does_not_deadlock(pg, months):
    for month, path in months.items():
        pg.replace_month(YELLOW.table, YELLOW.all_columns, month, parquet_batches(path))
    errors = []

    def reload(month):
        try:
            for _ in range(3):
                pg.replace_month(YELLOW.table, YELLOW.all_columns, month, parquet_batches(months[month]))
        except Exception as e:  # a deadlock surfaces here
            errors.append(e)

    threads = [threading.Thread(target=reload, args=(m,)) for m in months]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert counts(pg) == {m: pq.ParquetFile(p).metadata.num_rows for m, p in months.items()}
