"""taxi_assets: NYC TLC trip files, month by month, into Postgres, GCS and BigQuery with Dagster."""

from taxi_assets.definitions import defs

__all__ = ["defs"]
