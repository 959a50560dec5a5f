"""Sensors: new files at the source, alerts on failed runs, and downstream automation."""

import json
import os
import time

import dagster as dg
import requests

from taxi_assets.jobs import taxi_jobs
from taxi_assets.partitions import monthly_partitions, partition_month
from taxi_assets.redaction import redact
from taxi_assets.resources import TaxiSource
from taxi_assets.resources.source import DownloadFailed
from taxi_assets.taxi_types import TAXI_TYPES

MAX_PROBES_PER_TICK = 12


def months_to_probe(taxi: str, instance: dg.DagsterInstance, cursor: str | None) -> tuple[list[str], set[str]]:
    """(months to probe, oldest first; months already requested and not yet loaded).

    The candidates are the partitions from the oldest loaded month on (every partition if none
    is loaded) that are neither loaded nor already requested: the months after the newest loaded
    one, and any gap left behind (a month that was late while the next one was not).
    """
    done = instance.get_materialized_partitions(dg.AssetKey([taxi, "raw_csv"]))
    requested = set(json.loads(cursor).get("requested", [])) - done if cursor else set()
    oldest = min(done, default="")
    keys = [k for k in monthly_partitions.get_partition_keys() if k >= oldest and k not in done and k not in requested]
    return keys, requested


def build_new_file_sensor(taxi: str, job) -> dg.SensorDefinition:
    @dg.sensor(
        name=f"{taxi}_new_file_sensor",
        job=job,
        minimum_interval_seconds=int(os.environ.get("TAXI_SENSOR_INTERVAL_SECONDS", 6 * 3600)),
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=(
            f"Probes the source (HEAD) for {taxi} months not loaded yet (after the newest, and gaps), at most "
            f"{MAX_PROBES_PER_TICK} a tick, and runs {job.name} for each file that has appeared. "
            "A 404 means 'not yet'."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext, source: TaxiSource):
        candidates, requested = months_to_probe(taxi, context.instance, context.cursor)
        if not candidates:
            return dg.SkipReason(f"{taxi}: every month up to the last complete one is loaded or requested")
        found = []
        for key in candidates[:MAX_PROBES_PER_TICK]:
            month = partition_month(key)
            try:
                if source.exists(source.url_for(taxi, month), TAXI_TYPES[taxi].file_label(month)):
                    found.append(key)
            except DownloadFailed as e:  # the source is unwell: try again next tick
                context.log.warning(redact(str(e)))
                break
        if not found:
            return dg.SkipReason(f"{taxi}: no new file among {candidates[0][:7]}..{candidates[:MAX_PROBES_PER_TICK][-1][:7]}")
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key=f"{taxi}:{key}", partition_key=key) for key in found],
            cursor=json.dumps({"requested": sorted(requested | set(found))}),
        )

    return _sensor


new_file_sensors = [build_new_file_sensor(taxi, job) for taxi, job in taxi_jobs.items()]


def build_alert(run: dg.DagsterRun, step_failures: list[dg.DagsterEvent], ui_url: str) -> dict:
    """A Slack-compatible message: job, partition, failed step(s), error summary, run link."""
    partition = run.tags.get("dagster/partition", "(none)")
    steps = [e.step_key for e in step_failures] or ["(run-level failure)"]
    errors = []
    for e in step_failures:
        err = getattr(e.event_specific_data, "error", None)
        if err is not None:
            errors.append(err.message.strip().splitlines()[-1][:500] if err.message.strip() else err.cls_name or "")
    link = f"{ui_url.rstrip('/')}/runs/{run.run_id}"
    text = redact(
        f":rotating_light: {run.job_name} failed for partition {partition}\n"
        f"step: {', '.join(steps)}\n"
        f"error: {' | '.join(errors) or 'see the run log'}\n"
        f"run: {link}"
    )
    return {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }


def post_alert(payload: dict, url: str | None, log, attempts: int = 3, backoff: float = 1.0) -> bool:
    """POST to the webhook with retries; without a webhook, log the alert. Returns True if delivered."""
    if not url:
        log.warning("TAXI_ALERT_WEBHOOK_URL is not set; alert: " + payload["text"])
        return False
    for attempt in range(1, attempts + 1):
        try:
            r = requests.post(url, json=payload, timeout=10)
            if r.status_code < 300:
                return True
            problem = f"HTTP {r.status_code}"
        except requests.RequestException as e:
            problem = type(e).__name__
        if attempt < attempts:
            time.sleep(backoff * 2 ** (attempt - 1))
    log.error(f"alert not delivered after {attempts} attempts ({problem}): " + payload["text"])
    return False


@dg.run_failure_sensor(
    name="run_failure_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts a Slack-compatible alert to TAXI_ALERT_WEBHOOK_URL when a run fails (or logs it).",
)
def run_failure_alert(context: dg.RunFailureSensorContext):
    payload = build_alert(
        context.dagster_run,
        context.get_step_failure_events(),
        os.environ.get("TAXI_UI_URL", "http://127.0.0.1:3000"),
    )
    post_alert(payload, os.environ.get("TAXI_ALERT_WEBHOOK_URL"), context.log)


automation_sensor = dg.AutomationConditionSensorDefinition(
    "taxi_automation_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Evaluates the assets' automation conditions: a re-materialized cleaned parquet "
    "brings that month's Postgres, GCS and BigQuery assets along.",
)
