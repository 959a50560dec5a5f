"""The monthly schedule of a taxi type: at each tick, the newest month that has ended.

On the 3rd of a month at 06:00 America/New_York (the defaults), that is the previous month;
change the tick with TAXI_SCHEDULE_DAY_OF_MONTH, TAXI_SCHEDULE_HOUR and TAXI_SCHEDULE_TIMEZONE
(the partitions' time zone). Which month is the partitions definition's own answer
(its partition keys as of the tick), so the schedule never asks for a month outside them.
Not `build_schedule_from_partitioned_job`: in Dagster 1.13 it calls the deprecated
`run_request_for_partition` at every tick (a DeprecationWarning in the daemon each month).
The new-file sensor covers files that appear later than the schedule expects.
"""

import dagster as dg

from taxi_assets.core.config import Settings
from taxi_assets.core.tables import TaxiType


def build_taxi_schedule(
    taxi: TaxiType, job, partitions_def: dg.TimeWindowPartitionsDefinition, settings: Settings
) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=f"{taxi.name}_monthly_schedule",
        job=job,
        cron_schedule=f"0 {settings.schedule_hour} {settings.schedule_day_of_month} * *",
        execution_timezone=partitions_def.timezone,
        description=f"Loads the {taxi.name} file of the month that should have been published by now.",
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        keys = partitions_def.get_partition_keys(current_time=context.scheduled_execution_time)
        key = keys[-1] if keys else None
        if key is None:
            return dg.SkipReason(f"{taxi.name}: no month of the partitions has ended by {context.scheduled_execution_time:%Y-%m-%d}")
        return dg.RunRequest(run_key=f"{taxi.name}:{key}:schedule", partition_key=key)

    return _schedule
