"""Session fixture ``local_stack``: a fresh local stack (Postgres, fake-gcs-server, bqemulator).

Import it from conftest.py::

    from taxi_assets_tests.stack_fixture import local_stack  # noqa: F401

The state folder is a new ``/tmp/taxi-stack-*`` (the unprivileged Postgres user must traverse it);
the bqemulator virtualenv is the shared one (``$TAXI_BQEMU_VENV`` or ``<venv>/bqemulator-venv``),
created only if missing. Every variable of ``Stack.env()`` is set in ``os.environ`` for the
session and restored afterwards. ``TAXI_STACK_KEEP=1`` keeps the state folder for inspection.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

from taxi_assets.stack import Stack


@pytest.fixture(scope="session")
def local_stack() -> Iterator[Stack]:
    home = tempfile.mkdtemp(prefix="taxi-stack-", dir="/tmp" if os.path.isdir("/tmp") else None)
    stack = Stack(home)
    saved: dict[str, str | None] = {}
    try:
        stack.up()
        for name, value in stack.env().items():
            saved[name] = os.environ.get(name)
            os.environ[name] = value
        yield stack
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        try:
            stack.down()
        finally:
            if os.environ.get("TAXI_STACK_KEEP") != "1":
                shutil.rmtree(home, ignore_errors=True)
