import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from taxi_assets import report
from taxi_assets.definitions import defs
from taxi_assets_tests.pipeline import monthly_partitions
from taxi_assets.core.taxi_types import TAXI_TYPES
from taxi_assets_tests.helpers import expected_kept

DAGSTER = str(Path(sys.executable).with_name("dagster"))
REPO = Path(__file__).resolve().parents[1]


def test_three_partitioned_jobs_and_every_trip_asset_is_monthly():
    for taxi in TAXI_TYPES:
        job = defs.resolve_job_def(f"{taxi}_taxi_job")
        assert job.partitions_def == monthly_partitions
    graph = defs.resolve_asset_graph()
    trip_keys = [k for k in graph.get_all_asset_keys() if k.path[0] in TAXI_TYPES]
    assert len(trip_keys) == 5 * len(TAXI_TYPES)
    for key in trip_keys:
        assert graph.get(key).partitions_def == monthly_partitions


def test_partition_keys_run_from_2019_to_the_last_complete_month():
    keys = monthly_partitions.get_partition_keys()
    today = dt.date.today()
    last_complete = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    assert keys[0] == "2019-01-01"
    assert keys[-1] == last_complete.isoformat()


def test_every_asset_has_a_description_group_and_kinds():
    for spec in defs.resolve_all_asset_specs():
        assert spec.description, spec.key
        assert spec.group_name and spec.group_name != "default", spec.key
        assert spec.kinds, spec.key


def test_definitions_validate_cli(pipeline_env):
    # the repo's dagster.yaml keeps the instance in the stack's Postgres: run with the stack's env
    out = subprocess.run(
        [DAGSTER, "definitions", "validate", "-m", "taxi_assets.definitions"], cwd=REPO, capture_output=True, text=True, env=os.environ.copy()
    )
    assert out.returncode == 0, out.stderr[-2000:]


@pytest.mark.slow
def test_job_execute_cli_twice_leaves_the_month_once(pipeline_env, sample_site):
    cmd = [DAGSTER, "job", "execute", "-m", "taxi_assets.definitions", "-j", "fhv_taxi_job", "--tags", '{"dagster/partition": "2021-02-01"}']
    for _ in range(2):
        out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=os.environ.copy())
        assert out.returncode == 0, out.stderr[-3000:]
        assert "RUN_SUCCESS" in out.stderr + out.stdout
    rows_in, _ = expected_kept(sample_site / "fhv" / "fhv_tripdata_2021-02.csv.gz", False)
    counts = {store: rows for store, (_, rows) in report.store_counts("fhv", dt.date(2021, 2, 1)).items()}
    assert counts == dict.fromkeys(counts, rows_in)
    # the runs are recorded in the stack's Dagster instance (Postgres storage)
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(job_name="fhv_taxi_job", tags={"dagster/partition": "2021-02-01"}))
        assert len(runs) >= 2 and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs[:2])


@pytest.mark.slow
def test_asset_materialize_cli_with_the_readme_selection(pipeline_env, sample_site):
    selection = "yellow/raw_file,yellow/cleaned_parquet,yellow/postgres_table"
    out = subprocess.run(
        [DAGSTER, "asset", "materialize", "-m", "taxi_assets.definitions", "--select", selection, "--partition", "2021-03-01"],
        cwd=REPO, capture_output=True, text=True, env=os.environ.copy(),
    )
    assert out.returncode == 0, out.stderr[-3000:]
    rows_in, dropped = expected_kept(sample_site / "yellow" / "yellow_tripdata_2021-03.csv.gz", True)
    counts = {store: rows for store, (_, rows) in report.store_counts("yellow", dt.date(2021, 3, 1)).items()}
    assert counts["postgres"] == counts["parquet"] == rows_in - dropped
    assert counts["gcs"] is None and not counts["bigquery"]  # not selected, not loaded
