"""The Dagster UI in a real browser: materialize one month of the yellow assets the way a person
does, and check that the month landed in Postgres; then another month fails its checks, and the
loaded month's checks still show as passed for that month (the Checks tab, Partitions).

`dagster dev` (webserver + daemon + code server, from workspace.yaml) runs as a subprocess on a
free loopback port against the test stack; headless Chromium is Debian's `chromium` package,
driven by Playwright. Screenshots of every step go to test-artifacts/ui/ (with the dagster dev
log), kept whether the test passes or fails.

Skipped only when no Chromium is installed (scripts/test.sh installs it when run as root).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg
import pytest

from taxi_assets.localstack import sample
from taxi_assets_tests.helpers import expected_kept

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts" / "ui"
MONTH = dt.date(2021, 1, 1)
PARTITION = MONTH.isoformat()

# Flags that work headless as root on this kind of machine (docs: ../shared/notes/local-stack.md)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT = 120  # dagster dev answers /server_info in ~10 s on 2 cores
RUN_TIMEOUT = 180  # the 5-step run takes ~30 s, plus queueing by the daemon
UI_TIMEOUT_MS = 60_000  # first paint of a page, the catalog's GraphQL queries


def chromium_path() -> str | None:
    for candidate in (os.environ.get("TAXI_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


CHROMIUM = chromium_path()

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(420),
    pytest.mark.skipif(
        CHROMIUM is None and not os.environ.get("CI"),  # in CI a missing browser is a failure
        reason="Debian chromium is not installed: run `apt-get install -y chromium` as root "
        "(scripts/test.sh does it when run as root), or set TAXI_CHROMIUM to a Chromium binary",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(url: str, payload: dict | None = None, timeout: float = 10) -> dict:
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class DagsterDev:
    """`dagster dev -h 127.0.0.1 -p PORT` from the repo root, in its own process group."""

    def __init__(self, log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> DagsterDev:
        dagster = Path(sys.executable).with_name("dagster")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(dagster), "dev", "-h", "127.0.0.1", "-p", str(self.port)],
            cwd=REPO,  # reads workspace.yaml
            env=dict(os.environ),  # the stack (DAGSTER_HOME, URLs) and this test's schema/dataset/source
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # dagster maps SIGTERM to whatever SIGINT does; when pytest itself runs with SIGINT
            # ignored (started in the background), SIGTERM would be ignored too
            preexec_fn=_default_sigint,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"dagster dev exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                info = http_json(self.url + "/server_info", timeout=2)
                if info.get("dagster_webserver_version"):
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.5)
        raise AssertionError(f"dagster dev did not answer /server_info in {SERVER_START_TIMEOUT}s:\n{self.log_tail()}")

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        out = http_json(self.url + "/graphql", {"query": query, "variables": variables or {}}, timeout=30)
        assert not out.get("errors"), out
        return out["data"]

    def run(self, run_id: str) -> dict:
        q = """query($id: ID!) { runOrError(runId: $id) { __typename
                 ... on Run { status tags { key value } } } }"""
        return self.graphql(q, {"id": run_id})["runOrError"]

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            pgid = self.proc.pid  # start_new_session: the group is led by dagster dev itself
            t0 = time.monotonic()
            self._signal_group(pgid, signal.SIGTERM)  # webserver, daemon, code servers, run workers
            try:
                self.proc.wait(timeout=30)
                how = f"stopped by SIGTERM in {time.monotonic() - t0:.1f}s"
            except subprocess.TimeoutExpired:
                how = "did not stop on SIGTERM in 30s: killed"
            self._signal_group(pgid, signal.SIGKILL)  # whatever did not stop, stragglers included
            self.proc.wait(timeout=10)
            if getattr(self, "_log", None):
                self._log.write(f"\n[test_ui] dagster dev {how}\n".encode())
        if getattr(self, "_log", None):
            self._log.close()

    @staticmethod
    def _signal_group(pgid: int, sig: int) -> None:
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            pass


@pytest.fixture
def dagster_dev(pipeline_env):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with DagsterDev(ARTIFACTS / "dagster-dev.log") as server:
        yield server


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="taxi-ui-chromium-")
    try:
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1600, "height": 1000},
            )
            try:
                page = context.pages[0] if context.pages else context.new_page()
                page.set_default_timeout(UI_TIMEOUT_MS)
                # "Join the Dagster community" covers the page on a fresh profile (when nux is on):
                # whenever it shows up, skip it, then carry on with what the test was doing
                page.add_locator_handler(
                    page.get_by_text("Join the Dagster community"),
                    lambda _: page.get_by_role("button", name="Skip").click(),
                )
                yield page
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


class Shots:
    def __init__(self, page):
        self.page = page
        self.n = 0
        for old in ARTIFACTS.glob("*.png"):
            old.unlink()

    def __call__(self, name: str) -> None:
        self.n += 1
        self.page.screenshot(path=str(ARTIFACTS / f"{self.n:02d}-{name}.png"))


def postgres_month_rows(schema: str, table: str, month: dt.date) -> int:
    with psycopg.connect(os.environ["TAXI_POSTGRES_URL"]) as conn:
        sql = f'SELECT count(*) FROM "{schema}"."{table}" WHERE source_month = %s'
        return conn.execute(sql, (month,)).fetchone()[0]


def test_materialize_a_yellow_month_from_the_ui(dagster_dev, browser_page, pipeline_env, sample_site, tmp_path):
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    page, base = browser_page, dagster_dev.url
    shot = Shots(page)
    rows, dropped = expected_kept(sample.source_path(sample_site, "yellow", MONTH), drops_zero_passengers=True)
    expected = rows - dropped
    assert expected > 0

    try:
        # 1. the asset catalog
        # the catalog renders only the rows in view: its first rows (fhv, alphabetically) say it has loaded
        page.goto(base + "/assets", wait_until="domcontentloaded")
        page.get_by_role("link", name=re.compile(r"^fhv \/ ")).first.wait_for()
        shot("catalog")
        page.goto(base + "/assets?asset-selection=" + urllib.parse.quote('key:"taxi_zone_lookup"'), wait_until="domcontentloaded")
        page.get_by_role("link", name="taxi_zone_lookup").first.wait_for()

        # 1b. the fhvhv type is there with its five assets (its group, as the filter below would show it)
        page.goto(base + "/assets?asset-selection=" + urllib.parse.quote('group:"fhvhv"'), wait_until="domcontentloaded")
        page.get_by_role("link", name=re.compile(r"^fhvhv \/ raw_file")).wait_for()
        hv = sorted(t.split()[2] for t in page.get_by_role("link", name=re.compile(r"^fhvhv \/ \w+")).all_inner_texts())
        assert hv == ["bigquery_table", "cleaned_parquet", "gcs_object", "postgres_table", "raw_file"], hv
        shot("fhvhv-assets")
        page.goto(base + "/assets", wait_until="domcontentloaded")
        page.get_by_role("link", name=re.compile(r"^fhv \/ ")).first.wait_for()

        # 2. find the yellow assets: filter the catalog by their group
        search = page.get_by_role("textbox", name="Search and filter assets")
        search.focus()  # a CodeMirror editor: its <pre> lines take the clicks
        page.keyboard.type('group:"yellow"')
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"asset-selection=group"))
        yellow = page.get_by_role("link", name=re.compile(r"^yellow \/ \w+"))
        page.get_by_role("link", name=re.compile(r"^yellow \/ raw_file")).wait_for()
        names = sorted(t.split()[2] for t in yellow.all_inner_texts())
        assert names == ["bigquery_table", "cleaned_parquet", "gcs_object", "postgres_table", "raw_file"], names
        assert page.get_by_role("link", name=re.compile(r"^(green|fhv) \/ ")).count() == 0
        shot("yellow-assets")

        # 3. select them all, then Materialize
        page.get_by_role("checkbox").first.dispatch_event("click")  # the header's select-all box
        materialize = page.get_by_role("button", name=re.compile(r"Materialize selected \(5\)"))
        materialize.wait_for()
        shot("yellow-selected")
        materialize.click()

        # 4. the partition dialog: all partitions, then the one month
        dialog = page.get_by_role("dialog")
        dialog.get_by_text("Launch runs to materialize 5 assets").wait_for()
        shot("partition-dialog")
        show_all = dialog.get_by_role("button", name="Show all partitions")
        try:  # the dialog opens on the last 90 days, and 2021 is older
            show_all.wait_for(timeout=10_000)
            show_all.click()
        except PlaywrightTimeoutError:  # a UI that opens on all partitions has no such button
            pass
        partitions = dialog.get_by_role("textbox").first
        partitions.fill(PARTITION)
        partitions.press("Enter")
        dialog.get_by_text("1 partition", exact=True).wait_for()
        launch = dialog.get_by_role("button", name="Launch 1 run")
        launch.wait_for()
        shot("partition-chosen")
        launch.click()

        # 5. the run: the toast links to it
        view = page.locator("a[href*='/runs/']", has_text="View").first
        view.wait_for()
        shot("launched")
        run_id = view.get_attribute("href").rsplit("/", 1)[-1]
        view.click()
        page.wait_for_url(re.compile(re.escape(run_id)))
        page.get_by_text(f"partition: {PARTITION}").first.wait_for()
        shot("run-page")

        run = dagster_dev.run(run_id)
        assert run["__typename"] == "Run", run
        assert {"key": "dagster/partition", "value": PARTITION} in run["tags"]

        # 6. wait for the run to end (the daemon dequeues it), watching the run page
        deadline = time.monotonic() + RUN_TIMEOUT
        status = run["status"]
        while status not in ("SUCCESS", "FAILURE", "CANCELED") and time.monotonic() < deadline:
            time.sleep(2)
            status = dagster_dev.run(run_id)["status"]
        shot(f"run-{status.lower()}")
        assert status == "SUCCESS", (
            f"run {run_id} ended {status} (screenshots in {ARTIFACTS}):\n"
            + page.inner_text("body")[-3000:]
            + "\n--- dagster dev log ---\n"
            + dagster_dev.log_tail()
        )
        # the run page says so too (it polls; give it a moment)
        page.get_by_text("Success", exact=True).first.wait_for()
        shot("run-success-page")

        # 7. the month's materialization of postgres_table, as the UI shows it
        page.goto(base + f"/assets/yellow/postgres_table?view=partitions&partition={PARTITION}")
        page.get_by_text("dagster/row_count").first.wait_for()
        page.get_by_text(str(expected), exact=True).first.wait_for()
        page.get_by_text(f"{pipeline_env['TAXI_POSTGRES_SCHEMA']}.yellow_taxi_trips", exact=True).first.wait_for()
        shot("postgres-table-metadata")
    except Exception:
        try:
            shot("failure")
        except Exception:  # the page itself may be what failed: keep the original error
            pass
        raise

    # 8. the month landed in Postgres, with the count computed independently from the source file
    assert postgres_month_rows(pipeline_env["TAXI_POSTGRES_SCHEMA"], "yellow_taxi_trips", MONTH) == expected

    # 9. another month fails its checks (zone ids out of range, planted); the UI still shows the loaded
    # month's checks as passed: the checks are partitioned, each month has its own results (issue 14)
    run_bad_month(tmp_path)
    try:
        page.goto(base + "/assets/yellow/cleaned_parquet?view=checks", wait_until="domcontentloaded")
        for check, bad_month in (("known_zone_ids", "Failed"), ("rows_reconcile_with_raw", "Passed")):
            page.get_by_text(check, exact=True).first.click()
            page.get_by_text("Partitions", exact=True).last.click()
            for month, says in ((BAD_PARTITION, bad_month), (PARTITION, "Passed")):
                page.get_by_text(month, exact=True).first.click()
                page.get_by_text("View all historical executions").first.wait_for()
                page.wait_for_timeout(500)  # the detail pane re-renders for the picked month
                body = page.inner_text("body")
                detail = body[body.rindex(month):].split("Latest execution")[0]
                assert says in detail, (check, month, detail)
            shot(f"check-{check}-by-month")
    except Exception:
        try:
            shot("failure-checks")
        except Exception:
            pass
        raise


BAD_MONTH = dt.date(2021, 2, 1)
BAD_PARTITION = BAD_MONTH.isoformat()


def run_bad_month(tmp_path: Path) -> None:
    """yellow 2021-02 with 5 % of its pickups in zone 300, run with the README's `taxi-run` against the
    stack's instance (the UI reads the same one): its blocking zone check fails, the run fails."""
    import gzip
    import io

    import pyarrow as pa
    import pyarrow.csv as pacsv

    from taxi_assets.core.taxi_types import TAXI_TYPES

    site = tmp_path / "bad-site"
    rows = sample.generate_table(TAXI_TYPES["yellow"], BAD_MONTH, 2_000).to_pylist()
    for row in rows[:100]:
        row["PULocationID"], row["passenger_count"] = "300", "1"
    dest = sample.source_path(site, "yellow", BAD_MONTH)
    dest.parent.mkdir(parents=True)
    buf = io.BytesIO()
    pacsv.write_csv(pa.Table.from_pylist(rows), buf, pacsv.WriteOptions(quoting_style="none"))
    dest.write_bytes(gzip.compress(buf.getvalue().replace(b'"', b"")))
    env = {**os.environ, "TAXI_SOURCE_URL": site.as_uri() + "/{taxi}/{taxi}_tripdata_{year}-{month}.csv.gz"}
    out = subprocess.run([str(Path(sys.executable).with_name("taxi-run")), "yellow", BAD_PARTITION[:7]], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert out.returncode != 0, out.stderr[-3000:]
    assert "Asset check 'known_zone_ids' on 'yellow/cleaned_parquet' did not pass" in out.stderr, out.stderr[-3000:]
    assert "Asset check 'rows_reconcile_with_raw' on 'yellow/cleaned_parquet' passed" in out.stderr
