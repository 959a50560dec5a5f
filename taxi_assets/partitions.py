"""Monthly partitions: one per source file, shared by every asset of every taxi type.

Keys are the first day of the month (`2021-01-01`); the newest key is the last complete month.
The source files begin earlier (yellow 2009, green 2013-08, fhv 2015), but the maintained
history starts where the DataTalksClub releases start.
"""

import datetime as dt

import dagster as dg

HISTORY_START = "2019-01-01"

monthly_partitions = dg.MonthlyPartitionsDefinition(start_date=HISTORY_START, end_offset=0)


def partition_month(partition_key: str) -> dt.date:
    """`2021-01-01` -> date(2021, 1, 1); anything else is a clear error."""
    month = dt.date.fromisoformat(partition_key)
    if month.day != 1:
        raise ValueError(f"partition key {partition_key!r} is not the first day of a month")
    return month
