"""A newcomer's error paths (issue 14), through the real commands as a user types them: a bad or
out-of-range month, the shell not configured, the stack down, `taxi-stack env` with nothing running,
a bad `--month`. Each fails in one or two lines that say what to do, and no Python traceback reaches
the terminal. No server runs here: "the stack down" is a loopback port nothing listens on."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CONFIGURED = {"TAXI_GCS_BUCKET": "taxi-lake", "TAXI_BQ_PROJECT": "taxi-local", "TAXI_BQ_DATASET": "nyc_taxi"}


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a fresh shell: nothing of the stack's (no TAXI_*, DAGSTER_HOME, emulators)."""
    drop = ("TAXI_", "DAGSTER_HOME", "STORAGE_EMULATOR_HOST", "BIGQUERY_EMULATOR_HOST")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {**env, **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def assert_short(out: subprocess.CompletedProcess[str], first_line: str, max_lines: int = 2) -> str:
    text = (out.stdout + out.stderr).strip()
    assert out.returncode != 0, text
    assert "Traceback" not in text and 'File "' not in text, text
    lines = text.splitlines()
    assert len(lines) <= max_lines, text
    assert lines[0].startswith(first_line), text
    return text


@pytest.fixture
def dagster_home(tmp_path) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    return home


def taxi_run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run([str(BIN / "taxi-run"), *args], env)


@pytest.mark.parametrize("month", ["2021-02-15", "2021-13", "Feb-2021"])
def test_a_bad_month_is_refused_before_anything_runs(month, dagster_home):
    out = taxi_run("yellow", month, env=clean_env(DAGSTER_HOME=str(dagster_home)))
    text = assert_short(out, f"taxi-run: '{month}' is not a month: write it as YYYY-MM")
    assert "STEP_START" not in text and list(dagster_home.iterdir()) == []  # no run, no instance touched


@pytest.mark.parametrize("month", ["2018-12", "2030-01-01"])
def test_a_month_outside_the_partitions_names_the_range(month, dagster_home):
    from taxi_assets.definitions import defs

    keys = defs.resolve_job_def("yellow_taxi_job").partitions_def.get_partition_keys()
    out = taxi_run("yellow", month, env=clean_env(DAGSTER_HOME=str(dagster_home)))
    key = month if len(month) == 10 else month + "-01"
    assert_short(out, f"taxi-run: yellow_taxi_job has no partition {key}: its months are {keys[0]} .. {keys[-1]}")
    assert list(dagster_home.iterdir()) == []


def test_dg_launch_refuses_an_unknown_partition_before_a_run_exists(dagster_home):
    """Dagster's own validation (`validate_partition_key`) refuses it too, but with a traceback:
    the reason taxi-run checks first (what the README says)."""
    out = run([str(BIN / "dg"), "launch", "--job", "yellow_taxi_job", "--partition", "2021-02"],
              clean_env(DAGSTER_HOME=str(dagster_home), **CONFIGURED, TAXI_POSTGRES_URL="postgresql://x@127.0.0.1:9/x"))
    assert out.returncode != 0 and "Could not find a partition with key `2021-02`" in out.stderr
    assert "STEP_START" not in out.stderr + out.stdout


def test_an_unconfigured_shell_is_told_to_eval_taxi_stack_env():
    out = taxi_run("yellow", "2021-01", env=clean_env())
    text = assert_short(out, "taxi-run: the shell is not configured (TAXI_POSTGRES_URL, ")
    assert 'run `eval "$(taxi-stack env)"`' in text


def test_a_stack_that_is_down_is_told_to_start_it(dagster_home):
    port = free_port()
    env = clean_env(DAGSTER_HOME=str(dagster_home), **CONFIGURED, TAXI_POSTGRES_URL=f"postgresql://taxi:pw@127.0.0.1:{port}/taxi")
    text = assert_short(taxi_run("yellow", "2021-01", env=env), f"taxi-run: nothing answers (Postgres at 127.0.0.1:{port})")
    assert "start it with `taxi-stack up`" in text and "pw@" not in text


def test_report_an_unconfigured_shell_and_a_stack_that_is_down():
    report = [sys.executable, "-m", "taxi_assets.report", "--taxi", "yellow", "--month", "2021-01"]
    text = assert_short(run(report, clean_env()), "report: the shell is not configured")
    assert 'eval "$(taxi-stack env)"' in text
    port = free_port()
    env = clean_env(**CONFIGURED, TAXI_POSTGRES_URL=f"postgresql://taxi:pw@127.0.0.1:{port}/taxi",
                    STORAGE_EMULATOR_HOST=f"http://127.0.0.1:{port}")
    text = assert_short(run(report, env), "report: nothing answers (Postgres at 127.0.0.1")
    assert "the GCS emulator at" in text and "start it with `taxi-stack up`" in text


@pytest.mark.parametrize("month", ["2021-1", "2021-01-15", "January"])
def test_report_a_bad_month_is_one_line(month):
    out = run([sys.executable, "-m", "taxi_assets.report", "--month", month], clean_env())
    assert_short(out, f"report: --month '{month}': expected a month as YYYY-MM, e.g. 2021-01", max_lines=1)


def test_taxi_stack_env_fails_when_the_stack_is_not_running(tmp_path):
    home = tmp_path / "stack"
    home.mkdir()
    state = {"postgres": {"password": "pw", "port": free_port()}, "gcs": {"port": free_port(), "pid": None},
             "bigquery": {"rest_port": free_port(), "grpc_port": free_port(), "pid": None}}
    (home / "state.json").write_text(json.dumps(state))
    out = run([str(BIN / "taxi-stack"), "env"], clean_env(TAXI_STACK_HOME=str(home)))
    text = assert_short(out, f"taxi-stack: the local stack in {home} is not running (postgres, gcs, bigquery stopped)")
    assert "start it with `taxi-stack up`" in text and "export" not in out.stdout
    never = tmp_path / "never"
    assert_short(run([str(BIN / "taxi-stack"), "env"], clean_env(TAXI_STACK_HOME=str(never))),
                 f"taxi-stack: the local stack in {never} was never started (run `taxi-stack up`)")


def test_a_range_is_checked_at_both_ends_before_anything_runs(dagster_home):
    env = clean_env(DAGSTER_HOME=str(dagster_home))
    assert_short(taxi_run("yellow", "2021-03..2021-01", env=env), "taxi-run: 2021-03-01..2021-01-01: the first month comes after the last")
    assert_short(taxi_run("yellow", "2021-01..2030-01", env=env), "taxi-run: yellow_taxi_job has no partition 2030-01-01")
    assert list(dagster_home.iterdir()) == []


def test_taxi_stack_down_purge_starts_over_and_spares_other_folders(tmp_path):
    home = tmp_path / "stack"
    (home / "data").mkdir(parents=True)
    (home / "state.json").write_text("{}")
    out = run([str(BIN / "taxi-stack"), "down", "--purge"], clean_env(TAXI_STACK_HOME=str(home)))
    assert out.returncode == 0 and not home.exists(), out.stderr
    other = tmp_path / "not-a-stack"
    (other / "keep").mkdir(parents=True)
    out = run([str(BIN / "taxi-stack"), "down", "--purge"], clean_env(TAXI_STACK_HOME=str(other)))
    assert_short(out, f"taxi-stack: error: {other} has no state.json: not a stack folder, not deleting it")
    assert (other / "keep").is_dir()
