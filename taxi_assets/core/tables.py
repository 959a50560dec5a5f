"""The table records: what a column is, what a taxi type is, what the zone lookup is -- as data.

Every part of the pipeline reads these records instead of naming columns: the transform (header
matching, types, the cleaning rule), the stores (DDL, BigQuery schemas), the quality checks and
the sample generator (through column *roles*). Adding a taxi type is one `TaxiType` record.

- `Column`: a target name (lower snake_case, the same name for the same meaning across types),
  a logical kind (one of `KINDS`, which maps to Arrow, Postgres and BigQuery in one table), its
  roles, and the other header spellings the sources have used for it (matched case-insensitively).
- `Layout`: one real file layout of a source (the header exactly as the files spell it, in file
  order, and for parquet the physical types): what the sample generator writes and what a test
  checks the reader matches.
- `TaxiType`: columns, layouts, and whether the one cleaning rule (drop zero-passenger trips)
  applies. `ZoneTable`: the zone lookup, a small unpartitioned table.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping

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

# the asset names of one taxi type, also the folders of the file store and the lake
RAW_FILE = "raw_file"
CLEANED_PARQUET = "cleaned_parquet"
POSTGRES_TABLE = "postgres_table"
GCS_OBJECT = "gcs_object"
BIGQUERY_TABLE = "bigquery_table"


class Role(str, enum.Enum):
    """What a column means, for the rules that read columns by meaning rather than by name."""

    PICKUP_TIME = "pickup_time"  # the trip's start: the month it belongs to
    DROPOFF_TIME = "dropoff_time"
    PASSENGER_COUNT = "passenger_count"  # the zero-passenger cleaning rule
    MONEY = "money"  # USD amounts: the negative-amount check
    ZONE_ID = "zone_id"  # TLC taxi zone ids 1..265: the zone check and the zone join
    PICKUP_ZONE = "pickup_zone"  # the zone the trip began in (joined to zone names)
    CODE = "code"  # a documented integer code (`Column.values` lists them)
    FLAG = "flag"  # Y/N text
    BASE_NUMBER = "base_number"  # a TLC base license number (text, B00001)
    DISTANCE = "distance"  # miles
    COORDINATE = "coordinate"  # WGS84 degrees of the 2009-2010 yellow files (no zone ids yet): NULL after


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    kind: str
    description: str
    roles: frozenset[Role] = frozenset()
    sources: tuple[str, ...] = ()  # other header spellings (case-insensitive)
    # a column some eras lack (congestion_surcharge before 2019, airport_fee before 2021 ...):
    # absent from a file -> all NULL; a required column absent -> a clear error
    required: bool = True
    # documented values (codes, flags) or typical values (surcharges): the sample generator draws
    # from them; None -> generated from the roles and kind
    values: tuple | None = None
    # a code column some eras send as text (2009-2010 yellow: vendor "VTS"/"CMT", payment "CASH"):
    # text -> documented code (matched case-insensitively; text not listed -> NULL), and the text
    # itself is kept in the column `text_column` (filled only by the transform, never from a header)
    value_map: Mapping[str, int] | tuple[tuple[str, int], ...] | None = None
    text_column: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.name}: kind {self.kind!r} is not one of {sorted(KINDS)}")
        if (self.value_map is None) != (self.text_column is None):
            raise ValueError(f"column {self.name}: value_map and text_column go together")
        object.__setattr__(self, "roles", frozenset(Role(r) for r in self.roles))
        if self.value_map is not None:
            # kept as (TEXT, code) pairs: a record stays hashable
            object.__setattr__(self, "value_map", tuple((k.upper(), v) for k, v in dict(self.value_map).items()))

    @property
    def arrow_type(self) -> pa.DataType:
        return KINDS[self.kind][0]

    @property
    def postgres_type(self) -> str:
        return KINDS[self.kind][1]

    @property
    def bigquery_type(self) -> str:
        return KINDS[self.kind][2]

    def has(self, role: Role) -> bool:
        return role in self.roles

    def matches(self, header: str) -> bool:
        h = header.strip().lower()
        return h == self.name or h in (s.lower() for s in self.sources)


@dataclasses.dataclass(frozen=True)
class Layout:
    """One layout of a source's files: the header as the files spell it, in file order.

    `fmt` is "csv.gz" (the DataTalksClub releases), "csv" (the TLC's original CSVs) or
    "parquet" (the TLC's own files, with `types`: the physical Arrow type of each column).
    `months` is the first and last month (inclusive) the layout was published for, if bounded.
    """

    name: str
    fmt: str
    headers: tuple[str, ...]
    types: tuple[pa.DataType, ...] | None = None
    months: tuple[dt.date | None, dt.date | None] = (None, None)
    quoted: bool = False  # every header and value in double quotes (the TLC's older fhv CSVs)
    # headers present in the files but all NULL in these months (a fee before it existed)
    empty: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.types is not None and len(self.types) != len(self.headers):
            raise ValueError(f"layout {self.name}: {len(self.headers)} headers but {len(self.types)} types")
        if not set(self.empty) <= set(self.headers):
            raise ValueError(f"layout {self.name}: empty columns {sorted(set(self.empty) - set(self.headers))} are not headers")

    @classmethod
    def csv(cls, name: str, header: str, fmt: str = "csv.gz", **kw) -> Layout:
        return cls(name, fmt, tuple(header.split(",")), **kw)

    @classmethod
    def parquet(cls, name: str, fields: list[tuple[str, pa.DataType]], **kw) -> Layout:
        return cls(name, "parquet", tuple(n for n, _ in fields), tuple(t for _, t in fields), **kw)

    def covers(self, month: dt.date) -> bool:
        first, last = self.months
        return (first is None or month >= first) and (last is None or month <= last)


@dataclasses.dataclass(frozen=True)
class Table:
    """Columns and what the table is; the base of `TaxiType` and `ZoneTable`."""

    name: str
    description: str
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def with_role(self, role: Role) -> list[Column]:
        return [c for c in self.columns if c.has(role)]

    @property
    def text_columns(self) -> dict[str, Column]:
        """text column name -> the code column whose text it keeps (filled by the transform)."""
        return {c.text_column: c for c in self.columns if c.text_column}

    def column_for(self, header: str) -> Column | None:
        """The column a source header feeds: an exact (case-insensitive) name wins over an alias; a
        text column (`Column.text_column`) is fed by its code column, never by a header."""
        h = header.strip().lower()
        fed = [c for c in self.columns if c.name not in self.text_columns]
        exact = [c for c in fed if c.name == h]
        return (exact or [c for c in fed if c.matches(header)] or [None])[0]


@dataclasses.dataclass(frozen=True)
class TaxiType(Table):
    layouts: tuple[Layout, ...] = ()
    # the one cleaning rule of the original course: trips with passenger_count == 0 are dropped
    drop_zero_passengers: bool = False
    # columns the real files leave empty in a block of rows at their end (the sample writes one)
    tail_block_nulls: tuple[str, ...] = ()
    # the first month the TLC publishes for this type (the first partition with TAXI_SOURCE=tlc)
    published: dt.date = dt.date(2019, 1, 1)

    def __post_init__(self) -> None:
        if len(self.with_role(Role.PICKUP_TIME)) != 1:
            raise ValueError(f"taxi type {self.name}: exactly one column must have the role pickup_time")
        if self.published.day != 1:
            raise ValueError(f"taxi type {self.name}: published must be the first day of a month")
        if self.drop_zero_passengers and len(self.with_role(Role.PASSENGER_COUNT)) != 1:
            raise ValueError(f"taxi type {self.name}: the passenger rule needs one passenger_count column")

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

    @property
    def pickup(self) -> Column:
        return self.with_role(Role.PICKUP_TIME)[0]

    @property
    def dropoff(self) -> Column | None:
        return next(iter(self.with_role(Role.DROPOFF_TIME)), None)

    @property
    def passenger_count(self) -> Column | None:
        return next(iter(self.with_role(Role.PASSENGER_COUNT)), None)

    @property
    def pickup_zone(self) -> Column | None:
        return next(iter(self.with_role(Role.PICKUP_ZONE)), None)

    def layout(self, fmt: str, month: dt.date | None = None) -> Layout:
        """The layout of format `fmt` the source used for `month` (the newest, without a month)."""
        found = [lay for lay in self.layouts if lay.fmt == fmt and (month is None or lay.covers(month))]
        if not found:
            raise LookupError(f"{self.name} has no {fmt} layout" + (f" for {month:%Y-%m}" if month else ""))
        return found[-1]

    def file_label(self, month: dt.date) -> str:
        """How errors and logs name one source file: `yellow 2021-01`."""
        return f"{self.name} {month:%Y-%m}"

    def lake_object(self, month: dt.date) -> str:
        """The month's object name in the lake (below the configured prefix)."""
        return f"{self.name}/{self.name}_tripdata_{month:%Y-%m}.parquet"


@dataclasses.dataclass(frozen=True)
class ZoneTable(Table):
    """The zone lookup: loaded whole (unpartitioned) into every store."""

    header: tuple[str, ...] = ()  # as the lookup file spells it

    @property
    def table(self) -> str:
        return self.name

    lake_object = "misc/taxi_zone_lookup.parquet"
