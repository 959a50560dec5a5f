import json

import dagster as dg
import pytest

from taxi_assets.defs.alerts import run_failure_alert
from taxi_assets.defs.automation import automation_sensor
from taxi_assets.defs.resources import SourceResource as TaxiSource
from taxi_assets.defs.sensors import MAX_PROBES_PER_TICK, plan_probes
from taxi_assets_tests.pipeline import build_resources, monthly_partitions, new_file_sensors, taxi_jobs, trip_assets, trip_checks

YELLOW_SENSOR = next(s for s in new_file_sensors if s.name == "yellow_new_file_sensor")


def source(server) -> TaxiSource:
    return TaxiSource(url_template=server.url + "/{taxi}/{taxi}_tripdata_{year}-{month}.csv.gz")


def materialize(instance, keys, month: str, resources=None, **kw):
    return dg.materialize(
        [*trip_assets],
        selection=dg.AssetSelection.assets(*keys),
        partition_key=month,
        resources=resources or build_resources(),
        instance=instance,
        **kw,
    )


def test_one_tick_requests_exactly_the_missing_months_the_source_has(pipeline_env, source_server):
    with dg.instance_for_test() as instance:
        materialize(instance, [dg.AssetKey(["yellow", "raw_file"])], "2021-01-01")
        heads_before = sum(1 for m, _ in source_server.requests if m == "HEAD")
        ctx = dg.build_sensor_context(instance=instance, resources={"source": source(source_server)})
        result = YELLOW_SENSOR(ctx)
        assert isinstance(result, dg.SensorResult), result
        # the sample site has 2021-01..03: 02 and 03 are new; later months answer 404 (= not yet)
        assert [r.partition_key for r in result.run_requests] == ["2021-02-01", "2021-03-01"]
        assert [r.run_key for r in result.run_requests] == ["yellow:2021-02-01", "yellow:2021-03-01"]
        heads = sum(1 for m, _ in source_server.requests if m == "HEAD") - heads_before
        later = [k for k in monthly_partitions["yellow"].get_partition_keys() if k > "2021-01-01"]
        assert heads == min(MAX_PROBES_PER_TICK, len(later))  # bounded, and only the source's months
        assert json.loads(result.cursor) == {"requested": ["2021-02-01", "2021-03-01"]}

        # next tick, cursor kept: nothing new, nothing requested again
        ctx2 = dg.build_sensor_context(instance=instance, cursor=result.cursor, resources={"source": source(source_server)})
        again = YELLOW_SENSOR(ctx2)
        assert isinstance(again, dg.SkipReason) and "no new file" in again.skip_message


def test_source_outage_requests_nothing(pipeline_env, source_server):
    with dg.instance_for_test() as instance:
        materialize(instance, [dg.AssetKey(["yellow", "raw_file"])], "2021-01-01")
        source_server.script("/yellow/yellow_tripdata_2021-02.csv.gz", [503])
        result = YELLOW_SENSOR(dg.build_sensor_context(instance=instance, resources={"source": source(source_server)}))
        assert isinstance(result, dg.SkipReason)


def test_failed_run_posts_one_alert_naming_job_partition_step_and_error(pipeline_env, source_server, monkeypatch):
    hook = "/hooks/T000/B000/secret-hook-token"
    monkeypatch.setenv("TAXI_ALERT_WEBHOOK_URL", source_server.url + hook)
    monkeypatch.setenv("TAXI_UI_URL", "http://127.0.0.1:3000")
    defs = dg.Definitions(assets=trip_assets, asset_checks=trip_checks, jobs=list(taxi_jobs.values()), resources=build_resources())
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("green_taxi_job").execute_in_process(
            partition_key="2020-06-01", instance=instance, raise_on_error=False
        )
        assert not result.success
        failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
        ctx = dg.build_run_status_sensor_context(
            sensor_name="run_failure_alert", dagster_instance=instance, dagster_run=result.dagster_run, dagster_event=failure
        ).for_run_failure()
        before = len(source_server.posts)
        run_failure_alert(ctx)
    posts = source_server.posts[before:]
    assert len(posts) == 1 and posts[0][0] == hook
    text = json.loads(posts[0][1])["text"]
    assert "green_taxi_job" in text and "2020-06-01" in text
    assert "green__raw_file" in text and "green 2020-06" in text and "404" in text
    assert f"http://127.0.0.1:3000/runs/{result.run_id}" in text
    assert "secret-hook-token" not in text


def test_alert_without_webhook_is_logged(pipeline_env, monkeypatch):
    from taxi_assets.defs.alerts import build_alert, post_alert

    monkeypatch.delenv("TAXI_ALERT_WEBHOOK_URL", raising=False)
    run = dg.DagsterRun(job_name="yellow_taxi_job", run_id="abc", tags={"dagster/partition": "2021-01-01"})
    payload = build_alert(run, [], "http://ui")

    class Log:
        lines = []

        def warning(self, m):
            self.lines.append(m)

    log = Log()
    assert post_alert(payload, None, log) is False
    assert "yellow_taxi_job" in log.lines[0] and "http://ui/runs/abc" in log.lines[0]


def test_alert_redacts_credentials(monkeypatch):
    from taxi_assets.defs.alerts import build_alert

    monkeypatch.setenv("TAXI_POSTGRES_URL", "postgresql://taxi:Sup3rSecretPw@127.0.0.1:5432/taxi")

    class Err:
        message = "connection to postgresql://taxi:Sup3rSecretPw@127.0.0.1:5432/taxi failed; password Sup3rSecretPw"
        cls_name = "OperationalError"

    class Ev:
        step_key = "yellow__postgres_table"
        event_specific_data = type("D", (), {"error": Err()})()

    run = dg.DagsterRun(job_name="yellow_taxi_job", run_id="r1", tags={})
    text = build_alert(run, [Ev()], "http://ui")["text"]
    assert "Sup3rSecretPw" not in text and "yellow__postgres_table" in text


def test_rematerialized_parquet_brings_its_month_downstream_along(pipeline_env):
    assets = dg.Definitions(assets=trip_assets, resources=build_resources())
    with dg.instance_for_test() as instance:
        key = lambda n: dg.AssetKey(["yellow", n])  # noqa: E731
        materialize(instance, [key(n) for n in ("raw_file", "cleaned_parquet", "postgres_table", "gcs_object", "bigquery_table")], "2021-01-01")
        # every asset and check, named here: the tester's own default selection passes a beta parameter
        everything = dg.AssetSelection.all() | dg.AssetSelection.all_asset_checks()
        first = dg.evaluate_automation_conditions(defs=assets, instance=instance, asset_selection=everything)
        assert first.total_requested == 0  # the full run already loaded everything

        materialize(instance, [key("cleaned_parquet")], "2021-01-01")
        second = dg.evaluate_automation_conditions(defs=assets, instance=instance, cursor=first.cursor,
                                                   asset_selection=everything)
        requested = {
            (r.key.to_user_string(), pk)
            for r in second.results
            for pk in r.true_subset.expensively_compute_partition_keys() or []
        }
        assert requested == {
            ("yellow/postgres_table", "2021-01-01"),
            ("yellow/gcs_object", "2021-01-01"),
            ("yellow/bigquery_table", "2021-01-01"),
        }


def test_automation_sensor_targets_all_assets():
    assert automation_sensor.default_status == dg.DefaultSensorStatus.RUNNING


@pytest.mark.parametrize("months", [1])
def test_network_step_retries_with_backoff_then_succeeds(pipeline_env, source_server, months):
    path = "/fhv/fhv_tripdata_2021-01.csv.gz"
    source_server.script(path, [503, 503])
    resources = {**build_resources(), "source": TaxiSource(url_template=source(source_server).url_template)}
    with dg.instance_for_test() as instance:
        result = materialize(instance, [dg.AssetKey(["fhv", "raw_file"])], "2021-01-01", resources=resources)
        assert result.success
        retries = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
        assert len(retries) == 2
    assert source_server.count(path) == 3  # one retry layer: three GETs for two 503s, not 3 x 4


def test_404_is_not_retried(pipeline_env, source_server):
    resources = {**build_resources(), "source": TaxiSource(url_template=source(source_server).url_template)}
    with dg.instance_for_test() as instance:
        result = materialize(instance, [dg.AssetKey(["fhv", "raw_file"])], "2020-06-01", resources=resources, raise_on_error=False)
        assert not result.success
        assert not [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    assert source_server.count("/fhv/fhv_tripdata_2020-06.csv.gz") == 1


def test_a_late_month_is_not_skipped_when_the_next_one_arrived_first(pipeline_env, source_server, sample_site):
    # the source has 2021-01..03; 2021-02 is late (404) while 2021-03 is there
    late = sample_site / "green" / "green_tripdata_2021-02.csv.gz"
    hidden = late.with_name("hidden.csv.gz")
    sensor = next(s for s in new_file_sensors if s.name == "green_new_file_sensor")
    with dg.instance_for_test() as instance:
        materialize(instance, [dg.AssetKey(["green", "raw_file"])], "2021-01-01")
        late.rename(hidden)
        try:
            first = sensor(dg.build_sensor_context(instance=instance, resources={"source": source(source_server)}))
        finally:
            hidden.rename(late)
        assert [r.partition_key for r in first.run_requests] == ["2021-03-01"]
        materialize(instance, [dg.AssetKey(["green", "raw_file"])], "2021-03-01")
        second = sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor, resources={"source": source(source_server)}))
        assert [r.partition_key for r in second.run_requests] == ["2021-02-01"]


# ---- the probe plan, with no server


def test_plan_probes_everything_when_nothing_is_loaded():
    keys = ["2021-01-01", "2021-02-01", "2021-03-01"]
    assert plan_probes(keys, set(), None) == (keys, set())


def test_plan_probes_later_months_and_gaps_but_nothing_older_than_the_oldest_loaded():
    keys = [f"2021-{m:02d}-01" for m in range(1, 7)]
    done = {"2021-02-01", "2021-04-01"}
    probes, requested = plan_probes(keys, done, None)
    assert probes == ["2021-03-01", "2021-05-01", "2021-06-01"] and requested == set()


def test_plan_probes_skips_what_was_requested_until_it_is_loaded():
    keys = [f"2021-{m:02d}-01" for m in range(1, 5)]
    cursor = json.dumps({"requested": ["2021-03-01", "2021-02-01"]})
    probes, requested = plan_probes(keys, {"2021-01-01", "2021-02-01"}, cursor)
    assert probes == ["2021-04-01"]
    assert requested == {"2021-03-01"}  # 02 is loaded now: no longer pending
