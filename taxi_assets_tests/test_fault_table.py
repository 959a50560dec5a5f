"""The fault table (issue 5): every way a month's file goes wrong, as a test.

Each case materializes a good month first (yellow 2021-01, every store), then the bad month
(yellow 2021-02) through `dg.materialize` against a real HTTP source (`SourceServer`, scripted
faults) and the real stores, and asserts:
- either a clear error naming taxi type and month (`yellow 2021-02`) from the step that should
  catch it, with no asset downstream of that step materialized for the bad month, and nothing
  of the bad month in any store;
- or (503 then success, a reset mid-download, non-UTF-8 text) a correct load;
- and in every case the good month's counts in every store unchanged.

Plus the two crash cases: the disk filling up while the parquet is written (a 4 MB tmpfs as
TAXI_DATA_DIR; skipped where mount is not allowed), and `kill -9` of a process in the middle of
a Postgres COPY (the month's previous rows intact, no staging table left visible).
"""

import datetime as dt
import gzip
import io
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import dagster as dg
import psycopg
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from taxi_assets import report
from taxi_assets.localstack import sample
from taxi_assets_tests.pipeline import trip_assets
from taxi_assets.defs.resources import SourceResource as TaxiSource
from taxi_assets_tests.pipeline import build_resources, stores
from taxi_assets.core.stores.postgres import PostgresStore as PostgresWarehouse, partition_name
from taxi_assets.core.taxi_types import TAXI_TYPES
from taxi_assets.core.transform import write_parquet
from taxi_assets_tests.helpers import expected_kept
from taxi_assets_tests.http_source import SourceServer

GOOD, BAD = dt.date(2021, 1, 1), dt.date(2021, 2, 1)
ROWS = 1_000
LABEL = "yellow 2021-02"
YELLOW = TAXI_TYPES["yellow"]
CSV_TEMPLATE = "/{taxi}/{taxi}_tripdata_{year}-{month}.csv.gz"
PARQUET_TEMPLATE = "/{taxi}/{taxi}_tripdata_{year}-{month}.parquet"
BAD_PATH = "/yellow/yellow_tripdata_2021-02.csv.gz"
DOWNSTREAM = ["raw_file", "cleaned_parquet", "postgres_table", "gcs_object", "bigquery_table"]


class Site:
    def __init__(self, root, server: SourceServer):
        self.root, self.server = root, server
        self.template = server.url + CSV_TEMPLATE

    def bad_file(self, suffix: str = ".csv.gz"):
        path = self.root / "yellow" / f"yellow_tripdata_2021-02{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def resources(self) -> dict:
        res = build_resources()
        res["source"] = TaxiSource(
            url_template=self.template, zones_url=self.server.url + "/misc/taxi_zone_lookup.csv",
            timeout_seconds=10,
        )
        return res

    def materialize(self, month: dt.date, raise_on_error: bool = False) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [*trip_assets],
            selection=dg.AssetSelection.groups("yellow"),
            partition_key=month.isoformat(),
            resources=self.resources(),
            raise_on_error=raise_on_error,
        )


@pytest.fixture
def site(pipeline_env, tmp_path):
    root = tmp_path / "site"
    sample.write_month(root, "yellow", GOOD, rows=ROWS)
    with SourceServer(root) as server:
        yield Site(root, server)


@pytest.fixture
def loaded(site):
    """The good month in every store; returns its counts."""
    site.materialize(GOOD, raise_on_error=True)
    counts = store_counts(GOOD)
    rows_in, dropped = expected_kept(sample.source_path(site.root, "yellow", GOOD), True)
    assert counts == dict.fromkeys(counts, rows_in - dropped)
    return counts


def store_counts(month: dt.date) -> dict[str, int | None]:
    return {store: rows for store, (_, rows) in report.store_counts("yellow", month).items()}


def failure_text(result: dg.ExecuteInProcessResult) -> tuple[list[str], str]:
    failures = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    text = " | ".join(
        f"{_messages(e.event_specific_data.error)} {getattr(e.event_specific_data.user_failure_data, 'description', '')}"
        for e in failures
    )
    return [e.step_key for e in failures], text


def _messages(error) -> str:
    """An error's message and those of its causes (Dagster wraps user errors)."""
    out = []
    while error is not None:
        out.append(error.message)
        error = error.cause or error.context
    return " <- ".join(out)


def assert_clean_failure(result, step: str, *phrases: str) -> None:
    """The run failed at `step`, naming the month, nothing from `step` on materialized."""
    assert not result.success
    steps, text = failure_text(result)
    assert steps == [f"yellow__{step}"], (steps, text)
    assert LABEL in text, text
    for p in phrases:
        assert p.lower() in text.lower(), (p, text)
    for name in DOWNSTREAM[DOWNSTREAM.index(step):]:
        assert result.asset_materializations_for_node(f"yellow__{name}") == [], name
    counts = store_counts(BAD)
    assert counts["parquet"] is None and counts["gcs"] is None, counts
    assert counts["postgres"] is None and counts["bigquery"] is None, counts  # never loaded


def assert_loaded(result, site: Site) -> None:
    assert result.success
    rows_in, dropped = expected_kept(site.bad_file(), True)
    counts = store_counts(BAD)
    assert counts == dict.fromkeys(counts, rows_in - dropped)


def write_bad_csv(site: Site, text: str, gz: bool = True) -> None:
    data = text.replace("\n", "\r\n").encode("latin-1")
    site.bad_file().write_bytes(gzip.compress(data) if gz else data)


def good_lines(n: int = 20) -> list[str]:
    """Header and `n` rows of a yellow 2021-02 file, as text lines."""
    table = sample.generate_table(YELLOW, BAD, n)
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    return [",".join(table.column_names)] + [line for line in buf.getvalue().decode().splitlines() if line]


# ------------------------------------------------------------------------------------- the download


def test_404(site, loaded):
    assert_clean_failure(site.materialize(BAD), "raw_file", "404")
    assert store_counts(GOOD) == loaded


def test_503_then_success(site, loaded):
    sample.write_month(site.root, "yellow", BAD, rows=ROWS + 100)
    site.server.script(BAD_PATH, [503, 503])
    result = site.materialize(BAD)
    assert_loaded(result, site)
    assert site.server.count(BAD_PATH) == 3
    [m] = result.asset_materializations_for_node("yellow__raw_file")
    assert m.metadata["attempt"].value == "3"  # the third attempt of the step (two retries)
    assert store_counts(GOOD) == loaded


def test_connection_reset_mid_download(site, loaded):
    sample.write_month(site.root, "yellow", BAD, rows=ROWS + 100)
    site.server.script(BAD_PATH, ["reset"])
    assert_loaded(site.materialize(BAD), site)
    assert store_counts(GOOD) == loaded


def test_truncated_gzip(site, loaded):
    sample.write_month(site.root, "yellow", BAD, rows=ROWS)
    site.server.script(BAD_PATH, ["truncate"])
    assert_clean_failure(site.materialize(BAD), "raw_file", "truncated")
    assert store_counts(GOOD) == loaded


def test_html_error_page_with_status_200(site, loaded):
    sample.write_month(site.root, "yellow", BAD, rows=ROWS)
    site.server.script(BAD_PATH, ["html"])
    assert_clean_failure(site.materialize(BAD), "raw_file", "HTML")
    assert store_counts(GOOD) == loaded


def test_empty_file(site, loaded):
    site.bad_file().write_bytes(b"")
    assert_clean_failure(site.materialize(BAD), "raw_file", "empty")
    assert store_counts(GOOD) == loaded


# ----------------------------------------------------------------------------------------- the file


def test_another_taxi_types_file(site, loaded):
    green = sample.write_month(site.root, "green", BAD, rows=200)
    shutil.copyfile(green, site.bad_file())
    # refused before it replaces anything: the raw_file step probes what it downloaded
    assert_clean_failure(site.materialize(BAD), "raw_file", "green file", "tpep_pickup_datetime")
    assert store_counts(GOOD) == loaded


def test_header_only_file(site, loaded):
    write_bad_csv(site, ",".join(TAXI_TYPES["yellow"].layout("csv.gz").headers) + "\n")
    assert_clean_failure(site.materialize(BAD), "raw_file", "header but no rows")
    assert store_counts(GOOD) == loaded


def test_non_utf8_bytes_in_a_text_column_are_decoded_as_latin1(site, loaded):
    lines = good_lines(30)
    header = lines[0].split(",")
    flag = header.index("store_and_fwd_flag")
    fields = lines[5].split(",")
    fields[flag] = "N\xe9\xff"  # bytes e9 ff: not UTF-8
    lines[5] = ",".join(fields)
    write_bad_csv(site, "\n".join(lines) + "\n")
    result = site.materialize(BAD)
    assert result.success
    rows_in, dropped = expected_kept_latin1(site.bad_file())
    counts = store_counts(BAD)
    assert counts == dict.fromkeys(counts, rows_in - dropped)
    with psycopg.connect(os.environ["TAXI_POSTGRES_URL"]) as conn:
        schema = os.environ["TAXI_POSTGRES_SCHEMA"]
        got = conn.execute(
            f'SELECT store_and_fwd_flag FROM "{schema}".yellow_taxi_trips WHERE source_month = %s AND store_and_fwd_flag NOT IN (%s, %s)',
            (BAD, "Y", "N"),
        ).fetchall()
    keeps_row = fields[header.index("passenger_count")] not in ("0",)
    assert got == ([("N\xe9\xff",)] if keeps_row else [])
    assert "N\xe9\xff".encode("latin-1") == b"N\xe9\xff"  # lossless: the original bytes come back
    assert store_counts(GOOD) == loaded


def expected_kept_latin1(path) -> tuple[int, int]:
    import csv
    import io

    rows = list(csv.reader(io.StringIO(gzip.decompress(path.read_bytes()).decode("latin-1"))))
    header, rows = rows[0], [r for r in rows[1:] if r]
    p = header.index("passenger_count")
    return len(rows), sum(1 for r in rows if r[p] == "0")


@pytest.mark.parametrize("change", ["too_many", "too_few"])
def test_rows_with_too_many_or_too_few_fields(site, loaded, change):
    lines = good_lines(30)
    for i in (4, 9):
        lines[i] = lines[i] + ",1.5" if change == "too_many" else lines[i].rsplit(",", 3)[0]
    write_bad_csv(site, "\n".join(lines) + "\n")
    assert_clean_failure(site.materialize(BAD), "raw_file", "2 row(s) with too many or too few fields")
    assert store_counts(GOOD) == loaded


def test_timestamps_that_do_not_parse(site, loaded):
    lines = good_lines(30)
    fields = lines[7].split(",")
    fields[1] = "2021-02-30 25:61:00"
    lines[7] = ",".join(fields)
    write_bad_csv(site, "\n".join(lines) + "\n")
    assert_clean_failure(site.materialize(BAD), "raw_file", "tpep_pickup_datetime", "2021-02-30 25:61:00")
    assert store_counts(GOOD) == loaded


@pytest.mark.parametrize("damage", ["zero_bytes", "truncated", "corrupt_page"])
def test_zero_byte_or_corrupt_parquet(site, loaded, damage):
    site.template = site.server.url + PARQUET_TEMPLATE
    path = sample.write_tlc_parquet(site.root, "yellow", BAD, rows=500)
    data = bytearray(path.read_bytes())
    if damage == "zero_bytes":
        data = bytearray()
    elif damage == "truncated":
        data = data[: len(data) // 2]
    else:  # the footer is fine, the first page header is garbage: found only when read
        data[4:40] = b"\xff" * 36
    path.write_bytes(bytes(data))
    step, phrase = {
        "zero_bytes": ("raw_file", "empty"),
        "truncated": ("raw_file", "parquet"),
        "corrupt_page": ("raw_file", "unreadable"),  # the probe reads the first block before keeping it
    }[damage]
    assert_clean_failure(site.materialize(BAD), step, phrase)
    assert store_counts(GOOD) == loaded


def test_another_months_file_at_this_months_url_loads_nothing(site, loaded):
    shutil.copyfile(sample.source_path(site.root, "yellow", GOOD), site.bad_file())
    assert_clean_failure(site.materialize(BAD), "raw_file", "these are the trips of 2021-01")
    assert store_counts(GOOD) == loaded


def test_another_months_file_fails_the_cli_with_a_non_zero_exit(site, loaded):
    shutil.copyfile(sample.source_path(site.root, "yellow", GOOD), site.bad_file())
    env = {**os.environ, "TAXI_SOURCE_URL": site.template}
    out = subprocess.run(  # the README's command: the error is its message on the terminal, the trace in the run's log
        [str(Path(sys.executable).with_name("taxi-run")), "yellow", "2021-02"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert out.returncode != 0
    assert "these are the trips of 2021-01" in out.stdout + out.stderr
    assert "Traceback" not in out.stderr and 'File "' not in out.stderr, out.stderr
    assert out.stderr.splitlines()[-1].startswith("taxi-run: yellow_taxi_job 2021-02-01 failed (run "), out.stderr
    counts = store_counts(BAD)
    assert counts == dict.fromkeys(counts), counts  # nothing of the month anywhere
    assert store_counts(GOOD) == loaded


def test_a_number_too_large_for_a_double_is_an_error_naming_column_and_row(site, loaded):
    lines = good_lines(30)
    fields = lines[12].split(",")
    fields[lines[0].split(",").index("fare_amount")] = "9" * 10_000
    lines[12] = ",".join(fields)
    write_bad_csv(site, "\n".join(lines) + "\n")
    assert_clean_failure(site.materialize(BAD), "raw_file", "fare_amount", "data row 12", "too large")
    assert store_counts(GOOD) == loaded


def test_a_bad_download_after_a_good_one_keeps_the_good_raw_file(site, loaded):
    good = sample.write_month(site.root, "yellow", BAD, rows=ROWS)
    assert site.materialize(BAD).success
    with stores() as s:
        kept = s.file_store.path_for(("yellow", "raw_file"), BAD.isoformat())
    kept_bytes = kept.read_bytes()
    assert kept_bytes == good.read_bytes()
    before = store_counts(BAD)
    write_bad_csv(site, ",".join(YELLOW.layout("csv.gz").headers) + "\n")  # the source now serves a header only
    result = dg.materialize(
        [*trip_assets], selection=dg.AssetSelection.assets(dg.AssetKey(["yellow", "raw_file"])),
        partition_key=BAD.isoformat(), resources=site.resources(), raise_on_error=False,
        run_config={"ops": {"yellow__raw_file": {"config": {"force": True}}}},
    )
    assert not result.success
    assert kept.read_bytes() == kept_bytes  # the kept raw file is still the good one
    rebuilt = dg.materialize(
        [*trip_assets], selection=dg.AssetSelection.assets(dg.AssetKey(["yellow", "cleaned_parquet"])),
        partition_key=BAD.isoformat(), resources=site.resources(),
    )
    assert rebuilt.success  # the month rebuilds from the kept file
    assert store_counts(BAD) == before


# ---------------------------------------------------------------------------------------- the crashes


@pytest.fixture
def small_disk(pipeline_env, tmp_path, monkeypatch):
    """TAXI_DATA_DIR on a 4 MB tmpfs (root only)."""
    mnt = tmp_path / "small_disk"
    mnt.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    monkeypatch.setenv("TAXI_DATA_DIR", str(mnt / "data"))
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_disk_fills_up_while_writing_the_parquet(small_disk, site, tmp_path):
    site.materialize(GOOD, raise_on_error=True)
    good = store_counts(GOOD)
    bad_src = sample.write_month(site.root, "yellow", BAD, rows=20_000)
    write_parquet(bad_src, tmp_path / "probe.parquet", YELLOW, BAD)
    parquet_size = (tmp_path / "probe.parquet").stat().st_size
    # leave room for the download and half the parquet
    st = os.statvfs(small_disk)
    free = st.f_bavail * st.f_frsize
    room = bad_src.stat().st_size + 64 * 1024 + parquet_size // 2
    assert free > room, "the good month left too little room for the test"
    (small_disk / "filler").write_bytes(b"\0" * (free - room))
    result = site.materialize(BAD)
    assert_clean_failure(result, "cleaned_parquet", "no space left")
    assert store_counts(GOOD) == good
    staged = [p for p in (small_disk / "data" / ".staging").rglob("*.parquet")]
    assert staged == [], "the partial parquet is removed"


def test_kill_9_in_the_middle_of_a_postgres_copy(pipeline_env, tmp_path):
    schema = pipeline_env["TAXI_POSTGRES_SCHEMA"]
    pg = PostgresWarehouse(url=os.environ["TAXI_POSTGRES_URL"], db_schema=schema)
    first = tmp_path / "first.parquet"
    write_parquet(sample.write_month(tmp_path / "a", "yellow", GOOD, rows=ROWS), first, YELLOW, GOOD)
    before = pg.replace_month(YELLOW.table, YELLOW.all_columns, GOOD, pq.ParquetFile(first).iter_batches())
    second = tmp_path / "second.parquet"
    write_parquet(sample.write_month(tmp_path / "b", "yellow", GOOD, rows=ROWS * 3, seed=99), second, YELLOW, GOOD)
    copy_sql = f'COPY "{schema}"%'  # the load's COPY into its staging table, seen from another session
    script = textwrap.dedent(
        f"""
        import datetime as dt, os, sys, time
        import pyarrow.parquet as pq
        from taxi_assets.core.stores.postgres import PostgresStore as PostgresWarehouse
        from taxi_assets.core.taxi_types import TAXI_TYPES
        Y = TAXI_TYPES["yellow"]
        pg = PostgresWarehouse(url=os.environ["TAXI_POSTGRES_URL"], db_schema={schema!r})
        def batches():
            for i, b in enumerate(pq.ParquetFile({str(second)!r}).iter_batches(batch_size=400)):
                yield b
                if i == 2:
                    print("COPYING", flush=True)
                    time.sleep(120)
        pg.replace_month(Y.table, Y.all_columns, dt.date(2021, 1, 1), batches())
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        assert proc.stdout.readline().strip() == "COPYING"
        with psycopg.connect(os.environ["TAXI_POSTGRES_URL"], autocommit=True) as conn:
            deadline = time.monotonic() + 10
            copied, pid = 0, None
            while time.monotonic() < deadline and not copied:  # the server is in the COPY, with rows received
                row = conn.execute(
                    "SELECT p.pid, p.tuples_processed FROM pg_stat_progress_copy p JOIN pg_stat_activity a USING (pid) "
                    "WHERE a.query LIKE %s",
                    (copy_sql,),
                ).fetchone()
                pid, copied = row if row else (None, 0)
                time.sleep(0.05)
            assert copied > 0, "the load never reached the COPY"
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            while time.monotonic() < deadline + 10:  # the server notices the dead client and rolls back
                if not conn.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
                    break
                time.sleep(0.05)
            else:
                pytest.fail("the killed load's backend never went away")
            children = [
                r[0]
                for r in conn.execute(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace "
                    "WHERE n.nspname = %s AND p.relname = %s",
                    (schema, YELLOW.table),
                )
            ]
            leftovers = conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename LIKE %s", (schema, "%\\_\\_load")
            ).fetchall()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert pg.count_month(YELLOW.table, GOOD) == before
    assert children == [partition_name(YELLOW.table, GOOD)]
    assert leftovers == []
    # and the lock is free again: the next load replaces the month
    again = pg.replace_month(YELLOW.table, YELLOW.all_columns, GOOD, pq.ParquetFile(second).iter_batches())
    assert pg.count_month(YELLOW.table, GOOD) == again == pq.ParquetFile(second).metadata.num_rows
