"""The freshness check of a taxi type, on its last asset (`<taxi>/bigquery_table`), and the daily
schedule that runs every type's: WARN when the newest month loaded is one month older than what the
source has surely published, ERROR when older still (thresholds: `taxi_assets.core.freshness`).

Written here, not with `dg.build_time_partition_freshness_checks`: that check has one severity (no
WARN then ERROR) and is superseded in Dagster 1.13 by `FreshnessPolicy`, which judges the time of the
last materialization -- and a backfill of an old month would make a type look fresh.
"""

import datetime as dt
from collections.abc import Iterable

import dagster as dg

from taxi_assets.core.config import Settings
from taxi_assets.core.freshness import ERROR, PASS, WARN, expected_month, grade
from taxi_assets.core.tables import BIGQUERY_TABLE, TaxiType
from taxi_assets.defs.partitions import source_months

CHECK_NAME = "newest_month_is_recent"
SEVERITY = {WARN: dg.AssetCheckSeverity.WARN, ERROR: dg.AssetCheckSeverity.ERROR}


def now() -> dt.datetime:
    """The check's clock (a test moves it)."""
    return dt.datetime.now(dt.timezone.utc)


def build_freshness_check(taxi: TaxiType, asset: dg.AssetsDefinition, settings: Settings) -> dg.AssetChecksDefinition:
    _, last = source_months(settings, taxi)

    @dg.asset_check(
        asset=asset,
        name=CHECK_NAME,
        description=(
            f"Is the newest {taxi.name} month loaded as recent as the source allows? WARN one month behind the month "
            "the source has surely published (TLC: three months back, for its ~2-month lag), ERROR further behind or "
            "when nothing is loaded. Judged by partition, not by load time: a backfill of an old month does not count."
        ),
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        today = now().astimezone(dt.timezone.utc).date()
        loaded = context.instance.get_materialized_partitions(asset.key)
        newest = dt.date.fromisoformat(max(loaded)) if loaded else None
        f = grade(newest, expected_month(today, last))
        return dg.AssetCheckResult(
            passed=f.grade == PASS,
            severity=SEVERITY.get(f.grade, dg.AssetCheckSeverity.WARN),
            description=f.describe(taxi.name),
            metadata={
                "newest_loaded_month": f.newest.isoformat() if f.newest else "",
                "expected_month": f.expected.isoformat(),
                "months_behind": f.behind,
                "grade": f.grade,
            },
        )

    return _check


def freshness_check_keys(taxi_types: Iterable[TaxiType]) -> list[dg.AssetCheckKey]:
    return [dg.AssetCheckKey(dg.AssetKey([t.name, BIGQUERY_TABLE]), CHECK_NAME) for t in taxi_types]


def build_freshness_schedule(taxi_types: Iterable[TaxiType], settings: Settings) -> dg.ScheduleDefinition:
    job = dg.define_asset_job(
        "freshness_checks_job",
        selection=dg.AssetSelection.checks(*freshness_check_keys(taxi_types)),
        description="Runs every taxi type's freshness check (newest month loaded vs. what the source has published).",
    )
    return dg.ScheduleDefinition(
        name="freshness_schedule",
        job=job,
        cron_schedule=f"30 {settings.schedule_hour} * * *",
        execution_timezone=settings.schedule_timezone,
        description="Every day: are the newest months loaded as recent as the sources allow?",
        default_status=dg.DefaultScheduleStatus.STOPPED,
    )
