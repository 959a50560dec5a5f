"""`taxi-stack`: PostgreSQL, a GCS emulator and a BigQuery emulator on 127.0.0.1, no Docker.

    from taxi_assets.stack import Stack
    s = Stack()          # state folder: $TAXI_STACK_HOME or ./.taxi_stack
    s.up(); os.environ.update(s.env()); ...; s.down()
"""

from taxi_assets.stack.stack import (
    BQ_DATASET,
    BQ_PROJECT,
    GCP_PROJECT,
    GCS_BUCKET,
    Stack,
    StackError,
    StackNotStarted,
    default_bq_venv,
    default_home,
    temporary_stack,
)

__all__ = [
    "BQ_DATASET",
    "BQ_PROJECT",
    "GCP_PROJECT",
    "GCS_BUCKET",
    "Stack",
    "StackError",
    "StackNotStarted",
    "default_bq_venv",
    "default_home",
    "temporary_stack",
]
