"""Asset checks for every month of every taxi type: row counts reconcile across the stores, and the
cleaned month is measured for the known kinds of bad data.

    build_trip_checks(taxi) -> the checks of one type; `trip_checks` -> all types

Every check is partitioned like the assets (`monthly_partitions`): it runs for the month being
materialized (`context.partition_key`), in the same run, after its asset, and reads the stores
themselves, not only what the asset said about itself.

Reconciliation (severity ERROR; exact: any difference fails), the documented drop being the only
one allowed:

    raw rows                       = rows_in                      (counted again from the raw file)
    parquet rows                   = rows_in - rows_dropped_zero_passengers
    Postgres rows = GCS object rows = BigQuery rows = parquet rows

- `{taxi}/cleaned_parquet` `rows_reconcile_with_raw`: the raw file is read again (the passenger
  column only, or the parquet footer) to count its rows and its passenger_count = 0 rows; the
  cleaned parquet's row count must be the difference, and the materialization metadata
  (`rows_in`, `rows_dropped_zero_passengers`) must agree when present.
- `{taxi}/postgres_table`, `{taxi}/gcs_object`, `{taxi}/bigquery_table` `rows_reconcile_with_parquet`:
  the month's count in Postgres, the row count in the GCS object's parquet footer (read with two
  ranged GETs, not a download), the month's count in BigQuery -- each equal to the parquet's.
- `{taxi}/cleaned_parquet` `schema_contract`: the parquet has exactly the type's Arrow schema, and
  a sample of its first rows is a valid `cleaned_frame_type(taxi)` (a dagster-pandas DataFrame
  type: the column kinds, pickup_datetime and source_month never NULL, source_month the month).

Data quality on the cleaned month (one pass over the parquet, only the needed columns, in Arrow
batches: never a whole month in pandas). A rule measures the share of the month's cleaned rows
it flags; up to `pass_max` the check passes (the real files always have a few such rows), above
it fails with severity WARN, above `error_above` with severity ERROR. Metadata: the count, the
share, the thresholds, and up to 5 example rows.

| check                        | flags a row when                                              | passes up to | WARN above | ERROR above |
| ---------------------------- | ------------------------------------------------------------- | ------------ | ---------- | ----------- |
| `pickups_in_month`           | pickup_datetime is outside the partition's month               | 1 %          | 1 %        | 5 %         |
| `no_negative_amounts`        | any money column < 0 (refunds; yellow and green only)          | 2 %          | 2 %        | 10 %        |
| `dropoff_not_before_pickup`  | dropoff_datetime < pickup_datetime                             | 0.1 %        | 0.1 %      | 1 %         |
| `known_zone_ids`             | pu or do location id not NULL and outside 1..265               | 0            | 0          | 1 %         |

NULL zone ids (common in fhv) are counted in metadata but not flagged. A whole file of another
month (a wrong file at the URL) is ~100 % `pickups_in_month`: ERROR.

None of the checks is blocking by default (`build_trip_checks(taxi, blocking=True)` makes the
cleaned_parquet checks stop the loads of a month that fails with severity ERROR).
"""


import dataclasses
import datetime as dt
import io
import warnings
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from dagster_pandas import PandasColumn, create_dagster_pandas_dataframe_type

from taxi_assets.assets.trips import lake_object_name, markdown_table
from taxi_assets.partitions import monthly_partitions, partition_month
from taxi_assets.resources import (
    BigQueryWarehouse,
    FileStore,
    PostgresWarehouse,
    TaxiLake,
)
from taxi_assets.taxi_types import SOURCE_MONTH, TAXI_TYPES, TaxiType
from taxi_assets.transform import (
    parquet_batches,
    parquet_rows,
    read_csv_header,
    sniff_format,
)

ZONE_MIN, ZONE_MAX = 1, 265
SAMPLE_ROWS = 1_000  # rows of the typed dagster-pandas sample
EXAMPLES = 5


@dataclasses.dataclass(frozen=True)
class Rule:
    name: str
    description: str
    pass_max: float  # share of rows flagged up to which the check passes
    error_above: float  # share above which it fails with ERROR (between: WARN)

    def grade(self, flagged: int, rows: int) -> tuple[bool, dg.AssetCheckSeverity, float]:
        share = flagged / rows if rows else 0.0
        if share <= self.pass_max:
            return True, dg.AssetCheckSeverity.WARN, share
        return False, (dg.AssetCheckSeverity.ERROR if share > self.error_above else dg.AssetCheckSeverity.WARN), share


RULES: dict[str, Rule] = {
    r.name: r
    for r in (
        Rule("pickups_in_month", "Trips whose pickup is outside the file's month.", 0.01, 0.05),
        Rule("no_negative_amounts", "Trips with a negative fare, surcharge, tip, toll or total.", 0.02, 0.10),
        Rule("dropoff_not_before_pickup", "Trips that end before they start.", 0.001, 0.01),
        Rule("known_zone_ids", f"Trips with a pick-up or drop-off zone id outside {ZONE_MIN}..{ZONE_MAX}.", 0.0, 0.01),
    )
}


def quality_rules(taxi: TaxiType) -> list[Rule]:
    names = {c.name for c in taxi.columns}
    out = [RULES["pickups_in_month"]]
    if money_columns(taxi):
        out.append(RULES["no_negative_amounts"])
    if "dropoff_datetime" in names:
        out.append(RULES["dropoff_not_before_pickup"])
    if {"pu_location_id", "do_location_id"} & names:
        out.append(RULES["known_zone_ids"])
    return out


def money_columns(taxi: TaxiType) -> list[str]:
    return [c.name for c in taxi.columns if c.kind == "float" and "USD" in c.description]


# ---------------------------------------------------------------------------------- dagster-pandas


def cleaned_frame_type(taxi: TaxiType) -> dg.DagsterType:
    """The cleaned frame of one taxi type as a dagster-pandas DataFrame type.

    Frames are made with `to_frame` (nullable integers as pandas `Int64`, timestamps and dates
    as datetime64): use it for any sample of a cleaned month that is handled as a DataFrame.
    """
    cols = []
    for c in taxi.all_columns:
        required = c.name in ("pickup_datetime", SOURCE_MONTH)
        if c.kind == "int":
            cols.append(PandasColumn.integer_column(c.name, ignore_missing_vals=True))
        elif c.kind == "float":
            cols.append(PandasColumn.float_column(c.name, ignore_missing_vals=True))
        elif c.kind in ("timestamp", "date"):
            cols.append(PandasColumn.datetime_column(c.name, non_nullable=required, ignore_missing_vals=not required))
        else:
            cols.append(PandasColumn.string_column(c.name, ignore_missing_vals=True))
    return create_dagster_pandas_dataframe_type(
        name=f"Cleaned{taxi.name.capitalize()}TripsFrame",
        description=f"Cleaned {taxi.name} trips: the columns of taxi_types.{taxi.name.upper()}, typed.",
        columns=cols,
    )


def to_frame(table: pa.Table | pa.RecordBatch) -> pd.DataFrame:
    """Arrow -> pandas the way `cleaned_frame_type` expects (nullable Int64, datetime64[ns])."""
    ints = {pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int64Dtype()}
    return table.to_pandas(types_mapper=ints.get, date_as_object=False, coerce_temporal_nanoseconds=True)


with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=dg.BetaWarning)  # dagster-pandas is "beta" in 1.13
    CLEANED_FRAME_TYPES: dict[str, dg.DagsterType] = {name: cleaned_frame_type(t) for name, t in TAXI_TYPES.items()}


# ----------------------------------------------------------------------------------- measurements


def raw_counts(path: Path, taxi: TaxiType, label: str | None = None) -> tuple[int, int]:
    """(rows, rows with passenger_count = 0) of a raw source file, counted without the transform."""
    label = label or taxi.name
    passenger = None
    if sniff_format(path) == "parquet":
        names = pq.read_schema(path).names
        if taxi.drop_zero_passengers:
            passenger = next((h for h in names if h.strip().lower() == "passenger_count"), None)
        if passenger is None:
            return parquet_rows(path), 0
        zeros = 0
        for b in parquet_batches(path, columns=[passenger]):
            zeros += pc.sum(pc.fill_null(pc.equal(b.column(0), 0), False).cast(pa.int64())).as_py() or 0
        return parquet_rows(path), zeros
    headers = read_csv_header(path, label)
    if taxi.drop_zero_passengers:
        passenger = next((h for h in headers if h.strip().lower() == "passenger_count"), None)
    col = passenger or headers[0]
    # the passenger column parsed as a number, as the transform does ("0", "0.0", ".0", "00" are all 0)
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=headers, skip_rows=1, block_size=8 << 20),
        convert_options=pacsv.ConvertOptions(
            include_columns=[col],
            column_types={col: pa.float64() if passenger else pa.string()},
            strings_can_be_null=True,
            null_values=[""],
        ),
    )
    rows = zeros = 0
    for b in reader:
        rows += b.num_rows
        if passenger is not None:
            zeros += pc.sum(pc.fill_null(pc.equal(b.column(0), 0), False).cast(pa.int64())).as_py() or 0
    return rows, zeros


@dataclasses.dataclass
class Quality:
    rows: int = 0
    flagged: dict[str, int] = dataclasses.field(default_factory=dict)
    null_zone_ids: int = 0
    examples: dict[str, list[dict]] = dataclasses.field(default_factory=dict)


def measure_quality(path: Path, taxi: TaxiType, month: dt.date) -> Quality:
    """One pass over a cleaned parquet file: how many rows each rule flags."""
    rules = quality_rules(taxi)
    names = {c.name for c in taxi.columns}
    money = money_columns(taxi)
    zones = [z for z in ("pu_location_id", "do_location_id") if z in names]
    wanted = ["pickup_datetime"] + (["dropoff_datetime"] if "dropoff_datetime" in names else []) + money + zones
    start = pa.scalar(dt.datetime(month.year, month.month, 1), pa.timestamp("us"))
    nxt = month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)
    end = pa.scalar(dt.datetime(nxt.year, nxt.month, 1), pa.timestamp("us"))
    q = Quality(flagged={r.name: 0 for r in rules}, examples={r.name: [] for r in rules})
    for batch in parquet_batches(path, columns=wanted):
        q.rows += batch.num_rows
        pickup = batch.column("pickup_datetime")
        masks: dict[str, pa.Array] = {
            "pickups_in_month": pc.or_(pc.less(pickup, start), pc.greater_equal(pickup, end)),
        }
        if "no_negative_amounts" in q.flagged:
            neg = pa.repeat(False, batch.num_rows)
            for m in money:
                neg = pc.or_(neg, pc.fill_null(pc.less(batch.column(m), 0), False))
            masks["no_negative_amounts"] = neg
        if "dropoff_not_before_pickup" in q.flagged:
            masks["dropoff_not_before_pickup"] = pc.less(batch.column("dropoff_datetime"), pickup)
        if "known_zone_ids" in q.flagged:
            bad = pa.repeat(False, batch.num_rows)
            for z in zones:
                col = batch.column(z)
                q.null_zone_ids += col.null_count
                out = pc.or_(pc.less(col, ZONE_MIN), pc.greater(col, ZONE_MAX))
                bad = pc.or_(bad, pc.fill_null(out, False))
            masks["known_zone_ids"] = bad
        for name, mask in masks.items():
            mask = pc.fill_null(mask, False)
            n = pc.sum(mask.cast(pa.int64())).as_py() or 0
            q.flagged[name] += n
            if n and len(q.examples[name]) < EXAMPLES:
                q.examples[name] += batch.filter(mask).slice(0, EXAMPLES - len(q.examples[name])).to_pylist()
    return q


class _BlobFile(io.RawIOBase):
    """A GCS object as a seekable read-only file: ranged GETs, so a parquet footer costs two requests."""

    def __init__(self, blob):
        self.blob, self.pos, self.size = blob, 0, blob.size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = {0: offset, 1: self.pos + offset, 2: self.size + offset}[whence]
        return self.pos

    def readinto(self, b) -> int:
        n = min(len(b), self.size - self.pos)
        if n <= 0:
            return 0
        data = self.blob.download_as_bytes(start=self.pos, end=self.pos + n - 1)
        b[: len(data)] = data
        self.pos += len(data)
        return len(data)


def lake_rows(lake: TaxiLake, name: str) -> int | None:
    blob = lake.gcs.get_client().bucket(lake.bucket).get_blob(lake.object_name(name))
    if blob is None:
        return None
    return pq.ParquetFile(io.BufferedReader(_BlobFile(blob), buffer_size=64 << 10)).metadata.num_rows


def _latest_metadata(context: dg.AssetCheckExecutionContext, key: dg.AssetKey) -> dict:
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[context.partition_key]), limit=1
    ).records
    if not records or records[0].asset_materialization is None:
        return {}
    return {k: v.value for k, v in records[0].asset_materialization.metadata.items()}


def _md_rows(rows: list[dict]) -> dg.MetadataValue:
    return dg.MetadataValue.md(markdown_table(rows) if rows else "(none)")


def _missing(what: str, month: dt.date, **kw) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=False,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{what} for {month:%Y-%m} not found: materialize it first",
        **kw,
    )


# ------------------------------------------------------------------------------------------ checks


def build_trip_checks(taxi: TaxiType, blocking: bool = False) -> list[dg.AssetChecksDefinition]:
    """The asset checks of one taxi type (see the module docstring)."""

    def key(name: str) -> dg.AssetKey:
        return dg.AssetKey([taxi.name, name])

    frame_type = CLEANED_FRAME_TYPES.get(taxi.name) or cleaned_frame_type(taxi)
    part = dict(partitions_def=monthly_partitions)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=dg.PreviewWarning)  # partitioned checks are "preview" in 1.13

        @dg.asset_check(
            asset=key("cleaned_parquet"),
            name="rows_reconcile_with_raw",
            description="Parquet rows = raw rows - passenger_count = 0 rows (yellow, green), counted again from the raw file.",
            blocking=blocking,
            **part,
        )
        def rows_reconcile_with_raw(context: dg.AssetCheckExecutionContext, file_store: FileStore) -> dg.AssetCheckResult:
            month = partition_month(context.partition_key)
            raw = file_store.path_for(key("raw_csv"), context.partition_key)
            parquet = file_store.path_for(key("cleaned_parquet"), context.partition_key)
            if raw is None or parquet is None:
                return _missing("the raw file" if raw is None else "the cleaned parquet", month)
            raw_rows, raw_zeros = raw_counts(raw, taxi, taxi.file_label(month))
            expected = raw_rows - raw_zeros
            got = parquet_rows(parquet)
            meta = _latest_metadata(context, key("cleaned_parquet"))
            problems = []
            if got != expected:
                problems.append(f"parquet has {got} rows, expected {expected} = {raw_rows} raw - {raw_zeros} dropped")
            if meta and meta.get("rows_in") is not None and meta["rows_in"] != raw_rows:
                problems.append(f"metadata rows_in = {meta['rows_in']}, the raw file has {raw_rows}")
            if meta and meta.get("rows_dropped_zero_passengers") is not None and meta["rows_dropped_zero_passengers"] != raw_zeros:
                problems.append(f"metadata rows_dropped_zero_passengers = {meta['rows_dropped_zero_passengers']}, the raw file has {raw_zeros}")
            return dg.AssetCheckResult(
                passed=not problems,
                severity=dg.AssetCheckSeverity.ERROR,
                description="; ".join(problems) or f"{got} = {raw_rows} - {raw_zeros}",
                metadata={"raw_rows": raw_rows, "raw_zero_passenger_rows": raw_zeros, "parquet_rows": got, "difference": got - expected},
            )

        @dg.asset_check(
            asset=key("cleaned_parquet"),
            name="schema_contract",
            description=f"The parquet schema is the {taxi.name} schema; a sample is a valid {frame_type.display_name} (dagster-pandas).",
            blocking=blocking,
            **part,
        )
        def schema_contract(context: dg.AssetCheckExecutionContext, file_store: FileStore) -> dg.AssetCheckResult:
            month = partition_month(context.partition_key)
            parquet = file_store.path_for(key("cleaned_parquet"), context.partition_key)
            if parquet is None:
                return _missing("the cleaned parquet", month)
            found_schema = pq.read_schema(parquet)
            problems = []
            if not found_schema.equals(taxi.arrow_schema, check_metadata=False):
                problems.append(f"schema differs: expected {taxi.arrow_schema.names} typed, found {found_schema}")
            sample = next(parquet_batches(parquet, batch_rows=SAMPLE_ROWS), None)
            if sample is not None and not problems:
                try:
                    frame = to_frame(sample)
                except (pa.ArrowInvalid, OverflowError) as e:  # a timestamp beyond pandas' ns range (year 2262+)
                    sample = sample.slice(0, 0)
                    problems.append(f"sample cannot be typed as a DataFrame: {e}")
                    frame = to_frame(sample)
                typed = dg.check_dagster_type(frame_type, frame)
                if not typed.success:
                    problems.append(f"sample is not a valid {frame_type.display_name}: {typed.description}")
                months = set(frame[SOURCE_MONTH].dt.date.unique())
                if len(frame) and months != {month}:
                    problems.append(f"source_month values {sorted(map(str, months))}, expected {month}")
            return dg.AssetCheckResult(
                passed=not problems,
                severity=dg.AssetCheckSeverity.ERROR,
                description="; ".join(problems) or "schema and typed sample as expected",
                metadata={"sample_rows": 0 if sample is None else sample.num_rows, "columns": len(found_schema)},
            )

        rules = quality_rules(taxi)

        @dg.multi_asset_check(
            name=f"{taxi.name}_cleaned_parquet_quality",
            specs=[
                dg.AssetCheckSpec(r.name, asset=key("cleaned_parquet"), description=r.description, blocking=blocking, **part)
                for r in rules
            ],
        )
        def quality(context: dg.AssetCheckExecutionContext, file_store: FileStore) -> Iterator[dg.AssetCheckResult]:
            month = partition_month(context.partition_key)
            parquet = file_store.path_for(key("cleaned_parquet"), context.partition_key)
            if parquet is None:
                for r in rules:
                    yield _missing("the cleaned parquet", month, asset_key=key("cleaned_parquet"), check_name=r.name)
                return
            q = measure_quality(parquet, taxi, month)
            for r in rules:
                n = q.flagged[r.name]
                passed, severity, share = r.grade(n, q.rows)
                meta = {
                    "rows": q.rows,
                    "flagged_rows": n,
                    "share": round(share, 6),
                    "pass_max_share": r.pass_max,
                    "error_above_share": r.error_above,
                    "examples": _md_rows(q.examples[r.name]),
                }
                if r.name == "known_zone_ids":
                    meta["null_zone_ids"] = q.null_zone_ids
                label = "ERROR" if severity == dg.AssetCheckSeverity.ERROR else "WARN"
                yield dg.AssetCheckResult(
                    asset_key=key("cleaned_parquet"),
                    check_name=r.name,
                    passed=passed,
                    severity=severity,
                    description=(
                        f"{n} of {q.rows} rows ({share:.3%}) flagged"
                        + ("" if passed else f": {label} (passes up to {r.pass_max:.2%}, ERROR above {r.error_above:.2%})")
                    ),
                    metadata=meta,
                )

        def reconcile(what: str, asset: str, count):
            @dg.asset_check(
                asset=key(asset),
                name="rows_reconcile_with_parquet",
                description=f"The month's rows in {what} = the cleaned parquet's rows.",
                **part,
            )
            def _check(context: dg.AssetCheckExecutionContext, file_store: FileStore, postgres: PostgresWarehouse,
                       lake: TaxiLake, warehouse: BigQueryWarehouse) -> dg.AssetCheckResult:
                month = partition_month(context.partition_key)
                parquet = file_store.path_for(key("cleaned_parquet"), context.partition_key)
                if parquet is None:
                    return _missing("the cleaned parquet", month)
                expected = parquet_rows(parquet)
                got = count(month, context=context, postgres=postgres, lake=lake, warehouse=warehouse)
                if got is None:
                    return _missing(what, month)
                return dg.AssetCheckResult(
                    passed=got == expected,
                    severity=dg.AssetCheckSeverity.ERROR,
                    description=f"{what}: {got} rows, parquet: {expected} rows",
                    metadata={"rows": got, "parquet_rows": expected, "difference": got - expected},
                )

            return _check

        def postgres_rows(month: dt.date, context: dg.AssetCheckExecutionContext, postgres: PostgresWarehouse, **_) -> int:
            # the schema the month was loaded into (a run may override TAXI_POSTGRES_SCHEMA)
            table_name = str(_latest_metadata(context, key("postgres_table")).get("dagster/table_name", ""))
            schema = table_name.rsplit(".", 1)[0] if "." in table_name else postgres.db_schema
            return PostgresWarehouse(url=postgres.url, db_schema=schema).count_month(taxi.table, month)

        checks = [
            rows_reconcile_with_raw,
            schema_contract,
            quality,
            reconcile("Postgres", "postgres_table", postgres_rows),
            reconcile("the GCS object", "gcs_object", lambda m, lake, **_: lake_rows(lake, lake_object_name(taxi, m))),
            reconcile("BigQuery", "bigquery_table", lambda m, warehouse, **_: warehouse.count_month(taxi.table, m)),
        ]
    return checks


trip_checks: list[dg.AssetChecksDefinition] = [c for t in TAXI_TYPES.values() for c in build_trip_checks(t)]
