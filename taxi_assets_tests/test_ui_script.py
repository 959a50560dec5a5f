"""scripts/ui.sh (issue 14): the UI's output goes to a log file it names, and Ctrl-C (SIGINT, in the
foreground) or SIGTERM (also when started in the background, where SIGINT is ignored) stops every
process it started. Real processes: the script, `dg dev`, its webserver, daemon and code server."""

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_pids(sid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "-s", str(sid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


@pytest.mark.slow
@pytest.mark.parametrize("how", ["ctrl-c in the foreground", "sigterm in the background"])
def test_ui_script_logs_to_a_file_and_stops_everything(local_stack, tmp_path, how):
    port = free_port()
    env = {**os.environ, "TAXI_STACK_HOME": str(local_stack.home), "TAXI_UI_PORT": str(port), "TAXI_SAMPLE_ROWS": "500"}
    out_path = tmp_path / "ui.out"
    dg_pid = None
    with open(out_path, "w") as out:
        if how.startswith("ctrl-c"):
            script = subprocess.Popen(["bash", "scripts/ui.sh"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                      start_new_session=True)
            stopper, sig = script, signal.SIGINT
        else:  # `bash scripts/ui.sh &` from a shell script: the job starts with SIGINT ignored
            script = subprocess.Popen(["bash", "-c", f"bash scripts/ui.sh & echo $! > {tmp_path}/ui.pid; wait"], cwd=REPO, env=env,
                                      stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            stopper, sig = None, signal.SIGTERM
        try:
            deadline = time.monotonic() + 240
            while "== ready" not in out_path.read_text():
                assert script.poll() is None and time.monotonic() < deadline, out_path.read_text()
                time.sleep(1)
            text = out_path.read_text()
            log = Path(re.search(r"its log \(.*?\): (\S+)", text).group(1))
            assert log == local_stack.home / "ui.log" and "Serving dagster-webserver" in log.read_text()
            assert "dagster.daemon" not in text  # the events stay in the log file
            [dg_pid] = [int(p) for p in subprocess.run(["pgrep", "-f", f"dg dev -h 127.0.0.1 -p {port}"],
                                                      capture_output=True, text=True).stdout.split()]
            assert len(session_pids(dg_pid)) >= 3  # dg dev, webserver, daemon (and the code server)
            target = stopper.pid if stopper else int((tmp_path / "ui.pid").read_text())
            os.kill(target, sig)
            deadline = time.monotonic() + 60
            while session_pids(dg_pid) and time.monotonic() < deadline:
                time.sleep(1)
            assert session_pids(dg_pid) == [], "the UI's processes outlived the signal"
            script.wait(timeout=30)
            assert "== UI stopped" in out_path.read_text()
        finally:
            if dg_pid and session_pids(dg_pid):
                os.killpg(dg_pid, signal.SIGKILL)
            if script.poll() is None:
                os.killpg(script.pid, signal.SIGKILL)
