"""deploy/helm/values.yaml and the Compose files. values.yaml names the image, code-server command and environment that the Compose
deployment runs, keeps secrets out, puts the files on GCS, turns run monitoring and run retries on
as deploy/compose/dagster.yaml does, and validates against the Dagster chart's values.schema.json."""

import ipaddress
import json
import os
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
VALUES = yaml.safe_load((REPO / "deploy" / "helm" / "values.yaml").read_text())
COMPOSE = yaml.safe_load((REPO / "deploy" / "compose" / "compose.yaml").read_text())
EMULATORS = yaml.safe_load((REPO / "deploy" / "compose" / "compose.emulators.yaml").read_text())
INSTANCE = yaml.safe_load((REPO / "deploy" / "compose" / "dagster.yaml").read_text())
[DEPLOYMENT] = VALUES["dagster-user-deployments"]["deployments"]


def _default(interpolated: str) -> str:
    """`${TAXI_IMAGE:-localhost/taxi-assets:0.2.0}` -> `localhost/taxi-assets:0.2.0`."""
    return interpolated.split(":-", 1)[1].rstrip("}") if interpolated.startswith("${") else interpolated


def test_the_chart_runs_the_compose_image_and_code_server_command():
    image = _default(COMPOSE["services"]["user-code"]["image"])
    name, tag = image.rsplit(":", 1)
    assert DEPLOYMENT["image"]["repository"].rsplit("/", 1)[1] == name.rsplit("/", 1)[1]
    assert DEPLOYMENT["image"]["tag"] == tag
    command = COMPOSE["services"]["user-code"]["command"]
    # the chart runs `dagster code-server start -h 0.0.0.0 -p <port>` and appends codeServerArgs
    assert command == ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", str(DEPLOYMENT["port"]),
                       *DEPLOYMENT["codeServerArgs"]]


def test_the_emulators_file_adds_services_and_variables_and_changes_nothing_else():
    """compose.emulators.yaml runs compose.yaml as it is: the Dagster services keep their image and
    command, Postgres keeps its contract, the emulators publish nothing, and real GCP is one file less."""
    services = EMULATORS["services"]
    placement = {"networks", "extra_hosts"}  # the fixed addresses (the file says why)
    for name in ("user-code", "webserver", "daemon"):
        assert set(services[name]) <= {"environment", "depends_on", *placement}, name
        env = services[name]["environment"]
        assert env["STORAGE_EMULATOR_HOST"] == "http://gcs:4443" and env["BIGQUERY_EMULATOR_HOST"] == "http://bigquery:9050"
    context = json.loads(services["user-code"]["environment"]["DAGSTER_CONTAINER_CONTEXT"])
    assert set(context["docker"]["env_vars"]) == {"STORAGE_EMULATOR_HOST", "BIGQUERY_EMULATOR_HOST"}  # each run too
    assert set(services["postgres"]) == {"image", "command", *placement}  # compose.yaml's variables, volumes, init script
    for name, service in services.items():
        assert "ports" not in service, name
        if name in ("gcs", "bigquery"):
            assert service["env_file"] == "${TAXI_ENV_FILE:-.env}", name
    assert any(v.startswith("gcs-data:/data/gcs") for v in services["bigquery"]["volumes"])  # load jobs read the lake
    assert "EMULATOR" not in (REPO / "deploy" / "compose" / "compose.yaml").read_text()
    # every service and run finds the others at the addresses they have, outside the dynamic range
    hosts = dict(h.split(":") for h in EMULATORS["x-hosts"])
    assert context["docker"]["container_kwargs"]["extra_hosts"] == hosts
    pinned = {name: s["networks"]["default"]["ipv4_address"] for name, s in services.items() if "networks" in s}
    assert pinned == hosts
    [ipam] = EMULATORS["networks"]["default"]["ipam"]["config"]
    subnet, dynamic = ipaddress.ip_network(ipam["subnet"]), ipaddress.ip_network(ipam["ip_range"])
    assert all(ipaddress.ip_address(ip) in subnet and ipaddress.ip_address(ip) not in dynamic for ip in hosts.values())
    assert all(s.get("extra_hosts") == EMULATORS["x-hosts"] for s in services.values())
    assert "EMULATOR" not in (REPO / "deploy" / "helm" / "values.yaml").read_text()


def test_the_stack_image_keeps_the_postgres_image_contract_compose_relies_on():
    postgres = COMPOSE["services"]["postgres"]
    [data] = [v.split(":")[1] for v in postgres["volumes"] if v.startswith("postgres-data:")]
    [init] = [v.split(":")[1] for v in postgres["volumes"] if v.startswith("./postgres-init.sql:")]
    dockerfile = (REPO / "deploy" / "compose" / "stack" / "Dockerfile").read_text()
    entry = (REPO / "deploy" / "compose" / "stack" / "service.sh").read_text()
    assert f"PGDATA={data}" in dockerfile and "USER stack" in dockerfile
    assert init.rsplit("/", 1)[0] + "/*.sql" in entry
    for var in postgres["environment"]:
        assert f"${{{var}" in entry, var
    assert "${POSTGRES_PASSWORD" in entry  # from the env file, as with the official image


def test_the_chart_gives_runs_the_environment_of_the_compose_runs_with_secrets_from_kubernetes():
    env = {e["name"]: e["value"] for e in DEPLOYMENT["env"]}
    run_env = set(INSTANCE["run_launcher"]["config"]["env_vars"])  # what each Compose run gets
    from_secrets = {"TAXI_POSTGRES_URL", "TAXI_DAGSTER_PG_URL"}  # in the taxi-assets-secrets Secret
    assert run_env == (set(env) - {"GOOGLE_APPLICATION_CREDENTIALS"}) | from_secrets
    assert not from_secrets & set(env)  # never in the values file
    assert {"name": "taxi-assets-secrets"} in DEPLOYMENT["envSecrets"]
    assert {"name": "taxi-assets-secrets"} in VALUES["runLauncher"]["config"]["k8sRunLauncher"]["envSecrets"]
    assert env["TAXI_DATA_DIR"].startswith("gs://")  # pods share no disk
    assert DEPLOYMENT["includeConfigInLaunchedRuns"]["enabled"] is True
    assert VALUES["generatePostgresqlPasswordSecret"] is False and "postgresqlPassword" not in VALUES["postgresql"]
    text = (REPO / "deploy" / "helm" / "values.yaml").read_text().lower()
    assert "password:" not in text and "private_key" not in text


def test_one_pod_per_run_sized_from_the_benchmark_with_monitoring_retries_and_the_month_limit():
    launcher = VALUES["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    requests = launcher["config"]["k8sRunLauncher"]["resources"]["requests"]
    # docs/BENCHMARKS.md: a run's peak RSS (whole process tree), flat in the month's size
    found = re.search(r"job peak RSS, whole process tree[^|]*\|\s*(\d+) MB", (REPO / "docs" / "BENCHMARKS.md").read_text())
    peak = int(found.group(1)) * 2**20
    assert peak < _bytes(requests["memory"]) < _bytes(launcher["config"]["k8sRunLauncher"]["resources"]["limits"]["memory"])
    daemon, instance = VALUES["dagsterDaemon"], VALUES["additionalInstanceConfig"]
    assert instance["run_retries"] == INSTANCE["run_retries"]  # the Compose deployment's, exactly
    assert instance["run_retries"]["retry_on_asset_or_op_failure"] is False and instance["run_retries"]["enabled"]
    assert instance["run_monitoring"]["enabled"] is True and INSTANCE["run_monitoring"]["enabled"] is True
    assert {"start_timeout_seconds", "cancel_timeout_seconds"} <= set(instance["run_monitoring"])
    assert daemon["runMonitoring"]["enabled"] is False and daemon["runRetries"]["enabled"] is False  # no second copy
    limits = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]["tagConcurrencyLimits"]
    assert limits == INSTANCE["concurrency"]["runs"]["tag_concurrency_limits"]


def _bytes(quantity: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    return int(quantity[:-2]) * units[quantity[-2:]] if quantity[-2:] in units else int(quantity)


def _schema_path() -> Path | None:
    path = Path(os.environ.get("TAXI_HELM_SCHEMA") or REPO / "deploy" / "helm" / "values.schema.json")
    return path if path.exists() else None


def _open_external_refs(node):
    """The chart's schema points Kubernetes types at kubernetesjsonschema.dev: offline, they are open objects."""
    if isinstance(node, dict):
        return {k: _open_external_refs(v) for k, v in node.items()
                if not (k == "$ref" and not str(v).startswith("#"))}
    if isinstance(node, list):
        return [_open_external_refs(v) for v in node]
    return node


def _without_required(node):
    """values.yaml is an override that helm merges over the chart's defaults: every key it sets is
    checked (types, enums, unknown keys), none is required to be there."""
    if isinstance(node, dict):
        return {k: _without_required(v) for k, v in node.items() if k != "required"}
    if isinstance(node, list):
        return [_without_required(v) for v in node]
    return node


@pytest.mark.skipif(_schema_path() is None, reason="no chart schema: run deploy/helm/get-schema.sh (needs internet) "
                    "or point TAXI_HELM_SCHEMA at the dagster chart 1.13.27's values.schema.json")
def test_the_values_validate_against_the_charts_schema():
    schema = _without_required(_open_external_refs(json.loads(_schema_path().read_text())))
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(VALUES), key=lambda e: list(e.path))
    assert not errors, [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors]
    broken = {**VALUES, "runLauncher": {"type": "DockerRunLauncher", "config": {}}}  # the check can fail
    assert list(validator.iter_errors(broken))


def test_compose_publishes_on_loopback_only_and_reads_secrets_from_an_uncommitted_env_file():
    for name, service in COMPOSE["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
        assert service["env_file"] == "${TAXI_ENV_FILE:-.env}", name  # secrets from the env file, not the compose file
    assert "deploy/compose/.env" in (REPO / ".gitignore").read_text().splitlines()
    assert (REPO / "deploy" / "compose" / ".env.example").exists()


def test_the_daemon_and_webserver_reach_the_docker_api_and_every_service_gets_the_instance():
    compose = COMPOSE
    for name in ("daemon", "webserver"):  # launch and terminate runs' containers
        service = compose["services"][name]
        assert service["environment"]["DOCKER_HOST"] == "unix:///var/run/docker.sock", name
        assert any(v.endswith(":/var/run/docker.sock") for v in service["volumes"]), name
    for name in ("daemon", "webserver", "user-code"):
        assert any(v.endswith(":/opt/dagster/dagster_home/dagster.yaml:ro") for v in compose["services"][name]["volumes"])
