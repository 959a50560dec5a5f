"""Materialization metadata shared by the assets: column schemas, a preview table, and reading back
the latest materialization of a month (its record and its metadata as plain values)."""

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


def latest_materialization(instance: dg.DagsterInstance, key: dg.AssetKey, partition: str) -> dg.EventLogRecord | None:
    """The latest materialization record of `key` for one partition, if any."""
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition]), limit=1).records
    return records[0] if records and records[0].asset_materialization is not None else None


def record_metadata(record: dg.EventLogRecord | None) -> dict:
    """A materialization record's metadata as plain values ({} for none)."""
    if record is None:
        return {}
    return {k: v.value for k, v in (record.asset_materialization.metadata or {}).items()}
