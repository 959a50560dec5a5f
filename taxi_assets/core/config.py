"""All configuration, read from the environment in one place and checked here.

Every variable the pipeline reads is listed in `VARIABLES` with its default and meaning; a bad
value is a `ConfigError` of one line that names the variable, the value (never a secret's) and
what would work. The Dagster layer turns the variables that are set into `dg.EnvVar`s, so that
secrets are resolved when a run starts and never shown in the UI.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from taxi_assets.core.errors import ConfigError

DTC_URL_TEMPLATE = (
    "https://github.com/DataTalksClub/nyc-tlc-data/releases/download/{taxi}/{taxi}_tripdata_{year}-{month}.csv.gz"
)
DTC_ZONES_URL = "https://github.com/DataTalksClub/nyc-tlc-data/releases/download/misc/taxi_zone_lookup.csv"
TLC_URL_TEMPLATE = "https://d37ci6vzurychx.cloudfront.net/trip-data/{taxi}_tripdata_{year}-{month}.parquet"
TLC_ZONES_URL = "https://d37ci6vzurychx.cloudfront.net/misc/taxi_zone_lookup.csv"
# TAXI_SOURCE picks a family: the DataTalksClub csv.gz releases (2019-01..2021-07) or the TLC's
# own monthly parquet files (every year, published about two months late). The transform reads either.
SOURCES: dict[str, tuple[str, str]] = {
    "dtc": (DTC_URL_TEMPLATE, DTC_ZONES_URL),
    "tlc": (TLC_URL_TEMPLATE, TLC_ZONES_URL),
}
# the months each family can have, per taxi type (first, last; None = up to the newest the family can
# have published): the DataTalksClub releases are fixed (yellow, green and fhv 2019-01..2021-07,
# fhvhv 2021-01..2021-07); the TLC publishes from each type's `TaxiType.published` on, about two
# months late, so the newest month it can have is the one two months before the current one
DTC_MONTHS = (dt.date(2019, 1, 1), dt.date(2021, 7, 1))
DTC_MONTHS_BY_TYPE = {"fhvhv": (dt.date(2021, 1, 1), dt.date(2021, 7, 1))}
TLC_LAG_MONTHS = 2


@dataclasses.dataclass(frozen=True)
class Variable:
    name: str
    default: str | None  # None: required where it is used
    meaning: str
    secret: bool = False


VARIABLES: dict[str, Variable] = {
    v.name: v
    for v in (
        Variable("TAXI_SOURCE", "dtc", "which family of files: dtc (DataTalksClub csv.gz releases) or tlc (the TLC's parquet)"),
        Variable("TAXI_SOURCE_URL", None, "URL template with {taxi}, {year}, {month} (default: the family's)", secret=True),
        Variable("TAXI_ZONES_URL", None, "the zone lookup csv (default: the family's)", secret=True),
        Variable("TAXI_SOURCE_FILE_ROOT", None, "the only folder file:// sources may read (unset: no file:// source)"),
        Variable("TAXI_DATA_DIR", None, "raw and parquet files: a folder or gs://BUCKET/PREFIX (default: $TAXI_STACK_HOME/data)"),
        Variable("TAXI_POSTGRES_URL", None, "libpq URL of the trip database", secret=True),
        Variable("TAXI_POSTGRES_SCHEMA", "public", "schema of the trip tables"),
        Variable("TAXI_GCP_PROJECT", None, "project of the lake bucket (default: TAXI_BQ_PROJECT)"),
        Variable("TAXI_GCS_BUCKET", None, "the lake bucket"),
        Variable("TAXI_GCS_PREFIX", "", "object name prefix in the bucket"),
        Variable("TAXI_BQ_PROJECT", None, "the warehouse project"),
        Variable("TAXI_BQ_DATASET", None, "the warehouse dataset"),
        Variable("TAXI_BQ_LOCATION", "US", "location of the dataset and its jobs"),
        Variable("TAXI_BQ_REQUEST_TIMEOUT_SECONDS", "30",
                 "one BigQuery request's timeout (the emulator runs a load job inside its request: raise it there)"),
        Variable("TAXI_SCHEDULE_DAY_OF_MONTH", "3", "day of the month the monthly schedules tick (1-28)"),
        Variable("TAXI_SCHEDULE_HOUR", "6", "hour (0-23) the monthly schedules tick"),
        Variable("TAXI_SCHEDULE_TIMEZONE", "America/New_York", "time zone of the schedules and partitions"),
        Variable("TAXI_SENSOR_INTERVAL_SECONDS", str(6 * 3600), "seconds between new-file sensor ticks"),
        Variable("TAXI_REPUBLISH_INTERVAL_SECONDS", str(24 * 3600),
                 "seconds between republished-file sensor ticks (24 months probed a tick)"),
        Variable("TAXI_ALERT_WEBHOOK_URL", None, "Slack-compatible webhook for failed runs (unset: logged)", secret=True),
        Variable("TAXI_UI_URL", "http://127.0.0.1:3000", "the UI's address, for links in alerts"),
    )
}


@dataclasses.dataclass(frozen=True)
class Settings:
    """The values that shape the definitions (checked when the code location loads)."""

    source: str
    url_template: str
    zones_url: str
    data_dir: str
    schedule_day_of_month: int
    schedule_hour: int
    schedule_timezone: str
    sensor_interval_seconds: int
    republish_interval_seconds: int
    environ: Mapping[str, str]

    def is_set(self, name: str) -> bool:
        return bool(self.environ.get(name))

    def get(self, name: str) -> str | None:
        """The variable's value, else its default."""
        return self.environ.get(name) or VARIABLES[name].default


def default_data_dir(environ: Mapping[str, str]) -> str:
    return str(Path(environ.get("TAXI_STACK_HOME") or ".taxi_stack") / "data")


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)

    def get(name: str) -> str:
        return env.get(name) or VARIABLES[name].default or ""

    source = get("TAXI_SOURCE").strip().lower()
    if source not in SOURCES:
        raise ConfigError(f"TAXI_SOURCE={env.get('TAXI_SOURCE')!r}: expected one of {', '.join(sorted(SOURCES))}")
    url_template, zones_url = SOURCES[source]
    day = _whole_number(get, "TAXI_SCHEDULE_DAY_OF_MONTH", 1, 28)
    hour = _whole_number(get, "TAXI_SCHEDULE_HOUR", 0, 23)
    tz = get("TAXI_SCHEDULE_TIMEZONE")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"TAXI_SCHEDULE_TIMEZONE={tz!r}: expected an IANA time zone, e.g. America/New_York") from None
    interval = _whole_number(get, "TAXI_SENSOR_INTERVAL_SECONDS", 30, 10**9)
    republish = _whole_number(get, "TAXI_REPUBLISH_INTERVAL_SECONDS", 30, 10**9)
    _whole_number(get, "TAXI_BQ_REQUEST_TIMEOUT_SECONDS", 1, 3600)
    data_dir = env.get("TAXI_DATA_DIR") or default_data_dir(env)
    if "://" in data_dir:
        check_data_dir_url(data_dir)
    return Settings(
        source=source,
        url_template=env.get("TAXI_SOURCE_URL") or url_template,
        zones_url=env.get("TAXI_ZONES_URL") or zones_url,
        data_dir=data_dir,
        schedule_day_of_month=day,
        schedule_hour=hour,
        schedule_timezone=tz,
        sensor_interval_seconds=interval,
        republish_interval_seconds=republish,
        environ=env,
    )


def _whole_number(get, name: str, low: int, high: int) -> int:
    value = get(name).strip()
    if not value.isdigit() or not low <= int(value) <= high:
        raise ConfigError(f"{name}={value!r}: expected a whole number from {low} to {high}")
    return int(value)


def check_data_dir_url(url: str) -> None:
    """A TAXI_DATA_DIR URL must be gs://BUCKET[/PREFIX] (the object store of core/stores/files.py)."""
    bucket = url.removeprefix("gs://").partition("/")[0]
    if not url.startswith("gs://") or not bucket or any(c in bucket for c in " ?#*[]"):
        raise ConfigError(f"TAXI_DATA_DIR={url!r}: expected a folder or gs://BUCKET[/PREFIX]")
