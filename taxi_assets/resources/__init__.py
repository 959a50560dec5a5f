"""Resources and IO managers, configured from the environment (`taxi-stack env` prints a set).

Required: TAXI_POSTGRES_URL, TAXI_GCP_PROJECT (or TAXI_BQ_PROJECT), TAXI_GCS_BUCKET,
TAXI_BQ_DATASET. Optional, with defaults: TAXI_SOURCE (dtc | tlc: which family of files; dtc by
default), TAXI_SOURCE_URL and TAXI_ZONES_URL (override the family's URLs), TAXI_DATA_DIR,
TAXI_POSTGRES_SCHEMA, TAXI_BQ_LOCATION, TAXI_GCS_PREFIX. Values are resolved when a run starts,
through `dg.EnvVar`, so secrets (the Postgres password) never appear in the UI.
"""

from __future__ import annotations

import os

import dagster as dg
from dagster_gcp import GCSResource

from taxi_assets.resources.bigquery import BigQueryWarehouse
from taxi_assets.resources.files import FileStore, LocalFileIOManager
from taxi_assets.resources.lake import TaxiLake
from taxi_assets.resources.postgres import PostgresWarehouse
from taxi_assets.resources.source import SOURCES, TaxiSource

__all__ = ["BigQueryWarehouse", "FileStore", "LocalFileIOManager", "PostgresWarehouse", "TaxiLake", "TaxiSource", "build_resources"]


def _env(name: str, default: str) -> str | dg.EnvVar:
    """An EnvVar when the variable is set (resolved at run time), else the default."""
    return dg.EnvVar(name) if os.environ.get(name) else default


def default_data_dir() -> str:
    return os.path.join(os.environ.get("TAXI_STACK_HOME", ".taxi_stack"), "data")


def build_resources() -> dict[str, object]:
    gcp_project = "TAXI_GCP_PROJECT" if os.environ.get("TAXI_GCP_PROJECT") else "TAXI_BQ_PROJECT"
    family = os.environ.get("TAXI_SOURCE", "dtc").lower()
    if family not in SOURCES:
        raise ValueError(f"TAXI_SOURCE={family!r}: expected one of {sorted(SOURCES)}")
    url_template, zones_url = SOURCES[family]
    store = FileStore(base_dir=_env("TAXI_DATA_DIR", default_data_dir()))
    return {
        "source": TaxiSource(
            url_template=_env("TAXI_SOURCE_URL", url_template),
            zones_url=_env("TAXI_ZONES_URL", zones_url),
        ),
        "file_store": store,
        "files": LocalFileIOManager(store=store),
        "postgres": PostgresWarehouse(
            url=dg.EnvVar("TAXI_POSTGRES_URL"), db_schema=_env("TAXI_POSTGRES_SCHEMA", "public")
        ),
        "lake": TaxiLake(
            gcs=GCSResource(project=dg.EnvVar(gcp_project)),
            bucket=dg.EnvVar("TAXI_GCS_BUCKET"),
            prefix=_env("TAXI_GCS_PREFIX", ""),
        ),
        "warehouse": BigQueryWarehouse(
            project=dg.EnvVar("TAXI_BQ_PROJECT"),
            dataset=dg.EnvVar("TAXI_BQ_DATASET"),
            location=_env("TAXI_BQ_LOCATION", "US"),
        ),
    }
