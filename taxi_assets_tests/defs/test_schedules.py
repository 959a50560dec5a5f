"""The monthly schedules: one per taxi type, each requesting the newest month that has ended."""

import datetime as dt
import zoneinfo

import dagster as dg
import pytest

from taxi_assets.core.config import load_settings
from taxi_assets.core.taxi_types import TAXI_TYPES
from taxi_assets.defs.taxi import build_taxi_defs
from taxi_assets_tests.pipeline import taxi_jobs, taxi_schedules

NY = zoneinfo.ZoneInfo("America/New_York")


def evaluate(schedule, tick: dt.datetime):
    with dg.instance_for_test() as instance:
        return schedule(dg.build_schedule_context(instance=instance, scheduled_execution_time=tick))


def test_one_schedule_per_taxi_type_on_its_job():
    assert sorted(s.job_name for s in taxi_schedules) == sorted(j.name for j in taxi_jobs.values())
    for s in taxi_schedules:
        assert (s.cron_schedule, s.execution_timezone) == ("0 6 3 * *", "America/New_York")
        assert s.default_status == dg.DefaultScheduleStatus.STOPPED


@pytest.mark.parametrize(
    "tick, expected",
    [(dt.datetime(2021, 2, 3, 6, tzinfo=NY), "2021-01-01"), (dt.datetime(2020, 1, 3, 6, tzinfo=NY), "2019-12-01")],
)
def test_schedule_requests_the_previous_month(tick, expected):
    schedule = next(s for s in taxi_schedules if s.name == "green_monthly_schedule")
    request = evaluate(schedule, tick)
    assert request.partition_key == expected
    assert request.run_key == f"green:{expected}:schedule"


def test_schedule_requests_nothing_before_the_history():
    schedule = next(s for s in taxi_schedules if s.name == "fhv_monthly_schedule")
    skip = evaluate(schedule, dt.datetime(2019, 1, 3, 6, tzinfo=NY))
    assert isinstance(skip, dg.SkipReason) and "no month" in skip.skip_message


def test_day_hour_and_timezone_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("TAXI_SCHEDULE_DAY_OF_MONTH", "20")
    monkeypatch.setenv("TAXI_SCHEDULE_HOUR", "4")
    monkeypatch.setenv("TAXI_SCHEDULE_TIMEZONE", "UTC")
    [schedule] = build_taxi_defs(TAXI_TYPES["yellow"], load_settings()).schedules
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 4 20 * *", "UTC")
    request = evaluate(schedule, dt.datetime(2021, 5, 20, 4, 0, tzinfo=dt.timezone.utc))
    assert request.partition_key == "2021-04-01"
