"""Benchmark: one month through this pipeline, side by side with the original approach and the limit.

    python -m benchmarks.benchmark                       # full run, prints the table
    python -m benchmarks.benchmark --quick               # baseline on a 200k-row slice, extrapolated
    python -m benchmarks.benchmark --write docs/BENCHMARKS.md
    bash scripts/benchmark.sh [options]                   # the same from a clean clone (venv + stack)

It writes full-size months in the real file format (`taxi_assets.localstack.sample.write_month`): a yellow
month of 1,369,765 rows (the size of yellow 2021-01) and one of 7,667,792 rows (yellow
2019-01, for memory), and measures, in one run and on the local stack:

- baseline: the original course code, pandas `read_csv` in 100k-row chunks + `to_sql`
  (SQLAlchemy, psycopg2), the two datetime columns converted as in the course;
- limit: a raw `COPY FROM STDIN` of the decompressed file into a typed table (psycopg 3), and
  pyarrow reading the same file (`pyarrow.csv.read_csv`, all threads) + writing it as parquet;
- ours: raw -> cleaned parquet (`transform.write_parquet`), parquet -> Postgres
  (`PostgresStore.replace_month`), the GCS upload (`LakeStore.upload`, emulator), the
  BigQuery load (`BigQueryStore.replace_month_from_uri`, emulator), and the whole
  `yellow_taxi_job` for the month (`dagster job execute`, source = a file:// folder).

Every leg runs in a child process of its own: "peak RSS" is the largest peak resident set
(`VmHWM`) of the child or of any process it started; "tree RSS" is the largest sum of RSS over
the child's process tree, sampled every 50 ms (the job runs each step in a process of its own).
Wall seconds are measured in the child around the work itself (imports excluded), except for the
job, whose wall time is the whole `dagster job execute` command. The limit and our two core
legs run `--repeat` times, interleaved, and the best run counts (the machine is shared).

Without a configured stack in the environment (`TAXI_POSTGRES_URL` ...), a local stack is started
in a temporary folder and stopped at the end. Everything the benchmark creates lives in its own
Postgres schema, GCS prefix and BigQuery dataset (`bench_<random>`), dropped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import itertools
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

SMALL_ROWS = 1_369_765  # yellow 2021-01
BIG_ROWS = 7_667_792  # yellow 2019-01
SMALL_MONTH = dt.date(2021, 1, 1)
BIG_MONTH = dt.date(2019, 1, 1)
QUICK_BASELINE_ROWS = 200_000
TAXI = "yellow"
# the big months of the other types (issue 15), TLC parquet through the whole job: a synthetic
# full-size fhvhv month (the real ones hold ~20 million trips) and one the size of fhv 2019-01
HV_ROWS, HV_MONTH = 20_000_000, dt.date(2024, 1, 1)
FHV_ROWS, FHV_MONTH = 23_159_064, dt.date(2019, 1, 1)
TLC_DISTINCT_ROW_GROUPS = 3  # generated row groups (1,048,576 rows each), repeated up to the month's size

# targets of issue 6
TARGET_OURS_OVER_LIMIT = 1.5
TARGET_BASELINE_OVER_OURS = 7.0
TARGET_JOB_RSS_MB = 600.0
TARGET_BIG_OVER_SMALL_RSS = 1.20
# targets of issue 16
TARGET_JOB_OVER_COPY = 3.0  # whole yellow_taxi_job / raw COPY of the same file
TARGET_POSTGRES_OVER_COPY = 1.0  # parquet -> Postgres (month replace) / raw COPY
TARGET_BACKFILL_OVER_JOB = 4.0  # 6-month backfill / one month's whole job
TARGET_IMPORT_OVER_DAGSTER = 1.5  # import taxi_assets.definitions / import dagster
BACKFILL_MONTHS = 6
IMPORT_CODE = "import time; t = time.perf_counter(); import {mod}; print(time.perf_counter() - t)"

STACK_VARS = (
    "TAXI_POSTGRES_URL", "STORAGE_EMULATOR_HOST", "BIGQUERY_EMULATOR_HOST", "TAXI_GCS_BUCKET", "TAXI_BQ_PROJECT",
    "TAXI_GCP_PROJECT", "TAXI_DAGSTER_PG_URL", "DAGSTER_HOME",
)
PACKAGES = (
    "pyarrow", "psycopg", "pandas", "SQLAlchemy", "psycopg2-binary", "numpy", "dagster",
    "google-cloud-storage", "google-cloud-bigquery",
)


# ---------------------------------------------------------------------------------------------
# the legs, each run in a child process: `python -m benchmarks.benchmark --leg SPEC_JSON`


def _raw_columns_sql(src: Path) -> str:
    """A typed table for the raw file: its own headers, the types of the taxi schema."""
    from taxi_assets.core.taxi_types import TAXI_TYPES
    from taxi_assets.core.formats import read_csv_header

    taxi = TAXI_TYPES[TAXI]
    cols = []
    for h in read_csv_header(src, "benchmark"):
        col = next(c for c in taxi.columns if c.matches(h))
        cols.append(f'"{h.lower()}" {col.postgres_type}')
    return ", ".join(cols)


def leg_baseline(spec: dict) -> dict:
    """The course's ingest_data.py (week 2): read_csv in 100k chunks, to_datetime, to_sql."""
    import pandas as pd
    from sqlalchemy import create_engine

    url = spec["pg_url"].replace("postgresql://", "postgresql+psycopg2://", 1)
    engine = create_engine(url)
    table, schema = "yellow_taxi_trips_baseline", spec["schema"]
    t0 = time.monotonic()
    df_iter = pd.read_csv(spec["src"], iterator=True, chunksize=100000, nrows=spec.get("limit_rows"))
    rows = 0
    first = True
    for df in df_iter:
        df.tpep_pickup_datetime = pd.to_datetime(df.tpep_pickup_datetime)
        df.tpep_dropoff_datetime = pd.to_datetime(df.tpep_dropoff_datetime)
        if first:
            df.head(n=0).to_sql(name=table, con=engine, schema=schema, if_exists="replace")
            first = False
        df.to_sql(name=table, con=engine, schema=schema, if_exists="append")
        rows += len(df)
    seconds = time.monotonic() - t0
    engine.dispose()
    return {"rows": rows, "seconds": seconds}


def leg_limit_copy(spec: dict) -> dict:
    """Raw COPY FROM STDIN of the decompressed file into a typed table (created in the same
    transaction, COPY FREEZE: the same conditions as our load)."""
    import zlib

    import psycopg

    src = Path(spec["src"])
    cols = _raw_columns_sql(src)
    table = f'"{spec["schema"]}"."limit_raw_copy"'
    t0 = time.monotonic()
    with psycopg.connect(spec["pg_url"]) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute(f"CREATE TABLE {table} ({cols})")
        with conn.cursor() as cur:
            with cur.copy(f"COPY {table} FROM STDIN (FORMAT csv, HEADER true, FREEZE true)") as copy:
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                with open(src, "rb") as f:
                    while chunk := f.read(1 << 20):
                        copy.write(d.decompress(chunk))
                copy.write(d.flush())
            rows = cur.rowcount
    return {"rows": rows, "seconds": time.monotonic() - t0}


def leg_limit_pyarrow(spec: dict) -> dict:
    """pyarrow reads the whole file (all threads, types inferred) and writes it as parquet (zstd)."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    t0 = time.monotonic()
    table = pacsv.read_csv(spec["src"])
    pq.write_table(table, spec["dest"], compression="zstd")
    return {"rows": table.num_rows, "seconds": time.monotonic() - t0}


def _log(msg: str) -> None:
    print(f"  | {msg}", file=sys.stderr, flush=True)


def leg_parquet(spec: dict) -> dict:
    from taxi_assets.core.taxi_types import TAXI_TYPES
    from taxi_assets.core.transform import write_parquet

    month = dt.date.fromisoformat(spec["month"])
    t0 = time.monotonic()
    stats = write_parquet(Path(spec["src"]), Path(spec["dest"]), TAXI_TYPES[TAXI], month, log=_log)
    return {"rows": stats.rows_in, "rows_out": stats.rows_out, "seconds": time.monotonic() - t0}


def leg_postgres(spec: dict) -> dict:
    from taxi_assets.core.stores.postgres import PostgresStore
    from taxi_assets.core.taxi_types import TAXI_TYPES
    from taxi_assets.core.formats import parquet_batches

    taxi = TAXI_TYPES[TAXI]
    month = dt.date.fromisoformat(spec["month"])
    pg = PostgresStore(url=spec["pg_url"], db_schema=spec["schema"])
    t0 = time.monotonic()
    rows = pg.replace_month(taxi.table, taxi.all_columns, month, parquet_batches(Path(spec["parquet"])), log=_log)
    return {"rows": rows, "seconds": time.monotonic() - t0}


def leg_postgres_adbc(spec: dict) -> dict:
    """The load stores/pgbinary.py replaced, for comparison: the same batches, read in the same
    prefetching way, through ADBC's `adbc_ingest` (binary COPY written value by value in C++) into
    a staging table made in the same transaction (no month swap: the COPY alone)."""
    import adbc_driver_postgresql.dbapi as adbc
    import pyarrow as pa

    from taxi_assets.core.formats import parquet_batches
    from taxi_assets.core.taxi_types import TAXI_TYPES

    taxi = TAXI_TYPES[TAXI]
    names = [c.name for c in taxi.all_columns]
    ddl = ", ".join(f'"{c.name}" {c.postgres_type}' for c in taxi.all_columns)
    t0 = time.monotonic()
    with adbc.connect(spec["pg_url"]) as conn, conn.cursor() as cur:
        cur.execute(f'CREATE TABLE "{spec["schema"]}"."adbc_staging" ({ddl})')
        batches = (b.select(names) for b in parquet_batches(Path(spec["parquet"])))
        first = next(batches)
        rows = cur.adbc_ingest("adbc_staging", pa.RecordBatchReader.from_batches(first.schema, itertools.chain([first], batches)),
                               mode="append", db_schema_name=spec["schema"])
        cur.execute(f'DROP TABLE "{spec["schema"]}"."adbc_staging"')
        conn.commit()
    return {"rows": rows, "seconds": time.monotonic() - t0}


def _lake(spec: dict):
    from taxi_assets.core.stores.lake import LakeStore, gcs_client

    return LakeStore(gcs_client(os.environ["TAXI_GCP_PROJECT"]), os.environ["TAXI_GCS_BUCKET"], spec["prefix"])


def leg_gcs(spec: dict) -> dict:
    from taxi_assets.core.taxi_types import TAXI_TYPES
    from taxi_assets.core.formats import parquet_rows

    month = dt.date.fromisoformat(spec["month"])
    lake = _lake(spec)
    t0 = time.monotonic()
    obj = lake.upload(Path(spec["parquet"]), TAXI_TYPES[TAXI].lake_object(month))
    seconds = time.monotonic() - t0
    return {"rows": parquet_rows(Path(spec["parquet"])), "seconds": seconds, "bytes": obj.bytes, "uri": obj.uri}


def leg_bigquery(spec: dict) -> dict:
    from taxi_assets.core.stores.bigquery import BigQueryStore
    from taxi_assets.core.taxi_types import TAXI_TYPES

    taxi = TAXI_TYPES[TAXI]
    month = dt.date.fromisoformat(spec["month"])
    uri = _lake(spec).uri(taxi.lake_object(month))
    wh = BigQueryStore(project=os.environ["TAXI_BQ_PROJECT"], dataset=spec["dataset"])
    t0 = time.monotonic()
    rows = wh.replace_month_from_uri(taxi.table, taxi.all_columns, month, uri)
    return {"rows": rows, "seconds": time.monotonic() - t0}


def _job_env(spec: dict) -> dict[str, str]:
    env = dict(os.environ)
    suffix = spec.get("suffix", ".csv.gz")
    if suffix == ".parquet":
        env["TAXI_SOURCE"] = "tlc"  # the TLC's parquet and partitions
        # the emulator runs a load job inside its request: a 20M-row month takes minutes there
        env["TAXI_BQ_REQUEST_TIMEOUT_SECONDS"] = "900"
    env.update(
        TAXI_SOURCE_URL=Path(spec["source_root"]).resolve().as_uri() + "/{taxi}/{taxi}_tripdata_{year}-{month}" + suffix,
        TAXI_SOURCE_FILE_ROOT=str(Path(spec["source_root"]).resolve()),
        TAXI_DATA_DIR=spec["data_dir"],
        TAXI_POSTGRES_SCHEMA=spec["schema"],
        TAXI_GCS_PREFIX=spec["prefix"],
        TAXI_BQ_DATASET=spec["dataset"],
    )
    return env


def leg_job(spec: dict) -> dict:
    """`dagster job execute` of yellow_taxi_job for the month, source = the generated files; the
    wall time broken down from the run's own events."""
    tag = uuid.uuid4().hex[:12]
    taxi = spec.get("taxi", TAXI)
    cmd = [
        sys.executable, "-m", "dagster", "job", "execute", "-m", "taxi_assets.definitions", "-j", f"{taxi}_taxi_job",
        "--tags", json.dumps({"dagster/partition": spec["month"], "bench/run": tag}),
    ]
    launched = time.time()
    t0 = time.monotonic()
    with open(spec["job_log"], "wb") as log:
        code = subprocess.call(cmd, env=_job_env(spec), stdout=log, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - t0
    exited = time.time()
    text = Path(spec["job_log"]).read_text(errors="replace")
    if code != 0 or "RUN_SUCCESS" not in text:
        tail = "\n".join(text.splitlines()[-30:])
        raise RuntimeError(f"dagster job execute failed (exit {code}), log {spec['job_log']}:\n{tail}")
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        (run,) = instance.get_runs(filters=dg.RunsFilter(tags={"bench/run": tag}))
        breakdown = run_breakdown(instance, run.run_id, launched, exited)
    return {"rows": spec["rows"], "seconds": seconds, "progress": _progress_lines(text, taxi), "breakdown": breakdown}


def run_breakdown(instance, run_id: str, launched: float | None = None, exited: float | None = None) -> dict:
    """Where a run's wall time went, from its events in run storage (epoch timestamps):
    start-up (process start, imports, definitions, instance: launch -> the run's first event),
    run set-up (first event -> RUN_START), each step (STEP_START -> STEP_SUCCESS, checks are steps
    too), the time in the run outside any step (orchestration, events written to run storage
    between steps), shut-down (RUN_SUCCESS -> the process's exit)."""
    import dagster as dg

    T = dg.DagsterEventType
    entries = instance.all_logs(run_id)
    first = min(e.timestamp for e in entries)
    at = {}
    steps: dict[str, list[float]] = {}
    assets: list[tuple[str, str, float]] = []
    for e in entries:
        ev = e.dagster_event
        if ev is None:
            continue
        if ev.event_type in (T.RUN_START, T.RUN_SUCCESS, T.RUN_FAILURE):
            at.setdefault(ev.event_type, e.timestamp)
        elif ev.event_type == T.STEP_START and e.step_key:
            steps.setdefault(e.step_key, [e.timestamp, e.timestamp])[0] = e.timestamp
        elif ev.event_type in (T.STEP_SUCCESS, T.STEP_FAILURE) and e.step_key:
            steps.setdefault(e.step_key, [e.timestamp, e.timestamp])[1] = e.timestamp
        elif ev.event_type == T.ASSET_MATERIALIZATION and e.step_key:
            # the seconds each asset's own work took (its metadata): the loads of one step overlap
            meta = ev.event_specific_data.materialization.metadata
            if "seconds" in meta:
                assets.append((e.step_key, ev.event_specific_data.materialization.asset_key.to_user_string(),
                               float(meta["seconds"].value)))
    start = at.get(T.RUN_START, first)
    end = at.get(T.RUN_SUCCESS, at.get(T.RUN_FAILURE, max(e.timestamp for e in entries)))
    ordered = sorted(steps.items(), key=lambda kv: kv[1][0])
    # the union of the step intervals: what remains of RUN_START -> RUN_SUCCESS ran no step
    covered, cursor = 0.0, start
    for _, (a, b) in ordered:
        a = max(a, cursor)
        if b > a:
            covered += b - a
            cursor = b
    out = {
        "startup": (first - launched) if launched else None,
        "setup": start - first,
        "steps": [(k, a - start, b - a) for k, (a, b) in ordered],  # (step, offset from RUN_START, seconds)
        "outside_steps": (end - start) - covered,
        "run": end - start,
        "shutdown": (exited - end) if exited else None,
        "events": len(entries),
        "assets": assets,  # (step, asset, seconds from its metadata)
        "overlap": sum(b - a for _, (a, b) in ordered) - covered,  # step seconds that ran beside another step
    }
    return out


def leg_backfill(spec: dict) -> dict:
    """A backfill of `months` as users run one: `dagster job backfill` of yellow_taxi_job, executed by
    `dagster-daemon run` (the queued run coordinator: at most 2 runs at once, dagster.yaml). Wall
    = the backfill command's start to the end of its last run; the peak RSS of each run process."""
    import psutil

    import dagster as dg

    env = _job_env(spec)
    tag = uuid.uuid4().hex[:12]
    months = spec["months"]
    repo = Path(__file__).resolve().parents[1]
    bindir = Path(sys.executable).parent
    with open(spec["job_log"], "wb") as log:
        daemon = subprocess.Popen([str(bindir / "dagster-daemon"), "run", "-w", "workspace.yaml"], cwd=repo, env=env,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    run_hwm: dict[int, int] = {}
    tree_cpu: dict[int, tuple[str, float, float]] = {}  # pid -> (kind, CPU s when first seen, CPU s when last seen)
    stop = threading.Event()

    def sample_runs() -> None:  # the run workers: processes the daemon's code server spawns (multiprocessing)
        while not stop.is_set():
            with contextlib.suppress(psutil.Error):
                for p in [psutil.Process(daemon.pid), *psutil.Process(daemon.pid).children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        if p.pid not in tree_cpu:
                            tree_cpu[p.pid] = (_process_kind(p, daemon.pid), 0.0, 0.0)
                        kind, first, _ = tree_cpu[p.pid]
                        t = p.cpu_times()
                        tree_cpu[p.pid] = (kind, first, t.user + t.system)
                        if kind == "run workers":
                            run_hwm[p.pid] = max(run_hwm.get(p.pid, 0), _vm_kb(p.pid, "VmHWM"))
            stop.wait(0.25)  # a run lives 15 s or more; VmHWM is the kernel's high-water mark

    sampler = threading.Thread(target=sample_runs, daemon=True)
    sampler.start()
    try:
        _wait_for_daemon(started=time.time() - 1, timeout=spec.get("daemon_timeout", 180))
        idle = {pid: (kind, last, last) for pid, (kind, _, last) in tree_cpu.items()}  # the daemon's start-up is not the backfill's
        tree_cpu.update(idle)
        servers_before = _server_cpu()
        children_before = os.times()
        launched = time.time()
        out = subprocess.run(
            [str(bindir / "dagster"), "job", "backfill", "-w", "workspace.yaml", "-j", f"{TAXI}_taxi_job",
             "--partitions", ",".join(months), "--noprompt", "--tags", json.dumps({"bench/backfill": tag})],
            cwd=repo, env=env, capture_output=True, text=True,
        )
        children_after = os.times()
        cli_cpu = (children_after.children_user - children_before.children_user
                   + children_after.children_system - children_before.children_system)
        if out.returncode != 0:
            raise RuntimeError(f"dagster job backfill failed: {out.stderr[-3000:]}")
        deadline = time.monotonic() + spec.get("timeout", 1800)
        with dg.DagsterInstance.get() as instance:
            while True:
                records = instance.get_run_records(filters=dg.RunsFilter(tags={"bench/backfill": tag}))
                if len(records) == len(months) and all(r.dagster_run.is_finished for r in records):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"backfill not done after {spec.get('timeout', 1800)} s: "
                                       f"{[(r.dagster_run.tags.get('dagster/partition'), r.dagster_run.status) for r in records]}")
                time.sleep(1.0)  # the runs' own end times count, not this poll
            failed = [r.dagster_run.run_id for r in records if r.dagster_run.status != dg.DagsterRunStatus.SUCCESS]
            if failed:
                raise RuntimeError(f"backfill runs failed: {failed}; daemon log {spec['job_log']}")
            ended = max(r.end_time for r in records)
            starts = sorted(r.start_time for r in records)
            runs = [run_breakdown(instance, r.dagster_run.run_id) for r in records]
        servers_after = _server_cpu()
    finally:
        stop.set()
        sampler.join()
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
    return {
        "rows": spec["rows"] * len(months), "seconds": ended - launched, "months": len(months),
        "first_run_start": starts[0] - launched, "run_seconds": sorted(b["run"] for b in runs),
        "timeline": sorted((r.dagster_run.tags.get("dagster/partition"), r.create_timestamp.timestamp() - launched,
                            r.start_time - launched, r.end_time - launched) for r in records),
        "run_rss_mb": max(run_hwm.values(), default=0) / 1024, "run_processes": len(run_hwm),
        "cpu": _cpu_by_kind(tree_cpu, servers_before, servers_after, cli_cpu),
    }


SERVERS = (("bin/postgres -D", "Postgres server"), ("fake-gcs-server", "GCS emulator"), ("bqemulator_launcher", "BigQuery emulator"))


def _process_kind(p, daemon_pid: int) -> str:
    if p.pid == daemon_pid:
        return "daemon"
    cmd = " ".join(p.cmdline())
    if "execute_run" in cmd or "spawn_main" in cmd:
        return "run workers"
    return "code server" if "api grpc" in cmd else "daemon"


def _server_cpu() -> dict[str, float]:
    """CPU seconds so far of the stack's servers, with the children they reaped (Postgres backends)
    and those still alive."""
    import psutil

    out: dict[str, float] = {}
    for p in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            cmd = " ".join(p.info["cmdline"] or [])
            name = next((name for marker, name in SERVERS if marker in cmd), None)
            if name is None:
                continue
            t = p.cpu_times()
            total = t.user + t.system + t.children_user + t.children_system
            for c in p.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    ct = c.cpu_times()
                    total += ct.user + ct.system
            out[name] = out.get(name, 0.0) + total
    return out


def _cpu_by_kind(tree: dict, before: dict[str, float], after: dict[str, float], cli: float) -> dict[str, float]:
    """Core-seconds the backfill cost, by kind of process (live Postgres backends count up to now)."""
    out: dict[str, float] = {}
    for kind, first, last in tree.values():
        out[kind] = out.get(kind, 0.0) + last - first
    for name, seconds in after.items():
        out[name] = seconds - before.get(name, 0.0)
    out["the backfill command"] = cli
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def _wait_for_daemon(started: float, timeout: float) -> None:
    """Until the daemon's run queue has sent a heartbeat: users launch a backfill with the daemon
    already running, so its own start-up (loading the code location) is not the backfill's."""
    import dagster as dg

    deadline = time.monotonic() + timeout
    with dg.DagsterInstance.get() as instance:
        while time.monotonic() < deadline:
            beat = instance.get_daemon_heartbeats().get("QUEUED_RUN_COORDINATOR")
            if beat is not None and beat.timestamp > started:
                return
            time.sleep(0.5)
    raise RuntimeError(f"dagster-daemon sent no QUEUED_RUN_COORDINATOR heartbeat within {timeout:.0f} s")


def _progress_lines(text: str, taxi: str = TAXI) -> dict[str, int]:
    """How many progress lines (rows/bytes/rate) each step logged."""
    counts: dict[str, int] = {}
    for line in text.splitlines():
        if " rows/s)" not in line and " MB in " not in line:
            continue
        for step in ("raw_file", "cleaned_parquet", "postgres_table", "gcs_object", "bigquery_table"):
            if f"{taxi}__{step}" in line or f"{taxi}/{step}" in line:
                counts[step] = counts.get(step, 0) + 1
                break
    return counts


def leg_idle(spec: dict) -> dict:
    """Nothing but the imports every leg of ours pays (Python, pyarrow, Dagster, the package)."""
    import taxi_assets.definitions  # noqa: F401

    return {"rows": 0, "seconds": 0.0}


LEGS = {
    "idle": leg_idle,
    "baseline": leg_baseline,
    "limit_copy": leg_limit_copy,
    "limit_pyarrow": leg_limit_pyarrow,
    "parquet": leg_parquet,
    "postgres": leg_postgres,
    "postgres_adbc": leg_postgres_adbc,
    "gcs": leg_gcs,
    "bigquery": leg_bigquery,
    "job": leg_job,
    "backfill": leg_backfill,
}


def run_leg_in_child(spec_json: str) -> int:
    spec = json.loads(spec_json)
    result = LEGS[spec["leg"]](spec)
    result["vmhwm_kb"] = _vm_kb("self", "VmHWM")
    Path(spec["result"]).write_text(json.dumps(result))
    return 0


# ---------------------------------------------------------------------------------------------
# the parent: generate, run the legs in children, measure memory, print the table


@dataclasses.dataclass
class Leg:
    key: str  # e.g. "parquet"
    label: str
    size: str  # "small" | "big"
    rows: int = 0
    seconds: float = 0.0
    runs: list[float] = dataclasses.field(default_factory=list)
    rss_mb: float = 0.0  # largest single process (VmHWM)
    tree_mb: float = 0.0  # largest sampled sum over the process tree
    note: str = ""
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def _vm_kb(pid: int | str, field: str) -> int:
    """VmHWM (peak) of a process in KiB, from /proc (psutil has no peak RSS on Linux); 0 if it is gone.

    VmHWM belongs to the process's address space since its exec, unlike ru_maxrss, which keeps the
    high-water mark of the parent it was forked from (a child of a big parent would show the
    parent's size)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree_rss_sampler(pid: int, stop: threading.Event, peak: dict[str, Any]) -> None:
    """Every 50 ms: the sum of RSS over the process tree, and each process's VmHWM."""
    import psutil

    try:
        root = psutil.Process(pid)
    except psutil.Error:
        return
    hwm: dict[int, int] = peak.setdefault("hwm", {})
    while not stop.is_set():
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            break
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss // 1024
            except psutil.Error:
                continue
            hwm[p.pid] = max(hwm.get(p.pid, 0), _vm_kb(p.pid, "VmHWM"))
        peak["tree_kb"] = max(peak.get("tree_kb", 0), total)
        stop.wait(0.05)


def run_child(spec: dict, workdir: Path) -> tuple[dict, float, float]:
    """Run one leg in a child process; returns (result, peak RSS MB, peak tree RSS MB)."""
    result_file = workdir / f"result-{uuid.uuid4().hex[:8]}.json"
    log_file = workdir / f"leg-{spec['leg']}-{spec.get('size', '')}.log"
    spec = {**spec, "result": str(result_file)}
    with open(log_file, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.benchmark", "--leg", json.dumps(spec)],
            stdout=log, stderr=subprocess.STDOUT,
        )
        stop, peak = threading.Event(), {}
        sampler = threading.Thread(target=_tree_rss_sampler, args=(proc.pid, stop, peak), daemon=True)
        sampler.start()
        proc.wait()
        stop.set()
        sampler.join()
    if proc.returncode != 0 or not result_file.exists():
        tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-40:])
        raise RuntimeError(f"leg {spec['leg']} failed (exit {proc.returncode}); {log_file}:\n{tail}")
    result = json.loads(result_file.read_text())
    result_file.unlink()
    # largest single process: the leg's own peak (read by itself at the end) or any descendant's
    hwm_kb = max([result.get("vmhwm_kb", 0), *peak.get("hwm", {}).values()])
    rss_mb = hwm_kb / 1024
    return result, rss_mb, max(peak.get("tree_kb", 0) / 1024, rss_mb)


def measure_imports(repeat: int) -> dict[str, list[float]]:
    """Import time of `dagster` alone and of `taxi_assets.definitions` (which imports dagster), each in
    a fresh interpreter, interleaved `repeat` times; and each process's whole wall (start to exit)."""
    out: dict[str, list[float]] = {}
    for _ in range(repeat):
        for mod in ("dagster", "taxi_assets.definitions"):
            t0 = time.monotonic()
            got = subprocess.run([sys.executable, "-c", IMPORT_CODE.format(mod=mod)], capture_output=True, text=True)
            wall = time.monotonic() - t0
            if got.returncode != 0:
                raise RuntimeError(f"import {mod} failed: {got.stderr[-2000:]}")
            out.setdefault(mod, []).append(float(got.stdout.strip().splitlines()[-1]))
            out.setdefault(f"{mod} process", []).append(wall)
    return out


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _add_months(month: dt.date, n: int) -> dt.date:
    y, m = divmod(month.month - 1 + n, 12)
    return dt.date(month.year + y, m + 1, 1)


def _generate(root: Path, month: dt.date, rows: int, seed: int = 0) -> Path:
    from taxi_assets.localstack import sample

    path = sample.source_path(root, TAXI, month)
    stamp = path.with_name(path.name + ".rows")
    if path.exists() and stamp.exists() and stamp.read_text().strip() == str(rows):
        _say(f"reusing {path} ({rows:,} rows)")
        return path
    t0 = time.monotonic()
    sample.write_month(root, TAXI, month, rows, seed=seed)
    stamp.write_text(str(rows))
    _say(f"wrote {path} ({rows:,} rows, {path.stat().st_size / 1e6:,.1f} MB) in {time.monotonic() - t0:,.1f} s")
    return path


def _generate_tlc(root: Path, taxi: str, month: dt.date, rows: int) -> Path:
    """A full-size TLC parquet month of `taxi` (its real column set and physical types)."""
    from taxi_assets.localstack import sample

    path = sample.tlc_path(root, taxi, month)
    stamp = path.with_name(path.name + ".rows")
    if path.exists() and stamp.exists() and stamp.read_text().strip() == str(rows):
        _say(f"reusing {path} ({rows:,} rows)")
        return path
    t0 = time.monotonic()
    sample.write_tlc_parquet(root, taxi, month, rows, distinct_chunks=TLC_DISTINCT_ROW_GROUPS)
    stamp.write_text(str(rows))
    _say(f"wrote {path} ({rows:,} rows, {path.stat().st_size / 1e6:,.1f} MB) in {time.monotonic() - t0:,.1f} s")
    return path


@contextlib.contextmanager
def _stack_env(stack_home: str | None) -> Iterator[str]:
    """The environment's stack, or a temporary one started here and stopped at the end."""
    if all(os.environ.get(v) for v in STACK_VARS) and not stack_home:
        yield "the stack configured in the environment"
        return
    from taxi_assets.localstack import temporary_stack

    with temporary_stack(
        stack_home, prefix="taxi-bench-stack-", skip_env=("TAXI_SOURCE_URL", "TAXI_ZONES_URL"), echo=_say
    ) as stack:
        _say(f"local stack in {stack.home}")
        yield f"a local stack in {stack.home}"


def _cleanup(schema: str, prefix: str, dataset: str) -> None:
    with contextlib.suppress(Exception):
        import psycopg

        with psycopg.connect(os.environ["TAXI_POSTGRES_URL"], autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    with contextlib.suppress(Exception):
        from taxi_assets.core.stores.lake import gcs_client

        client = gcs_client(os.environ["TAXI_GCP_PROJECT"])
        for blob in client.list_blobs(os.environ["TAXI_GCS_BUCKET"], prefix=prefix + "/"):
            blob.delete()
    with contextlib.suppress(Exception):
        from taxi_assets.core.stores.bigquery import BigQueryStore

        wh = BigQueryStore(project=os.environ["TAXI_BQ_PROJECT"], dataset=dataset)
        wh.client().delete_dataset(f"{wh.project}.{dataset}", delete_contents=True, not_found_ok=True)


def machine() -> dict[str, str]:
    import psutil

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = []
    for pkg in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{pkg} {metadata.version(pkg)}")
    pg_version = "?"
    with contextlib.suppress(Exception):
        import psycopg

        with psycopg.connect(os.environ["TAXI_POSTGRES_URL"]) as conn:
            pg_version = conn.execute("SHOW server_version").fetchone()[0]
    return {
        "cpu": f"{os.cpu_count()} logical cores ({psutil.cpu_count(logical=False) or '?'} physical), {cpu}",
        "ram": f"{psutil.virtual_memory().total / 2**30:,.1f} GiB",
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "postgres": f"PostgreSQL {pg_version} (local stack, pgserver)",
        "packages": ", ".join(versions),
    }


@dataclasses.dataclass
class Report:
    legs: list[Leg]
    args: argparse.Namespace
    machine: dict[str, str]
    started: str
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    total_seconds: float = 0.0
    imports: dict[str, list[float]] = dataclasses.field(default_factory=dict)

    def import_median(self, mod: str) -> float | None:
        import statistics

        return statistics.median(self.imports[mod]) if self.imports.get(mod) else None

    def leg(self, key: str, size: str = "small") -> Leg | None:
        return next((leg for leg in self.legs if leg.key == key and leg.size == size), None)

    def summary(self) -> list[tuple[str, str, str, bool | None]]:
        """(what, value, target, holds) rows."""
        out: list[tuple[str, str, str, bool | None]] = []
        parquet, postgres = self.leg("parquet"), self.leg("postgres")
        copy, arrow = self.leg("limit_copy"), self.leg("limit_pyarrow")
        base, job, big_job = self.leg("baseline"), self.leg("job"), self.leg("job", "big")
        ours = parquet.seconds + postgres.seconds if parquet and postgres else None
        limit = copy.seconds + arrow.seconds if copy and arrow else None
        if ours and limit:
            r = ours / limit
            out.append(("ours / limit: (raw → parquet + parquet → Postgres) / (raw COPY + pyarrow read & parquet write)",
                        f"{ours:,.2f} s / {limit:,.2f} s = **{r:.2f}×**", f"≤ {TARGET_OURS_OVER_LIMIT}×", r <= TARGET_OURS_OVER_LIMIT))
        if ours and base:
            r = base.seconds / ours
            out.append(("baseline / ours: pandas to_sql / (raw → parquet + parquet → Postgres)",
                        f"{base.seconds:,.2f} s / {ours:,.2f} s = **{r:.1f}×**", f"≥ {TARGET_BASELINE_OVER_OURS:g}×", r >= TARGET_BASELINE_OVER_OURS))
        if base and job:
            r = base.seconds / job.seconds
            out.append(("baseline / whole job (download, parquet, Postgres, GCS, BigQuery, Dagster start-up)",
                        f"{base.seconds:,.2f} s / {job.seconds:,.2f} s = {r:.1f}×", "(information)", None))
        if job:
            out.append(("job peak RSS, largest process", f"**{job.rss_mb:,.0f} MB**", f"≤ {TARGET_JOB_RSS_MB:g} MB", job.rss_mb <= TARGET_JOB_RSS_MB))
            out.append(("job peak RSS, whole process tree (CLI + step processes)", f"{job.tree_mb:,.0f} MB", "(information)", None))
        backfill = self.leg("backfill")
        if backfill:
            out.append(("backfill: peak RSS of any run process", f"**{backfill.rss_mb:,.0f} MB**", f"≤ {TARGET_JOB_RSS_MB:g} MB",
                        backfill.rss_mb <= TARGET_JOB_RSS_MB))
        for taxi in ("fhvhv", "fhv"):
            other = self.leg("job", taxi)
            if job and other:
                r = other.rss_mb / job.rss_mb
                out.append((f"job peak RSS, {taxi} {other.rows / 1e6:.1f}M-row month / yellow {job.rows / 1e6:.2f}M-row month",
                            f"{other.rss_mb:,.0f} / {job.rss_mb:,.0f} MB = **{r:.2f}**", f"≤ {TARGET_BIG_OVER_SMALL_RSS:.2f}",
                            r <= TARGET_BIG_OVER_SMALL_RSS))
        if job and big_job:
            r = big_job.rss_mb / job.rss_mb
            out.append((f"job peak RSS, {big_job.rows / 1e6:.1f}M-row month / {job.rows / 1e6:.2f}M-row month",
                        f"{big_job.rss_mb:,.0f} / {job.rss_mb:,.0f} MB = **{r:.2f}**", f"≤ {TARGET_BIG_OVER_SMALL_RSS:.2f}", r <= TARGET_BIG_OVER_SMALL_RSS))
        out[:0] = self.issue16_summary()
        return out

    def issue16_summary(self) -> list[tuple[str, str, str, bool | None]]:
        out: list[tuple[str, str, str, bool | None]] = []
        copy, postgres, job, backfill = self.leg("limit_copy"), self.leg("postgres"), self.leg("job"), self.leg("backfill")
        if job and copy:
            r = job.seconds / copy.seconds
            out.append(("whole yellow_taxi_job / raw COPY of the same file", f"{job.seconds:,.2f} s / {copy.seconds:,.2f} s = **{r:.2f}×**",
                        f"≤ {TARGET_JOB_OVER_COPY:g}×", r <= TARGET_JOB_OVER_COPY))
        if postgres and copy:
            r = postgres.seconds / copy.seconds
            out.append(("parquet → Postgres (month replace) / raw COPY", f"{postgres.seconds:,.2f} s / {copy.seconds:,.2f} s = **{r:.2f}×**",
                        f"≤ {TARGET_POSTGRES_OVER_COPY:g}×", r <= TARGET_POSTGRES_OVER_COPY))
        if backfill and job:
            r = backfill.seconds / job.seconds
            months = backfill.extra.get("months", 0)
            out.append((f"{months}-month backfill / one month's whole job", f"{backfill.seconds:,.1f} s / {job.seconds:,.2f} s = **{r:.2f}×**",
                        f"≤ {TARGET_BACKFILL_OVER_JOB:g}×", r <= TARGET_BACKFILL_OVER_JOB))
            out.append(("backfill throughput", f"{months / backfill.seconds * 3600:,.0f} months/hour, {backfill.rate:,.0f} rows/s",
                        "(information)", None))
        dag, defs = self.import_median("dagster"), self.import_median("taxi_assets.definitions")
        if dag and defs:
            r = defs / dag
            out.append(("import taxi_assets.definitions / import dagster (median, fresh processes)",
                        f"{defs:,.2f} s / {dag:,.2f} s = **{r:.2f}×**", f"≤ {TARGET_IMPORT_OVER_DAGSTER:g}×", r <= TARGET_IMPORT_OVER_DAGSTER))
        return out

    def breakdown_rows(self) -> list[list[str]]:
        """The whole job's wall, where it went (from the run's events); the import times beside it."""
        rows = []
        for size in ("small", "big", "fhvhv", "fhv"):
            job = self.leg("job", size)
            b = job.extra.get("breakdown") if job else None
            if not b:
                continue
            def row(what: str, seconds: float | None, note: str = "") -> None:
                if seconds is not None:
                    rows.append([f"{job.rows / 1e6:.2f}M", what, f"{seconds:,.2f}", f"{seconds / job.seconds:.0%}", note])
            dag, defs = self.import_median("dagster"), self.import_median("taxi_assets.definitions")
            row("start-up: process, imports, definitions, instance (launch → first event)", b["startup"],
                f"of which import taxi_assets.definitions {defs:.2f} s (import dagster alone {dag:.2f} s)" if dag and defs and size == "small" else "")
            row("run set-up: plan, run record (first event → RUN_START)", b["setup"])
            for key, offset, seconds in b["steps"]:
                inner = [(a, sec) for step, a, sec in b.get("assets", []) if step == key]
                note = f"starts at +{offset:,.2f} s"
                if len(inner) > 1:
                    note += "; in it, at once: " + ", ".join(f"{a} {sec:,.2f} s" for a, sec in inner)
                row(f"step {key}", seconds, note)
            row("in the run outside any step: orchestration, run storage", b["outside_steps"],
                f"{b['events']} events stored; steps overlapped {b['overlap']:.2f} s")
            row("shut-down (RUN_SUCCESS → exit)", b["shutdown"])
            rows.append([f"{job.rows / 1e6:.2f}M", "**whole command**", f"{job.seconds:,.2f}", "100%", ""])
        return rows

    BREAKDOWN_HEADER = ["month", "part", "wall s", "share", "note"]

    def backfill_cpu(self) -> str:
        """The backfill's core-seconds by kind of process, against what two cores give in its wall."""
        leg = self.leg("backfill")
        cpu = (leg.extra.get("cpu") or {}) if leg else {}
        if not cpu:
            return ""
        months, total, cores = leg.extra.get("months", 1), sum(cpu.values()), os.cpu_count() or 1
        lines = ["| process | core-seconds | per month | share |", "|---|---:|---:|---:|"]
        lines += [f"| {k} | {v:,.1f} | {v / months:,.2f} | {v / total:.0%} |" for k, v in cpu.items()]
        lines.append(f"| **all** | {total:,.1f} | {total / months:,.2f} | 100% |")
        job = self.leg("job")
        floor = total / cores
        note = (f"\n\n{cores} cores give {cores * leg.seconds:,.0f} core-seconds in the backfill's {leg.seconds:,.1f} s: "
                f"{total / (cores * leg.seconds):.0%} of them were used. At full use the same work takes "
                f"{floor:,.1f} s")
        if job:
            note += f" = {floor / job.seconds:.2f}× one month's whole job"
        return "\n".join(lines) + note + "."

    def progress_note(self) -> str:
        lines = []
        for size in ("small", "big", "fhvhv", "fhv"):
            job = self.leg("job", size)
            if job is None:
                continue
            got = job.extra.get("progress") or {}
            steps = ", ".join(f"{k} {v}" for k, v in sorted(got.items())) or "none"
            lines.append(f"{job.rows:,}-row job ({job.seconds:,.0f} s): progress lines per step: {steps}")
        return "\n".join(lines)

    # ---- rendering
    def rows(self) -> list[list[str]]:
        out = []
        for leg in self.legs:
            idle = leg.key == "idle"
            out.append([
                leg.label, "-" if idle else f"{leg.rows:,}", "-" if idle else f"{leg.seconds:,.2f}",
                "-" if idle else f"{leg.rate:,.0f}",
                f"{leg.rss_mb:,.0f}", f"{leg.tree_mb:,.0f}", self.ratio(leg), leg.note,
            ])
        return out

    def ratio(self, leg: Leg) -> str:
        if leg.size != "small":
            return ""
        pairs = {"parquet": "limit_pyarrow", "postgres": "limit_copy", "postgres_adbc": "limit_copy"}
        if leg.key in pairs and (lim := self.leg(pairs[leg.key])):
            return f"{leg.seconds / lim.seconds:.2f}× limit"
        if leg.key == "baseline":
            parquet, postgres = self.leg("parquet"), self.leg("postgres")
            if parquet and postgres:
                return f"{leg.seconds / (parquet.seconds + postgres.seconds):.1f}× ours"
        return ""

    HEADER = ["leg", "rows", "wall s", "rows/s", "peak RSS MB", "tree RSS MB", "ratio", "note"]

    def text(self) -> str:
        rows = [self.HEADER, *self.rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.HEADER))]
        right = {1, 2, 3, 4, 5}
        lines = []
        for n, r in enumerate(rows):
            cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))]
            lines.append("  ".join(cells).rstrip())
            if n == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines.append("")
        for what, value, target, holds in self.summary():
            mark = "" if holds is None else ("PASS" if holds else "FAIL")
            lines.append(f"{mark:4}  {what}: {value.replace('**', '')}  (target {target})")
        lines.append(self.progress_note())
        if self.breakdown_rows():
            lines += ["", "where the whole job's time goes (from the run's events):"]
            lines += ["  ".join(r).replace("**", "") for r in self.breakdown_rows()]
        return "\n".join(lines)

    def markdown(self) -> str:
        m = self.machine
        cmd = "python -m benchmarks.benchmark " + " ".join(self.args.argv_echo)
        table = ["| " + " | ".join(self.HEADER) + " |", "|" + "|".join(["---"] + ["---:"] * 6 + ["---"]) + "|"]
        table += ["| " + " | ".join(r) + " |" for r in self.rows()]
        breakdown = ["| " + " | ".join(self.BREAKDOWN_HEADER) + " |", "|---|---|---:|---:|---|"]
        breakdown += ["| " + " | ".join(r) + " |" for r in self.breakdown_rows()]
        summary = ["| measure | value | target | holds |", "|---|---|---|---|"]
        for what, value, target, holds in self.summary():
            summary.append(f"| {what} | {value} | {target} | {'' if holds is None else ('yes' if holds else '**NO**')} |")
        return f"""# Benchmarks

One yellow month through this pipeline, side by side with the original approach (the course's
pandas `read_csv` + `to_sql`) and with the limit (a raw `COPY` and a pyarrow read/write of the
same file), on the embedded local stack. Produced by `benchmarks/benchmark.py`; run it with

```bash
bash scripts/benchmark.sh                  # from a clean clone: venv, a temporary local stack, the full run
bash scripts/benchmark.sh --quick          # baseline on a {QUICK_BASELINE_ROWS:,}-row slice, extrapolated (~1 min less)
bash scripts/benchmark.sh --write docs/BENCHMARKS.md   # regenerate this file
python -m benchmarks.benchmark --help     # in a shell configured by `eval "$(taxi-stack env)"`
```

The months are synthetic, in the real file format (`taxi_assets.localstack.sample.write_month`: CRLF, `.80`
decimals, the empty-VendorID tail block, about 10% `passenger_count = 0`, trips from other months),
one of {self.args.rows:,} rows (the size of yellow 2021-01) and one of {self.args.big_rows:,} rows
(the size of yellow 2019-01) to show that memory does not grow with the month.

## Run of {self.started}

`{cmd}` — {self.total_seconds / 60:,.1f} min in all; load average {self.load_before[0]:.2f} before,
{self.load_after[0]:.2f} after (other work shared the machine).

Machine:

- CPU: {m['cpu']}
- RAM: {m['ram']}
- OS: {m['os']}
- Python: {m['python']}
- Database: {m['postgres']}
- Packages: {m['packages']}

{chr(10).join(table)}

{chr(10).join(summary)}

{self.progress_note()}

### Where the whole job's time goes

From the run's own events in run storage (`instance.all_logs`: RUN_START, STEP_START, STEP_SUCCESS,
RUN_SUCCESS timestamps); start-up is the command's launch to the run's first event. The import
times are medians over {len(self.imports.get("dagster", []))} fresh interpreters each, interleaved.

{chr(10).join(breakdown)}

### Where the backfill's CPU goes

CPU time (user + system, `/proc`) of every process from the backfill command's start to its last
run's end: the daemon's process tree (the daemon, its code server, the run workers), the stack's
servers (Postgres with its backends, the emulators) and the backfill command with the code server
it starts.

{self.backfill_cpu()}

## How to read it

- **wall s** is measured around the work in a child process of its own (interpreter start and
  imports excluded), except for `job`, which is the whole `dagster job execute` command (Dagster
  start-up, run storage in Postgres, the steps in one process (in_process_executor), download from a `file://` source with
  its gzip validation, parquet, Postgres, GCS, BigQuery). The limit legs and our two core legs run
  `--repeat {self.args.repeat}` times, interleaved, and the main month's whole job as many times after
  them; the best run counts and `note` lists them all.
- **rows** is what the leg handled: the source rows for reading legs, the rows loaded for
  Postgres and BigQuery (yellow rows with `passenger_count = 0` are dropped by the cleaning).
- **peak RSS MB** is the largest peak resident set (`VmHWM` in `/proc/PID/status`: the kernel's
  high-water mark since the process's exec) of the leg's process or any of its descendants
  (read every 50 ms, and by the leg itself at its end); **tree RSS MB** the largest sum of RSS
  over the leg's process tree, sampled every 50 ms. (Not `ru_maxrss`: a child inherits there
  the high-water mark of the process it was forked from.) For `job` the first is the run's process
  (the CLI, which executes every step in-process), the second the sum over it and any process it
  starts.
- **alternative**: the same batches through ADBC's `adbc_ingest` (the load before
  `stores/pgbinary.py`), COPY into a fresh table only, no swap: what the hand-written encoder must beat.
- **limit**: `COPY FROM STDIN (FORMAT csv, FREEZE)` of the decompressed file into a table typed
  like ours, created in the same transaction (the same conditions as our load), fed by Python's
  zlib; plus `pyarrow.csv.read_csv` of the whole file (all threads, types inferred) and
  `pyarrow.parquet.write_table` (zstd). Both hold nothing back: no cleaning, no month swap.
- **ours**: `transform.write_parquet` (streaming CSV reader, conform + clean per batch, zstd row
  groups), then `PostgresStore.replace_month` (binary COPY FREEZE of the Arrow batches into a fresh
  table, encoded by `stores/pgbinary.py` with numpy in a background thread while the previous
  one is sent, then partition swap under an advisory lock, one transaction), `LakeStore.upload` (fake-gcs-server) and
  `BigQueryStore.replace_month_from_uri` (bqemulator). The emulators' speed says little about
  Google's; those two legs are here to show they stream and stay flat in memory.
- **backfill**: `dagster job backfill -j yellow_taxi_job --partitions …` of {self.args.backfill_months} months of
  {self.args.rows:,} rows each (2021-01 on), executed by `dagster-daemon run` as users run one: the
  backfill daemon makes one run per month, the queued run coordinator starts at most two at once
  (`dagster.yaml`), each run in a process of its own with its steps in it. Wall: the backfill
  command's start (the daemon already running: its run queue has sent a heartbeat) to the end of
  its last run. Its peak RSS is that of the largest run process;
  tree RSS is the sum over the daemon, its code server and the runs.

## Choices behind these figures (issue 16)

- **Imports.** Loading the definitions imports Dagster and the package only: the store clients
  (google-cloud-*, psycopg, requests), pandas and pyarrow's compute, CSV and parquet modules are
  imported by the steps that use them, and the lake
  resource no longer subclasses dagster-gcp's `GCSResource` (importing `dagster_gcp` imported the
  BigQuery client, pandas and the Dataproc client). Before: `import taxi_assets.definitions` 2.3 s
  against `import dagster` 0.7 s (3.3×) on this machine; the ratio is in the table above.
- **Postgres load.** Binary COPY (FREEZE) of tuples encoded by numpy (`stores/pgbinary.py`: rows
  grouped by their layout of NULLs and string lengths, each group one structured array filled a
  column at a time), instead of ADBC's `adbc_ingest`, which writes the same format value by
  value: on the idle machine 3.4 s of client CPU against the server's 2.7 s for the 1.23M rows,
  so the client was the bottleneck (ADBC replaced COPY of Arrow-written CSV, 1.6× slower still).
  The alternative leg above is ADBC in the same run. The encoder takes 32,768 rows at a time:
  whole batches (~107k rows) raised the job's peak RSS to 631 MB (run of 06:02 UTC), above the
  600 MB target; in slices it is 489 MB, below ADBC's 575 MB. The month swap is unchanged (one
  transaction: advisory lock, staging table, COPY, lock, drop, rename, attach).
- **Checks.** `rows_reconcile_with_raw` takes the raw row count the cleaning step made while
  reading every raw row (its materialization metadata) instead of decompressing the month again
  (0.8 s of the 1.37M-row job, 6.7 s of the 7.7M-row one); it reads the raw file again only where
  that count is missing or older than the raw file.
- **Instance storage.** dagster-postgres opens a new connection for every event stored and every
  query (`NullPool`, no setting): a month's run made ~220 connections to the instance database,
  ~9 ms each with SCRAM. `taxi_assets/instance.py` is the same storage with the three engines
  pooled the way Dagster's `optimize_for_webserver` pools the webserver's (checked before use,
  recycled hourly); dagster.yaml names it. A run now makes ~10 connections; the job went from
  16.4-17.4 s to 13.3-14.0 s, and the 8 check steps from 0.2-0.9 s each to 0.02-0.2 s.
- **Exit.** A process that executed a run spent 1-3 s in the interpreter's last garbage
  collection at exit (`gc_collect_main` under `Py_FinalizeEx`, py-spy), over objects the OS frees
  anyway. The preflight (a resource every run sets up) registers `gc.freeze` at exit, once, in run
  processes only: the job's shut-down went from 1.5 s to 0.2-0.3 s. Code servers and the daemon
  (long-lived, gRPC) are left alone: with the freeze in every process that loaded the
  definitions, the UI-script test once found `dg dev`'s processes alive after a stop.
- **Load order.** Inside the load step the parquet goes to GCS first, alone (0.3-0.5 s), then the
  Postgres load and the BigQuery load run at once. Started together with the Postgres load, the
  upload took 2.1-2.6 s (it needs the interpreter between chunks, and the Postgres encoder holds
  it), and BigQuery waited for it: the step went from 8.1 s to 5.8-6.4 s.
- **BigQuery first loads.** A month the table does not hold yet (every month of a first
  backfill) is appended by one load job straight into the table, all its rows or none; only a
  month already there goes through staging and the transaction's DELETE + INSERT … SELECT (a
  table that gained columns too: the emulator's load jobs match parquet columns by position). The
  GCS → BigQuery leg went from 2.89 s (run of 2026-12-02 16:11 UTC, through staging) to 1.99 s; in
  the backfill the emulator's CPU went from 7.6 to 6.9 core-s a month. On real BigQuery it also
  saves the INSERT … SELECT's bytes billed over the staged month.
- **Client imports.** `dagster_gcp` and the BigQuery client (~1 s of imports) are imported in a
  thread from the start of a run that uses the lake (`LakeResource.setup_for_execution`), while the
  month downloads and is cleaned, instead of at the top of the load step.
- **Emulator snapshots.** bqemulator copied the whole table into a time-travel snapshot
  (`CREATE TABLE … AS SELECT *`) after every load job and DML statement, so month N of a
  backfill copied N months, and a reload copied the table twice (after its DELETE and after its
  INSERT). The local stack's launcher (`localstack/bqemulator_launcher.py`) turns that copy off;
  this project never reads time travel. Same harness, back to back (14:10-14:20 UTC, the job and a
  6-month backfill on one stack): backfill 76.2 s → 56.1 s, the emulator's CPU in it 36.6 → 11.6
  core-seconds, the runs' lengths from 12.1 s growing to 23.2 s → 8.6-14.4 s; a reload job's load
  step 11.9 s → 4.5 s. Real BigQuery's time travel costs a load nothing, so the emulator now
  stands closer to it.
- **Queue.** The run queue is read every second and its launches run in threads (`dagster.yaml`
  `run_coordinator`: `dequeue_interval_seconds: 1`, `dequeue_use_threads`; Dagster's default is
  every 5 s, one launch after another). Before the snapshot change it was no faster (89.4 s
  against 87.9-90.4 s: two runs at once were CPU-bound). After it, a core sat idle between the
  months: a run's end to the next run's launch was up to 3.4 s, and the second run of a pair was
  launched 1.5 s after the first. With the setting, that is 0.3-1.6 s, and a pair is launched at
  once. The backfill's wall moved within this machine's noise (49.7-50.3 s → 47.1-52.3 s).
- **Download check.** The raw file's whole-file gzip check (a truncated or corrupt download fails in
  `raw_file`, before it replaces the kept file) inflates with `isal` (ISA-L, zlib's interface):
  0.21 s of CPU against zlib's 0.65 s for the 53 MB month. The cleaning step keeps pyarrow's own
  gzip reader: fed by isal through a Python file object (10 alternating runs of the step alone, 17:25
  UTC), median CPU 2.18 against 2.45 s, wall 2.00 against 1.92 s, within the noise.
- **Overlap.** The three loads of a month are one step (`<taxi>__load_month`, a subsettable
  `multi_asset`): the Postgres load runs in a thread while the parquet goes to GCS and BigQuery
  loads it (both wait on servers most of the time). The alternatives, measured on the same job:
  the multiprocess executor (forkserver, modules preloaded, `max_concurrent: 2`) 114.7 s against
  32.9 s in one process (01:45 UTC, load average ~6: every step pays a process start and the
  run's set-up again); the in-process executor alone runs the steps strictly one after another.
  Memory stays that of one process. The breakdown above shows each load's own seconds inside
  the step.
- **Backfill.** One run per month (two at once), as `dagster job backfill` and Dagster's backfill
  daemon make them, so each month's replace is its own run, atomic and visible per partition. The
  CPU table above says what bounds it. A month costs ~15-16 core-seconds in all (22 before the
  snapshot change), so six months fill both cores for ~46-48 s even with no core ever idle, and
  4 × one job is 46-55 s. What is left per run is Dagster's own: each run is a fresh interpreter
  spawned by the code server (`multiprocessing` spawn, not configurable) that imports Dagster, the
  definitions and the instance's storage (SQLAlchemy, Alembic: ~2 core-s a run), 2.5-4 s from launch
  to RUN_START. The command itself takes ~4 s (its own interpreter and code server) before the
  first run exists. Launched from the UI, a backfill's runs are made by the backfill daemon, which
  looks every 30 s: the command is the quicker start. Tried and not kept (2026-12-03, 17:00-17:30
  UTC, same harness):
  - A single-run or batched backfill (`BackfillPolicy`) would save the start-ups, but it would lose
    the per-month checks: in a run over a range of months a partitioned check's result gets no
    partition (Dagster 1.13, `AssetCheckResult.to_asset_check_evaluation` takes the step's single
    partition key, else none), so the reconciliation of each month would no longer show per month.
    `dagster job backfill` ignores the policy anyway, and `dagster asset materialize
    --partition-range` requires `single_run` on every asset: the months would run one after another.
  - Three runs at once instead of two: 55.9 s against 52.9-57.0 s with two. The runs are CPU-bound,
    and a third one only shares the same two cores.
  - `wal_level = minimal` on the stack's Postgres (no WAL for a table made in the loading
    transaction): the server's CPU in the backfill fell from 22.0-24.7 to 17.1-17.7 core-s, and the
    backfill took 44.1 and 50.7 s against 52.9-57.0 s. But one job got faster as well (8.8 s against
    9.8 s), so the ratio stayed at 5.2-5.8×, and the raw COPY it is compared with gains in the same
    way. A stack tuned past what a production Postgres runs would flatter every figure here, so it
    was not kept.
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.benchmark", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=SMALL_ROWS, help=f"rows of the main month (default {SMALL_ROWS:,})")
    p.add_argument("--big-rows", type=int, default=BIG_ROWS,
                   help=f"rows of the memory month (default {BIG_ROWS:,}); 0 skips it")
    p.add_argument("--quick", action="store_true",
                   help="baseline on the first --baseline-rows rows only, extrapolated (labelled)")
    p.add_argument("--baseline-rows", type=int, default=QUICK_BASELINE_ROWS, help="slice of the baseline with --quick")
    p.add_argument("--no-baseline", action="store_true", help="skip the pandas baseline")
    p.add_argument("--no-job", action="store_true", help="skip the whole-job legs (dagster job execute)")
    p.add_argument("--hv-rows", type=int, default=HV_ROWS,
                   help=f"rows of the fhvhv month (TLC parquet) through the whole job (default {HV_ROWS:,}); 0 skips it")
    p.add_argument("--fhv-rows", type=int, default=FHV_ROWS,
                   help=f"rows of the fhv month (TLC parquet) through the whole job (default {FHV_ROWS:,}); 0 skips it")
    p.add_argument("--only-jobs", action="store_true",
                   help="only the whole-job legs of the main yellow month and of the fhvhv and fhv months (the memory comparison)")
    p.add_argument("--backfill-months", type=int, default=BACKFILL_MONTHS,
                   help=f"months of the backfill leg, each of --rows rows (default {BACKFILL_MONTHS}); 0 skips it")
    p.add_argument("--import-repeat", type=int, default=9, help="fresh interpreters per import measurement (default 9)")
    p.add_argument("--repeat", type=int, default=3, help="runs of the limit and our core legs; the best counts (default 3)")
    p.add_argument("--workdir", type=Path, help="where the months and outputs go (kept; generated months are reused)")
    p.add_argument("--stack-home", help="start (and keep) the local stack in this folder instead of the environment's")
    p.add_argument("--write", type=Path, metavar="MARKDOWN", help="also write the results as markdown (docs/BENCHMARKS.md)")
    p.add_argument("--json", type=Path, help="also write the results as JSON")
    p.add_argument("--leg", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.argv_echo = [a for a in (argv if argv is not None else sys.argv[1:])]
    return args


def run(args: argparse.Namespace) -> Report:
    started = time.monotonic()
    workdir = args.workdir.resolve() if args.workdir else Path(tempfile.mkdtemp(prefix="taxi-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        return _run(args, workdir, started)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def _run(args: argparse.Namespace, workdir: Path, started: float) -> Report:
    source_root = workdir / "source"
    small_src = _generate(source_root, SMALL_MONTH, args.rows)
    big_src = _generate(source_root, BIG_MONTH, args.big_rows) if args.big_rows and not args.only_jobs else None
    if not args.no_job:
        for taxi, month, rows in (("fhvhv", HV_MONTH, args.hv_rows), ("fhv", FHV_MONTH, args.fhv_rows)):
            if rows:
                _generate_tlc(source_root, taxi, month, rows)
    with _stack_env(args.stack_home) as where:
        _say(f"measuring on {where}")
        suffix = uuid.uuid4().hex[:8]
        common = {
            "pg_url": os.environ["TAXI_POSTGRES_URL"],
            "schema": f"bench_{suffix}",
            "prefix": f"bench_{suffix}",
            "dataset": f"bench_{suffix}",
        }
        report = Report([], args, machine(), dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"), os.getloadavg())
        import psycopg

        with psycopg.connect(common["pg_url"], autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{common["schema"]}"')
        try:
            _measure(report, args, workdir, common, small_src, big_src, source_root)
        finally:
            _cleanup(common["schema"], common["prefix"], common["dataset"])
        report.load_after = os.getloadavg()
    report.total_seconds = time.monotonic() - started
    return report


def _measure(report: Report, args, workdir: Path, common: dict, small_src: Path, big_src: Path | None, source_root: Path) -> None:
    def measure(key: str, label: str, size: str, spec: dict, note: str = "") -> Leg:
        _say(f"leg {label} ({size}) ...")
        result, rss, tree = run_child({**common, **spec, "leg": key, "size": size}, workdir)
        leg = Leg(key, label, size, rows=result["rows"], seconds=result["seconds"], runs=[result["seconds"]],
                  rss_mb=rss, tree_mb=tree, note=note, extra=result)
        _say(f"    {leg.seconds:,.2f} s, {leg.rows:,} rows, peak RSS {rss:,.0f} MB (tree {tree:,.0f} MB)")
        return leg

    def best_of(legs: list[Leg]) -> Leg:
        best = min(legs, key=lambda g: g.seconds)
        best.runs = [g.seconds for g in legs]
        best.rss_mb = max(g.rss_mb for g in legs)
        best.tree_mb = max(g.tree_mb for g in legs)
        if len(legs) > 1:
            best.note = (best.note + "; " if best.note else "") + "best of " + " / ".join(f"{s:.2f}" for s in best.runs)
        return best

    month = SMALL_MONTH.isoformat()
    pq_small = str(workdir / "ours_small.parquet")
    report.legs.append(measure("idle", "floor: a process that only imports taxi_assets", "small", {},
                               note="RSS every leg starts from"))
    if args.import_repeat:
        _say(f"import times, {args.import_repeat} fresh processes each ...")
        report.imports = measure_imports(args.import_repeat)
        _say(f"    import dagster {report.import_median('dagster'):.2f} s, taxi_assets.definitions "
             f"{report.import_median('taxi_assets.definitions'):.2f} s (medians)")
    if args.only_jobs:
        _jobs(report, args, workdir, source_root, measure, best_of)
        return
    # baseline
    if not args.no_baseline:
        if args.quick and args.baseline_rows < args.rows:
            leg = measure("baseline", "baseline: pandas read_csv + to_sql", "small",
                          {"src": str(small_src), "limit_rows": args.baseline_rows})
            sliced = leg.rows
            leg.seconds = leg.seconds * args.rows / sliced
            leg.rows = args.rows
            leg.note = f"EXTRAPOLATED from {sliced:,} rows (--quick)"
        else:
            leg = measure("baseline", "baseline: pandas read_csv + to_sql", "small", {"src": str(small_src)})
        report.legs.append(leg)
    # the limit and our core legs, interleaved, best of --repeat
    runs: dict[str, list[Leg]] = {k: [] for k in ("limit_copy", "limit_pyarrow", "parquet", "postgres", "postgres_adbc")}
    for _ in range(max(args.repeat, 1)):
        runs["limit_copy"].append(measure("limit_copy", "limit: raw COPY FROM STDIN", "small", {"src": str(small_src)}))
        runs["limit_pyarrow"].append(measure("limit_pyarrow", "limit: pyarrow read_csv + write parquet", "small",
                                             {"src": str(small_src), "dest": str(workdir / "limit.parquet")}))
        runs["parquet"].append(measure("parquet", "ours: raw → cleaned parquet", "small",
                                       {"src": str(small_src), "dest": pq_small, "month": month}))
        runs["postgres"].append(measure("postgres", "ours: parquet → Postgres (month replace)", "small",
                                        {"parquet": pq_small, "month": month}))
        runs["postgres_adbc"].append(measure("postgres_adbc", "alternative: parquet → Postgres through ADBC adbc_ingest (COPY only)",
                                             "small", {"parquet": pq_small, "month": month}))
    for key in runs:
        report.legs.append(best_of(runs[key]))
    report.legs.append(measure("gcs", "ours: parquet → GCS (emulator)", "small", {"parquet": pq_small, "month": month}))
    report.legs.append(measure("bigquery", "ours: GCS → BigQuery (emulator)", "small", {"month": month}))
    if not args.no_job:
        _jobs(report, args, workdir, source_root, measure, best_of)
        if args.backfill_months:
            months = [_add_months(SMALL_MONTH, i) for i in range(args.backfill_months)]
            for m in months[1:]:
                _generate(source_root, m, args.rows, seed=m.month)
            leg = measure("backfill", f"ours: backfill of {len(months)} months (dagster job backfill + daemon)", "small", {
                "months": [m.isoformat() for m in months], "rows": args.rows, "source_root": str(source_root),
                "data_dir": str(workdir / "data"), "job_log": str(workdir / "backfill-daemon.log")},
                note="peak RSS: largest run process; tree: daemon, code server and runs")
            leg.rss_mb = leg.extra["run_rss_mb"]
            report.legs.append(leg)
    if big_src is not None:
        big = BIG_MONTH.isoformat()
        pq_big = str(workdir / "ours_big.parquet")
        n = f"{args.big_rows / 1e6:.1f}M-row month"
        report.legs.append(measure("parquet", f"ours: raw → cleaned parquet, {n}", "big",
                                   {"src": str(big_src), "dest": pq_big, "month": big}))
        report.legs.append(measure("postgres", f"ours: parquet → Postgres, {n}", "big", {"parquet": pq_big, "month": big}))
        if not args.no_job:
            report.legs.append(measure("job", f"ours: whole yellow_taxi_job, {n}", "big", {
                "month": big, "rows": args.big_rows, "source_root": str(source_root),
                "data_dir": str(workdir / "data"), "job_log": str(workdir / "job-big.log")}))


def _jobs(report: Report, args, workdir: Path, source_root: Path, measure, best_of) -> None:
    """The whole job of the main yellow month (best of --repeat, as the limit legs it is compared
    with), then of the big fhvhv and fhv months (TLC parquet)."""
    report.legs.append(best_of([measure("job", "ours: whole yellow_taxi_job (dagster job execute)", "small", {
        "month": SMALL_MONTH.isoformat(), "rows": args.rows, "source_root": str(source_root),
        "data_dir": str(workdir / "data"), "job_log": str(workdir / "job-small.log")}) for _ in range(max(args.repeat, 1))]))
    for taxi, month, rows in (("fhvhv", HV_MONTH, args.hv_rows), ("fhv", FHV_MONTH, args.fhv_rows)):
        if rows:
            report.legs.append(measure("job", f"ours: whole {taxi}_taxi_job, {rows / 1e6:.1f}M-row TLC parquet month",
                                       taxi, {"taxi": taxi, "month": month.isoformat(), "rows": rows, "suffix": ".parquet",
                                              "source_root": str(source_root), "data_dir": str(workdir / "data"),
                                              "job_log": str(workdir / f"job-{taxi}.log")}))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.leg:
        return run_leg_in_child(args.leg)
    report = run(args)
    print(report.text())
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(report.markdown())
        _say(f"wrote {args.write}")
    if args.json:
        args.json.write_text(json.dumps({
            "machine": report.machine,
            "legs": [dataclasses.asdict(leg) for leg in report.legs],
            "summary": [dict(zip(("what", "value", "target", "holds"), s)) for s in report.summary()],
        }, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
