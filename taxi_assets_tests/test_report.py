"""`python -m taxi_assets.report` on real stores (issue 14): a type never loaded and a month never
loaded say "not loaded", with no traceback and no "differ"; a loaded month agrees everywhere."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from taxi_assets_tests.helpers import expected_kept
from taxi_assets_tests.pipeline import build_resources, trip_assets

REPO = Path(__file__).resolve().parents[1]


def report(taxi: str, month: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "taxi_assets.report", "--taxi", taxi, "--month", month, "--no-join"],
                          cwd=REPO, env=os.environ.copy(), capture_output=True, text=True, timeout=120)


def test_report_on_an_unloaded_type_and_month(pipeline_env, sample_site):
    never = report("green", "2021-01")  # a fresh schema, dataset, prefix and data folder: nothing of green
    lines = never.stdout.splitlines()
    assert never.returncode == 1 and "Traceback" not in never.stdout + never.stderr, never.stderr
    assert lines[0] == "green 2021-01:"
    assert [line.split()[:3] for line in lines[1:5]] == [[s, "not", "loaded"] for s in ("parquet", "postgres", "gcs", "bigquery")]
    assert lines[5].strip() == "not loaded in any store" and "differ" not in never.stdout

    assert dg.materialize([*trip_assets], selection=dg.AssetSelection.groups("green"), partition_key="2021-01-01",
                          resources=build_resources()).success
    loaded = report("green", "2021-01")
    rows_in, dropped = expected_kept(sample_site / "green" / "green_tripdata_2021-01.csv.gz", True)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert [line.split()[1] for line in loaded.stdout.splitlines()[1:5]] == [f"{rows_in - dropped:,}"] * 4

    other = report("green", "2021-02")  # the table exists now; that month was never loaded
    assert other.returncode == 1 and "Traceback" not in other.stdout + other.stderr
    assert other.stdout.splitlines()[-1].strip() == "not loaded in any store" and "0 rows" not in other.stdout


def test_the_readme_backfill_runs_each_month_and_says_so(pipeline_env, sample_site):
    """`taxi-run yellow 2021-01..2021-02`: one run per month in turn, in the stack's instance; the summary
    tells what happened to each month, and the stores agree with it."""
    out = subprocess.run([str(Path(sys.executable).with_name("taxi-run")), "green", "2021-01..2021-02"], cwd=REPO,
                         env=os.environ.copy(), capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stderr.splitlines()[-1] == "taxi-run: green_taxi_job 2021-01-01..2021-02-01: 2 of 2 months succeeded"
    assert "Traceback" not in out.stderr
    for month in ("2021-01", "2021-02"):
        rows_in, dropped = expected_kept(sample_site / "green" / f"green_tripdata_{month}.csv.gz", True)
        assert report("green", month).stdout.count(f"{rows_in - dropped:,} rows") == 4
