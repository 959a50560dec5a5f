"""A killed run does not hold its month (issue 12.4): the dead-run sweeper marks it failed and the
queued run of the same month goes. Real processes: `dagster job execute`, kill -9, dagster-daemon."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from taxi_assets.defs.sweeper import WORKER_TAG, this_worker, worker_alive

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]
MONTH = "2021-03-01"


def test_worker_alive_tells_this_hosts_live_and_dead_processes_and_leaves_others():
    assert worker_alive(this_worker()) is True
    host, pid, ticks = this_worker().split(":")
    assert worker_alive(f"{host}:{pid}:{int(ticks) + 1}") is False  # the pid now belongs to another process
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert worker_alive(f"{host}:{dead.pid}:1") is False
    assert worker_alive(f"another-host:{pid}:{ticks}") is None


def _runs(instance, **tags):
    return instance.get_runs(filters=dg.RunsFilter(job_name="fhv_taxi_job", tags={"dagster/partition": MONTH, **tags}))


@pytest.mark.slow
def test_a_kill_9_run_is_swept_and_the_queued_run_of_its_month_goes(pipeline_env, tmp_path):
    env = os.environ.copy()
    tags = f'{{"dagster/partition": "{MONTH}", "test": "sweeper"}}'
    victim = subprocess.Popen(
        [str(BIN / "dagster"), "job", "execute", "-m", "taxi_assets.definitions", "-j", "fhv_taxi_job", "--tags", tags],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    with dg.DagsterInstance.get() as instance:
        deadline = time.monotonic() + 120
        started = []
        while time.monotonic() < deadline and not started:
            started = [r for r in _runs(instance, test="sweeper") if WORKER_TAG in r.tags]
            time.sleep(0.2)
        assert started, "the run never started"
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
        [dead] = started
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.STARTED  # what kill -9 leaves

        out = subprocess.run(
            [str(BIN / "dagster"), "job", "launch", "-w", "workspace.yaml", "-j", "fhv_taxi_job",
             "--tags", f'{{"dagster/partition": "{MONTH}", "test": "queued"}}'],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=180,
        )
        assert out.returncode == 0, out.stderr[-2000:]
        log = open(tmp_path / "daemon.log", "wb")
        daemon = subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], cwd=REPO, env=env,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 300
            queued = []
            while time.monotonic() < deadline:
                queued = _runs(instance, test="queued")
                if queued and queued[0].is_finished:
                    break
                time.sleep(3)
        finally:
            os.killpg(daemon.pid, signal.SIGTERM)
            try:
                daemon.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(daemon.pid, signal.SIGKILL)
            log.close()
        swept = instance.get_run_by_id(dead.run_id)
        assert swept.status == dg.DagsterRunStatus.FAILURE, (tmp_path / "daemon.log").read_text()[-3000:]
        assert queued and queued[0].status == dg.DagsterRunStatus.SUCCESS, (tmp_path / "daemon.log").read_text()[-3000:]
