"""Session fixture ``local_stack``: a fresh local stack (Postgres, fake-gcs-server, bqemulator).

Import it from conftest.py::

    from taxi_assets_tests.stack_fixture import local_stack  # noqa: F401

The state folder is a new ``/tmp/taxi-stack-*`` (the unprivileged Postgres user must traverse it);
the bqemulator virtualenv is the shared one (``$TAXI_BQEMU_VENV`` or ``<venv>/bqemulator-venv``),
created only if missing. Every variable of ``Stack.env()`` is set in ``os.environ`` for the
session and restored afterwards. ``TAXI_STACK_KEEP=1`` keeps the state folder for inspection.
"""

import os
from collections.abc import Iterator

import pytest

from taxi_assets.localstack import Stack, temporary_stack


@pytest.fixture(scope="session")
def local_stack() -> Iterator[Stack]:
    with temporary_stack(keep=os.environ.get("TAXI_STACK_KEEP") == "1") as stack:
        yield stack
