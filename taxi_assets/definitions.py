"""Everything Dagster loads: `dagster dev` (workspace.yaml), `dagster job execute -m taxi_assets`."""

import dagster as dg

from taxi_assets.assets import taxi_zone_lookup, trip_assets
from taxi_assets.checks import trip_checks
from taxi_assets.jobs import taxi_jobs, zones_job
from taxi_assets.resources import build_resources
from taxi_assets.schedules import taxi_schedules
from taxi_assets.sensors import automation_sensor, new_file_sensors, run_failure_alert

defs = dg.Definitions(
    assets=[*trip_assets, taxi_zone_lookup],
    asset_checks=trip_checks,
    jobs=[*taxi_jobs.values(), zones_job],
    schedules=taxi_schedules,
    sensors=[*new_file_sensors, run_failure_alert, automation_sensor],
    resources=build_resources(),
    # one process per run: a month's steps run one after another anyway, and a process per step
    # costs ~4 s of imports and ~200 MB each (docs/BENCHMARKS.md: 1.37M rows in ~10 s, not ~30 s)
    executor=dg.in_process_executor,
)
