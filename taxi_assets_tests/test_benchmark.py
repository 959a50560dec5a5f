"""Smoke run of the benchmark (tiny months): every leg runs in its own process and lands in the
table with sane numbers. No timing assertions: this machine is shared. The whole-job leg
(`dagster job execute`, ~15 s of Dagster start-up alone) is left out here; the job itself is
tested end to end in assets/test_trips.py."""

import os

import psycopg

from benchmarks import benchmark

KEYS = ["idle", "baseline", "limit_copy", "limit_pyarrow", "parquet", "postgres", "postgres_adbc", "gcs", "bigquery", "parquet", "postgres"]


def test_benchmark_smoke_run_has_every_leg(local_stack, tmp_path):  # noqa: F811 (session fixture)
    rows, big_rows = 3_000, 5_000
    args = benchmark.parse_args(
        ["--rows", str(rows), "--big-rows", str(big_rows), "--repeat", "1", "--quick", "--baseline-rows", "1000",
         "--no-job", "--import-repeat", "1", "--workdir", str(tmp_path / "work")]
    )
    report = benchmark.run(args)

    assert [leg.key for leg in report.legs] == KEYS
    assert [leg.size for leg in report.legs][-2:] == ["big", "big"]
    by_key = {leg.key: leg for leg in report.legs if leg.size == "small"}
    for leg in report.legs:
        assert 50 < leg.rss_mb < 2_000, leg  # a Python process with pyarrow, and no more
        assert leg.tree_mb >= leg.rss_mb - 1, leg
        if leg.key != "idle":
            assert 0 < leg.seconds < 120, leg
            assert leg.rate > 0, leg
    # rows: source rows for readers; the load drops yellow rows with passenger_count = 0
    for key in ("limit_copy", "limit_pyarrow", "parquet", "baseline"):
        assert by_key[key].rows == rows, key
    loaded = by_key["postgres"].rows
    assert 0.8 * rows < loaded < rows
    assert by_key["gcs"].rows == by_key["bigquery"].rows == by_key["postgres_adbc"].rows == loaded
    assert "EXTRAPOLATED" in by_key["baseline"].note
    assert report.leg("parquet", "big").rows == big_rows

    text = report.text()
    for leg in report.legs:
        assert leg.label in text
    assert "ours / limit" in text and "baseline / ours" in text
    assert "parquet → Postgres (month replace) / raw COPY" in text
    # import times, measured in fresh processes (compared in the report, not here: one sample each is noise)
    assert len(report.imports["dagster"]) == len(report.imports["taxi_assets.definitions"]) == 1
    assert report.import_median("taxi_assets.definitions") > 0 and report.import_median("dagster") > 0
    assert "import taxi_assets.definitions / import dagster" in text

    doc = report.markdown()
    assert "| leg | rows | wall s |" in doc and "Machine:" in doc and "pyarrow" in doc
    assert all(leg.label in doc for leg in report.legs)

    # nothing left behind in the stack
    with psycopg.connect(os.environ["TAXI_POSTGRES_URL"]) as conn:
        left = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'bench\\_%'").fetchone()[0]
    assert left == 0
