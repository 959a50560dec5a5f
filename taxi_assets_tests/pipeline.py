"""The pipeline as the tests drive it: every built-in type's assets and checks, resources and core
store clients from the current environment (set by the fixtures), so tests never rebuild keys."""

from __future__ import annotations

from taxi_assets.core.config import load_settings
from taxi_assets.core.stores.from_settings import open_stores
from taxi_assets.core.taxi_types import TAXI_TYPES
from taxi_assets.defs import resources as _resources
from taxi_assets.defs.partitions import monthly_partitions as _monthly_partitions
from taxi_assets.defs.taxi import build_taxi_defs
from taxi_assets.defs.zones import taxi_zone_lookup  # noqa: F401  (re-exported for the tests)

monthly_partitions = {name: _monthly_partitions(load_settings(), t) for name, t in TAXI_TYPES.items()}
TAXI_DEFS = {name: build_taxi_defs(t) for name, t in TAXI_TYPES.items()}
trip_assets = [a for d in TAXI_DEFS.values() for a in d.assets]
trip_checks = [c for d in TAXI_DEFS.values() for c in d.asset_checks]
taxi_jobs = {name: next(iter(d.jobs)) for name, d in TAXI_DEFS.items()}
taxi_schedules = [s for d in TAXI_DEFS.values() for s in d.schedules]
new_file_sensors = [s for d in TAXI_DEFS.values() for s in d.sensors]


def build_resources() -> dict[str, object]:
    """The resources as the definitions build them, from the environment now."""
    return _resources.build_resources(load_settings())


def stores():
    """The core store clients from the environment now: file_store, postgres, lake, bigquery."""
    return open_stores()
