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
DG = str(Path(sys.executable).with_name("dg"))
REPO = Path(__file__).resolve().parents[1]


def test_each_type_has_one_monthly_partitions_definition_for_job_assets_schedule_and_sensor():
    graph = defs.resolve_asset_graph()
    for taxi in TAXI_TYPES:
        parts = monthly_partitions[taxi]
        assert defs.resolve_job_def(f"{taxi}_taxi_job").partitions_def == parts
        keys = [k for k in graph.get_all_asset_keys() if k.path[0] == taxi]
        assert len(keys) == 5 and all(graph.get(k).partitions_def == parts for k in keys)


def months_back(n: int) -> str:
    today = dt.date.today()
    index = today.year * 12 + today.month - 1 - n
    return dt.date(index // 12, index % 12 + 1, 1).isoformat()


@pytest.mark.parametrize("taxi, first, last", [
    ("yellow", "2019-01-01", "2021-07-01"), ("green", "2019-01-01", "2021-07-01"), ("fhv", "2019-01-01", "2021-07-01"),
    ("fhvhv", "2021-01-01", "2021-07-01"),
])
def test_dtc_partitions_are_the_months_of_the_releases(taxi, first, last):
    keys = partitions_for("dtc", taxi).get_partition_keys()
    assert (keys[0], keys[-1]) == (first, last)


@pytest.mark.parametrize("taxi, first", [("yellow", "2009-01-01"), ("green", "2013-08-01"), ("fhv", "2015-01-01"),
                                         ("fhvhv", "2019-02-01")])
def test_tlc_partitions_run_from_the_first_published_month_to_two_months_ago(taxi, first):
    keys = partitions_for("tlc", taxi).get_partition_keys()
    # the TLC publishes about two months late: the month before last is the newest it can have
    assert (keys[0], keys[-1]) == (first, months_back(2))
    assert len(keys) == len(set(keys)) and keys == sorted(keys)


def partitions_for(source: str, taxi: str) -> dg.MonthlyPartitionsDefinition:
    from taxi_assets.core.config import load_settings
    from taxi_assets.defs.partitions import monthly_partitions as build

    return build(load_settings({"TAXI_SOURCE": source}), TAXI_TYPES[taxi])


def test_schedule_and_new_file_sensor_offer_only_the_sources_months():
    from taxi_assets.core.config import load_settings
    from taxi_assets.defs.taxi import build_taxi_defs

    for source in ("dtc", "tlc"):
        settings = load_settings({"TAXI_SOURCE": source})
        for taxi in TAXI_TYPES.values():
            d = build_taxi_defs(taxi, settings)
            parts = partitions_for(source, taxi.name)
            assert all(a.partitions_def == parts for a in d.assets)
            schedule = next(iter(d.schedules))
            with dg.instance_for_test() as instance:
                request = schedule(dg.build_schedule_context(
                    instance=instance, scheduled_execution_time=dt.datetime(2026, 12, 3, 12, tzinfo=dt.timezone.utc)
                ))
            now_keys = parts.get_partition_keys(current_time=dt.datetime(2026, 12, 3, 12, tzinfo=dt.timezone.utc))
            assert request.partition_key == now_keys[-1]
            assert request.partition_key == ("2026-10-01" if source == "tlc" else ("2021-07-01"))


def test_every_asset_has_a_description_group_and_kinds():
    for spec in defs.resolve_all_asset_specs():
        assert spec.description, spec.key
        assert spec.group_name and spec.group_name != "default", spec.key
        assert spec.kinds, spec.key


@pytest.mark.parametrize("source", ["dtc", "tlc"])
def test_definitions_validate_cli(pipeline_env, source):
    # the repo's dagster.yaml keeps the instance in the stack's Postgres: run with the stack's env
    out = subprocess.run(
        [DAGSTER, "definitions", "validate", "-m", "taxi_assets.definitions"], cwd=REPO, capture_output=True, text=True,
        env={**os.environ, "TAXI_SOURCE": source},
    )
    assert out.returncode == 0, out.stderr[-2000:]


@pytest.mark.slow
def test_dg_launch_job_twice_leaves_the_month_once_and_warns_of_nothing(pipeline_env, sample_site):
    cmd = [DG, "launch", "--job", "fhv_taxi_job", "--partition", "2021-02-01"]  # the README's command
    for _ in range(2):
        out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=os.environ.copy())
        assert out.returncode == 0, out.stderr[-3000:]
        assert "RUN_SUCCESS" in out.stderr + out.stdout
        assert "Warning" not in out.stderr + out.stdout, out.stderr[:3000]  # no Supersession/Beta/Preview warning
    rows_in, _ = expected_kept(sample_site / "fhv" / "fhv_tripdata_2021-02.csv.gz", False)
    counts = {store: rows for store, (_, rows) in report.store_counts("fhv", dt.date(2021, 2, 1)).items()}
    assert counts == dict.fromkeys(counts, rows_in)
    # the runs are recorded in the stack's Dagster instance (Postgres storage)
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(job_name="fhv_taxi_job", tags={"dagster/partition": "2021-02-01"}))
        assert len(runs) >= 2 and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs[:2])


@pytest.mark.slow
def test_dg_launch_assets_with_the_readme_selection(pipeline_env, sample_site):
    selection = 'key:"yellow/raw_file",key:"yellow/cleaned_parquet",key:"yellow/postgres_table"'
    out = subprocess.run(
        [DG, "launch", "--assets", selection, "--partition", "2021-03-01"],
        cwd=REPO, capture_output=True, text=True, env=os.environ.copy(),
    )
    assert out.returncode == 0, out.stderr[-3000:]
    rows_in, dropped = expected_kept(sample_site / "yellow" / "yellow_tripdata_2021-03.csv.gz", True)
    counts = {store: rows for store, (_, rows) in report.store_counts("yellow", dt.date(2021, 3, 1)).items()}
    assert counts["postgres"] == counts["parquet"] == rows_in - dropped
    assert counts["gcs"] is None and not counts["bigquery"]  # not selected, not loaded
