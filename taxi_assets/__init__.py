"""taxi_assets: NYC TLC trip files, month by month, into Postgres, GCS and BigQuery with Dagster.

    from taxi_assets import TAXI_TYPES, build_taxi_defs
    defs = build_taxi_defs(TAXI_TYPES["yellow"])   # that type's assets, checks, job, schedule, sensor

Importing the package builds nothing and imports neither Dagster nor the clients: the names
below load on first use. Dagster loads `taxi_assets.definitions`.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "build_taxi_defs": "taxi_assets.defs.taxi",
    "shared_defs": "taxi_assets.defs.shared",
    "TAXI_TYPES": "taxi_assets.core.taxi_types",
    "TaxiType": "taxi_assets.core.tables",
    "Column": "taxi_assets.core.tables",
    "Layout": "taxi_assets.core.tables",
    "Role": "taxi_assets.core.tables",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'taxi_assets' has no attribute {name!r}")
