"""A real three-month backfill from the CLI, executed by dagster-daemon on the local stack."""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from taxi_assets import report
from taxi_assets.core.taxi_types import TAXI_TYPES
from taxi_assets_tests.helpers import expected_kept

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]
MONTHS = ["2021-01-01", "2021-02-01", "2021-03-01"]


@pytest.mark.slow
@pytest.mark.parametrize("pipeline_env", ["local", "gcs"], indirect=True)  # gcs: runs share no disk, only the bucket
def test_three_month_backfill_from_the_cli_runs_through_the_daemon(pipeline_env, sample_site, tmp_path):
    env = os.environ.copy()
    tag = {"test": f"backfill-{pipeline_env['TAXI_POSTGRES_SCHEMA']}"}  # this test's runs only (one instance per session)
    log = open(tmp_path / "daemon.log", "wb")
    daemon = subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        out = subprocess.run(
            [str(BIN / "dagster"), "job", "backfill", "-w", "workspace.yaml", "-j", "green_taxi_job",
             "--from", MONTHS[0], "--to", MONTHS[-1], "--noprompt", "--tags", json.dumps(tag)],
            cwd=REPO, env=env, capture_output=True, text=True,
        )
        assert out.returncode == 0, out.stderr[-3000:]
        deadline = time.monotonic() + 420
        with dg.DagsterInstance.get() as instance:
            while time.monotonic() < deadline:
                runs = instance.get_runs(filters=dg.RunsFilter(job_name="green_taxi_job", tags=tag))
                done = [r for r in runs if r.is_finished]
                if len(runs) == len(MONTHS) and len(done) == len(MONTHS):
                    break
                time.sleep(3)
            assert sorted(r.tags["dagster/partition"] for r in runs) == MONTHS, (tmp_path / "daemon.log").read_text()[-3000:]
            assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs), [(r.run_id, r.status) for r in runs]
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
        log.close()
    if pipeline_env["TAXI_DATA_DIR"].startswith("gs://"):
        assert not (tmp_path / "data").exists()  # every run found the files in the bucket
    for key in MONTHS:
        month = dt.date.fromisoformat(key)
        rows_in, dropped = expected_kept(sample_site / "green" / f"green_tripdata_{month:%Y-%m}.csv.gz", TAXI_TYPES["green"].drop_zero_passengers)
        counts = {store: rows for store, (_, rows) in report.store_counts("green", month).items()}
        assert counts == dict.fromkeys(counts, rows_in - dropped), (key, counts)
