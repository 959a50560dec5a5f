"""The pieces every taxi type shares: resources, the zone lookup, the failure alert, automation, the
dead-run sweeper."""

from __future__ import annotations

import dagster as dg

from taxi_assets.core.config import Settings, load_settings
from taxi_assets.defs.alerts import run_failure_alert
from taxi_assets.defs.automation import automation_sensor
from taxi_assets.defs.console import console_logger
from taxi_assets.defs.resources import build_resources
from taxi_assets.defs.sweeper import dead_run_sweeper
from taxi_assets.defs.zones import taxi_zone_lookup, zones_job


def shared_defs(settings: Settings | None = None) -> dg.Definitions:
    return dg.Definitions(
        assets=[taxi_zone_lookup],
        jobs=[zones_job],
        sensors=[run_failure_alert, automation_sensor, dead_run_sweeper],
        resources=build_resources(settings or load_settings()),
        loggers={"console": console_logger},  # short lines on the terminal, traces in the run's log
        # one process per run: a month's steps run one after another anyway, and a process per step
        # costs ~4 s of imports and ~200 MB each (docs/BENCHMARKS.md: 1.37M rows in ~10 s, not ~30 s)
        executor=dg.in_process_executor,
    )
