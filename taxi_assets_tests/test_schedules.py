import datetime as dt
import zoneinfo

import dagster as dg
import pytest

from taxi_assets.jobs import taxi_jobs
from taxi_assets.schedules import (
    DEFAULT_CRON,
    DEFAULT_TIMEZONE,
    build_taxi_schedule,
    taxi_schedules,
)

NY = zoneinfo.ZoneInfo("America/New_York")


def test_one_schedule_per_taxi_type_on_its_job():
    assert sorted(s.job_name for s in taxi_schedules) == sorted(j.name for j in taxi_jobs.values())
    for s in taxi_schedules:
        assert (s.cron_schedule, s.execution_timezone) == (DEFAULT_CRON, DEFAULT_TIMEZONE)


@pytest.mark.parametrize(
    "tick, expected",
    [(dt.datetime(2021, 2, 3, 6, tzinfo=NY), "2021-01-01"), (dt.datetime(2020, 1, 3, 6, tzinfo=NY), "2019-12-01")],
)
def test_schedule_requests_the_previous_month(tick, expected):
    schedule = next(s for s in taxi_schedules if s.name == "green_monthly_schedule")
    with dg.instance_for_test() as instance:
        request = schedule(dg.build_schedule_context(instance=instance, scheduled_execution_time=tick))
    assert request.partition_key == expected
    assert request.run_key == f"green:{expected}:schedule"


def test_schedule_skips_months_before_the_history(monkeypatch):
    schedule = next(s for s in taxi_schedules if s.name == "fhv_monthly_schedule")
    with dg.instance_for_test() as instance:
        skip = schedule(
            dg.build_schedule_context(instance=instance, scheduled_execution_time=dt.datetime(2019, 1, 3, 6, tzinfo=NY))
        )
    assert isinstance(skip, dg.SkipReason) and "outside the partitions" in skip.skip_message


def test_cron_timezone_and_lag_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("TAXI_SCHEDULE_CRON", "30 4 20 * *")
    monkeypatch.setenv("TAXI_SCHEDULE_TIMEZONE", "UTC")
    monkeypatch.setenv("TAXI_SCHEDULE_LAG_MONTHS", "2")
    schedule = build_taxi_schedule("yellow", taxi_jobs["yellow"])
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 4 20 * *", "UTC")
    with dg.instance_for_test() as instance:
        tick = dt.datetime(2021, 5, 20, 4, 30, tzinfo=dt.timezone.utc)
        request = schedule(dg.build_schedule_context(instance=instance, scheduled_execution_time=tick))
    assert request.partition_key == "2021-03-01"
