"""The built-in records: yellow, green and fhv trips, and the zone lookup.

What differs between taxi types is written here, as data, and nowhere else: columns (target
name, kind, roles, other header spellings), the real file layouts of each source, and whether the
zero-passenger rule applies. Every asset, check, store and the sample generator read these
records; adding a taxi type (fhvhv, say) means adding one `TaxiType` here.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from taxi_assets.core.tables import Column, Layout, Role, TaxiType, ZoneTable

_TS, _F64, _I64, _I32, _S = pa.timestamp("us"), pa.float64(), pa.int64(), pa.int32(), pa.string()
R = Role


def _money(name: str, what: str, required: bool = True, values: tuple | None = None, *sources: str) -> Column:
    return Column(name, "float", f"{what} (USD; negative on refunds).", {R.MONEY}, sources, required, values)


_SURCHARGE = (0, 0.3, 0.5, 0.8, 2.5)
_VENDOR = Column("vendor_id", "int", "TPEP/LPEP provider: 1 = Creative Mobile Technologies, 2 = VeriFone (Curb).",
                 {R.CODE}, ("VendorID",), values=(1, 2))
_PASSENGERS = Column("passenger_count", "int", "Passengers, as entered by the driver.", {R.PASSENGER_COUNT})
_DISTANCE = Column("trip_distance", "float", "Trip distance in miles reported by the taximeter.", {R.DISTANCE})
_RATECODE = Column("ratecode_id", "int", "Rate code: 1 standard, 2 JFK, 3 Newark, 4 Nassau/Westchester, 5 negotiated, "
                   "6 group ride, 99 unknown.", {R.CODE}, ("RatecodeID",), values=(1,) * 30 + (2, 5, 99))
_STORE_FWD = Column("store_and_fwd_flag", "string", "Y if the trip record was held in vehicle memory before sending, "
                    "N otherwise.", {R.FLAG}, values=("N", "Y"))
_PU = Column("pu_location_id", "int", "TLC taxi zone where the trip began (see taxi_zone_lookup).",
             {R.ZONE_ID, R.PICKUP_ZONE}, ("PULocationID",))
_DO = Column("do_location_id", "int", "TLC taxi zone where the trip ended (see taxi_zone_lookup).", {R.ZONE_ID},
             ("DOLocationID",))
_PAYMENT = Column("payment_type", "int", "1 credit card, 2 cash, 3 no charge, 4 dispute, 5 unknown, 6 voided.",
                  {R.CODE}, values=(1, 2, 3, 4))
_CONGESTION = _money("congestion_surcharge", "NYS congestion surcharge (from 2019)", False, _SURCHARGE)
_CBD = _money("cbd_congestion_fee", "MTA Congestion Relief Zone fee (from 2025)", False, (0, 0.75))
_FARE_PARTS = (
    _money("fare_amount", "Time-and-distance fare"),
    _money("extra", "Rush hour and overnight extras", True, _SURCHARGE),
    _money("mta_tax", "MTA tax", True, _SURCHARGE),
    _money("tip_amount", "Tip (credit card tips only)"),
    _money("tolls_amount", "Tolls", True, (0,) * 19 + (6.12,)),
)
_IMPROVEMENT = _money("improvement_surcharge", "Improvement surcharge", True, _SURCHARGE)
_TOTAL = _money("total_amount", "Total charged to passengers (cash tips excluded)")
_PICKUP, _DROPOFF = "Meter engaged (local NYC time).", "Meter disengaged (local NYC time)."

_2022_12, _2023_01 = dt.date(2022, 12, 1), dt.date(2023, 1, 1)
_2024_12, _2025_01 = dt.date(2024, 12, 1), dt.date(2025, 1, 1)

_YELLOW_CSV = (
    "VendorID,tpep_pickup_datetime,tpep_dropoff_datetime,passenger_count,trip_distance,RatecodeID,store_and_fwd_flag,"
    "PULocationID,DOLocationID,payment_type,fare_amount,extra,mta_tax,tip_amount,tolls_amount,improvement_surcharge,"
    "total_amount"
)
_YELLOW_PARQUET = [
    ("VendorID", _I32), ("tpep_pickup_datetime", _TS), ("tpep_dropoff_datetime", _TS), ("passenger_count", _F64),
    ("trip_distance", _F64), ("RatecodeID", _F64), ("store_and_fwd_flag", _S), ("PULocationID", _I32),
    ("DOLocationID", _I32), ("payment_type", _I64), ("fare_amount", _F64), ("extra", _F64), ("mta_tax", _F64),
    ("tip_amount", _F64), ("tolls_amount", _F64), ("improvement_surcharge", _F64), ("total_amount", _F64),
    ("congestion_surcharge", _F64),
]

YELLOW = TaxiType(
    name="yellow",
    description="Yellow medallion taxis (TPEP): street hails anywhere in NYC.",
    published=dt.date(2009, 1, 1),
    drop_zero_passengers=True,
    columns=(
        _VENDOR,
        Column("pickup_datetime", "timestamp", _PICKUP, {R.PICKUP_TIME}, ("tpep_pickup_datetime",)),
        Column("dropoff_datetime", "timestamp", _DROPOFF, {R.DROPOFF_TIME}, ("tpep_dropoff_datetime",)),
        _PASSENGERS,
        _DISTANCE,
        _RATECODE,
        _STORE_FWD,
        _PU,
        _DO,
        _PAYMENT,
        *_FARE_PARTS,
        _IMPROVEMENT,
        _TOTAL,
        _CONGESTION,
        _money("airport_fee", "Airport pick-up fee (from 2021)", False, (0,) * 9 + (1.75,)),
        _CBD,
    ),
    layouts=(
        Layout.csv("dtc", _YELLOW_CSV + ",congestion_surcharge"),
        Layout.csv("legacy", _YELLOW_CSV, fmt="csv", months=(None, dt.date(2018, 12, 1))),
        Layout.parquet("tlc-2021", _YELLOW_PARQUET + [("airport_fee", _F64)], months=(None, _2022_12)),
        Layout.parquet("tlc-2023", _YELLOW_PARQUET + [("Airport_fee", _F64)], months=(_2023_01, _2024_12)),
        Layout.parquet("tlc-2025", _YELLOW_PARQUET + [("Airport_fee", _F64), ("cbd_congestion_fee", _F64)],
                       months=(_2025_01, None)),
    ),
    # the real files end with a block of rows whose vendor, passenger, rate code, flag, payment and
    # congestion fields are empty: the sample writes such a block
    tail_block_nulls=("vendor_id", "passenger_count", "ratecode_id", "store_and_fwd_flag", "payment_type",
                      "congestion_surcharge"),
)

_GREEN_CSV = (
    "VendorID,lpep_pickup_datetime,lpep_dropoff_datetime,store_and_fwd_flag,RatecodeID,PULocationID,DOLocationID,"
    "passenger_count,trip_distance,fare_amount,extra,mta_tax,tip_amount,tolls_amount,ehail_fee,improvement_surcharge,"
    "total_amount,payment_type,trip_type"
)
_GREEN_PARQUET = [
    ("VendorID", _I32), ("lpep_pickup_datetime", _TS), ("lpep_dropoff_datetime", _TS), ("store_and_fwd_flag", _S),
    ("RatecodeID", _F64), ("PULocationID", _I32), ("DOLocationID", _I32), ("passenger_count", _F64),
    ("trip_distance", _F64), ("fare_amount", _F64), ("extra", _F64), ("mta_tax", _F64), ("tip_amount", _F64),
    ("tolls_amount", _F64), ("ehail_fee", _F64), ("improvement_surcharge", _F64), ("total_amount", _F64),
    ("payment_type", _F64), ("trip_type", _F64), ("congestion_surcharge", _F64),
]

GREEN = TaxiType(
    name="green",
    description="Green boro taxis (LPEP): street hails outside Manhattan's core.",
    published=dt.date(2013, 8, 1),
    drop_zero_passengers=True,
    columns=(
        _VENDOR,
        Column("pickup_datetime", "timestamp", _PICKUP, {R.PICKUP_TIME}, ("lpep_pickup_datetime",)),
        Column("dropoff_datetime", "timestamp", _DROPOFF, {R.DROPOFF_TIME}, ("lpep_dropoff_datetime",)),
        _STORE_FWD,
        _RATECODE,
        _PU,
        _DO,
        _PASSENGERS,
        _DISTANCE,
        *_FARE_PARTS,
        _money("ehail_fee", "E-hail fee (always empty in practice)", False, ()),
        _IMPROVEMENT,
        _TOTAL,
        _PAYMENT,
        Column("trip_type", "int", "1 street hail, 2 dispatch.", {R.CODE}, (), False, (1, 2)),
        _CONGESTION,
        _CBD,
    ),
    layouts=(
        Layout.csv("dtc", _GREEN_CSV + ",congestion_surcharge"),
        Layout.csv("legacy", _GREEN_CSV, fmt="csv", months=(None, dt.date(2018, 12, 1))),
        Layout.parquet("tlc", _GREEN_PARQUET, months=(None, _2024_12)),
        Layout.parquet("tlc-2025", _GREEN_PARQUET + [("cbd_congestion_fee", _F64)], months=(_2025_01, None)),
    ),
)

FHV = TaxiType(
    name="fhv",
    description="For-hire vehicles (community car services, black cars, luxury limousines).",
    published=dt.date(2015, 1, 1),
    columns=(
        Column("dispatching_base_num", "string", "TLC base license number of the dispatching base.", {R.BASE_NUMBER}),
        Column("pickup_datetime", "timestamp", "Trip pick-up (local NYC time).", {R.PICKUP_TIME}),
        Column("dropoff_datetime", "timestamp", "Trip drop-off (local NYC time).", {R.DROPOFF_TIME},
               ("dropOff_datetime",), False),
        Column("pu_location_id", "int", "TLC taxi zone where the trip began.", {R.ZONE_ID, R.PICKUP_ZONE},
               ("PUlocationID",), False),
        Column("do_location_id", "int", "TLC taxi zone where the trip ended.", {R.ZONE_ID}, ("DOlocationID",), False),
        Column("sr_flag", "int", "1 if the trip was part of a shared ride chain, NULL otherwise.", {R.CODE},
               ("SR_Flag",), False, (1,)),
        Column("affiliated_base_number", "string", "Base number of the base the vehicle is affiliated with.",
               {R.BASE_NUMBER}, ("Affiliated_base_number",), False),
    ),
    layouts=(
        Layout.csv("dtc", "dispatching_base_num,pickup_datetime,dropOff_datetime,PUlocationID,DOlocationID,SR_Flag,"
                   "Affiliated_base_number"),
        Layout.csv("legacy", "Dispatching_base_num,Pickup_DateTime,DropOff_datetime,PUlocationID,DOlocationID",
                   fmt="csv", quoted=True, months=(None, dt.date(2018, 12, 1))),
        Layout.parquet("tlc", [("dispatching_base_num", _S), ("pickup_datetime", _TS), ("dropOff_datetime", _TS),
                               ("PUlocationID", _F64), ("DOlocationID", _F64), ("SR_Flag", _F64),
                               ("Affiliated_base_number", _S)]),
    ),
)

TAXI_TYPES: dict[str, TaxiType] = {t.name: t for t in (YELLOW, GREEN, FHV)}

ZONES = ZoneTable(
    name="taxi_zone_lookup",
    description="TLC taxi zones: LocationID -> borough, zone, service zone (265 rows).",
    columns=(
        Column("location_id", "int", "TLC taxi zone id (PULocationID / DOLocationID of the trips).", {R.ZONE_ID},
               ("LocationID",)),
        Column("borough", "string", "Borough: Manhattan, Brooklyn, Queens, Bronx, Staten Island, EWR or Unknown."),
        Column("zone", "string", "Zone name. 'NA' and 'NV' are zone names, not missing values."),
        Column("service_zone", "string", "Yellow Zone, Boro Zone, Airports, EWR or N/A."),
    ),
    header=("LocationID", "Borough", "Zone", "service_zone"),
)
