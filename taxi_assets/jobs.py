"""One partitioned job per taxi type: every asset of the type, for one month per run."""

import dagster as dg

from taxi_assets.partitions import monthly_partitions
from taxi_assets.taxi_types import TAXI_TYPES


def taxi_job_name(taxi: str) -> str:
    return f"{taxi}_taxi_job"


taxi_jobs = {
    name: dg.define_asset_job(
        taxi_job_name(name),
        selection=dg.AssetSelection.groups(name),
        partitions_def=monthly_partitions,
        description=f"{taxi.description} Download, clean, load to Postgres, the lake and BigQuery, one month per run.",
        tags={"taxi_type": name},
    )
    for name, taxi in TAXI_TYPES.items()
}

zones_job = dg.define_asset_job(
    "taxi_zone_lookup_job",
    selection=dg.AssetSelection.groups("zones"),
    description="Load the taxi zone lookup into Postgres, the lake and BigQuery.",
)
