"""The preflight (issues 12.7 and 14): a run with a bad partition key or configuration is refused when
it starts, before any step runs, with one message naming each problem. No server: nothing is reached."""

import dagster as dg
import pytest

from taxi_assets.core.config import load_settings
from taxi_assets.core.taxi_types import TAXI_TYPES
from taxi_assets.defs.partitions import monthly_partitions
from taxi_assets.defs.preflight import config_problems, partition_problem
from taxi_assets.defs.shared import shared_defs
from taxi_assets.defs.taxi import build_taxi_defs
from taxi_assets_tests.helpers import refusal

ENV = {
    "TAXI_POSTGRES_URL": "postgresql://taxi:Sup3rSecretPw@127.0.0.1:9/taxi",
    "TAXI_GCS_BUCKET": "taxi-lake",
    "TAXI_BQ_PROJECT": "taxi-local",
    "TAXI_BQ_DATASET": "nyc_taxi",
}


@pytest.fixture
def env(monkeypatch, tmp_path):
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("TAXI_DATA_DIR", str(tmp_path / "data"))
    return monkeypatch


def run_job(key: str, run_config=None) -> dg.ExecuteInProcessResult:
    settings = load_settings()
    defs = dg.Definitions.merge(shared_defs(settings), build_taxi_defs(TAXI_TYPES["green"], settings))
    return defs.resolve_job_def("green_taxi_job").execute_in_process(
        tags={"dagster/partition": key}, run_config=run_config, raise_on_error=False
    )


def steps_started(result) -> list:
    return [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_START]


@pytest.mark.parametrize(
    "key, says",
    [("2021-02-15", "is not the first day of a month"), ("2030-01-01", "outside the partitions (2019-01-01 .."),
     ("2018-12-01", "outside the partitions")],
)
def test_a_bad_partition_key_starts_no_step(env, key, says):
    result = run_job(key)
    assert not result.success and steps_started(result) == []
    assert "refused before any step ran" in refusal(result) and says in refusal(result)


def test_a_bad_dataset_name_touches_no_store(env):
    env.setenv("TAXI_BQ_DATASET", "nyc-taxi; drop")
    result = run_job("2021-01-01")
    assert not result.success and steps_started(result) == []
    assert "invalid dataset (TAXI_BQ_DATASET) 'nyc-taxi; drop'" in refusal(result)


def test_credentials_in_run_config_are_refused_before_a_run_is_stored(env):
    """A URL cannot be given in run config at all (only a known source's name), so credentials
    there are refused by Dagster's config validation: no run is created, the value is not repeated."""
    config = {"ops": {"green__raw_file": {"config": {"url_template": "https://u:Hunter2pw@mirror.example/{taxi}/{year}-{month}.csv.gz"}}}}
    instance = dg.DagsterInstance.ephemeral()
    settings = load_settings()
    defs = dg.Definitions.merge(shared_defs(settings), build_taxi_defs(TAXI_TYPES["green"], settings))
    with pytest.raises(dg.DagsterInvalidConfigError) as refused:
        defs.resolve_job_def("green_taxi_job").execute_in_process(
            tags={"dagster/partition": "2021-01-01"}, run_config=config, instance=instance)
    assert "url_template" in str(refused.value) and "Hunter2pw" not in str(refused.value)
    assert instance.get_runs() == []


def test_a_token_in_any_other_run_config_string_is_refused_at_run_start(env):
    config = {"ops": {"green__load_month": {"config": {"db_schema": "https://x/?access_token=Hunter2pw"}}}}
    result = run_job("2021-01-01", config)
    assert not result.success and steps_started(result) == []
    assert "credentials do not belong in run config" in refusal(result) and "Hunter2pw" not in refusal(result)


def test_partition_problem_and_config_problems_name_each_problem(monkeypatch):
    parts = monthly_partitions(load_settings({}), TAXI_TYPES["green"])
    assert partition_problem("2021-01-01", parts) is None and partition_problem(None, parts) is None
    assert "not a date" in partition_problem("2021-02", parts)
    settings = load_settings({"TAXI_POSTGRES_SCHEMA": "Public!", "TAXI_GCS_BUCKET": "Bad_Bucket_", "TAXI_BQ_PROJECT": "x",
                              "TAXI_SOURCE_URL": "file:///etc/passwd#{taxi}{year}{month}"})
    problems = config_problems(settings, {"ops": {"yellow__load_month": {"config": {"db_schema": "a;b"}}}})
    text = " | ".join(problems)
    for says in ("TAXI_POSTGRES_URL is not set", "TAXI_BQ_DATASET is not set", "TAXI_POSTGRES_SCHEMA", "invalid project 'x'",
                 "fragment", "TAXI_GCS_BUCKET", "yellow__load_month.db_schema"):
        assert says in text, (says, text)
