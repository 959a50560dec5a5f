"""Monthly partitions: one per source file, per taxi type: the months the configured source has.

Keys are the first day of the month (`2021-01-01`), in the schedules' time zone (a month ends at
local midnight). Which months, per source family (`TAXI_SOURCE`, `taxi_assets.core.config`):

- `tlc` (the TLC's own parquet files): from the type's first published month
  (`TaxiType.published`: yellow 2009-01, green 2013-08, fhv 2015-01, fhvhv 2019-02) up to the
  month two before the current one (the TLC publishes about two months late: on 2026-12-02 the
  newest partition is 2026-10; a month not published yet answers 403, "not yet" for the sensor);
- `dtc` (the DataTalksClub releases): the months of the releases, fixed (2019-01..2021-07;
  fhvhv 2021-01..2021-07).

The assets, checks, job, schedule and new-file sensor of a type share its one definition, so
nobody is offered a month the source cannot have.
"""

import datetime as dt

import dagster as dg

from taxi_assets.core.config import DTC_MONTHS, DTC_MONTHS_BY_TYPE, TLC_LAG_MONTHS, Settings
from taxi_assets.core.months import add_months
from taxi_assets.core.tables import TaxiType


def source_months(settings: Settings, taxi: TaxiType) -> tuple[dt.date, dt.date | None]:
    """(first month, last month or None: up to the newest the source can have published)."""
    if settings.source == "dtc":
        return DTC_MONTHS_BY_TYPE.get(taxi.name, DTC_MONTHS)
    return taxi.published, None


def monthly_partitions(settings: Settings, taxi: TaxiType) -> dg.MonthlyPartitionsDefinition:
    """The months of `taxi` the configured source has (see the module docstring)."""
    first, last = source_months(settings, taxi)
    if last is not None:
        return dg.MonthlyPartitionsDefinition(
            start_date=first.isoformat(), end_date=add_months(last, 1).isoformat(), timezone=settings.schedule_timezone
        )
    # end_offset=0 ends at the last complete month; each step back is one month of publication lag
    return dg.MonthlyPartitionsDefinition(
        start_date=first.isoformat(), end_offset=1 - TLC_LAG_MONTHS, timezone=settings.schedule_timezone
    )
