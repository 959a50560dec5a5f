"""Materialization metadata shared by the assets: column schemas and a preview table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from taxi_assets.core.formats import parquet_batches
from taxi_assets.core.tables import Column


def column_schema(columns: Sequence[Column]) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(c.name, c.kind, description=c.description) for c in columns])


def _cell(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return str(value)


def records_table(rows: list[dict]) -> dg.MetadataValue:
    """Rows as a `dg.MetadataValue.table` (shown as a table in the UI)."""
    return dg.MetadataValue.table(records=[dg.TableRecord({k: _cell(v) for k, v in r.items()}) for r in rows])


def preview(path: Path, columns: Sequence[Column], rows: int = 5) -> dg.MetadataValue:
    """The first rows of a parquet file, as a table with the file's column schema."""
    first = next(parquet_batches(path, batch_rows=rows), None)
    records = [] if first is None else first.to_pylist()
    return dg.MetadataValue.table(
        records=[dg.TableRecord({k: _cell(v) for k, v in r.items()}) for r in records],
        schema=column_schema(columns),
    )
