"""The Compose deployment, really run: the image built with no registry (deploy/build-image.sh),
compose.yaml brought up with podman-compose as it is, plus compose.emulators.yaml (Postgres, the
GCS and BigQuery emulators as services, from the local stack's image deploy/compose/stack/) and the
test's own download site as a service; a three-month backfill launched through the webserver's
GraphQL API, each run in a container of its own (DockerRunLauncher against podman's Docker API
socket), every store read from inside the deployment; then one run's container killed mid-month:
run monitoring fails the run and run retries retry it to success, the month loaded exactly once.

Needs root, podman and debootstrap (scripts/test.sh installs them with apt-get as root); skipped
with the reason otherwise. About 5 minutes with the base image cached, 7 without.
"""

import datetime as dt
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests
import yaml

from taxi_assets_tests.helpers import expected_kept
from taxi_assets_tests.http_source import RemoteSource

REPO = Path(__file__).resolve().parents[1]
COMPOSE_DIR = REPO / "deploy" / "compose"
IMAGE = "localhost/taxi-assets:test"
STACK_IMAGE = "localhost/taxi-assets-stack:test"
SOURCE_IP = "10.89.77.20"  # the download site's service (the emulators' fixed addresses: 10.89.77.10-13)
MONTHS = ["2021-01-01", "2021-02-01", "2021-03-01"]
PODMAN_COMPOSE = Path(sys.executable).parent / "podman-compose"
CONTAINERS_CONF = REPO / "deploy" / "podman" / "containers.conf"


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (podman with the settings of deploy/podman/containers.conf)"
    for tool in ("podman", "debootstrap"):
        if shutil.which(tool) is None:
            return f"needs {tool} (apt-get install podman debootstrap runc; scripts/bootstrap.sh does it as root)"
    if not PODMAN_COMPOSE.exists():
        return "needs podman-compose (the dev extra)"
    return None


pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(_missing() is not None, reason=_missing() or ""),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd, log: Path, env=None, timeout=600) -> str:
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    with open(log, "a") as f:
        f.write(f"$ {' '.join(map(str, cmd))}\n{out.stdout}\n{out.stderr}\n")
    assert out.returncode == 0, f"{cmd[:3]} failed, see {log}:\n{out.stderr[-2000:]}"
    return out.stdout


class Deployment:
    def __init__(self, url: str, env: dict[str, str], log: Path):
        self.url, self.env, self.log = url, env, log

    def graphql(self, query: str, **variables) -> dict:
        r = requests.post(f"{self.url}/graphql", json={"query": query, "variables": variables}, timeout=30)
        r.raise_for_status()
        body = r.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def runs(self, tag_key: str, tag_value: str) -> list[dict]:
        data = self.graphql(
            """query($tags: [ExecutionTag!]) { runsOrError(filter: {tags: $tags}) { ... on Runs {
                 results { runId status tags { key value } } } } }""",
            tags=[{"key": tag_key, "value": tag_value}],
        )
        return [{**r, "tags": {t["key"]: t["value"] for t in r["tags"]}} for r in data["runsOrError"]["results"]]

    def wait_runs(self, tag_key: str, tag_value: str, done, seconds: float) -> list[dict]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            runs = self.runs(tag_key, tag_value)
            if done(runs):
                return runs
            time.sleep(3)
        raise AssertionError(f"runs tagged {tag_key}={tag_value} not done in {seconds:.0f} s: {runs}; logs in {self.log}")

    def errors(self, runs: list[dict]) -> str:
        """The error messages of the runs that did not succeed, for assertion messages."""
        out = []
        for run in runs:
            if run["status"] == "SUCCESS":
                continue
            data = self.graphql(
                """query($id: ID!) { runOrError(runId: $id) { ... on Run { eventConnection { events {
                     __typename ... on MessageEvent { message } ... on ErrorEvent { error { message } } } } } } }""",
                id=run["runId"],
            )
            events = data["runOrError"]["eventConnection"]["events"]
            out += [f"{run['runId'][:8]} {run['status']}: {(e.get('error') or {}).get('message') or e.get('message')}"
                    for e in events if "FAIL" in e["__typename"].upper() or e.get("error")]
        return "\n".join(out)[-4000:]

    def podman(self, *args: str) -> str:
        return _run(["podman", *args], self.log, env=self.env)


@pytest.fixture(scope="module")
def deployment(sample_site, tmp_path_factory):
    work = tmp_path_factory.mktemp("deployment")  # the socket, the env file (secrets), the test's override
    logs = REPO / "test-artifacts" / "deployment"  # the build, compose, services' and runs' logs
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    log = logs / "deployment.log"
    env = {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}
    t0 = time.monotonic()
    _run(["bash", str(REPO / "deploy" / "build-image.sh"), IMAGE], log, env={**env, "PYTHON": sys.executable}, timeout=900)
    _run(["bash", str(COMPOSE_DIR / "stack" / "build.sh"), STACK_IMAGE], log, env={**env, "PYTHON": sys.executable}, timeout=900)
    print(f"images built in {time.monotonic() - t0:.0f} s")

    # podman's Docker-compatible API, for the daemon's DockerRunLauncher
    sock = work / "podman.sock"
    service = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{sock}"], env=env,
                               stdout=open(logs / "podman-service.log", "wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not sock.exists():
        assert time.monotonic() < deadline and service.poll() is None, "podman system service did not start"
        time.sleep(0.5)
    sock.chmod(0o660)  # root's group: the daemon's container (a non-root user) joins it (group_add)

    # the download site as a service of the deployment's network: the sample files, readable by the
    # stack image's non-root user, served by http_source.py (its faults scripted from here)
    site = Path(tempfile.mkdtemp(prefix="taxi-site-"))
    shutil.copytree(sample_site, site, dirs_exist_ok=True)
    for p in [site, *site.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    password = secrets.token_urlsafe(18)
    values = {
        "POSTGRES_PASSWORD": password,
        "TAXI_POSTGRES_URL": f"postgresql://taxi:{password}@postgres:5432/taxi",
        "TAXI_DAGSTER_PG_URL": f"postgresql+psycopg2://taxi:{password}@postgres:5432/dagster",
        "TAXI_DATA_DIR": "gs://taxi-lake/files",
        "TAXI_GCS_BUCKET": "taxi-lake",
        "TAXI_GCP_PROJECT": "taxi-local",
        "TAXI_BQ_PROJECT": "taxi-local",
        "TAXI_BQ_DATASET": "nyc_taxi",
        "TAXI_BQ_LOCATION": "US",
        "TAXI_SOURCE_URL": "http://source:8080/{taxi}/{taxi}_tripdata_{year}-{month}.csv.gz",
        "TAXI_ZONES_URL": "http://source:8080/misc/taxi_zone_lookup.csv",
    }
    env_file = work / "taxi.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    env_file.chmod(0o600)
    ui_port, source_port = _free_port(), _free_port()
    # the test's own service, at a fixed address as the emulators' (compose.emulators.yaml says why);
    # each run gets its two variables and its address beside the emulators'
    emulators = yaml.safe_load((COMPOSE_DIR / "compose.emulators.yaml").read_text())["services"]
    context = json.loads(emulators["user-code"]["environment"]["DAGSTER_CONTAINER_CONTEXT"])
    context["docker"]["env_vars"] += ["TAXI_SOURCE_URL", "TAXI_ZONES_URL"]
    context["docker"]["container_kwargs"]["extra_hosts"]["source"] = SOURCE_IP
    override = work / "compose.test.yaml"
    override.write_text(json.dumps({
        "services": {
            "source": {"image": STACK_IMAGE, "entrypoint": ["python3", "/srv/http_source.py", "/site", "8080"],
                       "volumes": [f"{site}:/site:ro", f"{REPO / 'taxi_assets_tests' / 'http_source.py'}:/srv/http_source.py:ro"],
                       "ports": [f"127.0.0.1:{source_port}:8080"],
                       "networks": {"default": {"ipv4_address": SOURCE_IP}}},
            "user-code": {"environment": {"DAGSTER_CONTAINER_CONTEXT": json.dumps(context)}},
        },
    }))
    compose_env = {**env, "TAXI_IMAGE": IMAGE, "TAXI_STACK_IMAGE": STACK_IMAGE, "TAXI_ENV_FILE": str(env_file),
                   "TAXI_UI_PORT": str(ui_port), "DOCKER_SOCKET": str(sock)}
    project = f"taxi-{uuid.uuid4().hex[:8]}"
    compose = [str(PODMAN_COMPOSE), "-p", project, "-f", str(COMPOSE_DIR / "compose.yaml"),
               "-f", str(COMPOSE_DIR / "compose.emulators.yaml"), "-f", str(override)]
    dep = Deployment(f"http://127.0.0.1:{ui_port}", env, log)
    source = RemoteSource(f"http://127.0.0.1:{source_port}")
    try:
        _run([*compose, "up", "-d"], log, env=compose_env)
        deadline = time.monotonic() + 240
        while True:
            try:
                data = dep.graphql("{ workspaceOrError { ... on Workspace { locationEntries { name "
                                   "locationOrLoadError { __typename } } } } }")
                entries = data["workspaceOrError"]["locationEntries"]
                if entries and entries[0]["locationOrLoadError"]["__typename"] == "RepositoryLocation":
                    break
            except (requests.ConnectionError, AssertionError, KeyError):
                pass
            assert time.monotonic() < deadline, f"the deployment did not come up; see {log}"
            time.sleep(3)
        dep.values, dep.source, dep.project = values, source, project
        yield dep
    finally:
        try:
            source.release()
        except OSError:
            pass
        runs = subprocess.run(["podman", "ps", "-aq", "--filter", f"ancestor={IMAGE}", "--filter", "label=dagster/run_id"],
                              env=env, capture_output=True, text=True)
        for container in runs.stdout.split():  # the runs' containers: their logs, then away (they hold the network)
            subprocess.run(["podman", "logs", container], env=env, stdout=open(logs / f"run-{container[:12]}.log", "wb"),
                           stderr=subprocess.STDOUT)
            subprocess.run(["podman", "rm", "-f", container], env=env, capture_output=True)
        for name in ("webserver", "daemon", "user-code", "postgres", "gcs", "bigquery", "source"):
            subprocess.run(["podman", "logs", f"{project}_{name}_1"], env=env, stdout=open(logs / f"{name}.log", "wb"),
                           stderr=subprocess.STDOUT)
        subprocess.run([*compose, "down", "-v"], env=compose_env, capture_output=True, timeout=300)
        service.terminate()
        service.wait(30)
        shutil.rmtree(site, ignore_errors=True)


def test_the_image_is_production_only_non_root_and_its_definitions_validate(deployment):
    out = deployment.podman(
        "run", "--rm", IMAGE, "sh", "-c",
        "id -u; dagster definitions validate -m taxi_assets.definitions >/dev/null 2>&1 && echo valid; "
        "python -c \"import importlib.util as u; print([m for m in ('pytest', 'pgserver', 'psutil', 'playwright', "
        "'taxi_assets_tests', 'benchmarks', 'podman_compose') if u.find_spec(m)])\"; "
        "find / -xdev \\( -name 'test_*.py' -path '*taxi*' \\) -print 2>/dev/null | head -3",
    ).split()
    uid, valid, found = out[0], out[1], out[2:]
    assert uid != "0" and valid == "valid"
    assert found == ["[]"]  # no test tools, no local-stack packages, no test files of ours


COUNT_SCRIPT = """
import datetime as dt, json, os, sys
from taxi_assets import report
from taxi_assets.core.config import load_settings
from taxi_assets.core.stores.from_settings import open_stores
from taxi_assets.core.tables import CLEANED_PARQUET, RAW_FILE
settings = load_settings(os.environ)
out = {m: report.store_counts("green", dt.date.fromisoformat(m), settings) for m in sys.argv[1:]}
with open_stores(settings) as stores:
    for m in sys.argv[1:]:
        out[m]["files"] = [stores.file_store.where(("green", key), m) for key in (RAW_FILE, CLEANED_PARQUET)]
print(json.dumps(out, default=str))
"""


def _store_counts(dep, months: list[str]) -> dict[str, dict]:
    """Each month's (where, rows) per store, and where its raw and cleaned files are, read inside the
    deployment (its user-code container): the stores are the deployment's own services."""
    out = dep.podman("exec", f"{dep.project}_user-code_1", "python", "-c", COUNT_SCRIPT, *months)
    return json.loads(out.strip().splitlines()[-1])


def test_a_backfill_runs_each_month_in_its_own_container_and_a_killed_run_is_retried(deployment, sample_site):
    dep, values, source = deployment, deployment.values, deployment.source
    t0 = time.monotonic()
    launched = dep.graphql(
        """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
             __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
        params={
            "selector": {"partitionSetName": "green_taxi_job_partition_set",
                         "repositorySelector": {"repositoryLocationName": "taxi_assets", "repositoryName": "__repository__"}},
            "partitionNames": MONTHS,
        },
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    runs = dep.wait_runs("dagster/backfill", launched["backfillId"],  # every month done, or a failure (stop early)
                         lambda rs: sum(r["status"] == "SUCCESS" for r in rs) == 3
                         or any(r["status"] in ("FAILURE", "CANCELED") for r in rs), 480)
    assert sorted(r["tags"]["dagster/partition"] for r in runs) == MONTHS
    assert [r["status"] for r in runs] == ["SUCCESS"] * 3, dep.errors(runs)
    containers = {r["tags"]["docker/container_id"] for r in runs}  # set by the DockerRunLauncher
    assert len(containers) == 3
    for run in runs:  # each run's container ran that run, from the image
        [info] = json.loads(dep.podman("inspect", run["tags"]["docker/container_id"]))
        assert info["Config"]["Labels"]["dagster/run_id"] == run["runId"] and info["State"]["ExitCode"] == 0
        assert info["ImageName"] == IMAGE or IMAGE in info["Config"]["Image"]
    backfill_seconds = time.monotonic() - t0

    expected = {}
    stores = _store_counts(dep, MONTHS)
    for key in MONTHS:
        month = dt.date.fromisoformat(key)
        rows_in, dropped = expected_kept(sample_site / "green" / f"green_tripdata_{month:%Y-%m}.csv.gz", True)
        expected[key] = rows_in - dropped
        raw, cleaned = stores[key].pop("files")
        counts = {store: rows for store, (_, rows) in stores[key].items()}
        assert set(counts) >= {"postgres", "gcs", "bigquery"}, counts
        assert counts == dict.fromkeys(counts, expected[key]), (key, counts)
        # both files are objects in the bucket (runs share no disk), found by month
        assert raw.startswith(values["TAXI_DATA_DIR"] + f"/green/raw_file/{key}."), raw
        assert cleaned.startswith(values["TAXI_DATA_DIR"] + f"/green/cleaned_parquet/{key}."), cleaned

    # one run of 2021-02 again, its container killed while it downloads (mid-month)
    path = "/green/green_tripdata_2021-02.csv.gz"
    gets = source.count(path)
    source.script(path, ["stall"])
    tag = f"kill-{uuid.uuid4().hex[:6]}"
    launched = dep.graphql(
        """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename
             ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }""",
        params={"selector": {"repositoryLocationName": "taxi_assets", "repositoryName": "__repository__",
                             "jobName": "green_taxi_job"},
                "executionMetadata": {"tags": [{"key": "dagster/partition", "value": "2021-02-01"},
                                               {"key": "test", "value": tag}]}},
    )["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    first_id = launched["run"]["runId"]
    deadline = time.monotonic() + 180
    while source.count(path) == gets:  # the run's container is in the middle of the download
        assert time.monotonic() < deadline, f"the run never reached the download; see {dep.log}"
        time.sleep(1)
    [first] = [r for r in dep.runs("test", tag) if r["runId"] == first_id]
    dep.podman("kill", first["tags"]["docker/container_id"])
    t_kill = time.monotonic()
    runs = dep.wait_runs("test", tag, lambda rs: any(r["status"] == "SUCCESS" for r in rs)
                         and all(r["status"] in ("SUCCESS", "FAILURE") for r in rs), 300)
    by_id = {r["runId"]: r for r in runs}
    assert by_id[first_id]["status"] == "FAILURE"  # detected by run monitoring (the container exited)
    [retry] = [r for r in runs if r["runId"] != first_id]
    assert retry["status"] == "SUCCESS" and retry["tags"]["dagster/parent_run_id"] == first_id
    assert retry["tags"]["docker/container_id"] != first["tags"]["docker/container_id"]
    print(f"backfill of 3 months {backfill_seconds:.0f} s; killed run retried to success in {time.monotonic() - t_kill:.0f} s")
    source.release()
    counts = {store: rows for store, (_, rows) in _store_counts(dep, ["2021-02-01"])["2021-02-01"].items() if store != "files"}
    assert counts == dict.fromkeys(counts, expected["2021-02-01"]), counts  # exactly once in every store
