"""Monthly schedules, one per taxi type, each requesting the month whose file should be out.

Defaults: 06:00 America/New_York on the 3rd of each month, for the previous month. Change them
with TAXI_SCHEDULE_CRON, TAXI_SCHEDULE_TIMEZONE and TAXI_SCHEDULE_LAG_MONTHS (the TLC publishes
with a lag of about two months: set 2 when using its own files). The new-data sensor covers
files that appear later than the schedule expects.
"""

import datetime as dt
import os

import dagster as dg

from taxi_assets.jobs import taxi_jobs
from taxi_assets.partitions import monthly_partitions

DEFAULT_CRON = "0 6 3 * *"
DEFAULT_TIMEZONE = "America/New_York"


def month_to_request(scheduled: dt.datetime, lag_months: int) -> str:
    """The partition key `lag_months` before the month of the scheduled time."""
    index = scheduled.year * 12 + scheduled.month - 1 - lag_months
    return dt.date(index // 12, index % 12 + 1, 1).isoformat()


def build_taxi_schedule(taxi: str, job) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=f"{taxi}_monthly_schedule",
        job=job,
        cron_schedule=os.environ.get("TAXI_SCHEDULE_CRON", DEFAULT_CRON),
        execution_timezone=os.environ.get("TAXI_SCHEDULE_TIMEZONE", DEFAULT_TIMEZONE),
        description=f"Loads the {taxi} file of the month that should have been published by now.",
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        lag = int(os.environ.get("TAXI_SCHEDULE_LAG_MONTHS", "1"))
        key = month_to_request(context.scheduled_execution_time, lag)
        if not monthly_partitions.has_partition_key(key):
            return dg.SkipReason(f"{taxi} {key[:7]} is outside the partitions ({monthly_partitions.start:%Y-%m} on)")
        return dg.RunRequest(run_key=f"{taxi}:{key}:schedule", partition_key=key)

    return _schedule


taxi_schedules = [build_taxi_schedule(taxi, job) for taxi, job in taxi_jobs.items()]
