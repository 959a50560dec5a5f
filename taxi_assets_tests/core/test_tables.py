"""The table records: every real layout's header is read back by the header matcher, column roles
say what the rules need, and a bad record is refused when it is made."""

import dataclasses

import pytest

from taxi_assets.core.formats import is_pandas_index, match_columns
from taxi_assets.core.tables import Column, Role, TaxiType
from taxi_assets.core.taxi_types import TAXI_TYPES, ZONES

LAYOUTS = [(t, lay) for t in TAXI_TYPES.values() for lay in t.layouts]


@pytest.mark.parametrize("taxi, layout", LAYOUTS, ids=[f"{t.name}-{lay.name}" for t, lay in LAYOUTS])
def test_every_layout_header_feeds_exactly_one_column_and_covers_the_required_ones(taxi, layout):
    headers = [h for h in layout.headers if not is_pandas_index(h)]  # a pandas index is not data
    fed = [taxi.column_for(h) for h in headers]
    assert None not in fed, [h for h, c in zip(headers, fed) if c is None]
    assert len({c.name for c in fed}) == len(headers)  # no two headers feed one column
    assert not {c.name for c in fed} & set(taxi.text_columns)  # text columns are filled by the transform
    mapping, unknown, _ = match_columns(taxi, list(layout.headers), f"{taxi.name} {layout.name}", TAXI_TYPES.values())
    assert unknown == []
    assert {c.name for c in taxi.columns if c.required} <= set(mapping)


def test_each_type_has_one_pickup_time_and_the_passenger_rule_has_its_column():
    for taxi in TAXI_TYPES.values():
        assert taxi.pickup.has(Role.PICKUP_TIME)
        if taxi.drop_zero_passengers:
            assert taxi.passenger_count is not None
        assert taxi.pickup_zone is None or taxi.pickup_zone.has(Role.ZONE_ID)


def test_money_columns_are_found_by_role_not_by_description():
    yellow = TAXI_TYPES["yellow"]
    money = {c.name for c in yellow.with_role(Role.MONEY)}
    assert {"fare_amount", "total_amount", "airport_fee", "cbd_congestion_fee"} <= money
    assert "trip_distance" not in money and not TAXI_TYPES["fhv"].with_role(Role.MONEY)


def test_a_record_without_a_pickup_time_is_refused():
    green = TAXI_TYPES["green"]
    columns = tuple(dataclasses.replace(c, roles=frozenset()) if c.has(Role.PICKUP_TIME) else c for c in green.columns)
    with pytest.raises(ValueError, match="pickup_time"):
        dataclasses.replace(green, name="broken", columns=columns)


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind"):
        Column("x", "decimal", "a column")


def test_the_passenger_rule_without_a_passenger_column_is_refused():
    fhv = TAXI_TYPES["fhv"]
    with pytest.raises(ValueError, match="passenger"):
        TaxiType(fhv.name, fhv.description, fhv.columns, fhv.layouts, drop_zero_passengers=True)


def test_the_zone_lookup_is_a_table_record_of_its_own():
    assert not isinstance(ZONES, TaxiType)
    mapping, unknown, _ = match_columns(ZONES, list(ZONES.header), "zones")
    assert unknown == [] and set(mapping) == {c.name for c in ZONES.columns}
