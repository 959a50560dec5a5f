"""Is the configuration there, and does every server it names answer? Checked before a command talks to them.

`stack_problem(environ)` returns one message saying what to do, or None: a shell that lacks the
variables (run `eval "$(taxi-stack env)"`), or a server that refuses the connection (on loopback:
the local stack is down, start it with `taxi-stack up`). One TCP connect per address, at most a
second each: it tells "not running" from "running", nothing more (the clients' own errors and
timeouts cover the rest). Real Google endpoints are not probed.
"""

from __future__ import annotations

import socket
import urllib.parse
from collections.abc import Mapping

# what a command needs in its environment before it can reach the stores (the Dagster instance adds DAGSTER_HOME)
NEEDED = ("TAXI_POSTGRES_URL", "TAXI_GCS_BUCKET", "TAXI_BQ_PROJECT", "TAXI_BQ_DATASET")
CONFIGURE = 'run `eval "$(taxi-stack env)"` (after `taxi-stack up`), or set them for your servers (README: Configuration)'
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def addresses(environ: Mapping[str, str]) -> list[tuple[str, str, int]]:
    """(what, host, port) of every server the environment names: Postgres (the data and the Dagster
    instance) and the emulators, when set."""
    out = []
    for what, name, default_port in (
        ("Postgres", "TAXI_POSTGRES_URL", 5432),
        ("the Dagster instance's Postgres", "TAXI_DAGSTER_PG_URL", 5432),
        ("the GCS emulator", "STORAGE_EMULATOR_HOST", 80),
        ("the BigQuery emulator", "BIGQUERY_EMULATOR_HOST", 80),
    ):
        value = environ.get(name)
        if not value:
            continue
        parts = urllib.parse.urlsplit(value if "://" in value else f"http://{value}")
        try:
            port = parts.port or default_port
        except ValueError:
            continue  # a malformed port: the configuration check names it
        if parts.hostname:
            out.append((what, parts.hostname, port))
    return out


def answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def missing(environ: Mapping[str, str], needed: tuple[str, ...] = NEEDED) -> list[str]:
    return [name for name in needed if not environ.get(name)]


def stack_problem(environ: Mapping[str, str], needed: tuple[str, ...] = NEEDED) -> str | None:
    """One line saying what to do when the shell is not configured or a server does not answer, else None."""
    absent = missing(environ, needed)
    if absent:
        return f"the shell is not configured ({', '.join(absent)} not set): {CONFIGURE}"
    down = [(what, host, port) for what, host, port in addresses(environ) if not answers(host, port)]
    if not down:
        return None
    where = ", ".join(f"{what} at {host}:{port}" for what, host, port in down)
    if all(host in LOOPBACK for _, host, _ in down):
        return f"nothing answers ({where}): the local stack is not running; start it with `taxi-stack up`"
    return f"nothing answers ({where}): check that the servers are running and reachable"
