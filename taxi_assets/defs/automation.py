"""Downstream automation: a month's loads follow its cleaned parquet when that is rebuilt alone."""

import dagster as dg

# Downstream of the cleaned parquet: when a month's parquet is materialized again without them
# (a fix to the cleaning, say), that month's Postgres, GCS and BigQuery assets follow -- for any
# month, not only the latest (unlike AutomationCondition.eager()), and without downloading again.
# Runs that already include them (the jobs, backfills) do not trigger a second load.
FOLLOW_UPSTREAM = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_missing()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("follows its upstream, any month")

automation_sensor = dg.AutomationConditionSensorDefinition(
    "taxi_automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Evaluates the assets' automation conditions: a re-materialized cleaned parquet "
    "brings that month's Postgres, GCS and BigQuery assets along.",
)
