"""Configuration is read in one place: defaults, and one clear line naming the variable for a bad value."""

import pytest

from taxi_assets.core.config import SOURCES, ConfigError, load_settings


def test_defaults_without_any_variable():
    s = load_settings({})
    assert (s.source, s.url_template, s.zones_url) == ("dtc", *SOURCES["dtc"])
    assert (s.schedule_day_of_month, s.schedule_hour, s.schedule_timezone) == (3, 6, "America/New_York")
    assert s.data_dir.endswith(".taxi_stack/data")


def test_tlc_defaults_to_the_tlcs_own_trip_and_zone_files():
    s = load_settings({"TAXI_SOURCE": "tlc"})
    assert s.url_template.startswith("https://d37ci6vzurychx.cloudfront.net/trip-data/")
    assert s.zones_url == "https://d37ci6vzurychx.cloudfront.net/misc/taxi_zone_lookup.csv"


def test_the_environment_overrides_the_family_urls():
    s = load_settings({"TAXI_SOURCE": "TLC", "TAXI_ZONES_URL": "file:///z.csv", "TAXI_STACK_HOME": "/x"})
    assert (s.source, s.url_template, s.zones_url, s.data_dir) == ("tlc", SOURCES["tlc"][0], "file:///z.csv", "/x/data")


@pytest.mark.parametrize(
    "name, value, says",
    [
        ("TAXI_SOURCE", "prefect", "expected one of dtc, tlc"),
        ("TAXI_SCHEDULE_DAY_OF_MONTH", "31", "from 1 to 28"),
        ("TAXI_SCHEDULE_HOUR", "six", "from 0 to 23"),
        ("TAXI_SCHEDULE_TIMEZONE", "Mars/Olympus", "IANA time zone"),
        ("TAXI_SENSOR_INTERVAL_SECONDS", "5", "from 30"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(name, value, says):
    with pytest.raises(ConfigError) as e:
        load_settings({name: value})
    message = str(e.value)
    assert message.startswith(f"{name}={value!r}") and says in message and "\n" not in message
