"""The source as the TLC's behaves (issue 15.4): 403 for a month not published, and old months
re-published. A real HTTP server on 127.0.0.1 answers 403 for every missing file (as CloudFront
does); no store is reached (the raw_file step only downloads), so this is the fast tier."""

import json

import dagster as dg
import pytest

from taxi_assets.core.config import load_settings
from taxi_assets.core.taxi_types import YELLOW
from taxi_assets.defs.shared import shared_defs
from taxi_assets.defs.taxi import build_taxi_defs
from taxi_assets.localstack import sample
from taxi_assets_tests.http_source import SourceServer

ENV = {
    "TAXI_POSTGRES_URL": "postgresql://taxi:pw@127.0.0.1:9/taxi",
    "TAXI_GCS_BUCKET": "taxi-lake",
    "TAXI_BQ_PROJECT": "taxi-local",
    "TAXI_BQ_DATASET": "nyc_taxi",
}
JAN, FEB, MAR, APR = (f"2021-0{m}-01" for m in (1, 2, 3, 4))


@pytest.fixture
def site(tmp_path, monkeypatch):
    import datetime as dt

    root = tmp_path / "site"
    for key in (JAN, FEB, APR):  # 2021-03 is "not published": 403
        sample.write_month(root, "yellow", dt.date.fromisoformat(key), rows=300)
    with SourceServer(root, missing_status=403) as server:
        for k, v in {**ENV, "TAXI_DATA_DIR": str(tmp_path / "data"),
                     "TAXI_SOURCE_URL": server.url + "/{taxi}/{taxi}_tripdata_{year}-{month}.csv.gz"}.items():
            monkeypatch.setenv(k, v)
        yield server


def defs() -> dg.Definitions:
    settings = load_settings()
    return dg.Definitions.merge(shared_defs(settings), build_taxi_defs(YELLOW, settings))


def download(d: dg.Definitions, instance, key: str) -> dg.ExecuteInProcessResult:
    raw = dg.AssetKey(["yellow", "raw_file"])
    return d.resolve_job_def("yellow_taxi_job").get_subset(asset_selection={raw}).execute_in_process(
        partition_key=key, instance=instance, raise_on_error=False
    )


def sensor(d: dg.Definitions, name: str, instance, cursor=None):
    s = d.resolve_sensor_def(name)
    return s(dg.build_sensor_context(instance=instance, cursor=cursor, resources={"source": d.resources["source"]}))


def test_a_403_month_fails_at_once_naming_type_and_month_and_the_sensor_requests_only_what_exists(site):
    d = defs()
    with dg.instance_for_test() as instance:
        assert download(d, instance, JAN).success
        failed = download(d, instance, MAR)
        assert not failed.success
        [failure] = [e for e in failed.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
        message = failure.event_specific_data.error.message
        assert "yellow 2021-03" in message and "403" in message and "not published" in message
        assert site.count("/yellow/yellow_tripdata_2021-03.csv.gz") == 1  # no retry
        assert not [e for e in failed.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]

        result = sensor(d, "yellow_new_file_sensor", instance)
        assert [r.partition_key for r in result.run_requests] == [FEB, APR]  # 03 (403) and later: not yet


def test_the_republished_file_sensor_requests_a_month_whose_file_changed(site):
    import datetime as dt

    d = defs()
    assert d.resolve_sensor_def("yellow_republished_file_sensor").default_status == dg.DefaultSensorStatus.STOPPED
    with dg.instance_for_test() as instance:
        for key in (JAN, FEB):
            assert download(d, instance, key).success
        quiet = sensor(d, "yellow_republished_file_sensor", instance)
        assert not quiet.run_requests and "none re-published" in quiet.skip_reason.skip_message
        assert json.loads(quiet.cursor) == {"after": FEB}

        # the TLC re-publishes February: new bytes, so a new ETag and size
        sample.write_month(site.root, "yellow", dt.date(2021, 2, 1), rows=310, seed=7)
        result = sensor(d, "yellow_republished_file_sensor", instance, cursor=quiet.cursor)
        [request] = result.run_requests
        assert request.partition_key == FEB and "republished" in request.run_key
        assert request.run_config == {"ops": {"yellow__raw_file": {"config": {"force": True}}}}

        # loaded again, the new validators are recorded: nothing to do any more
        assert d.resolve_job_def("yellow_taxi_job").get_subset(
            asset_selection={dg.AssetKey(["yellow", "raw_file"])}
        ).execute_in_process(partition_key=FEB, instance=instance, run_config=request.run_config).success
        after = sensor(d, "yellow_republished_file_sensor", instance, cursor=result.cursor)
        assert not after.run_requests
