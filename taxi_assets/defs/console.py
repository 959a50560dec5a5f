"""What a run prints on the terminal: one short line per event, an error as its own message, no stack trace.

`dg launch` and `dagster job execute` print a run's events through the job's `console` logger.
Dagster's default one prints every error with its whole stack trace (a run refused by the preflight
was ~170 lines). This one prints the event and the innermost error's message; the full trace stays in
the run's event log (stored in the instance: the UI's run page shows it). At INFO (the default) it shows
the run's and the steps' outcomes, check results and the assets' own log lines; `log_level: DEBUG`
shows every event. Dagster uses a job's loggers only when the run config names them
(`loggers: {console: {config: {}}}`): `taxi-run` (taxi_assets/launch.py) does. Written here because
Dagster's console loggers have no option to leave the trace out.
"""

import logging
import sys

import dagster as dg

from taxi_assets.core.redaction import redact

LOG_META = "dagster_meta"  # the attribute Dagster's log handler puts on every record it hands a logger


def innermost_message(error) -> str:
    """The deepest cause's message of a Dagster SerializableErrorInfo, first line, without the module path."""
    while error.cause is not None:
        error = error.cause
    text = (error.message or "").strip().splitlines()
    first = text[0] if text else (error.cls_name or "error")
    cls, sep, rest = first.partition(": ")
    if sep and "." in cls and " " not in cls:  # "taxi_assets.core.errors.ConfigError: …" -> "ConfigError: …"
        first = f"{cls.rsplit('.', 1)[1]}: {rest}"
    return first


class ShortFormatter(logging.Formatter):
    """`HH:MM:SS job [partition] [step] EVENT - message`, and for an error its innermost message."""

    def format(self, record: logging.LogRecord) -> str:
        meta = getattr(record, LOG_META, None)
        if not meta:
            return f"{self.formatTime(record, '%H:%M:%S')} {record.getMessage()}"
        event = meta.get("dagster_event")
        parts = [self.formatTime(record, "%H:%M:%S"), meta.get("job_name") or "dagster"]
        partition = (meta.get("job_tags") or {}).get("dagster/partition")
        if partition:
            parts.append(partition)
        if meta.get("step_key"):
            parts.append(meta["step_key"])
        if event is not None:
            parts.append(event.event_type_value)
        line = " ".join(parts) + " - " + (meta.get("orig_message") or "")
        error = getattr(getattr(event, "event_specific_data", None), "error", None) if event is not None else None
        if error is not None:
            line += f"\n    {innermost_message(error)}"
            if event.event_type_value == "STEP_FAILURE":
                line += "\n    (the full trace is in the run's log: the UI's run page)"
        return redact(line)


@dg.logger(
    {"log_level": dg.Field(str, is_required=False, default_value="INFO", description="INFO, or DEBUG for every event")},
    description="Short lines on stderr, no stack traces (taxi_assets/defs/console.py).",
)
def console_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    level = init_context.logger_config["log_level"].upper()
    log = logging.Logger("taxi_assets.run", level=logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(ShortFormatter())
    if level != "DEBUG":
        handler.addFilter(milestones)
    log.addHandler(handler)
    return log


# the events worth a line at INFO: Dagster logs all of its events at DEBUG, errors at ERROR
MILESTONES = {"RUN_START", "RUN_SUCCESS", "RUN_FAILURE", "PIPELINE_FAILURE", "RUN_CANCELED", "STEP_SUCCESS", "STEP_FAILURE",
              "STEP_UP_FOR_RETRY", "ASSET_CHECK_EVALUATION"}


def milestones(record: logging.LogRecord) -> bool:
    """INFO: the run's and steps' outcomes, check results, warnings and errors, and the assets' own log lines."""
    event = (getattr(record, LOG_META, None) or {}).get("dagster_event")
    if event is None:  # a log line; the engine's "Dependencies for step … failed. Not executing." follow a failure
        message = (getattr(record, LOG_META, None) or {}).get("orig_message") or ""
        return record.levelno >= logging.INFO and not message.startswith("Dependencies for step")
    return record.levelno >= logging.WARNING or event.event_type_value in MILESTONES
