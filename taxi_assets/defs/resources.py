"""Resources and the IO manager: thin Dagster wrappers around the core's clients, configured from
the environment (`taxi_assets.core.config` lists every variable).

| key               | resource                  | core client                 |
| ----------------- | ------------------------- | --------------------------- |
| `preflight`       | `PreflightResource`       | (checks the run before any step: defs/preflight.py) |
| `source`          | `SourceResource`          | `core.source.Source`        |
| `file_store`      | `FileStoreResource`       | `core.stores.files.FileStore` (a folder) or `ObjectFileStore` (gs://) |
| `file_io_manager` | `FileIOManager`           | (files of raw_file and cleaned_parquet) |
| `postgres`        | `PostgresResource`        | `core.stores.postgres.PostgresStore` |
| `lake`            | `LakeResource`            | `core.stores.lake.LakeStore` |
| `bigquery`        | `BigQueryResource`        | `core.stores.bigquery.BigQueryStore` |

A variable that is set becomes a `dg.EnvVar`, resolved when a run starts, so secrets (the
Postgres password, credentials in a source URL) never appear in the UI.
"""


import importlib
import threading
from pathlib import Path

import dagster as dg

from taxi_assets.core.config import DTC_URL_TEMPLATE, DTC_ZONES_URL, Settings
from taxi_assets.core.source import Source
from taxi_assets.core.stores.bigquery import BigQueryStore
from taxi_assets.core.stores.files import FileStore, ObjectFileStore, open_file_store
from taxi_assets.core.stores.lake import LakeStore, object_uri
from taxi_assets.core.stores.postgres import PostgresStore
from taxi_assets.defs.preflight import PreflightResource


class SourceResource(dg.ConfigurableResource):
    """Where the monthly trip files and the zone lookup come from (http(s):// or file://)."""

    url_template: str = DTC_URL_TEMPLATE
    zones_url: str = DTC_ZONES_URL
    timeout_seconds: float = 60.0
    file_root: str | None = None  # TAXI_SOURCE_FILE_ROOT: never from run config

    def client(self, url_template: str | None = None) -> Source:
        return Source(url_template or self.url_template, self.zones_url, self.timeout_seconds, self.file_root)


class FileStoreResource(dg.ConfigurableResource):
    """Where the raw and cleaned files are (`TAXI_DATA_DIR`): a folder, or gs://bucket/prefix."""

    base_dir: str
    project: str | None = None  # the bucket's project, for a gs:// base_dir

    def store(self) -> FileStore | ObjectFileStore:
        return open_file_store(self.base_dir, self.project)


class FileIOManager(dg.ConfigurableIOManager):
    """Stores the `Path` an asset returns in the file store (one atomic rename); hands downstream
    assets the final `Path`. Configured with the file store's folder, not with the resource
    itself: a nested resource makes Dagster 1.13 warn of its own deprecated API at every run."""

    base_dir: str
    project: str | None = None

    def store(self) -> FileStore | ObjectFileStore:
        return open_file_store(self.base_dir, self.project)

    def handle_output(self, context: dg.OutputContext, obj: Path) -> None:
        partition = context.asset_partition_key if context.has_asset_partitions else None
        final = str(self.store().place(Path(obj), context.asset_key.path, partition))
        context.add_output_metadata(
            {"dagster/uri": final} if final.startswith("gs://") else {"path": dg.MetadataValue.path(final)}
        )

    def load_input(self, context: dg.InputContext) -> Path:
        key = context.upstream_output.asset_key if context.upstream_output else context.asset_key
        partition = context.asset_partition_key if context.has_asset_partitions else None
        store = self.store()
        path = store.path_for(key.path, partition)
        if path is None:
            raise FileNotFoundError(
                f"{key.to_user_string()} has no file for partition {partition or '(unpartitioned)'} in "
                f"{store.where(key.path)}: materialize it first"
            )
        return path


class PostgresResource(dg.ConfigurableResource):
    """The trip database (`TAXI_POSTGRES_URL`, a secret); tables in `db_schema`."""

    url: str
    db_schema: str = "public"
    lock_timeout_seconds: float = 120.0

    def store(self, db_schema: str | None = None) -> PostgresStore:
        return PostgresStore(self.url, db_schema or self.db_schema, self.lock_timeout_seconds)


class LakeResource(dg.ConfigurableResource):
    """The lake bucket: a GCS project, bucket and prefix. Use `with lake.store() as s:` (the client is
    closed after). The client comes from dagster-gcp's `GCSResource`, imported by the steps that use the
    lake, not subclassed: importing dagster_gcp imports the BigQuery client and pandas (~3 s) into every
    process that loads the definitions -- the webserver, the daemon, every run (docs/BENCHMARKS.md)."""

    project: str | None = None
    bucket: str
    prefix: str = ""
    timeout_seconds: float = 30.0
    retry_seconds: float = 60.0

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if context.run is not None:  # a run that uses the lake: its steps import the Google clients
            _import_in_background("dagster_gcp", "google.cloud.bigquery")

    def get_client(self):
        """A google-cloud-storage `Client` for `project` (the emulator when `STORAGE_EMULATOR_HOST` is set)."""
        from dagster_gcp import GCSResource  # here, in the step: see the class docstring

        return GCSResource(project=self.project).get_client()

    def store(self) -> LakeStore:
        return LakeStore(self.get_client(), self.bucket, self.prefix, self.timeout_seconds, self.retry_seconds)

    def uri(self, name: str) -> str:
        return object_uri(self.bucket, self.prefix, name)


class BigQueryResource(dg.ConfigurableResource):
    """The warehouse dataset (`TAXI_BQ_PROJECT`.`TAXI_BQ_DATASET`)."""

    project: str
    dataset: str
    location: str = "US"
    timeout_seconds: float = 30.0
    retry_seconds: float = 60.0
    job_seconds: float = 900.0

    def store(self) -> BigQueryStore:
        return BigQueryStore(self.project, self.dataset, self.location, self.timeout_seconds, self.retry_seconds,
                             self.job_seconds)


def _import_in_background(*modules: str) -> None:
    """Import `modules` in a thread while the run's first steps download and clean the month: ~1 s
    (dagster_gcp and the BigQuery client) that the load step's critical path no longer waits for.
    An import the steps reach first just waits on it (the interpreter's per-module import lock)."""

    def work() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except ImportError:  # the step that needs it reports it, with its context
                return

    threading.Thread(target=work, name="import-cloud-clients", daemon=True).start()


def build_resources(settings: Settings) -> dict[str, object]:
    def env(name: str, fallback: str | None = None) -> str | dg.EnvVar:
        """An EnvVar when the variable is set (resolved at run time), else its default."""
        if settings.is_set(name):
            return dg.EnvVar(name)
        value = fallback if fallback is not None else settings.get(name)
        return value if value is not None else dg.EnvVar(name)  # required: a clear error at run start

    gcp_project = "TAXI_GCP_PROJECT" if settings.is_set("TAXI_GCP_PROJECT") else "TAXI_BQ_PROJECT"
    data_dir = env("TAXI_DATA_DIR", settings.data_dir)
    files_project = dg.EnvVar(gcp_project) if settings.is_set(gcp_project) else None
    return {
        "preflight": PreflightResource(),
        "source": SourceResource(
            url_template=env("TAXI_SOURCE_URL", settings.url_template),
            zones_url=env("TAXI_ZONES_URL", settings.zones_url),
            file_root=dg.EnvVar("TAXI_SOURCE_FILE_ROOT") if settings.is_set("TAXI_SOURCE_FILE_ROOT") else None,
        ),
        "file_store": FileStoreResource(base_dir=data_dir, project=files_project),
        "file_io_manager": FileIOManager(base_dir=data_dir, project=files_project),
        "postgres": PostgresResource(url=env("TAXI_POSTGRES_URL"), db_schema=env("TAXI_POSTGRES_SCHEMA")),
        "lake": LakeResource(project=dg.EnvVar(gcp_project), bucket=env("TAXI_GCS_BUCKET"), prefix=env("TAXI_GCS_PREFIX")),
        "bigquery": BigQueryResource(
            project=env("TAXI_BQ_PROJECT"), dataset=env("TAXI_BQ_DATASET"), location=env("TAXI_BQ_LOCATION"),
            timeout_seconds=float(settings.get("TAXI_BQ_REQUEST_TIMEOUT_SECONDS")),
        ),
    }
