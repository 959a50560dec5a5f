"""The store clients as the environment configures them, for code outside Dagster (the report,
the tests, scripts): the same variables and defaults as the pipeline's resources."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

from taxi_assets.core.config import Settings, load_settings
from taxi_assets.core.errors import ConfigError
from taxi_assets.core.stores.bigquery import BigQueryStore
from taxi_assets.core.stores.files import FileStore, ObjectFileStore, open_file_store
from taxi_assets.core.stores.lake import LakeStore, gcs_client
from taxi_assets.core.stores.postgres import PostgresStore


@dataclasses.dataclass
class Stores:
    file_store: FileStore | ObjectFileStore
    postgres: PostgresStore
    lake: LakeStore
    bigquery: BigQueryStore


def required(settings: Settings, name: str) -> str:
    value = settings.get(name)
    if not value:
        raise ConfigError(f"{name} is not set (on the local stack: eval \"$(taxi-stack env)\")")
    return value


@contextlib.contextmanager
def open_stores(settings: Settings | None = None) -> Iterator[Stores]:
    """Every store client; the lake's client is closed at the end."""
    s = settings or load_settings()
    project = s.get("TAXI_GCP_PROJECT") or required(s, "TAXI_BQ_PROJECT")
    with LakeStore(gcs_client(project), required(s, "TAXI_GCS_BUCKET"), s.get("TAXI_GCS_PREFIX")) as lake:
        yield Stores(
            file_store=open_file_store(s.data_dir, project),
            postgres=PostgresStore(required(s, "TAXI_POSTGRES_URL"), s.get("TAXI_POSTGRES_SCHEMA")),
            lake=lake,
            bigquery=BigQueryStore(required(s, "TAXI_BQ_PROJECT"), required(s, "TAXI_BQ_DATASET"), s.get("TAXI_BQ_LOCATION")),
        )
