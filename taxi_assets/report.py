"""Where a month's rows landed, and how many, in every store.

    python -m taxi_assets.report --taxi yellow --month 2021-01 [--debug]

Reads the stores directly (the parquet file, Postgres, the GCS object, BigQuery) with the core's
clients and the same environment as the pipeline; prints one line per store and a zone join
from BigQuery. Needs no Dagster. A store without the month says `not loaded`; `differ` only when
stores that have it disagree. Errors are one line (the shell not configured, the stack down, a bad
`--month`); `--debug` shows the traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys

import psycopg
from google.api_core import exceptions as google_exceptions

from taxi_assets.core.config import Settings
from taxi_assets.core.months import month_of
from taxi_assets.core.tables import CLEANED_PARQUET, TaxiType
from taxi_assets.core.taxi_types import TAXI_TYPES, ZONES
from taxi_assets.core.stores.from_settings import open_stores
from taxi_assets.core.stores.reachable import stack_problem


def _record(taxi: str | TaxiType) -> TaxiType:
    return taxi if isinstance(taxi, TaxiType) else TAXI_TYPES[taxi]


def store_counts(taxi: str | TaxiType, month: dt.date, settings: Settings | None = None) -> dict[str, tuple[str, int | None]]:
    """store -> (where, rows); rows is None where the month was never loaded."""
    ttype = _record(taxi)
    out: dict[str, tuple[str, int | None]] = {}
    with open_stores(settings) as stores:
        key, files = (ttype.name, CLEANED_PARQUET), stores.file_store
        out["parquet"] = (files.where(key, month.isoformat()), files.parquet_rows(key, month.isoformat()))
        pg = stores.postgres
        out["postgres"] = (f"{pg.db_schema}.{ttype.table}",
                           _or_none(lambda: pg.count_month(ttype.table, month) if pg.has_month(ttype.table, month) else None))
        name = ttype.lake_object(month)
        out["gcs"] = (stores.lake.uri(name), stores.lake.parquet_rows(name))  # the parquet footer, by ranged reads
        wh = stores.bigquery
        # BigQuery keeps no trace of a month but its rows: 0 rows is a month never loaded (the pipeline
        # never loads an empty month: a source file without rows is refused at raw_file)
        out["bigquery"] = (wh.table_id(ttype.table), _or_none(lambda: wh.count_month(ttype.table, month)) or None)
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


def parse_month(text: str) -> dt.date:
    """`2021-01` (or `2021-01-01`) -> date(2021, 1, 1); anything else is a one-line error."""
    try:
        return month_of(text)
    except ValueError:
        raise ValueError(f"--month {text!r}: expected a month as YYYY-MM, e.g. 2021-01") from None


def summary(counts: dict[str, tuple[str, int | None]]) -> tuple[str | None, int]:
    """The closing line and the exit status: 'not loaded' where a store has nothing, 'differ' only
    when stores that have the month disagree."""
    loaded = {store: rows for store, (_, rows) in counts.items() if rows is not None}
    absent = [store for store in counts if store not in loaded]
    if not loaded:
        return "  not loaded in any store", 1
    if len(set(loaded.values())) > 1:
        return "  counts differ between stores: " + ", ".join(f"{s} {r:,}" for s, r in loaded.items()), 1
    if absent:
        return "  not loaded in " + ", ".join(absent), 1
    return None, 0


def report(taxi: str, month: dt.date, join: bool) -> int:
    counts = store_counts(taxi, month)
    print(f"{taxi} {month:%Y-%m}:")
    for store, (where, rows) in counts.items():
        print(f"  {store:<9} {'not loaded' if rows is None else f'{rows:>10,} rows'}  {where if rows is not None else ''}".rstrip())
    closing, status = summary(counts)
    if join and counts["bigquery"][1]:
        try:
            top = ", ".join(f"{r['borough']} {r['trips']:,}" for r in borough_join(taxi, month))
            print(f"  BigQuery trips by pickup borough (top 3): {top}")
        except google_exceptions.NotFound:
            print("  zone lookup not loaded in BigQuery (dg launch --job taxi_zone_lookup_job), no borough join")
    if closing:
        print(closing)
    return status


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--taxi", default="yellow", choices=sorted(TAXI_TYPES))
    p.add_argument("--month", default="2021-01", help="YYYY-MM")
    p.add_argument("--no-join", action="store_true", help="skip the zone join (zones not loaded)")
    p.add_argument("--debug", action="store_true", help="show the Python traceback of an error")
    args = p.parse_args(argv)
    try:
        month = parse_month(args.month)
    except ValueError as e:
        p.exit(2, f"report: {e}\n")
    problem = stack_problem(os.environ)
    if problem:
        print(f"report: {problem}", file=sys.stderr)
        return 1
    try:
        return report(args.taxi, month, join=not args.no_join)
    except Exception as e:  # one line for the user; --debug shows where it came from
        if args.debug:
            raise
        first = (str(e).strip().splitlines() or [""])[0]
        print(f"report: {type(e).__name__}: {first} (--debug shows the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
