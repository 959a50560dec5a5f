"""Everything Dagster loads: `dagster dev` (workspace.yaml), `dagster job execute -m taxi_assets.definitions`."""

import dagster as dg

from taxi_assets.core.config import load_settings
from taxi_assets.core.taxi_types import TAXI_TYPES
from taxi_assets.defs.freshness import build_freshness_schedule
from taxi_assets.defs.shared import shared_defs
from taxi_assets.defs.taxi import build_taxi_defs

_settings = load_settings()
defs = dg.Definitions.merge(
    shared_defs(_settings),
    *(build_taxi_defs(t, _settings) for t in TAXI_TYPES.values()),
    dg.Definitions(schedules=[build_freshness_schedule(TAXI_TYPES.values(), _settings)]),
)

