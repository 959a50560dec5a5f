"""A run honours SIGTERM promptly (issue 12.3): with BigQuery and GCS accepting connections but never
answering (a hung service, worse than a stopped one), `dagster asset materialize` of the BigQuery or
the GCS step waits inside the Google clients; a SIGTERM then ends the process within seconds: the step is not
retried and no blocking call in a `finally` holds it. No stack server: a silent socket."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

REPO = Path(__file__).resolve().parents[1]


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never sends a byte."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.sock.close()
        for conn in self.held:
            conn.close()


def interruptible():
    """SIGINT as in a terminal. Dagster maps SIGTERM to SIGINT's handler, so a process started with
    SIGINT ignored (a background job of a non-interactive shell, like this test's own) ignores SIGTERM."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("hung_step", ["green/bigquery_table", "green/gcs_object"])
def test_sigterm_ends_a_run_hung_on_a_cloud_service_within_seconds(tmp_path, hung_step):
    cleaned = tmp_path / "data" / "green" / "cleaned_parquet" / "2021-01-01.parquet"
    cleaned.parent.mkdir(parents=True)
    pq.write_table(pa.table({"VendorID": [1]}), cleaned)  # gcs_object's input: any parquet file
    with SilentServer() as silent:
        home = tmp_path / "dagster_home"
        home.mkdir()
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "BIGQUERY_EMULATOR_HOST": f"http://127.0.0.1:{silent.port}",
            "STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{silent.port}",
            "TAXI_POSTGRES_URL": "postgresql://taxi:unused@127.0.0.1:9/taxi",
            "TAXI_GCS_BUCKET": "taxi-lake",
            "TAXI_BQ_PROJECT": "taxi-local",
            "TAXI_BQ_DATASET": "nyc_taxi",
            "TAXI_DATA_DIR": str(tmp_path / "data"),
            "PYTHONUNBUFFERED": "1",
        }
        log = tmp_path / "run.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "dagster", "asset", "materialize", "-m", "taxi_assets.definitions",
                 "--select", hung_step, "--partition", "2021-01-01"],
                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=interruptible,
            )
            try:
                deadline = time.monotonic() + 120
                while "STEP_START" not in log.read_text() and proc.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.5)
                assert proc.poll() is None, f"the run ended before its step hung:\n{log.read_text()[-3000:]}"
                assert "STEP_START" in log.read_text(), log.read_text()[-3000:]
                time.sleep(3)  # the step is now waiting on the silent service (its timeout is 30 s)
                assert proc.poll() is None, "the step did not wait on the silent service"
                t0 = time.monotonic()
                os.killpg(proc.pid, signal.SIGTERM)
                code = proc.wait(timeout=60)
                seconds = time.monotonic() - t0
            finally:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
    text = log.read_text()
    assert seconds < 10, f"SIGTERM took {seconds:.1f} s:\n{text[-3000:]}"
    assert code != 0
    assert "RUN_SUCCESS" not in text and "unused" not in text
    assert "STEP_UP_FOR_RETRY" not in text  # an interrupt is not retried (Dagster's default with a RetryPolicy)
    assert "RUN_FAILURE" in text and "Execution was interrupted" in text
    # one step loads the selected assets (the Postgres load in a thread beside it): started once, never again
    assert text.count('STEP_START - Started execution of step "green__load_month"') == 1, text[-3000:]
