"""Shared fixtures: the real local stack (Postgres, GCS and BigQuery emulators), a sample
download site served over real HTTP, and per-test isolated names in every store.

Two tiers: every test that uses the `local_stack` fixture (directly or through `pipeline_env`)
gets the `stack` marker here, so `pytest -m "not stack"` runs the fast tier with no server."""

import datetime as dt
import uuid

import pytest

from taxi_assets.localstack import sample
from taxi_assets.core.taxi_types import TAXI_TYPES
from taxi_assets_tests.http_source import SourceServer
from taxi_assets_tests.stack_fixture import local_stack  # noqa: F401  (session fixture)

SAMPLE_MONTHS = [dt.date(2021, 1, 1), dt.date(2021, 2, 1), dt.date(2021, 3, 1)]
SAMPLE_ROWS = 4_000


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory):
    """A folder laid out like the DataTalksClub releases: {taxi}/{taxi}_tripdata_YYYY-MM.csv.gz."""
    root = tmp_path_factory.mktemp("site")
    for taxi in TAXI_TYPES:
        for month in SAMPLE_MONTHS:
            sample.write_month(root, taxi, month, rows=SAMPLE_ROWS)
    sample.write_zones(root)
    return root


@pytest.fixture(scope="session")
def source_server(sample_site):
    with SourceServer(sample_site) as server:
        yield server


@pytest.fixture(autouse=True)
def file_sources_under_the_test_folders(tmp_path_factory, monkeypatch):
    """file:// sources may read the tests' own folders only (TAXI_SOURCE_FILE_ROOT)."""
    monkeypatch.setenv("TAXI_SOURCE_FILE_ROOT", str(tmp_path_factory.getbasetemp()))


@pytest.fixture
def pipeline_env(local_stack, source_server, tmp_path, monkeypatch, request):  # noqa: F811
    """Environment for one test: its own Postgres schema, GCS prefix, BigQuery dataset, data dir.

    The data dir is a local folder; `@pytest.mark.parametrize("pipeline_env", ["gcs"], indirect=True)`
    puts it in the GCS emulator instead (`gs://<bucket>/<test prefix>/data`)."""
    suffix = uuid.uuid4().hex[:8]
    where = getattr(request, "param", "local")
    assert where in ("local", "gcs"), where
    data_dir = f"gs://{local_stack.env()['TAXI_GCS_BUCKET']}/t_{suffix}/data" if where == "gcs" else str(tmp_path / "data")
    env = {
        "TAXI_SOURCE_URL": source_server.url + "/{taxi}/{taxi}_tripdata_{year}-{month}.csv.gz",
        "TAXI_ZONES_URL": source_server.url + "/misc/taxi_zone_lookup.csv",
        "TAXI_DATA_DIR": data_dir,
        "TAXI_POSTGRES_SCHEMA": f"t_{suffix}",
        "TAXI_GCS_PREFIX": f"t_{suffix}",
        "TAXI_BQ_DATASET": f"t_{suffix}",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "local_stack" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.stack)
