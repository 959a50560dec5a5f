"""The quality rules, with no server: grading thresholds and one measured pass over a parquet file."""

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from taxi_assets.core.quality import ERROR, PASS, RULES, WARN, measure_quality, quality_rules
from taxi_assets.core.taxi_types import TAXI_TYPES

MONTH = dt.date(2021, 1, 1)


@pytest.mark.parametrize(
    "rule, flagged, rows, grade",
    [
        ("pickups_in_month", 0, 1000, PASS),
        ("pickups_in_month", 10, 1000, PASS),  # exactly pass_max (1 %)
        ("pickups_in_month", 11, 1000, WARN),
        ("pickups_in_month", 50, 1000, WARN),  # exactly error_above (5 %): still WARN
        ("pickups_in_month", 51, 1000, ERROR),
        ("known_zone_ids", 1, 1000, WARN),  # any bad zone id fails
        ("known_zone_ids", 11, 1000, ERROR),
        ("no_negative_amounts", 0, 0, PASS),  # an empty month flags nothing
    ],
)
def test_grading_follows_the_documented_thresholds(rule, flagged, rows, grade):
    got, share = RULES[rule].grade(flagged, rows)
    assert got == grade
    assert share == (flagged / rows if rows else 0.0)


def test_rules_apply_by_column_roles():
    assert [r.name for r in quality_rules(TAXI_TYPES["yellow"])] == [
        "pickups_in_month", "no_negative_amounts", "dropoff_not_before_pickup", "known_zone_ids"]
    assert "no_negative_amounts" not in [r.name for r in quality_rules(TAXI_TYPES["fhv"])]


def test_one_pass_counts_what_each_rule_flags(tmp_path):
    fhv = TAXI_TYPES["fhv"]
    ts = lambda d, h=0: dt.datetime(d.year, d.month, d.day, h)  # noqa: E731
    rows = {
        "pickup_datetime": [ts(MONTH), ts(dt.date(2020, 12, 31)), ts(MONTH, 5), ts(MONTH, 6)],
        "dropoff_datetime": [ts(MONTH, 1), ts(MONTH), ts(MONTH, 4), ts(MONTH, 7)],
        "pu_location_id": [1, 266, None, 265],
        "do_location_id": [2, 3, 0, None],
    }
    table = pa.table({c.name: pa.array(rows.get(c.name, [None] * 4), c.arrow_type) for c in fhv.all_columns})
    path = tmp_path / "m.parquet"
    pq.write_table(table, path)
    q = measure_quality(path, fhv, MONTH)
    assert q.rows == 4
    assert q.flagged == {"pickups_in_month": 1, "dropoff_not_before_pickup": 1, "known_zone_ids": 2}
    assert q.null_zone_ids == 2
    assert len(q.examples["known_zone_ids"]) == 2
