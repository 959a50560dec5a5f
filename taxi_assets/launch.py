"""`taxi-run`: launch one month of a taxi type (or the zone lookup) after checking what Dagster's CLIs do not.

    taxi-run yellow 2021-01                          # yellow_taxi_job for 2021-01 (= dg launch --job … --partition 2021-01-01)
    taxi-run yellow 2021-01..2021-03                 # a range: one run per month, in turn; says which failed
    taxi-run yellow 2021-01 --assets raw_file,cleaned_parquet
    taxi-run zones                                   # taxi_zone_lookup_job
    taxi-run yellow 2021-01 -c run.yaml --debug

Before anything is created it checks, in this order, and refuses in one line saying what to do: the month (a
month of the type's partitions, asked of the job's PartitionsDefinition, so the range is whatever
the definitions say), the shell's configuration and that the servers answer
(core/stores/reachable.py), and the run config (the preflight's own checks, defs/preflight.py).
Then it runs `dg launch` in this process with the short console logger (defs/console.py): one line
per step and check, an error as its message. `--debug` keeps Dagster's own console log (with
stack traces) and shows Python tracebacks. Written here because `dg launch` and `dagster job
execute` print a Python traceback for an unknown partition key, a Postgres that is down or a
refused run, and the preflight inside the run cannot run before them.
"""

import argparse
import json
import os
import re
import sys

from taxi_assets.core.stores.reachable import NEEDED, stack_problem

ZONES = "zones"
SHORT_LOG = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


class Refused(Exception):
    """A launch refused before Dagster was asked anything; the message says what to do."""


def partition_key(month: str) -> str:
    """`2021-01` or `2021-01-01` -> `2021-01-01`; anything else is refused."""
    from taxi_assets.core.months import month_of

    try:
        return month_of(month).isoformat()
    except ValueError:
        raise Refused(f"{month!r} is not a month: write it as YYYY-MM (2021-01) or as its partition key (2021-01-01)") from None


def job_and_range(taxi: str, month: str | None) -> tuple[str, tuple[str, str] | None]:
    """The job, and the first and last partition keys of `2021-01` or `2021-01..2021-03`."""
    from taxi_assets.core.taxi_types import TAXI_TYPES

    if taxi == ZONES:
        if month:
            raise Refused("the zone lookup has no months: taxi-run zones")
        return "taxi_zone_lookup_job", None
    if taxi not in TAXI_TYPES:
        raise Refused(f"unknown taxi type {taxi!r}: one of {', '.join(sorted(TAXI_TYPES))}, or {ZONES}")
    if not month:
        raise Refused(f"which month? taxi-run {taxi} 2021-01 (or a range: 2021-01..2021-03)")
    first, _, last = month.replace("...", "..").partition("..")
    return f"{taxi}_taxi_job", (partition_key(first), partition_key(last or first))


def check_partitions(job_name: str, first: str, last: str) -> list[str]:
    """The keys from `first` to `last`, each one of the job's partitions (asked of its
    PartitionsDefinition); otherwise the message names the key and the range."""
    from taxi_assets.definitions import defs

    partitions = defs.resolve_job_def(job_name).partitions_def
    keys = partitions.get_partition_keys()
    span = f"{keys[0]} .. {keys[-1]}" if keys else "none yet"
    for key in (first, last):
        if not partitions.has_partition_key(key):
            raise Refused(f"{job_name} has no partition {key}: its months are {span}")
    if last < first:
        raise Refused(f"{first}..{last}: the first month comes after the last")
    return keys[keys.index(first): keys.index(last) + 1]


def run_config(files: list[str]) -> dict:
    """The -c files merged (the first one wins, as with `dg launch -c`)."""
    import yaml

    merged: dict = {}
    for path in reversed(files):
        try:
            with open(path) as f:
                merged = _merge(merged, yaml.safe_load(f) or {})
        except (OSError, yaml.YAMLError) as e:
            raise Refused(f"run config {path}: {e}") from None
    return merged


def _merge(base: dict, top: dict) -> dict:
    out = dict(base)
    for k, v in top.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def check_config(config: dict) -> None:
    from taxi_assets.core.config import load_settings
    from taxi_assets.defs.preflight import config_problems

    problems = config_problems(load_settings(), config)
    if problems:
        raise Refused("; ".join(problems))


def launch(job_name: str, key: str | None, assets: str | None, config: dict, debug: bool) -> int:
    """`dg launch` in this process; returns its exit status."""
    try:
        from dagster_dg_cli.cli.launch import launch_command
    except ImportError:
        raise Refused("dg (dagster-dg-cli) is not installed: pip install -e '.[local]'") from None
    if not debug:
        config = _merge(SHORT_LOG, config)
    args = ["--assets", assets] if assets else ["--job", job_name]
    if key:
        args += ["--partition", key]
    if config:
        args += ["--config-json", json.dumps(config)]
    what = f"{assets or job_name}{' ' + key if key else ''}"
    try:
        launch_command.main(args, prog_name="dg launch", standalone_mode=False)
    except Exception as e:
        if debug:
            raise
        import click

        text = e.format_message() if isinstance(e, click.ClickException) else f"{type(e).__name__}: {e}"
        run = re.match(r"Run (\S+) resulted in failure", text)
        if run:
            text = f"{what} failed (run {run.group(1)}; its events and traces: the UI's Runs page)"
        print(f"taxi-run: {text.strip().splitlines()[0]}", file=sys.stderr)
        return 1
    print(f"taxi-run: {what} succeeded", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="taxi-run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("taxi", help="yellow, green, fhv … or zones")
    p.add_argument("month", nargs="?", help="YYYY-MM (or the partition key YYYY-MM-01), or a range YYYY-MM..YYYY-MM")
    p.add_argument("--assets", help="comma-separated asset names of the type (default: the whole job)")
    p.add_argument("-c", "--config", action="append", default=[], help="run config YAML file, repeatable")
    p.add_argument("--debug", action="store_true", help="Dagster's full console log and Python tracebacks")
    args = p.parse_args(argv)
    try:
        job_name, span = job_and_range(args.taxi, args.month)
        keys = check_partitions(job_name, *span) if span else [None]  # first: a wrong month is wrong whatever the stack does
        problem = stack_problem(os.environ, (*NEEDED, "DAGSTER_HOME"))
        if problem:
            raise Refused(problem)
        config = run_config(args.config)
        check_config(config)
        assets = ",".join(f'key:"{args.taxi}/{a.strip()}"' for a in args.assets.split(",")) if args.assets else None
        if len(keys) == 1:
            return launch(job_name, keys[0], assets, config, args.debug)
        # a range: one run per month, one after another, each outcome as it is (a failed month fails the command)
        failed = [key for key in keys if launch(job_name, key, assets, config, args.debug) != 0]
        outcome = f"{len(keys) - len(failed)} of {len(keys)} months succeeded" + (f"; failed: {', '.join(failed)}" if failed else "")
        print(f"taxi-run: {assets or job_name} {keys[0]}..{keys[-1]}: {outcome}", file=sys.stderr)
        return 1 if failed else 0
    except Refused as e:
        print(f"taxi-run: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
