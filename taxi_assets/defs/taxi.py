"""One taxi type in one place: `build_taxi_defs(taxi)` returns its whole `dg.Definitions`.

The five assets, their asset checks, the monthly job, the monthly schedule, the new-file
sensor and the republished-file sensor of one `TaxiType` record, all on the type's monthly partitions (the months the configured source has). The resources they use
(and the zone lookup, the failure alert, the automation sensor) are in `taxi_assets.defs.shared`;
`taxi_assets.definitions` merges both.
"""

from __future__ import annotations

import dagster as dg

from taxi_assets.core.config import Settings, load_settings
from taxi_assets.core.tables import TaxiType
from taxi_assets.defs.checks import build_trip_checks
from taxi_assets.defs.freshness import build_freshness_check
from taxi_assets.defs.partitions import monthly_partitions
from taxi_assets.defs.republished import build_republished_sensor
from taxi_assets.defs.schedules import build_taxi_schedule
from taxi_assets.defs.sensors import build_new_file_sensor
from taxi_assets.defs.trip_assets import build_trip_assets


def taxi_job_name(taxi: TaxiType) -> str:
    return f"{taxi.name}_taxi_job"


def build_taxi_defs(taxi: TaxiType, settings: Settings | None = None) -> dg.Definitions:
    """Assets, checks, job, schedule and new-file sensor of `taxi` (no resources: see `shared`)."""
    settings = settings or load_settings()
    partitions = monthly_partitions(settings, taxi)
    assets = build_trip_assets(taxi, partitions)
    # blocking: a cleaned month whose checks fail with ERROR is not loaded into Postgres, GCS or BigQuery
    month_checks = build_trip_checks(taxi, assets, partitions, blocking=True)
    # the freshness check judges the whole type, not the run's month: it runs after each load (the
    # monthly job selects it with its asset) and every day in its own job (defs/freshness.py)
    freshness = build_freshness_check(taxi, assets.bigquery_table, settings)
    job = dg.define_asset_job(
        taxi_job_name(taxi),
        selection=dg.AssetSelection.assets(*assets.all()),
        description=f"{taxi.description} Download, clean, load to Postgres, the lake and BigQuery, one month per run.",
        tags={"taxi_type": taxi.name},
    )
    return dg.Definitions(
        assets=assets.all(),
        asset_checks=[*month_checks, freshness],
        jobs=[job],
        schedules=[build_taxi_schedule(taxi, job, partitions, settings)],
        sensors=[
            build_new_file_sensor(taxi, job, assets.raw_file, partitions, settings.sensor_interval_seconds),
            build_republished_sensor(taxi, job, assets.raw_file, settings.republish_interval_seconds),
        ],
    )
