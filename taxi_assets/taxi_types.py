"""What differs between taxi types, as data.

Every asset, IO manager and loader is written once and reads these records; adding a taxi type
(fhvhv, say) means adding one `TaxiType` here, nothing else.

A `Column` names its target (lower snake_case, the same name for the same meaning across types),
its logical kind (one of `KINDS`, which maps to Arrow, Postgres and BigQuery types in one table)
and every header spelling the sources have used for it (matched case-insensitively).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pyarrow as pa

# logical kind -> (Arrow type, Postgres type, BigQuery type)
KINDS: dict[str, tuple[pa.DataType, str, str]] = {
    "int": (pa.int64(), "bigint", "INT64"),
    "float": (pa.float64(), "double precision", "FLOAT64"),
    # local NYC wall-clock times, no zone: Postgres timestamp (without time zone), BigQuery DATETIME
    "timestamp": (pa.timestamp("us"), "timestamp", "DATETIME"),
    "string": (pa.string(), "text", "STRING"),
    "date": (pa.date32(), "date", "DATE"),
}

SOURCE_MONTH = "source_month"


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    kind: str
    description: str
    sources: tuple[str, ...] = ()
    # a column some eras lack (congestion_surcharge before 2019, airport_fee before 2021 …):
    # absent from a file -> all NULL; a required column absent -> a clear error
    required: bool = True

    @property
    def arrow_type(self) -> pa.DataType:
        return KINDS[self.kind][0]

    @property
    def postgres_type(self) -> str:
        return KINDS[self.kind][1]

    @property
    def bigquery_type(self) -> str:
        return KINDS[self.kind][2]

    def matches(self, header: str) -> bool:
        h = header.strip().lower()
        return h == self.name or h in (s.lower() for s in self.sources)


@dataclasses.dataclass(frozen=True)
class TaxiType:
    name: str
    description: str
    columns: tuple[Column, ...]
    # the one cleaning rule of the original course: trips with passenger_count == 0 are dropped
    drop_zero_passengers: bool = False

    @property
    def table(self) -> str:
        return f"{self.name}_taxi_trips"

    @property
    def all_columns(self) -> tuple[Column, ...]:
        """The source columns plus `source_month`, in table order."""
        return self.columns + (
            Column(SOURCE_MONTH, "date", "First day of the month of the source file this row came from."),
        )

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema(
            [pa.field(c.name, c.arrow_type, metadata={"description": c.description}) for c in self.all_columns]
        )

    def file_label(self, month: dt.date) -> str:
        """How errors and logs name one source file: `yellow 2021-01`."""
        return f"{self.name} {month:%Y-%m}"


def _money(name: str, what: str, required: bool = True, *sources: str) -> Column:
    return Column(name, "float", f"{what} (USD; negative on refunds).", sources, required)


_VENDOR = Column("vendor_id", "int", "TPEP/LPEP provider: 1 = Creative Mobile Technologies, 2 = VeriFone (Curb).", ("VendorID",))
_PASSENGERS = Column("passenger_count", "int", "Passengers, as entered by the driver.")
_DISTANCE = Column("trip_distance", "float", "Trip distance in miles reported by the taximeter.")
_RATECODE = Column("ratecode_id", "int", "Rate code: 1 standard, 2 JFK, 3 Newark, 4 Nassau/Westchester, 5 negotiated, 6 group ride, 99 unknown.", ("RatecodeID",))
_STORE_FWD = Column("store_and_fwd_flag", "string", "Y if the trip record was held in vehicle memory before sending, N otherwise.")
_PU = Column("pu_location_id", "int", "TLC taxi zone where the trip began (see taxi_zone_lookup).", ("PULocationID",))
_DO = Column("do_location_id", "int", "TLC taxi zone where the trip ended (see taxi_zone_lookup).", ("DOLocationID",))
_PAYMENT = Column("payment_type", "int", "1 credit card, 2 cash, 3 no charge, 4 dispute, 5 unknown, 6 voided.")
_CONGESTION = _money("congestion_surcharge", "NYS congestion surcharge (from 2019)", False)
_CBD = _money("cbd_congestion_fee", "MTA Congestion Relief Zone fee (from 2025)", False)
_FARE_PARTS = (
    _money("fare_amount", "Time-and-distance fare"),
    _money("extra", "Rush hour and overnight extras"),
    _money("mta_tax", "MTA tax"),
    _money("tip_amount", "Tip (credit card tips only)"),
    _money("tolls_amount", "Tolls"),
)
_PICKUP, _DROPOFF = "Meter engaged (local NYC time).", "Meter disengaged (local NYC time)."

YELLOW = TaxiType(
    name="yellow",
    description="Yellow medallion taxis (TPEP): street hails anywhere in NYC.",
    drop_zero_passengers=True,
    columns=(
        _VENDOR,
        Column("pickup_datetime", "timestamp", _PICKUP, ("tpep_pickup_datetime",)),
        Column("dropoff_datetime", "timestamp", _DROPOFF, ("tpep_dropoff_datetime",)),
        _PASSENGERS,
        _DISTANCE,
        _RATECODE,
        _STORE_FWD,
        _PU,
        _DO,
        _PAYMENT,
        *_FARE_PARTS,
        _money("improvement_surcharge", "Improvement surcharge"),
        _money("total_amount", "Total charged to passengers (cash tips excluded)"),
        _CONGESTION,
        _money("airport_fee", "Airport pick-up fee (from 2021)", False),
        _CBD,
    ),
)

GREEN = TaxiType(
    name="green",
    description="Green boro taxis (LPEP): street hails outside Manhattan's core.",
    drop_zero_passengers=True,
    columns=(
        _VENDOR,
        Column("pickup_datetime", "timestamp", _PICKUP, ("lpep_pickup_datetime",)),
        Column("dropoff_datetime", "timestamp", _DROPOFF, ("lpep_dropoff_datetime",)),
        _STORE_FWD,
        _RATECODE,
        _PU,
        _DO,
        _PASSENGERS,
        _DISTANCE,
        *_FARE_PARTS,
        _money("ehail_fee", "E-hail fee (always empty in practice)", False),
        _money("improvement_surcharge", "Improvement surcharge"),
        _money("total_amount", "Total charged to passengers (cash tips excluded)"),
        _PAYMENT,
        Column("trip_type", "int", "1 street hail, 2 dispatch.", (), False),
        _CONGESTION,
        _CBD,
    ),
)

FHV = TaxiType(
    name="fhv",
    description="For-hire vehicles (community car services, black cars, luxury limousines).",
    columns=(
        Column("dispatching_base_num", "string", "TLC base license number of the dispatching base."),
        Column("pickup_datetime", "timestamp", "Trip pick-up (local NYC time).", ("Pickup_DateTime",)),
        Column("dropoff_datetime", "timestamp", "Trip drop-off (local NYC time).", ("dropOff_datetime", "DropOff_datetime"), False),
        Column("pu_location_id", "int", "TLC taxi zone where the trip began.", ("PUlocationID", "PULocationID"), False),
        Column("do_location_id", "int", "TLC taxi zone where the trip ended.", ("DOlocationID", "DOLocationID"), False),
        Column("sr_flag", "int", "1 if the trip was part of a shared ride chain, NULL otherwise.", ("SR_Flag",), False),
        Column("affiliated_base_number", "string", "Base number of the base the vehicle is affiliated with.", ("Affiliated_base_number",), False),
    ),
)

TAXI_TYPES: dict[str, TaxiType] = {t.name: t for t in (YELLOW, GREEN, FHV)}
