"""The trip assets of one taxi type, made by one factory from the type's schema record.

    raw_csv -> cleaned_parquet -> postgres_table
                              \\-> gcs_object -> bigquery_table

Each asset names what it produces and hands the work to a resource or to `transform`; all
share the monthly partitions, so a backfill of a range of months is one action.
"""


import shutil
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import dagster as dg
import pyarrow as pa
from google.api_core import exceptions as google_exceptions

from taxi_assets.partitions import monthly_partitions, partition_month
from taxi_assets.redaction import redact
from taxi_assets.resources import (
    BigQueryWarehouse,
    FileStore,
    PostgresWarehouse,
    TaxiLake,
    TaxiSource,
)
from taxi_assets.taxi_types import Column, TaxiType
from taxi_assets.transform import (
    TaxiFileError,
    parquet_batches,
    parquet_rows,
    write_parquet,
)

# network steps: exponential backoff with jitter; errors retrying cannot fix raise dg.Failure
NETWORK_RETRY = dg.RetryPolicy(
    max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


# Downstream of the cleaned parquet: when a month's parquet is materialized again without them
# (a fix to the cleaning, say), that month's Postgres, GCS and BigQuery assets follow -- for any
# month, not only the latest (unlike AutomationCondition.eager()), and without downloading again.
# Runs that already include them (the jobs, backfills) do not trigger a second load.
FOLLOW_UPSTREAM = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_missing()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("follows its upstream, any month")


class DownloadConfig(dg.Config):
    """Per-run settings of the download (defaults come from the environment via TaxiSource)."""

    url_template: str | None = None  # e.g. a mirror; {taxi}, {year}, {month}
    force: bool = False  # download even if the source says the kept copy is current


class LoadConfig(dg.Config):
    """Per-run settings of the Postgres load (defaults come from TAXI_POSTGRES_SCHEMA)."""

    db_schema: str | None = None
    batch_rows: int = 131_072


def permanent(e: Exception) -> dg.Failure:
    """A failure that no retry can fix (404, a file of the wrong shape): fail the step now."""
    return dg.Failure(description=redact(str(e)), allow_retries=False)


@contextmanager
def cloud_errors() -> Iterator[None]:
    """GCS / BigQuery errors: 4xx (bad request, schema mismatch, forbidden, not found) and bad
    names fail at once; 429, 5xx and connection errors are left to the RetryPolicy."""
    try:
        yield
    except google_exceptions.TooManyRequests:
        raise
    except (google_exceptions.ClientError, ValueError) as e:
        raise permanent(e) from e


def column_schema(columns: Sequence[Column]) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(c.name, c.kind, description=c.description) for c in columns]
    )


def preview(path: Path, rows: int = 5) -> dg.MetadataValue:
    first = next(parquet_batches(path, batch_rows=rows), None)
    records = [] if first is None else first.to_pylist()
    return dg.MetadataValue.md(markdown_table(records))


def markdown_table(records: list[dict]) -> str:
    if not records:
        return "(no rows)"
    cols = list(records[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join("" if r[c] is None else str(r[c]) for c in cols) + " |" for r in records]
    return "\n".join(lines)


def lake_object_name(taxi: TaxiType, month) -> str:
    return f"{taxi.name}/{taxi.name}_tripdata_{month:%Y-%m}.parquet"


def build_trip_assets(taxi: TaxiType) -> list[dg.AssetsDefinition]:
    """raw_csv, cleaned_parquet, postgres_table, gcs_object, bigquery_table for `taxi`."""

    def key(name: str) -> dg.AssetKey:
        return dg.AssetKey([taxi.name, name])

    common = dict(partitions_def=monthly_partitions, group_name=taxi.name)
    schema_md = {"dagster/column_schema": column_schema(taxi.all_columns)}

    @dg.asset(
        key=key("raw_csv"),
        description=f"{taxi.description} The month's trip file as downloaded from the source, kept byte for byte.",
        kinds={"csv"},
        io_manager_key="files",
        code_version="1",
        retry_policy=NETWORK_RETRY,
        **common,
    )
    def raw_csv(
        context: dg.AssetExecutionContext, config: DownloadConfig, source: TaxiSource, file_store: FileStore
    ) -> dg.Output[Path]:
        month = partition_month(context.partition_key)
        try:
            url = source.url_for(taxi.name, month, config.url_template)
        except ValueError as e:
            raise permanent(e) from e
        kept = file_store.path_for(context.asset_key, context.partition_key)
        known = None if config.force or kept is None else _kept_validators(context, url, kept)
        # 404, HTML page, truncated or corrupt file, bad template: retrying won't help. Transient
        # failures (DownloadFailed: 5xx, timeouts, resets) go to the RetryPolicy.
        with file_store.staging(PurePosixPath(urllib.parse.urlparse(url).path).name or "download") as staged:
            try:
                got = source.fetch(url, staged, taxi.file_label(month), log=context.log.info, known=known)
            except TaxiFileError as e:
                raise permanent(e) from e
        if got.not_modified:
            shutil.rmtree(staged.parent, ignore_errors=True)
            context.log.info(f"{taxi.file_label(month)}: unchanged at the source, keeping the downloaded copy")
        return dg.Output(
            kept if got.not_modified else staged,
            metadata={
                "source_url": dg.MetadataValue.url(redact(url)),
                "bytes": got.bytes,
                "etag": got.etag or "",
                "last_modified": got.last_modified or "",
                "downloaded": not got.not_modified,
                "http_attempts": got.attempts,
                "seconds": round(got.seconds, 3),
            },
            data_version=dg.DataVersion(got.etag or f"{got.bytes}-{got.last_modified}"),
        )

    @dg.asset(
        key=key("cleaned_parquet"),
        ins={"raw_csv": dg.AssetIn(key("raw_csv"))},
        description=(
            f"The {taxi.name} trips of the month, typed and cleaned, as parquet: snake_case columns, a "
            "`source_month` column"
            + (", rows with passenger_count = 0 dropped (counted in metadata)." if taxi.drop_zero_passengers else ".")
        ),
        kinds={"parquet"},
        io_manager_key="files",
        code_version="1",
        metadata=schema_md,
        **common,
    )
    def cleaned_parquet(
        context: dg.AssetExecutionContext, raw_csv: Path, file_store: FileStore
    ) -> dg.Output[Path]:
        month = partition_month(context.partition_key)
        with file_store.staging(f"{taxi.name}_tripdata_{month:%Y-%m}.parquet") as staged:
            try:
                stats = write_parquet(raw_csv, staged, taxi, month, log=context.log.info)
            except TaxiFileError as e:
                raise permanent(e) from e
            finally:
                pa.default_memory_pool().release_unused()  # steps share a process (in_process_executor)
        if stats.unknown_columns:
            context.log.warning(f"{taxi.file_label(month)}: columns not in the schema, not loaded: {list(stats.unknown_columns)}")
        return dg.Output(
            staged,
            metadata={
                "dagster/row_count": stats.rows_out,
                "rows_in": stats.rows_in,
                "rows_dropped_zero_passengers": stats.rows_dropped_zero_passengers,
                "non_utf8_values": stats.non_utf8_values,
                "source_format": stats.source_format,
                "unknown_columns": ", ".join(stats.unknown_columns),
                "columns_absent_in_source": ", ".join(stats.missing_optional_columns),
                "bytes": staged.stat().st_size,
                "seconds": round(stats.seconds, 3),
                "rows_per_second": round(stats.rows_in / max(stats.seconds, 1e-9)),
                "preview": preview(staged),
            },
        )

    @dg.asset(
        key=key("postgres_table"),
        automation_condition=FOLLOW_UPSTREAM,
        ins={"cleaned_parquet": dg.AssetIn(key("cleaned_parquet"))},
        description=(
            f"The month's rows in Postgres table `{taxi.table}` (partition per month): replaced, not "
            "appended, when materialized again, in one transaction."
        ),
        kinds={"postgres"},
        code_version="1",
        metadata=schema_md,
        **common,
    )
    def postgres_table(
        context: dg.AssetExecutionContext, config: LoadConfig, cleaned_parquet: Path, postgres: PostgresWarehouse
    ) -> dg.MaterializeResult:
        month = partition_month(context.partition_key)
        if config.db_schema:
            postgres = PostgresWarehouse(url=postgres.url, db_schema=config.db_schema)
        t0 = time.monotonic()
        rows = postgres.replace_month(
            taxi.table, taxi.all_columns, month, parquet_batches(cleaned_parquet, config.batch_rows), log=context.log.info
        )
        pa.default_memory_pool().release_unused()
        seconds = time.monotonic() - t0
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "dagster/table_name": f"{postgres.db_schema}.{taxi.table}",
                "seconds": round(seconds, 3),
                "rows_per_second": round(rows / max(seconds, 1e-9)),
            }
        )

    @dg.asset(
        key=key("gcs_object"),
        automation_condition=FOLLOW_UPSTREAM,
        ins={"cleaned_parquet": dg.AssetIn(key("cleaned_parquet"))},
        description=f"The month's cleaned parquet in the data lake: gs://<bucket>/{taxi.name}/{taxi.name}_tripdata_YYYY-MM.parquet.",
        kinds={"gcs", "parquet"},
        code_version="1",
        retry_policy=NETWORK_RETRY,
        metadata=schema_md,
        **common,
    )
    def gcs_object(context: dg.AssetExecutionContext, cleaned_parquet: Path, lake: TaxiLake) -> dg.MaterializeResult:
        month = partition_month(context.partition_key)
        t0 = time.monotonic()
        with cloud_errors():
            obj = lake.upload(cleaned_parquet, lake_object_name(taxi, month), log=context.log.info)
        return dg.MaterializeResult(
            metadata={
                "dagster/uri": obj.uri,
                "bytes": obj.bytes,
                "crc32c": obj.crc32c or "",
                "md5": obj.md5 or "",
                "generation": obj.generation or 0,
                "dagster/row_count": parquet_rows(cleaned_parquet),
                "seconds": round(time.monotonic() - t0, 3),
            }
        )

    @dg.asset(
        key=key("bigquery_table"),
        automation_condition=FOLLOW_UPSTREAM,
        deps=[key("gcs_object")],
        description=(
            f"The month's rows in BigQuery table `{taxi.table}` (partitioned by month on source_month), "
            "loaded from the lake object by a load job; a month is replaced, never appended twice."
        ),
        kinds={"bigquery"},
        code_version="1",
        retry_policy=NETWORK_RETRY,
        metadata=schema_md,
        **common,
    )
    def bigquery_table(
        context: dg.AssetExecutionContext, lake: TaxiLake, warehouse: BigQueryWarehouse
    ) -> dg.MaterializeResult:
        month = partition_month(context.partition_key)
        t0 = time.monotonic()
        uri = lake.uri(lake_object_name(taxi, month))
        with cloud_errors():
            rows = warehouse.replace_month_from_uri(taxi.table, taxi.all_columns, month, uri, log=context.log.info)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "dagster/table_name": warehouse.table_id(taxi.table),
                "source_uri": uri,
                "seconds": round(time.monotonic() - t0, 3),
            }
        )

    return [raw_csv, cleaned_parquet, postgres_table, gcs_object, bigquery_table]


def _kept_validators(context: dg.AssetExecutionContext, url: str, kept: Path) -> dict | None:
    """ETag / Last-Modified / size recorded when the kept copy was downloaded, if it is that copy."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=context.asset_key, asset_partitions=[context.partition_key]), limit=1
    ).records
    if not records:
        return None
    meta = {k: v.value for k, v in (records[0].asset_materialization.metadata or {}).items()}
    if meta.get("source_url") != redact(url) or meta.get("bytes") != kept.stat().st_size:
        return None
    return {"etag": meta.get("etag"), "last_modified": meta.get("last_modified"), "bytes": meta.get("bytes")}
