"""The local stack with real processes: Postgres over TCP, fake-gcs-server, bqemulator, the CLI.

Uses the session fixture ``local_stack`` (taxi_assets_tests/stack_fixture.py, imported by conftest).
The down/up test runs last and leaves the stack up with the same ports and password.
"""

from __future__ import annotations

import datetime as dt
import glob
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery, storage

from taxi_assets.localstack import Stack
from taxi_assets.localstack.stack import PROJECT_ROOT

pytestmark = pytest.mark.timeout(120)


def _bq() -> bigquery.Client:
    return bigquery.Client(
        project=os.environ["TAXI_BQ_PROJECT"],
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": os.environ["BIGQUERY_EMULATOR_HOST"]},
    )


def _gcs() -> storage.Client:
    # STORAGE_EMULATOR_HOST is set: the client picks the emulator and anonymous credentials itself.
    return storage.Client(project=os.environ["TAXI_GCP_PROJECT"])


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    run_env = {**os.environ, **(env or {})}
    run_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), run_env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "taxi_assets.localstack.cli", *args],
        capture_output=True, text=True, env=run_env, cwd=PROJECT_ROOT, timeout=60,
    )


def _pids(stack: Stack) -> dict[str, int | None]:
    return {row["name"]: row["pid"] for row in stack.status()}


def test_up_is_idempotent(local_stack: Stack) -> None:
    before = _pids(local_stack)
    assert all(before.values()), local_stack.status()
    started = time.monotonic()
    local_stack.up()
    assert time.monotonic() - started < 5
    assert _pids(local_stack) == before
    state = local_stack.state_file
    assert state.stat().st_mode & 0o777 == 0o600
    assert (Path(os.environ["DAGSTER_HOME"]) / "dagster.yaml").read_text() == (PROJECT_ROOT / "dagster.yaml").read_text()


def test_postgres_over_tcp_only(local_stack: Stack) -> None:
    url = os.environ["TAXI_POSTGRES_URL"]
    assert "@127.0.0.1:" in url
    with psycopg.connect(url) as conn:
        dbs = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
        assert {"taxi", "dagster"} <= dbs
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"
        assert conn.execute("SHOW unix_socket_directories").fetchone()[0] == ""
        assert conn.execute("SHOW fsync").fetchone()[0] == "on"
    # the Dagster URL points at the other database of the same server
    dagster_url = os.environ["TAXI_DAGSTER_PG_URL"].replace("postgresql+psycopg2://", "postgresql://")
    with psycopg.connect(dagster_url) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == "dagster"
    # a password is required
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url.replace(url.split("//")[1].split("@")[0], "taxi"), connect_timeout=5).close()
    # no Unix socket anywhere, and TCP on 127.0.0.1 only
    port = url.rsplit(":", 1)[1].split("/")[0]
    sockets = [p for d in ("/tmp", "/var/run/postgresql", str(local_stack.pg_data)) for p in glob.glob(f"{d}/.s.PGSQL.{port}*")]
    assert sockets == []
    listening = [c.laddr for c in psutil.Process(_pids(local_stack)["postgres"]).net_connections("all")
                 if c.status == psutil.CONN_LISTEN]
    assert listening and {a.ip for a in listening} == {"127.0.0.1"}


def test_gcs_roundtrip(local_stack: Stack) -> None:
    bucket = _gcs().bucket(os.environ["TAXI_GCS_BUCKET"])
    blob = bucket.blob("tests/hello.txt")
    blob.upload_from_string(b"hello lake")
    assert bucket.blob("tests/hello.txt").download_as_bytes() == b"hello lake"
    # filesystem backend: objects are plain files, which is what bqemulator reads for gs:// URIs
    assert (local_stack.gcs_root / "taxi-lake" / "tests" / "hello.txt").read_bytes() == b"hello lake"


def test_bigquery_query_and_loads(local_stack: Stack) -> None:
    client = _bq()
    dataset = f"{os.environ['TAXI_BQ_PROJECT']}.{os.environ['TAXI_BQ_DATASET']}"
    client.get_dataset(dataset)
    assert [tuple(r.values()) for r in client.query("SELECT 1 AS one").result()] == [(1,)]

    # load job from gs:// (a parquet written through the GCS emulator)
    buf = io.BytesIO()
    pq.write_table(pa.table({"id": pa.array([1, 2, 3], pa.int64()), "name": ["a", "b", "c"]}), buf)
    _gcs().bucket(os.environ["TAXI_GCS_BUCKET"]).blob("tests/tiny.parquet").upload_from_string(
        buf.getvalue(), content_type="application/octet-stream")
    schema = [bigquery.SchemaField("id", "INT64"), bigquery.SchemaField("name", "STRING")]
    client.load_table_from_uri(
        "gs://taxi-lake/tests/tiny.parquet", f"{dataset}.tiny",
        job_config=bigquery.LoadJobConfig(source_format=bigquery.SourceFormat.PARQUET, schema=schema),
    ).result(timeout=60)
    assert list(client.query(f"SELECT COUNT(*) FROM `{dataset}.tiny`").result())[0][0] == 3

    # load from a local file (google-cloud-bigquery sends the media part as */*)
    client.load_table_from_file(
        io.BytesIO(b"id,name\n7,x\n8,y\n"), f"{dataset}.from_file",
        job_config=bigquery.LoadJobConfig(source_format=bigquery.SourceFormat.CSV, skip_leading_rows=1, schema=schema),
    ).result(timeout=60)
    assert list(client.query(f"SELECT SUM(id) FROM `{dataset}.from_file`").result())[0][0] == 15


def test_bigquery_loads_copy_no_snapshot(local_stack: Stack) -> None:
    """bqemulator_launcher's third patch: a load job no longer copies the whole table into a
    time-travel snapshot. So time travel finds no snapshot and reads the live table; without the
    patch, the query below reads the 3-row copy made by the first load."""
    client = _bq()
    table = f"{os.environ['TAXI_BQ_PROJECT']}.{os.environ['TAXI_BQ_DATASET']}.no_snapshots"
    bucket = _gcs().bucket(os.environ["TAXI_GCS_BUCKET"])
    schema = [bigquery.SchemaField("id", "INT64")]
    for n, ids in enumerate(([1, 2, 3], [4])):
        buf = io.BytesIO()
        pq.write_table(pa.table({"id": pa.array(ids, pa.int64())}), buf)
        bucket.blob(f"tests/no_snapshots_{n}.parquet").upload_from_string(buf.getvalue())
        client.load_table_from_uri(
            f"gs://{bucket.name}/tests/no_snapshots_{n}.parquet", table,
            job_config=bigquery.LoadJobConfig(source_format=bigquery.SourceFormat.PARQUET, schema=schema),
        ).result(timeout=60)
        if n == 0:
            time.sleep(1.0)
            between = dt.datetime.now(dt.UTC)
            time.sleep(1.0)
    as_of = list(client.query(
        f"SELECT COUNT(*) FROM `{table}` FOR SYSTEM_TIME AS OF TIMESTAMP '{between:%Y-%m-%d %H:%M:%S.%f+00}'"
    ).result())[0][0]
    assert as_of == 4  # the live table: no snapshot of the 3 rows was taken
    assert list(client.query(f"SELECT COUNT(*) FROM `{table}`").result())[0][0] == 4


def test_cli_env_status(local_stack: Stack, tmp_path: Path) -> None:
    names = sorted(local_stack.env())
    script = 'eval "$(' + " ".join(
        [f"'{sys.executable}'", "-m", "taxi_assets.localstack.cli", "env"]) + ')" && env -0'
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    for name in names:
        env.pop(name, None)
    env["TAXI_STACK_HOME"] = str(local_stack.home)
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT,
                         check=True, timeout=60).stdout
    got = dict(item.split("=", 1) for item in out.split("\0") if "=" in item)
    assert {n: got.get(n) for n in names} == local_stack.env()
    assert local_stack.env()["TAXI_DATA_DIR"] == str(local_stack.home / "data")

    status = _cli("status", env={"TAXI_STACK_HOME": str(local_stack.home)})
    assert status.returncode == 0
    lines = status.stdout.splitlines()
    assert [ln.split()[:2] for ln in lines] == [[c, "running"] for c in ("postgres", "gcs", "bigquery")]
    assert local_stack.env()["TAXI_POSTGRES_URL"].split(":")[2].split("@")[0] not in status.stdout

    never = _cli("env", env={"TAXI_STACK_HOME": str(tmp_path / "never")})
    assert never.returncode == 1 and never.stdout == "" and "never started" in never.stderr


def test_up_restarts_a_dead_component(local_stack: Stack) -> None:
    before = _pids(local_stack)
    os.kill(before["gcs"], signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _pids(local_stack)["gcs"]:
        time.sleep(0.05)
    assert _pids(local_stack)["gcs"] is None
    local_stack.up()
    after = _pids(local_stack)
    assert after["gcs"] and after["gcs"] != before["gcs"]
    assert {k: v for k, v in after.items() if k != "gcs"} == {k: v for k, v in before.items() if k != "gcs"}
    assert local_stack.env() == {k: os.environ[k] for k in local_stack.env()}
    assert _gcs().bucket("taxi-lake").blob("tests/hello.txt").download_as_bytes() == b"hello lake"


def test_down_keeps_data(local_stack: Stack) -> None:
    with psycopg.connect(os.environ["TAXI_POSTGRES_URL"]) as conn:
        conn.execute("CREATE TABLE kept (x int)")
        conn.execute("INSERT INTO kept VALUES (42)")
    dataset = f"{os.environ['TAXI_BQ_PROJECT']}.{os.environ['TAXI_BQ_DATASET']}"
    _bq().query(f"CREATE TABLE `{dataset}`.kept AS SELECT 42 AS x").result()
    env_before = local_stack.env()
    pids = _pids(local_stack)

    local_stack.down()
    assert all(not r["running"] and r["pid"] is None for r in local_stack.status())
    for pid in pids.values():
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE

    local_stack.up()
    assert local_stack.env() == env_before  # same ports and password: the session's env stays valid
    assert set(_pids(local_stack).values()).isdisjoint(pids.values())
    with psycopg.connect(os.environ["TAXI_POSTGRES_URL"]) as conn:
        assert conn.execute("SELECT x FROM kept").fetchone()[0] == 42
    assert list(_bq().query(f"SELECT x FROM `{dataset}.kept`").result())[0][0] == 42
    assert _gcs().bucket("taxi-lake").blob("tests/tiny.parquet").exists()


def test_a_process_just_started_is_not_taken_for_exited(tmp_path):
    """Right after the spawn, a big binary's command line can still be empty (exec in progress): the
    start-up wait asks whether the process is gone, not whether its command line names the marker."""
    from taxi_assets.localstack.stack import _proc_gone, _reap, _spawn_detached

    pid = _spawn_detached(["sleep", "30"], tmp_path / "sleep.log")
    assert not _proc_gone(pid)
    os.kill(pid, signal.SIGKILL)
    for _ in range(50):
        if _proc_gone(pid):
            break
        time.sleep(0.05)
    assert _proc_gone(pid)
    _reap(pid)
