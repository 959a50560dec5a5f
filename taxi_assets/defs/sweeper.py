"""The dead-run sweeper: a run whose process died (kill -9, OOM, a crashed machine) on this host is
marked failed, so that the next run of its month is not held in the queue forever.

Why our own: run monitoring sees dead run workers only through a run launcher's health check
(`DockerRunLauncher`, `K8sRunLauncher`); the default launcher and `dagster job execute` have none, so
a killed run stays STARTED and keeps its month's concurrency slot. Every run records its worker
(`taxi_assets/worker` = host, pid and the process's start time, by the preflight resource); this
sensor, in the daemon, checks STARTED runs of its own host every `SWEEP_SECONDS` and reports those
whose process is gone (or whose pid now belongs to another process) as failed. Runs on other hosts
(containers, pods) are left to run monitoring (dagster.yaml); the README says what an operator does.
"""

import os
import socket

import dagster as dg

WORKER_TAG = "taxi_assets/worker"
SWEEP_SECONDS = 30


def _start_ticks(pid: int) -> str | None:
    """The process's start time (clock ticks since boot, /proc/<pid>/stat field 22); None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError, PermissionError):
        return None
    if fields[0] in (b"Z", b"X"):  # a zombie has finished
        return None
    return fields[19].decode()


def _host() -> str:
    """This host and its process-id namespace: containers sharing a hostname (host networking) still
    see different processes, so a run worker in another container is never judged from here."""
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        namespace = 0
    return f"{socket.gethostname()}+{namespace}"


def this_worker() -> str:
    pid = os.getpid()
    return f"{_host()}:{pid}:{_start_ticks(pid) or ''}"


def worker_alive(worker: str) -> bool | None:
    """True / False for a worker of this host; None for another host's (not ours to judge)."""
    host, _, rest = worker.partition(":")
    pid, _, ticks = rest.partition(":")
    if host != _host() or not pid.isdigit():
        return None
    return _start_ticks(int(pid)) == ticks


@dg.sensor(
    name="dead_run_sweeper",
    minimum_interval_seconds=SWEEP_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks failed the STARTED runs of this host whose process has died, so that their month's "
    "next run is not held in the queue.",
)
def dead_run_sweeper(context: dg.SensorEvaluationContext):
    records = context.instance.get_run_records(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING])
    )
    swept = []
    for record in records:
        run = record.dagster_run
        worker = run.tags.get(WORKER_TAG)
        if worker and worker_alive(worker) is False:
            context.instance.report_run_failed(run, message=f"the run's process ({worker}) is gone: marked failed by dead_run_sweeper")
            swept.append(run.run_id)
    return dg.SkipReason(f"marked failed: {', '.join(swept)}" if swept else "no dead run")
