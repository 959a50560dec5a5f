"""The five assets of one taxi type, made by one factory from the type's record.

    raw_file -> cleaned_parquet -> postgres_table
                               \\-> gcs_object -> bigquery_table

Each asset names what it produces and hands the work to a core client (through a resource) or to
the transform; each requires the `preflight` resource, which checks the run before any step runs;
all share the monthly partitions, so a backfill of a range of months is one action.
"""


import dataclasses
import enum
import shutil
import threading
import time
from pathlib import Path

import dagster as dg
import pyarrow as pa

from taxi_assets.core.config import SOURCES
from taxi_assets.core.errors import SchemaChangeRefused, TaxiFileError
from taxi_assets.core.formats import parquet_batches, parquet_rows, sniff_format
from taxi_assets.core.months import partition_month
from taxi_assets.core.redaction import redact
from taxi_assets.core.tables import BIGQUERY_TABLE, CLEANED_PARQUET, GCS_OBJECT, POSTGRES_TABLE, RAW_FILE, TaxiType
from taxi_assets.defs.automation import FOLLOW_UPSTREAM
from taxi_assets.defs.failures import NETWORK_RETRY, cloud_errors, permanent, stop_on_interrupt
from taxi_assets.defs.metadata import column_schema, latest_materialization, preview, record_metadata
from taxi_assets.defs.preflight import PreflightResource
from taxi_assets.defs.resources import (
    BigQueryResource,
    FileStoreResource,
    LakeResource,
    PostgresResource,
    SourceResource,
)

# the kept raw file's suffix, from its content (never the URL's shape)
SUFFIXES = {"csv.gz": ".csv.gz", "csv": ".csv", "parquet": ".parquet"}


# A run may pick another of the known public sources, never a URL: run config is stored and shown
# by Dagster before any of our code runs, so a URL there could carry credentials or point at a local
# file. An enum is checked by Dagster's own config validation, before the run is created.
SourceName = enum.Enum("SourceName", {name: name for name in SOURCES})


class DownloadConfig(dg.Config):
    """Per-run settings of the download (defaults come from the environment via the source resource)."""

    source: SourceName | None = None  # one of the known sources (TAXI_SOURCE's choices) instead of the configured one
    force: bool = False  # download even if the source says the kept copy is current


class LoadConfig(dg.Config):
    """Per-run settings of the Postgres load (defaults come from TAXI_POSTGRES_SCHEMA)."""

    db_schema: str | None = None
    batch_rows: int | None = None  # None: batches sized by bytes (core.formats.batch_rows_for)


@dataclasses.dataclass(frozen=True)
class TripAssets:
    """The five assets of one taxi type, for the checks, the job and the sensor to refer to."""

    raw_file: dg.AssetsDefinition
    cleaned_parquet: dg.AssetsDefinition
    postgres_table: dg.AssetsDefinition
    gcs_object: dg.AssetsDefinition
    bigquery_table: dg.AssetsDefinition
    # postgres_table, gcs_object and bigquery_table are the one-asset subsets of this step's definition
    load_month: dg.AssetsDefinition

    def all(self) -> list[dg.AssetsDefinition]:
        return [self.raw_file, self.cleaned_parquet, self.load_month]


def build_trip_assets(taxi: TaxiType, partitions_def: dg.PartitionsDefinition) -> TripAssets:
    """raw_file, cleaned_parquet, postgres_table, gcs_object, bigquery_table for `taxi`."""

    def key(name: str) -> dg.AssetKey:
        return dg.AssetKey([taxi.name, name])

    common = dict(partitions_def=partitions_def, group_name=taxi.name)
    schema_md = {"dagster/column_schema": column_schema(taxi.all_columns)}

    @dg.asset(
        key=key(RAW_FILE),
        description=f"{taxi.description} The month's trip file as downloaded from the source, kept byte for byte "
        "(csv.gz from the DataTalksClub releases, parquet from the TLC).",
        kinds={"file"},
        io_manager_key="file_io_manager",
        code_version="2",
        retry_policy=NETWORK_RETRY,
        **common,
    )
    def raw_file(
        context: dg.AssetExecutionContext, config: DownloadConfig, source: SourceResource, file_store: FileStoreResource,
        preflight: PreflightResource,
    ) -> dg.Output[Path]:
        month = partition_month(context.partition_key)
        label = taxi.file_label(month)
        client = source.client(SOURCES[config.source.value][0] if config.source else None)
        try:
            url = client.url_for(taxi.name, month)
        except ValueError as e:
            raise permanent(e) from e
        store = file_store.store()
        kept_bytes = store.size_of(context.asset_key.path, context.partition_key)
        known = None if config.force or kept_bytes is None else _kept_validators(context, url, kept_bytes)
        # 404, HTML page, truncated or corrupt file, bad template: retrying won't help. Transient
        # failures (DownloadFailed: 5xx, timeouts, resets) go to the RetryPolicy.
        from taxi_assets.core.transform import probe  # pyarrow's readers: imported by the step, not the definitions

        with store.staging("download") as staged:
            try:
                got = client.fetch(url, staged, label, log=context.log.info, known=known)
                if not got.not_modified:
                    # named from its content (Arrow's readers decompress by the suffix), then the kept
                    # file is replaced only by a file shown to be this type's, for this month
                    staged = staged.rename(staged.with_name(f"{context.partition_key}{SUFFIXES[sniff_format(staged)]}"))
                    probe(staged, taxi, month)
            except TaxiFileError as e:
                raise permanent(e) from e
        if got.not_modified:
            shutil.rmtree(staged.parent, ignore_errors=True)
            context.log.info(f"{label}: unchanged at the source, keeping the downloaded copy")
            staged = store.path_for(context.asset_key.path, context.partition_key)  # the kept file
        metadata = {
            "source_url": dg.MetadataValue.url(redact(url)),
            "bytes": got.bytes,
            "downloaded": not got.not_modified,
            "attempt": dg.MetadataValue.text(str(context.retry_number + 1)),  # which try, not a measurement
            "seconds": round(got.seconds, 3),
        }
        # the validators only where the source sent them (a file:// source has none): no empty rows
        metadata.update({k: v for k, v in (("etag", got.etag), ("last_modified", got.last_modified)) if v})
        return dg.Output(staged, metadata=metadata)

    @dg.asset(
        key=key(CLEANED_PARQUET),
        ins={"raw_file": dg.AssetIn(raw_file.key)},
        description=(
            f"The {taxi.name} trips of the month, typed and cleaned, as parquet: snake_case columns, a "
            "`source_month` column"
            + (", rows with passenger_count = 0 dropped (counted in metadata)." if taxi.drop_zero_passengers else ".")
        ),
        kinds={"parquet"},
        io_manager_key="file_io_manager",
        code_version="1",
        metadata=schema_md,
        **common,
    )
    def cleaned_parquet(
        context: dg.AssetExecutionContext, raw_file: Path, file_store: FileStoreResource, preflight: PreflightResource
    ) -> dg.Output[Path]:
        from taxi_assets.core.transform import write_parquet  # pyarrow's readers: imported by the step

        month = partition_month(context.partition_key)
        with file_store.store().staging(f"{taxi.name}_tripdata_{month:%Y-%m}.parquet") as staged:
            try:
                stats = write_parquet(raw_file, staged, taxi, month, log=context.log.info)
            except TaxiFileError as e:
                raise permanent(e) from e
            finally:
                pa.default_memory_pool().release_unused()  # steps share a process (in_process_executor)
        if stats.unknown_columns:
            context.log.warning(f"{taxi.file_label(month)}: columns not in the schema, not loaded: {list(stats.unknown_columns)}")
        metadata = {
            "dagster/row_count": stats.rows_out,
            "rows_in": stats.rows_in,
            "rows_dropped_zero_passengers": stats.rows_dropped_zero_passengers,
            "non_utf8_values": stats.non_utf8_values,
            "source_format": stats.source_format,
            "bytes": staged.stat().st_size,
            "seconds": round(stats.seconds, 3),
            "rows_per_second": round(stats.rows_in / max(stats.seconds, 1e-9)),
            "preview": preview(staged, taxi.all_columns),
        }
        # rows only where there is something to say (an empty row on every month reads as a problem)
        if stats.missing_optional_columns:
            metadata["columns_absent_in_source"] = ", ".join(stats.missing_optional_columns)
        if stats.unknown_columns:
            metadata["unknown_columns"] = ", ".join(stats.unknown_columns)
        if stats.ignored_columns:  # a pandas index written into the file: not data
            metadata["ignored_columns"] = ", ".join(stats.ignored_columns)
        return dg.Output(staged, metadata=metadata)

    pg_key, gcs_key, bq_key = key(POSTGRES_TABLE), key(GCS_OBJECT), key(BIGQUERY_TABLE)
    load_specs = [
        dg.AssetSpec(
            pg_key, deps=[cleaned_parquet.key], kinds={"postgres"}, code_version="1", metadata=schema_md,
            automation_condition=FOLLOW_UPSTREAM, group_name=taxi.name, skippable=True,
            description=(
                f"The month's rows in Postgres table `{taxi.table}` (partition per month): replaced, not "
                "appended, when materialized again, in one transaction."
            ),
        ),
        dg.AssetSpec(
            gcs_key, deps=[cleaned_parquet.key], kinds={"gcs", "parquet"}, code_version="1", metadata=schema_md,
            automation_condition=FOLLOW_UPSTREAM, group_name=taxi.name, skippable=True,
            description=f"The month's cleaned parquet in the data lake: gs://<bucket>/{taxi.name}/{taxi.name}_tripdata_YYYY-MM.parquet.",
        ),
        dg.AssetSpec(
            bq_key, deps=[gcs_key], kinds={"bigquery"}, code_version="1", metadata=schema_md,
            automation_condition=FOLLOW_UPSTREAM, group_name=taxi.name, skippable=True,
            description=(
                f"The month's rows in BigQuery table `{taxi.table}` (partitioned by month on source_month), "
                "loaded from the lake object by a load job; a month is replaced, never appended twice."
            ),
        ),
    ]

    # One step for the three loads of a month, so that the Postgres load (in a thread) runs while
    # BigQuery loads the lake object: both wait on servers most of the time, and on two cores they
    # overlap (docs/BENCHMARKS.md). The upload to GCS goes first, alone: beside the Postgres encoder
    # it took four times as long, and BigQuery waits for it. A step per asset cannot overlap in the one-process
    # runs (in_process_executor), and a process per step costs more than it saves. Each asset is still
    # materialized, checked and selectable on its own (can_subset).
    @dg.multi_asset(
        name=f"{taxi.name}__{LOAD_STEP}",
        specs=load_specs,
        can_subset=True,
        partitions_def=partitions_def,
        retry_policy=NETWORK_RETRY,
    )
    def load_month(
        context: dg.AssetExecutionContext, config: LoadConfig, file_store: FileStoreResource, postgres: PostgresResource,
        lake: LakeResource, bigquery: BigQueryResource, preflight: PreflightResource,
    ):
        month = partition_month(context.partition_key)
        selected = context.selected_asset_keys
        parquet = None
        if selected & {pg_key, gcs_key}:  # BigQuery alone loads from the lake object, not from the file
            store = file_store.store()
            parquet = store.path_for(cleaned_parquet.key.path, context.partition_key)
            if parquet is None:
                raise permanent(FileNotFoundError(
                    f"{taxi.file_label(month)}: no cleaned parquet in {store.dir_for(cleaned_parquet.key.path)}: "
                    "materialize cleaned_parquet first"))
        pg, failed = None, None

        def start_postgres() -> "_Background | None":
            return _Background(_postgres_load, context, taxi, month, config, parquet, postgres) if pg_key in selected else None

        try:
            if gcs_key in selected:  # alone first: ~0.5 s, where beside the Postgres encoder it took 2.6 s
                yield _gcs_upload(context, taxi, month, parquet, lake, gcs_key)
            pg = start_postgres()
            if bq_key in selected:
                yield _bigquery_load(context, taxi, month, lake, bigquery, bq_key)
        except Exception as e:  # the Postgres load still runs (its own transaction) and is recorded
            failed = e
        if pg is None:  # the upload failed before the Postgres load started
            pg = start_postgres()
        if pg is not None:
            stop_on_interrupt(pg.wait)  # a SIGTERM meanwhile ends the run, not a retry of the step
            if failed is None or pg.ok:
                yield pg.result(pg_key)
            else:
                context.log.error(f"{taxi.file_label(month)}: the Postgres load failed too: {redact(str(pg.error))}")
        if failed is not None:
            raise failed

    postgres_table = load_month.subset_for({pg_key}, selected_asset_check_keys=None)
    gcs_object = load_month.subset_for({gcs_key}, selected_asset_check_keys=None)
    bigquery_table = load_month.subset_for({bq_key}, selected_asset_check_keys=None)

    return TripAssets(raw_file, cleaned_parquet, postgres_table, gcs_object, bigquery_table, load_month)


LOAD_STEP = "load_month"  # the step (op) of the three loads: `<taxi>__load_month`; its config is LoadConfig


def _postgres_load(context, taxi: TaxiType, month, config: LoadConfig, parquet: Path, postgres: PostgresResource) -> dict:
    store = postgres.store(config.db_schema)
    t0 = time.monotonic()
    try:
        rows = store.replace_month(
            taxi.table, taxi.all_columns, month, parquet_batches(parquet, config.batch_rows), log=context.log.info
        )
    except SchemaChangeRefused as e:  # not additive: no retry can fix it
        raise permanent(e) from e
    pa.default_memory_pool().release_unused()
    seconds = time.monotonic() - t0
    return {
        "dagster/row_count": rows,
        "dagster/table_name": f"{store.db_schema}.{taxi.table}",
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / max(seconds, 1e-9)),
    }


def _gcs_upload(context, taxi: TaxiType, month, parquet: Path, lake: LakeResource, asset_key) -> dg.MaterializeResult:
    t0 = time.monotonic()
    with cloud_errors(), lake.store() as store:
        obj = stop_on_interrupt(store.upload, parquet, taxi.lake_object(month), log=context.log.info)
    return dg.MaterializeResult(
        asset_key=asset_key,
        metadata={
            "dagster/uri": obj.uri,
            "bytes": obj.bytes,
            "dagster/row_count": parquet_rows(parquet),
            "seconds": round(time.monotonic() - t0, 3),
            # identifiers, not measurements: text (the UI would plot a number), and only when given
            **{k: dg.MetadataValue.text(str(v)) for k, v in
               (("crc32c", obj.crc32c), ("md5", obj.md5), ("generation", obj.generation)) if v},
        },
    )


def _bigquery_load(context, taxi: TaxiType, month, lake: LakeResource, bigquery: BigQueryResource, asset_key) -> dg.MaterializeResult:
    t0 = time.monotonic()
    uri = lake.uri(taxi.lake_object(month))
    warehouse = bigquery.store()
    with cloud_errors():
        try:
            rows = stop_on_interrupt(warehouse.replace_month_from_uri, taxi.table, taxi.all_columns, month, uri,
                                     log=context.log.info)
        except SchemaChangeRefused as e:  # not additive: no retry can fix it
            raise permanent(e) from e
    return dg.MaterializeResult(
        asset_key=asset_key,
        metadata={
            "dagster/row_count": rows,
            "dagster/table_name": warehouse.table_id(taxi.table),
            "source_uri": uri,
            "seconds": round(time.monotonic() - t0, 3),
        },
    )


class _Background:
    """A call in a daemon thread (should the run be killed, the process ends and the server rolls the
    load's transaction back); `wait()` returns it done, `result(key)` its MaterializeResult or its error."""

    def __init__(self, fn, *args):
        self._outcome: dict = {}

        def work() -> None:
            try:
                self._outcome["value"] = fn(*args)
            except BaseException as e:  # handed to the step, raised there
                self._outcome["error"] = e

        self._thread = threading.Thread(target=work, name=f"load-{fn.__name__}", daemon=True)
        self._thread.start()

    def wait(self) -> "_Background":
        self._thread.join()  # the step calls it through stop_on_interrupt (interruptible)
        return self

    @property
    def ok(self) -> bool:
        return "value" in self._outcome

    @property
    def error(self) -> BaseException | None:
        return self._outcome.get("error")

    def result(self, asset_key) -> dg.MaterializeResult:
        if "error" in self._outcome:
            raise self._outcome["error"]
        return dg.MaterializeResult(asset_key=asset_key, metadata=self._outcome["value"])


def _kept_validators(context: dg.AssetExecutionContext, url: str, kept_bytes: int) -> dict | None:
    """ETag / Last-Modified / size recorded when the kept copy was downloaded, if it is that copy."""
    meta = record_metadata(latest_materialization(context.instance, context.asset_key, context.partition_key))
    if not meta:
        return None
    if meta.get("source_url") != redact(url) or meta.get("bytes") != kept_bytes:
        return None
    return {"etag": meta.get("etag"), "last_modified": meta.get("last_modified"), "bytes": meta.get("bytes")}
