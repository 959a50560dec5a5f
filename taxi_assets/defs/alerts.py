"""Failure alerts: a Slack-compatible message for every failed run, POSTed with retries."""


from typing import TYPE_CHECKING

import dagster as dg

from taxi_assets.core.config import load_settings
from taxi_assets.core.redaction import redact

if TYPE_CHECKING:  # requests is imported when an alert is sent, not with the definitions (~70 ms)
    import requests


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


def _session(attempts: int, backoff: float) -> "requests.Session":
    """A session that retries connection errors and 429/5xx answers (POST included), with backoff."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(
        total=attempts - 1, backoff_factor=backoff, status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"POST"}), raise_on_status=False,
    )
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    return session


def post_alert(payload: dict, url: str | None, log, attempts: int = 3, backoff: float = 1.0) -> bool:
    """POST to the webhook with retries; without a webhook, log the alert. Returns True if delivered."""
    if not url:
        log.warning("TAXI_ALERT_WEBHOOK_URL is not set; alert: " + payload["text"])
        return False
    import requests

    with _session(attempts, backoff) as session:
        try:
            r = session.post(url, json=payload, timeout=10)
            if r.status_code < 300:
                return True
            problem = f"HTTP {r.status_code}"
        except requests.RequestException as e:
            problem = type(e).__name__
    log.error(f"alert not delivered after {attempts} attempts ({problem}): " + payload["text"])
    return False


@dg.run_failure_sensor(
    name="run_failure_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts a Slack-compatible alert to TAXI_ALERT_WEBHOOK_URL when a run fails (or logs it).",
)
def run_failure_alert(context: dg.RunFailureSensorContext):
    settings = load_settings()
    payload = build_alert(context.dagster_run, context.get_step_failure_events(), settings.get("TAXI_UI_URL"))
    post_alert(payload, settings.get("TAXI_ALERT_WEBHOOK_URL"), context.log)
