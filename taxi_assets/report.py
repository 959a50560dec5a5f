"""Where a month's rows landed, and how many, in every store.

    python -m taxi_assets.report --taxi yellow --month 2021-01

Reads the stores directly (the parquet file, Postgres, the GCS object, BigQuery) with the core's
clients and the same environment as the pipeline; prints one line per store and a zone join
from BigQuery. Needs no Dagster.
"""

from __future__ import annotations

import argparse
import datetime as dt

import psycopg
from google.api_core import exceptions as google_exceptions

from taxi_assets.core.config import Settings
from taxi_assets.core.tables import CLEANED_PARQUET, TaxiType
from taxi_assets.core.taxi_types import TAXI_TYPES, ZONES
from taxi_assets.core.stores.from_settings import open_stores


def _record(taxi: str | TaxiType) -> TaxiType:
    return taxi if isinstance(taxi, TaxiType) else TAXI_TYPES[taxi]


def store_counts(taxi: str | TaxiType, month: dt.date, settings: Settings | None = None) -> dict[str, tuple[str, int | None]]:
    """store -> (where, rows); rows is None where the month is absent."""
    ttype = _record(taxi)
    out: dict[str, tuple[str, int | None]] = {}
    with open_stores(settings) as stores:
        key, files = (ttype.name, CLEANED_PARQUET), stores.file_store
        out["parquet"] = (files.where(key, month.isoformat()), files.parquet_rows(key, month.isoformat()))
        pg = stores.postgres
        out["postgres"] = (f"{pg.db_schema}.{ttype.table}", _or_none(lambda: pg.count_month(ttype.table, month)))
        name = ttype.lake_object(month)
        out["gcs"] = (stores.lake.uri(name), stores.lake.parquet_rows(name))  # the parquet footer, by ranged reads
        wh = stores.bigquery
        out["bigquery"] = (wh.table_id(ttype.table), _or_none(lambda: wh.count_month(ttype.table, month)))
    return out


def _or_none(count) -> int | None:
    """A count, or None where the table does not exist yet."""
    try:
        return count()
    except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName, google_exceptions.NotFound):
        return None


def borough_join(taxi: str | TaxiType, month: dt.date, limit: int = 3, settings: Settings | None = None) -> list[dict]:
    """The month's trips by pickup borough, joined in BigQuery to the zone lookup."""
    ttype = _record(taxi)
    with open_stores(settings) as stores:
        wh = stores.bigquery
    return wh.query(
        f"SELECT z.borough, COUNT(*) AS trips FROM `{wh.table_id(ttype.table)}` t "
        f"JOIN `{wh.table_id(ZONES.table)}` z ON t.{ttype.pickup_zone.name} = z.location_id "
        f"WHERE t.source_month = DATE '{month.isoformat()}' GROUP BY z.borough ORDER BY trips DESC LIMIT {int(limit)}"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--taxi", default="yellow", choices=sorted(TAXI_TYPES))
    p.add_argument("--month", default="2021-01", help="YYYY-MM")
    p.add_argument("--no-join", action="store_true", help="skip the zone join (zones not loaded)")
    args = p.parse_args(argv)
    month = dt.date.fromisoformat(args.month[:7] + "-01")
    counts = store_counts(args.taxi, month)
    print(f"{args.taxi} {month:%Y-%m}:")
    for store, (where, rows) in counts.items():
        print(f"  {store:<9} {'missing' if rows is None else f'{rows:>10,} rows'}  {where}")
    if not args.no_join:
        top = ", ".join(f"{r['borough']} {r['trips']:,}" for r in borough_join(args.taxi, month))
        print(f"  BigQuery trips by pickup borough (top 3): {top}")
    found = {rows for _, rows in counts.values()}
    if None in found or len(found) != 1:
        print("  counts differ between stores")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
