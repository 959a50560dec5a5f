"""Asset checks for every month of a taxi type: row counts reconcile across the stores, and the
cleaned month is measured for the known kinds of bad data (rules: `taxi_assets.core.quality`).

    build_trip_checks(taxi, assets, partitions_def) -> the checks of one type

Every check is partitioned like the assets: it runs for the month being materialized
(`context.partition_key`), in the same run, after its asset, and reads the stores themselves, not
only what the asset said about itself.

Reconciliation (severity ERROR; exact: any difference fails), the documented drop being the only
one allowed:

    raw rows                       = rows_in                      (the cleaning step's count, or counted again)
    parquet rows                   = rows_in - rows_dropped_zero_passengers
    Postgres rows = GCS object rows = BigQuery rows = parquet rows

- `cleaned_parquet` `rows_reconcile_with_raw`: the cleaned parquet's row count (its footer) must be
  the raw rows minus the zero-passenger rows, as the cleaning step counted them while reading every
  raw row (its materialization metadata); the raw file is read again (the passenger column only, or
  the parquet footer) only where that count is missing or older than the raw file.
- `postgres_table`, `gcs_object`, `bigquery_table` `rows_reconcile_with_parquet`: the month's count
  in Postgres, the row count in the GCS object's parquet footer (two ranged GETs, not a download),
  the month's count in BigQuery -- each equal to the parquet's.
- `cleaned_parquet` `schema_contract`: the parquet has exactly the type's Arrow schema, and a sample
  of its first rows is a valid `cleaned_frame_type(taxi)` (a dagster-pandas DataFrame type).
- `cleaned_parquet` quality checks, one per rule that applies (`core.quality.quality_rules`).

`build_taxi_defs` makes the cleaned_parquet checks blocking: a month whose checks fail with
severity ERROR is not loaded into Postgres, GCS or BigQuery, and the run fails (non-zero exit).
"""


import datetime as dt
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import dagster as dg
import pyarrow as pa

from taxi_assets.core.formats import parquet_batches, parquet_rows, parquet_schema
from taxi_assets.core.months import partition_month
from taxi_assets.core.quality import ERROR, PASS, measure_quality, quality_rules, raw_counts
from taxi_assets.core.tables import SOURCE_MONTH, Role, TaxiType
from taxi_assets.defs.failures import stop_on_interrupt
from taxi_assets.defs.metadata import latest_materialization, record_metadata, records_table
from taxi_assets.defs.resources import BigQueryResource, FileStoreResource, LakeResource, PostgresResource
from taxi_assets.defs.trip_assets import TripAssets

if TYPE_CHECKING:  # pandas and dagster-pandas are imported by the schema check when it runs (~1.5 s)
    import pandas as pd

SAMPLE_ROWS = 1_000  # rows of the typed dagster-pandas sample
SEVERITY = {ERROR: dg.AssetCheckSeverity.ERROR}


def frame_type_name(taxi: TaxiType) -> str:
    return f"Cleaned{taxi.name.capitalize()}TripsFrame"


def cleaned_frame_type(taxi: TaxiType) -> dg.DagsterType:
    """The cleaned frame of one taxi type as a dagster-pandas DataFrame type.

    Frames are made with `to_frame` (nullable integers as pandas `Int64`, timestamps and dates
    as datetime64): use it for any sample of a cleaned month that is handled as a DataFrame.
    """
    if taxi.name not in _FRAME_TYPES:  # built once per type, on first use (dagster-pandas imports pandas)
        # dagster-pandas' DataFrame types are Beta: they type-check the sample the schema check reports on
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=dg.BetaWarning)
            _FRAME_TYPES[taxi.name] = _frame_type(taxi)
    return _FRAME_TYPES[taxi.name]


_FRAME_TYPES: dict[str, dg.DagsterType] = {}


def _frame_type(taxi: TaxiType) -> dg.DagsterType:
    from dagster_pandas import PandasColumn, create_dagster_pandas_dataframe_type

    cols = []
    for c in taxi.all_columns:
        required = c.has(Role.PICKUP_TIME) or c.name == SOURCE_MONTH
        if c.kind == "int":
            cols.append(PandasColumn.integer_column(c.name, ignore_missing_vals=True))
        elif c.kind == "float":
            cols.append(PandasColumn.float_column(c.name, ignore_missing_vals=True))
        elif c.kind in ("timestamp", "date"):
            cols.append(PandasColumn.datetime_column(c.name, non_nullable=required, ignore_missing_vals=not required))
        else:
            cols.append(PandasColumn.string_column(c.name, ignore_missing_vals=True))
    return create_dagster_pandas_dataframe_type(
        name=frame_type_name(taxi),
        description=f"Cleaned {taxi.name} trips: the columns of the {taxi.name} record, typed.",
        columns=cols,
    )


def to_frame(table: pa.Table | pa.RecordBatch) -> "pd.DataFrame":
    """Arrow -> pandas the way `cleaned_frame_type` expects (nullable Int64, datetime64[ns])."""
    import pandas as pd

    ints = {pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int64Dtype()}
    return table.to_pandas(types_mapper=ints.get, date_as_object=False, coerce_temporal_nanoseconds=True)


def _latest_record(context: dg.AssetCheckExecutionContext, key: dg.AssetKey) -> dg.EventLogRecord | None:
    """The latest materialization of `key` for the check's month, if any."""
    return latest_materialization(context.instance, key, context.partition_key)


def _latest_metadata(context: dg.AssetCheckExecutionContext, key: dg.AssetKey) -> dict:
    return record_metadata(_latest_record(context, key))


def _missing(what: str, month: dt.date, **kw) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=False,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{what} for {month:%Y-%m} not found: materialize it first",
        **kw,
    )


def build_trip_checks(
    taxi: TaxiType, assets: TripAssets, partitions_def: dg.PartitionsDefinition, blocking: bool = False
) -> list[dg.AssetChecksDefinition]:
    """The asset checks of one taxi type (see the module docstring)."""
    raw_key, parquet_key = assets.raw_file.key, assets.cleaned_parquet.key
    frame_name = frame_type_name(taxi)
    part = dict(partitions_def=partitions_def)
    rules = quality_rules(taxi)

    def parquet_path(context, file_store: FileStoreResource):
        return file_store.store().path_for(parquet_key.path, context.partition_key)

    # partitioned checks are Preview: they give each month its own check results in the UI
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=dg.PreviewWarning)

        @dg.asset_check(
            asset=assets.cleaned_parquet,
            name="rows_reconcile_with_raw",
            description="Parquet rows = raw rows - zero-passenger rows (where the rule applies), as the cleaning step counted the raw file (counted again where the raw file is newer).",
            blocking=blocking,
            **part,
        )
        def rows_reconcile_with_raw(context: dg.AssetCheckExecutionContext, file_store: FileStoreResource) -> dg.AssetCheckResult:
            month = partition_month(context.partition_key)
            raw = file_store.store().path_for(raw_key.path, context.partition_key)
            parquet = parquet_path(context, file_store)
            if raw is None or parquet is None:
                return _missing("the raw file" if raw is None else "the cleaned parquet", month)
            got = parquet_rows(parquet)
            made = _latest_record(context, parquet_key)
            downloaded = _latest_record(context, raw_key)
            meta = record_metadata(made)
            counted_by_step = (
                meta.get("rows_in") is not None
                and meta.get("rows_dropped_zero_passengers") is not None
                and (downloaded is None or downloaded.timestamp <= made.timestamp)
            )
            if counted_by_step:
                # the cleaning step read every raw row and counted it: read the month again only when
                # that count is missing or older than the raw file (materialized alone since)
                raw_rows, raw_zeros = meta["rows_in"], meta["rows_dropped_zero_passengers"]
                source = "the cleaning step's count of the raw file"
            else:
                raw_rows, raw_zeros = raw_counts(raw, taxi, taxi.file_label(month))
                source = "counted again from the raw file"
            expected = raw_rows - raw_zeros
            problems = []
            if got != expected:
                problems.append(f"parquet has {got} rows, expected {expected} = {raw_rows} raw - {raw_zeros} dropped ({source})")
            return dg.AssetCheckResult(
                passed=not problems,
                severity=dg.AssetCheckSeverity.ERROR,
                description="; ".join(problems) or f"{got} = {raw_rows} - {raw_zeros} ({source})",
                metadata={"raw_rows": raw_rows, "raw_zero_passenger_rows": raw_zeros, "parquet_rows": got,
                          "difference": got - expected, "raw_rows_from": dg.MetadataValue.text(source)},
            )

        @dg.asset_check(
            asset=assets.cleaned_parquet,
            name="schema_contract",
            description=f"The parquet schema is the {taxi.name} schema; a sample is a valid {frame_name} (dagster-pandas).",
            blocking=blocking,
            **part,
        )
        def schema_contract(context: dg.AssetCheckExecutionContext, file_store: FileStoreResource) -> dg.AssetCheckResult:
            month = partition_month(context.partition_key)
            parquet = parquet_path(context, file_store)
            if parquet is None:
                return _missing("the cleaned parquet", month)
            found_schema = parquet_schema(parquet)
            problems = []
            if not found_schema.equals(taxi.arrow_schema, check_metadata=False):
                problems.append(f"schema differs: expected {taxi.arrow_schema.names} typed, found {found_schema}")
            frame_type = cleaned_frame_type(taxi)
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
                # what was compared, not measurements over time: text, so the UI does not plot them
                metadata={"sample_rows": dg.MetadataValue.text(str(0 if sample is None else sample.num_rows)),
                          "columns": dg.MetadataValue.text(str(len(found_schema)))},
            )

        @dg.multi_asset_check(
            name=f"{taxi.name}_cleaned_parquet_quality",
            specs=[
                dg.AssetCheckSpec(r.name, asset=parquet_key, description=r.description, blocking=blocking, **part)
                for r in rules
            ],
        )
        def quality(context: dg.AssetCheckExecutionContext, file_store: FileStoreResource) -> Iterator[dg.AssetCheckResult]:
            month = partition_month(context.partition_key)
            parquet = parquet_path(context, file_store)
            if parquet is None:
                for r in rules:
                    yield _missing("the cleaned parquet", month, asset_key=parquet_key, check_name=r.name)
                return
            q = measure_quality(parquet, taxi, month)
            for r in rules:
                n = q.flagged[r.name]
                grade, share = r.grade(n, q.rows)
                meta = {
                    "rows": q.rows,
                    "flagged_rows": n,
                    "share": round(share, 6),
                    # the rule's thresholds are constants, not measurements: text, so the UI does not plot them
                    "thresholds": dg.MetadataValue.text(f"passes up to {r.pass_max:.2%}, ERROR above {r.error_above:.2%}"),
                }
                if q.examples[r.name]:
                    meta["examples"] = records_table(q.examples[r.name])
                if r.name == "known_zone_ids":
                    meta["null_zone_ids"] = q.null_zone_ids
                yield dg.AssetCheckResult(
                    asset_key=parquet_key,
                    check_name=r.name,
                    passed=grade == PASS,
                    severity=SEVERITY.get(grade, dg.AssetCheckSeverity.WARN),
                    description=(
                        f"{n} of {q.rows} rows ({share:.3%}) flagged"
                        + ("" if grade == PASS else f": {grade} (passes up to {r.pass_max:.2%}, ERROR above {r.error_above:.2%})")
                    ),
                    metadata=meta,
                )

        def reconcile(what: str, asset: dg.AssetsDefinition, count: Callable[..., int | None]):
            @dg.asset_check(
                asset=asset,
                name="rows_reconcile_with_parquet",
                description=f"The month's rows in {what} = the cleaned parquet's rows.",
                **part,
            )
            def _check(context: dg.AssetCheckExecutionContext, file_store: FileStoreResource, postgres: PostgresResource,
                       lake: LakeResource, bigquery: BigQueryResource) -> dg.AssetCheckResult:
                month = partition_month(context.partition_key)
                parquet = parquet_path(context, file_store)
                if parquet is None:
                    return _missing("the cleaned parquet", month)
                expected = parquet_rows(parquet)
                got = stop_on_interrupt(count, month, context=context, postgres=postgres, lake=lake, bigquery=bigquery)
                if got is None:
                    return _missing(what, month)
                return dg.AssetCheckResult(
                    passed=got == expected,
                    severity=dg.AssetCheckSeverity.ERROR,
                    description=f"{what}: {got} rows, parquet: {expected} rows",
                    metadata={"rows": got, "parquet_rows": expected, "difference": got - expected},
                )

            return _check

        def postgres_rows(month: dt.date, context: dg.AssetCheckExecutionContext, postgres: PostgresResource, **_) -> int:
            # the schema the month was loaded into (a run may override TAXI_POSTGRES_SCHEMA)
            table_name = str(_latest_metadata(context, assets.postgres_table.key).get("dagster/table_name", ""))
            schema = table_name.rsplit(".", 1)[0] if "." in table_name else None
            return postgres.store(schema).count_month(taxi.table, month)

        def lake_rows(month: dt.date, lake: LakeResource, **_) -> int | None:
            with lake.store() as store:
                return store.parquet_rows(taxi.lake_object(month))

        return [
            rows_reconcile_with_raw,
            schema_contract,
            quality,
            reconcile("Postgres", assets.postgres_table, postgres_rows),
            reconcile("the GCS object", assets.gcs_object, lake_rows),
            reconcile("BigQuery", assets.bigquery_table, lambda m, bigquery, **_: bigquery.store().count_month(taxi.table, m)),
        ]
