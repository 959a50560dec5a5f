"""The local stack (extra `local`): PostgreSQL, a GCS emulator and a BigQuery emulator on 127.0.0.1,
no Docker; and `sample`, synthetic files in the real formats.

    from taxi_assets.localstack import Stack
    s = Stack()          # state folder: $TAXI_STACK_HOME or ./.taxi_stack
    s.up(); os.environ.update(s.env()); ...; s.down()

The names load on first use, so `taxi-stack` can say which extra is missing instead of failing
on an import.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "BQ_DATASET", "BQ_PROJECT", "GCP_PROJECT", "GCS_BUCKET", "Stack", "StackError", "StackNotStarted",
    "default_bq_venv", "default_home", "temporary_stack",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("taxi_assets.localstack.stack"), name)
    raise AttributeError(f"module 'taxi_assets.localstack' has no attribute {name!r}")
