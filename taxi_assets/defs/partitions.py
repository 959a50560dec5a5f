"""Monthly partitions: one per source file, shared by every asset of every taxi type.

Keys are the first day of the month (`2021-01-01`); the newest key is the last complete month.
The source files begin earlier (yellow 2009, green 2013-08, fhv 2015), but the maintained
history starts where the DataTalksClub releases start.
"""

import dagster as dg

from taxi_assets.core.config import Settings

HISTORY_START = "2019-01-01"


def monthly_partitions(settings: Settings) -> dg.MonthlyPartitionsDefinition:
    """The months of the history, in the schedules' time zone (a month ends at local midnight)."""
    return dg.MonthlyPartitionsDefinition(start_date=HISTORY_START, end_offset=0, timezone=settings.schedule_timezone)
