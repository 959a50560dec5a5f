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
