"""The preflight: every run checks its partition key and its configuration when it starts, before any
step touches a store.

A resource that every asset requires; its `setup_for_execution` runs once the run has started and
before the first step's code. It also tags the run with its worker process, for the dead-run
sweeper (defs/sweeper.py). It refuses, in one message naming each problem:
- a partition key that is not the first day of a month, or outside the partitions of the run's taxi
  type (the months its source has; with the range);
- a variable the stores need that is not set, or a schema / dataset / project / bucket name that
  cannot work (today such a name failed only at its own step, after other stores were reloaded);
- a source URL template that breaks the rules of `core.source.check_url_template`;
- run config that carries credentials (`user:password@` or a token in a URL) in any string field: they
  belong in the environment, never in run config, which Dagster stores and the UI shows. (The source
  URL cannot be set in run config at all: `raw_file` takes only a known source's name, an enum that
  Dagster's config validation checks before the run is created.)
"""

import atexit
import functools
import gc
import re
import urllib.parse

import dagster as dg

from taxi_assets.core.config import load_settings
from taxi_assets.core.errors import ConfigError
from taxi_assets.core.identifiers import check_identifier, check_project
from taxi_assets.core.months import partition_month
from taxi_assets.core.redaction import redact
from taxi_assets.core.source import check_url_template
from taxi_assets.core.stores.reachable import NEEDED
from taxi_assets.core.taxi_types import TAXI_TYPES
from taxi_assets.defs.partitions import monthly_partitions
from taxi_assets.defs.sweeper import WORKER_TAG, this_worker

BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")
REQUIRED = NEEDED  # the variables the stores need (core.stores.reachable)


def partition_problem(key: str | None, partitions: dg.TimeWindowPartitionsDefinition) -> str | None:
    if key is None:
        return None
    try:
        partition_month(key)
    except ValueError as e:
        return str(e)
    if not partitions.has_partition_key(key):
        keys = partitions.get_partition_keys()
        span = f"{keys[0]} .. {keys[-1]}" if keys else "none yet"
        return f"partition key {key!r} is outside the partitions ({span})"
    return None


def _credentials(value: str) -> bool:
    parts = urllib.parse.urlsplit(value)
    return bool(parts.password or parts.username) or redact(value) != value


def config_problems(environ_settings, run_config: dict) -> list[str]:
    s = environ_settings
    problems = [f"{name} is not set" for name in REQUIRED if not s.get(name)]
    checks = [
        (lambda: check_identifier(s.get("TAXI_POSTGRES_SCHEMA"), "schema (TAXI_POSTGRES_SCHEMA)")),
        (lambda: check_identifier(s.get("TAXI_BQ_DATASET") or "", "dataset (TAXI_BQ_DATASET)")) if s.get("TAXI_BQ_DATASET") else None,
        (lambda: check_project(s.get("TAXI_BQ_PROJECT"))) if s.get("TAXI_BQ_PROJECT") else None,
        (lambda: check_url_template(s.url_template)),
    ]
    for check in filter(None, checks):
        try:
            check()
        except ValueError as e:
            problems.append(str(e))
    bucket = s.get("TAXI_GCS_BUCKET")
    if bucket and not BUCKET.match(bucket):
        problems.append(f"invalid bucket {bucket!r} (TAXI_GCS_BUCKET): 3-63 lower-case letters, digits, '.', '_', '-'")
    for op, op_config in (run_config.get("ops") or {}).items():
        config = (op_config or {}).get("config") or {}
        for field, value in config.items():
            if not isinstance(value, str):
                continue
            if _credentials(value):
                problems.append(f"{op}.{field}: credentials do not belong in run config (it is stored and shown in "
                                "the UI); they belong in the environment (TAXI_SOURCE_URL, TAXI_POSTGRES_URL)")
            elif field == "db_schema":
                try:
                    check_identifier(value, "schema")
                except ValueError as e:
                    problems.append(f"{op}.{field}: {e}")
    return problems


@functools.cache  # registered once per process
def _skip_final_collection() -> None:
    """A process that executed a run spent 1-3 s at exit in the interpreter's last garbage collection,
    over a month's worth of objects the OS frees anyway: at exit they are frozen out of it (reference-count
    finalizers still run; figures in docs/BENCHMARKS.md). Only in run processes, registered once: the code
    server and the daemon (gRPC, long-lived) exit as Python leaves them."""
    atexit.register(gc.freeze)


def run_taxi_types(run: dg.DagsterRun) -> list[str]:
    """The built-in taxi types a run materializes: from its asset selection, else its job's name."""
    names = {k.path[0] for k in (run.asset_selection or ()) if k.path and k.path[0] in TAXI_TYPES}
    job = run.job_name or ""
    if not names and job.endswith("_taxi_job") and job[: -len("_taxi_job")] in TAXI_TYPES:
        names.add(job[: -len("_taxi_job")])
    return sorted(names)


class PreflightResource(dg.ConfigurableResource):
    """Checks the run's partition key and the configuration before any step runs (see the module)."""

    enabled: bool = True  # off only for tests that build assets with hand-made resources

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run = context.run
        if run is None or not self.enabled:  # built outside a run (a test's build_resources): nothing to check
            return
        _skip_final_collection()
        if context.instance is not None:  # who runs it, for the dead-run sweeper (defs/sweeper.py)
            context.instance.add_run_tags(run.run_id, {WORKER_TAG: this_worker()})
        settings = load_settings()
        problems = []
        key = run.tags.get("dagster/partition")
        for name in run_taxi_types(run):
            problem = partition_problem(key, monthly_partitions(settings, TAXI_TYPES[name]))
            if problem:
                problems.append(f"{name}: {problem}")
        problems += config_problems(settings, run.run_config or {})
        if problems:
            raise ConfigError("the run was refused before any step ran: " + "; ".join(redact(p) for p in problems))
