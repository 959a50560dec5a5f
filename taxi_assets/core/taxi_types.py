"""The built-in records: yellow, green and fhv trips, and the zone lookup.

What differs between taxi types is written here, as data, and nowhere else: columns (target
name, kind, roles, other header spellings), the real file layouts of each source, and whether the
zero-passenger rule applies. Every asset, check, store and the sample generator read these
records; adding a taxi type (fhvhv, say) means adding one `TaxiType` here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pyarrow as pa

from taxi_assets.core.tables import Column, Layout, Role, TaxiType, ZoneTable

_TS, _F64, _I64, _I32, _S = pa.timestamp("us"), pa.float64(), pa.int64(), pa.int32(), pa.string()
R = Role


def _money(name: str, what: str, required: bool = True, values: tuple | None = None, *sources: str) -> Column:
    return Column(name, "float", f"{what} (USD; negative on refunds).", {R.MONEY}, sources, required, values)


_SURCHARGE = (0, 0.3, 0.5, 0.8, 2.5)
# 2009-2010 yellow files name the vendor as text; the TLC's codes: 1 CMT, 2 VeriFone (VTS). DDS
# (Digital Dispatch Systems, 2009-2010 only) has no code: vendor_id NULL, the text in vendor_name
_VENDOR_CODES = {"CMT": 1, "VTS": 2}
_VENDOR = Column("vendor_id", "int", "TPEP/LPEP provider: 1 = Creative Mobile Technologies, 2 = VeriFone (Curb). "
                 "From the 2009-2010 vendor text: CMT -> 1, VTS -> 2, DDS (no code) -> NULL, the text in vendor_name.",
                 {R.CODE}, ("VendorID", "vendor_name"), values=(1, 2), value_map=_VENDOR_CODES,
                 text_column="vendor_name")
_VENDOR_NAME = Column("vendor_name", "string", "The vendor as the 2009-2010 files name it (VTS, CMT, DDS); NULL from 2011, "
                      "when the files carry VendorID codes.", {R.CODE}, required=False, values=tuple(_VENDOR_CODES) + ("DDS",))
_PASSENGERS = Column("passenger_count", "int", "Passengers, as entered by the driver.", {R.PASSENGER_COUNT})
_DISTANCE = Column("trip_distance", "float", "Trip distance in miles reported by the taximeter.", {R.DISTANCE})
_RATECODE = Column("ratecode_id", "int", "Rate code: 1 standard, 2 JFK, 3 Newark, 4 Nassau/Westchester, 5 negotiated, "
                   "6 group ride, 99 unknown.", {R.CODE}, ("RatecodeID", "Rate_Code", "rate_code"),
                   values=(1,) * 30 + (2, 5, 99))
_STORE_FWD = Column("store_and_fwd_flag", "string", "Y if the trip record was held in vehicle memory before sending, "
                    "N otherwise (2009's store_and_forward 0/1: N/Y).", {R.FLAG}, ("store_and_forward",),
                    values=("N", "Y"))
# yellow 2009-2010 have coordinates, not zones: the zone ids are NULL there
_PU = Column("pu_location_id", "int", "TLC taxi zone where the trip began (see taxi_zone_lookup).",
             {R.ZONE_ID, R.PICKUP_ZONE}, ("PULocationID",))
_DO = Column("do_location_id", "int", "TLC taxi zone where the trip ended (see taxi_zone_lookup).", {R.ZONE_ID},
             ("DOLocationID",))
# 2009 spells payment types out (CASH, Credit, No Charge, Dispute), 2010 abbreviates (CAS, CRD, NOC, DIS, UNK)
_PAYMENT_CODES = {"CREDIT": 1, "CRD": 1, "CRE": 1, "CASH": 2, "CAS": 2, "CSH": 2, "NO CHARGE": 3, "NOC": 3, "NO": 3,
                  "DISPUTE": 4, "DIS": 4, "UNKNOWN": 5, "UNK": 5, "VOIDED": 6}
_PAYMENT = Column("payment_type", "int", "1 credit card, 2 cash, 3 no charge, 4 dispute, 5 unknown, 6 voided. From the "
                  "2009-2010 text (CASH/CAS -> 2, Credit/CRD -> 1, ...), the text kept in payment_type_name.",
                  {R.CODE}, values=(1, 2, 3, 4), value_map=_PAYMENT_CODES, text_column="payment_type_name")
_PAYMENT_NAME = Column("payment_type_name", "string", "The payment type as the 2009-2010 files write it (CASH, Credit, "
                       "CAS, CRD, ...; NULL from 2011, when the files carry codes).", {R.CODE}, required=False,
                       values=("CASH", "Credit", "CAS", "CRD", "No Charge"))


def _coordinate(name: str, what: str, *sources: str) -> Column:
    centre = -73.98 if "longitude" in name else 40.75
    return Column(name, "float", f"{what} (WGS84 degrees; the 2009-2010 yellow files only, NULL later: zone ids instead).",
                  {R.COORDINATE}, sources, False, tuple(round(centre + d / 100, 4) for d in range(-8, 9)))


_COORDINATES = (
    _coordinate("pickup_longitude", "Pick-up longitude", "Start_Lon"),
    _coordinate("pickup_latitude", "Pick-up latitude", "Start_Lat"),
    _coordinate("dropoff_longitude", "Drop-off longitude", "End_Lon"),
    _coordinate("dropoff_latitude", "Drop-off latitude", "End_Lat"),
)
_CONGESTION = _money("congestion_surcharge", "NYS congestion surcharge (from 2019)", False, _SURCHARGE)
_CBD = _money("cbd_congestion_fee", "MTA Congestion Relief Zone fee (from 2025)", False, (0, 0.75))
_FARE_PARTS = (
    _money("fare_amount", "Time-and-distance fare", True, None, "Fare_Amt"),
    _money("extra", "Rush hour and overnight extras (2009-2010: surcharge)", True, _SURCHARGE, "surcharge"),
    _money("mta_tax", "MTA tax", True, _SURCHARGE),
    _money("tip_amount", "Tip (credit card tips only)", True, None, "Tip_Amt"),
    _money("tolls_amount", "Tolls", True, (0,) * 19 + (6.12,), "Tolls_Amt"),
)
_IMPROVEMENT = _money("improvement_surcharge", "Improvement surcharge (from 2015)", False, _SURCHARGE)
_TOTAL = _money("total_amount", "Total charged to passengers (cash tips excluded)", True, None, "Total_Amt")
_PICKUP, _DROPOFF = "Meter engaged (local NYC time).", "Meter disengaged (local NYC time)."

_2022_12, _2023_01 = dt.date(2022, 12, 1), dt.date(2023, 1, 1)
_2024_12, _2025_01 = dt.date(2024, 12, 1), dt.date(2025, 1, 1)

_YELLOW_CSV = (
    "VendorID,tpep_pickup_datetime,tpep_dropoff_datetime,passenger_count,trip_distance,RatecodeID,store_and_fwd_flag,"
    "PULocationID,DOLocationID,payment_type,fare_amount,extra,mta_tax,tip_amount,tolls_amount,improvement_surcharge,"
    "total_amount"
)

def _parquet(header: str, types: dict[str, pa.DataType], default: pa.DataType = _F64) -> list[tuple[str, pa.DataType]]:
    """A parquet layout's fields: `header`'s names in file order, typed as `types` says, else `default`."""
    return [(h, types.get(h, default)) for h in header.split(",")]


# the TLC's yellow parquet files, year by year (physical types from a survey of every file's footer)
_YELLOW_2009 = _parquet(
    "vendor_name,Trip_Pickup_DateTime,Trip_Dropoff_DateTime,Passenger_Count,Trip_Distance,Start_Lon,Start_Lat,"
    "Rate_Code,store_and_forward,End_Lon,End_Lat,Payment_Type,Fare_Amt,surcharge,mta_tax,Tip_Amt,Tolls_Amt,Total_Amt",
    {"vendor_name": _S, "Trip_Pickup_DateTime": _S, "Trip_Dropoff_DateTime": _S, "Passenger_Count": _I64,
     "Payment_Type": _S},
)
_YELLOW_2010_HEADER = (
    "vendor_id,pickup_datetime,dropoff_datetime,passenger_count,trip_distance,pickup_longitude,pickup_latitude,"
    "rate_code,store_and_fwd_flag,dropoff_longitude,dropoff_latitude,payment_type,fare_amount,surcharge,mta_tax,"
    "tip_amount,tolls_amount,total_amount"
)
_YELLOW_2010_TYPES = {"vendor_id": _S, "pickup_datetime": _S, "dropoff_datetime": _S, "passenger_count": _I64,
                      "rate_code": _S, "store_and_fwd_flag": _S, "payment_type": _S}
_YELLOW_MODERN = (
    "VendorID,tpep_pickup_datetime,tpep_dropoff_datetime,passenger_count,trip_distance,RatecodeID,store_and_fwd_flag,"
    "PULocationID,DOLocationID,payment_type,fare_amount,extra,mta_tax,tip_amount,tolls_amount,improvement_surcharge,"
    "total_amount,congestion_surcharge"
)
_INTS_2011 = {"VendorID": _I64, "tpep_pickup_datetime": _TS, "tpep_dropoff_datetime": _TS, "passenger_count": _I64,
              "RatecodeID": _I64, "store_and_fwd_flag": _S, "PULocationID": _I64, "DOLocationID": _I64,
              "payment_type": _I64}
# 2018-07: passenger_count and RatecodeID become doubles; 2023-02: VendorID and the zones INT32, the two INT64 again
_DOUBLES_2018 = {**_INTS_2011, "passenger_count": _F64, "RatecodeID": _F64}
_INTS_2023 = {**_INTS_2011, "VendorID": _I32, "PULocationID": _I32, "DOLocationID": _I32}
_Y = dt.date


def _months(first: dt.date, last: dt.date | None) -> dict:
    return {"months": (first, last)}


YELLOW = TaxiType(
    name="yellow",
    description="Yellow medallion taxis (TPEP): street hails anywhere in NYC.",
    published=dt.date(2009, 1, 1),
    drop_zero_passengers=True,
    columns=(
        _VENDOR,
        Column("pickup_datetime", "timestamp", _PICKUP, {R.PICKUP_TIME}, ("tpep_pickup_datetime", "Trip_Pickup_DateTime")),
        Column("dropoff_datetime", "timestamp", _DROPOFF, {R.DROPOFF_TIME},
               ("tpep_dropoff_datetime", "Trip_Dropoff_DateTime")),
        _PASSENGERS,
        _DISTANCE,
        _RATECODE,
        _STORE_FWD,
        dataclasses.replace(_PU, required=False),  # 2009-2010: coordinates instead
        dataclasses.replace(_DO, required=False),
        _PAYMENT,
        *_FARE_PARTS,
        _IMPROVEMENT,
        _TOTAL,
        _CONGESTION,
        _money("airport_fee", "Airport pick-up fee (from 2021)", False, (0,) * 9 + (1.75,)),
        _CBD,
        *_COORDINATES,
        _VENDOR_NAME,
        _PAYMENT_NAME,
    ),
    layouts=(
        Layout.csv("dtc", _YELLOW_CSV + ",congestion_surcharge"),
        Layout.csv("legacy", _YELLOW_CSV, fmt="csv", months=(None, dt.date(2018, 12, 1))),
        # the TLC's parquet, every era; the first matching the month from the end wins
        Layout.parquet("tlc-2009", _YELLOW_2009, empty=("Rate_Code", "store_and_forward", "mta_tax"),
                       **_months(_Y(2009, 1, 1), _Y(2009, 12, 1))),
        Layout.parquet("tlc-2010", _parquet(_YELLOW_2010_HEADER, _YELLOW_2010_TYPES),
                       **_months(_Y(2010, 1, 1), _Y(2010, 12, 1))),
        # 2010-02 and 2010-03: a pandas index column, and rate_code an integer
        Layout.parquet("tlc-2010-02", _parquet(_YELLOW_2010_HEADER + ",__index_level_0__",
                                               {**_YELLOW_2010_TYPES, "rate_code": _I64, "__index_level_0__": _I64}),
                       **_months(_Y(2010, 2, 1), _Y(2010, 3, 1))),
        # 2011 on: zone ids for every year (re-coded); fees that did not exist yet are there, all NULL,
        # INT32 or DOUBLE from month to month
        Layout.parquet("tlc-2011", _parquet(_YELLOW_MODERN + ",airport_fee",
                                            {**_INTS_2011, "congestion_surcharge": _I32, "airport_fee": _I32}),
                       empty=("improvement_surcharge", "congestion_surcharge", "airport_fee"),
                       **_months(_Y(2011, 1, 1), _Y(2014, 12, 1))),
        Layout.parquet("tlc-2015", _parquet(_YELLOW_MODERN + ",airport_fee",
                                            {**_INTS_2011, "congestion_surcharge": _F64, "airport_fee": _I32}),
                       empty=("congestion_surcharge", "airport_fee"), **_months(_Y(2015, 1, 1), _Y(2018, 6, 1))),
        Layout.parquet("tlc-2018-07", _parquet(_YELLOW_MODERN + ",airport_fee", {**_DOUBLES_2018, "airport_fee": _I32}),
                       empty=("congestion_surcharge", "airport_fee"), **_months(_Y(2018, 7, 1), _Y(2018, 12, 1))),
        Layout.parquet("tlc-2019", _parquet(_YELLOW_MODERN + ",airport_fee", _DOUBLES_2018),
                       empty=("airport_fee",), **_months(_Y(2019, 1, 1), _Y(2020, 12, 1))),
        Layout.parquet("tlc-2021", _parquet(_YELLOW_MODERN + ",airport_fee", _DOUBLES_2018),
                       **_months(_Y(2021, 1, 1), _Y(2023, 1, 1))),
        Layout.parquet("tlc-2023", _parquet(_YELLOW_MODERN + ",Airport_fee", _INTS_2023),
                       **_months(_Y(2023, 2, 1), _2024_12)),
        Layout.parquet("tlc-2025", _parquet(_YELLOW_MODERN + ",Airport_fee,cbd_congestion_fee", _INTS_2023),
                       **_months(_2025_01, None)),
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
        # 2013-08..2014: integers where later files have doubles, the later fees all NULL
        Layout.parquet("tlc-2013", [(n, {"RatecodeID": _I64, "VendorID": _I64, "PULocationID": _I64, "DOLocationID": _I64,
                                        "passenger_count": _I64, "payment_type": _I64, "trip_type": _I64,
                                        "congestion_surcharge": _I32, "improvement_surcharge": _I32}.get(n, t))
                                    for n, t in _GREEN_PARQUET],
                       empty=("ehail_fee", "improvement_surcharge", "congestion_surcharge"),
                       months=(dt.date(2013, 8, 1), dt.date(2014, 12, 1))),
        Layout.parquet("tlc", _GREEN_PARQUET, months=(dt.date(2015, 1, 1), _2024_12), empty=("ehail_fee",)),
        Layout.parquet("tlc-2025", _GREEN_PARQUET + [("cbd_congestion_fee", _F64)], months=(_2025_01, None),
                       empty=("ehail_fee",)),
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
        # 2015-2016: no drop-offs recorded yet; SR_Flag all NULL (INT32)
        Layout.parquet("tlc-2015", [("dispatching_base_num", _S), ("pickup_datetime", _TS), ("dropOff_datetime", _TS),
                                    ("PUlocationID", _F64), ("DOlocationID", _F64), ("SR_Flag", _I32),
                                    ("Affiliated_base_number", _S)],
                       empty=("dropOff_datetime", "DOlocationID", "SR_Flag"),
                       months=(dt.date(2015, 1, 1), dt.date(2016, 12, 1))),
    ),
)

_FLAG = "Y/N: "
_FHVHV_PARQUET = (
    "hvfhs_license_num,dispatching_base_num,originating_base_num,request_datetime,on_scene_datetime,pickup_datetime,"
    "dropoff_datetime,PULocationID,DOLocationID,trip_miles,trip_time,base_passenger_fare,tolls,bcf,sales_tax,"
    "congestion_surcharge,airport_fee,tips,driver_pay,shared_request_flag,shared_match_flag,access_a_ride_flag,"
    "wav_request_flag,wav_match_flag"
)
_FHVHV_TYPES = {"hvfhs_license_num": _S, "dispatching_base_num": _S, "originating_base_num": _S,
                "request_datetime": _TS, "on_scene_datetime": _TS, "pickup_datetime": _TS, "dropoff_datetime": _TS,
                "PULocationID": _I64, "DOLocationID": _I64, "trip_time": _I64, "shared_request_flag": _S,
                "shared_match_flag": _S, "access_a_ride_flag": _S, "wav_request_flag": _S, "wav_match_flag": _S}


def _flag(name: str, what: str) -> Column:
    return Column(name, "string", _FLAG + what, {R.FLAG}, (), False, ("N",) * 9 + ("Y",))


FHVHV = TaxiType(
    name="fhvhv",
    description="High Volume For-Hire Services (Uber, Lyft, Via, Juno): app-dispatched trips, about 20 million a month.",
    published=dt.date(2019, 2, 1),
    columns=(
        Column("hvfhs_license_num", "string", "TLC license number of the High Volume For-Hire Service: HV0002 Juno, "
               "HV0003 Uber, HV0004 Via, HV0005 Lyft.", {R.CODE}, values=("HV0003",) * 6 + ("HV0005",) * 3 + ("HV0004", "HV0002")),
        Column("dispatching_base_num", "string", "TLC base license number of the dispatching base.", {R.BASE_NUMBER}),
        Column("originating_base_num", "string", "Base number of the base that received the original trip request.",
               {R.BASE_NUMBER}, (), False),
        Column("request_datetime", "timestamp", "When the passenger requested the ride (local NYC time).", (), (), False),
        Column("on_scene_datetime", "timestamp", "When the driver arrived at the pick-up (accessible vehicles; local "
               "NYC time).", (), (), False),
        Column("pickup_datetime", "timestamp", "Trip pick-up (local NYC time).", {R.PICKUP_TIME}),
        Column("dropoff_datetime", "timestamp", "Trip drop-off (local NYC time).", {R.DROPOFF_TIME}),
        Column("pu_location_id", "int", "TLC taxi zone where the trip began.", {R.ZONE_ID, R.PICKUP_ZONE}, ("PULocationID",)),
        Column("do_location_id", "int", "TLC taxi zone where the trip ended.", {R.ZONE_ID}, ("DOLocationID",)),
        Column("trip_miles", "float", "Total miles of the passenger trip.", {R.DISTANCE}, (), False),
        Column("trip_time", "int", "Total time of the passenger trip in seconds.", (), (), False, (420, 900, 1260, 1800)),
        _money("base_passenger_fare", "Base passenger fare before tolls, tips, taxes and fees", False),
        _money("tolls", "Tolls", False, (0,) * 19 + (6.94,)),
        _money("bcf", "Black Car Fund", False, (0.5, 0.8, 1.1)),
        _money("sales_tax", "NYS sales tax", False, (1.5, 2.2, 3.1)),
        _money("congestion_surcharge", "NYS congestion surcharge (from 2019)", False, (0, 2.75)),
        _money("airport_fee", "Airport pick-up or drop-off fee (from 2022)", False, (0,) * 9 + (2.5,)),
        _money("tips", "Tips", False, (0,) * 4 + (2, 5)),
        _money("driver_pay", "Driver pay, before tolls and tips", False),
        _flag("shared_request_flag", "the passenger agreed to a shared ride, whether or not it was matched."),
        _flag("shared_match_flag", "the passenger shared the vehicle with another booked passenger on the trip."),
        _flag("access_a_ride_flag", "the trip was administered on behalf of the MTA's Access-A-Ride."),
        _flag("wav_request_flag", "the passenger requested a wheelchair-accessible vehicle."),
        _flag("wav_match_flag", "the trip was in a wheelchair-accessible vehicle."),
        Column("sr_flag", "int", "1 if the trip was part of a shared ride chain (the 2019 CSVs), NULL otherwise.",
               {R.CODE}, ("SR_Flag",), False, (1,)),
        _CBD,
    ),
    layouts=(
        Layout.csv("dtc", "hvfhs_license_num,dispatching_base_num,pickup_datetime,dropoff_datetime,PULocationID,"
                   "DOLocationID,SR_Flag"),
        Layout.csv("legacy", "hvfhs_license_num,dispatching_base_num,pickup_datetime,dropoff_datetime,PULocationID,"
                   "DOLocationID,SR_Flag", fmt="csv", months=(dt.date(2019, 2, 1), dt.date(2019, 12, 1))),
        # the airport fee arrived in 2022: all NULL (INT32) before
        Layout.parquet("tlc-2019", _parquet(_FHVHV_PARQUET, {**_FHVHV_TYPES, "airport_fee": _I32}),
                       empty=("airport_fee",), months=(dt.date(2019, 2, 1), dt.date(2021, 12, 1))),
        Layout.parquet("tlc", _parquet(_FHVHV_PARQUET, _FHVHV_TYPES), months=(dt.date(2022, 1, 1), _2024_12)),
        Layout.parquet("tlc-2025", _parquet(_FHVHV_PARQUET + ",cbd_congestion_fee", _FHVHV_TYPES),
                       months=(_2025_01, None)),
    ),
)

TAXI_TYPES: dict[str, TaxiType] = {t.name: t for t in (YELLOW, GREEN, FHV, FHVHV)}

ZONES = ZoneTable(
    name="taxi_zone_lookup",
    description="TLC taxi zones: LocationID -> borough, zone, service zone (265 rows).",
    columns=(
        Column("location_id", "int", "TLC taxi zone id (PULocationID / DOLocationID of the trips).", {R.ZONE_ID},
               ("LocationID",)),
        Column("borough", "string", "Borough: Manhattan, Brooklyn, Queens, Bronx, Staten Island, EWR or Unknown."),
        Column("zone", "string", "Zone name. 'NA', 'NV' (the older file) and 'N/A' (the current one) are text, "
               "not missing values."),
        Column("service_zone", "string", "Yellow Zone, Boro Zone, Airports, EWR or N/A (text)."),
    ),
    header=("LocationID", "Borough", "Zone", "service_zone"),
)
