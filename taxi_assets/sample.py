"""Synthetic TLC files in the real formats, for the offline demo, the tests and the benchmark.

The real files cannot be fetched here, so this writes files shaped like them (headers by era,
CRLF line ends, decimals like `.80`, the tail block of yellow rows with empty VendorID /
passenger_count / RatecodeID / store_and_fwd_flag / payment_type, trips from other months
including 2008 and 2088, passenger_count 0, negative amounts, RatecodeID 99) -- generated
column by column with Arrow, so a 7.7-million-row month takes seconds, not minutes.

    python -m taxi_assets.sample DIR --taxi yellow --month 2021-01 --rows 20000
writes DIR/yellow/yellow_tripdata_2021-01.csv.gz (the DataTalksClub release layout) and
DIR/misc/taxi_zone_lookup.csv (`--format tlc` writes the TLC's parquet instead, `--format
legacy` the original 2017-2018 CSV).

Eras (`write_month` is the DataTalksClub csv.gz of 2019-2021):
- `write_tlc_parquet`: the TLC's own parquet files: doubles for passenger_count, RatecodeID (and
  payment_type, trip_type in green), `airport_fee` until 2022 and `Airport_fee` after,
  `cbd_congestion_fee` from 2025, fhv location ids and SR_Flag as doubles, real timestamps.
- `write_legacy_csv`: the TLC's original plain CSVs of 2017-2018: no congestion_surcharge, a
  blank second line, CRLF; fhv with quoted headers `"Dispatching_base_num","Pickup_DateTime",
  "DropOff_datetime","PUlocationID","DOlocationID"` and quoted values.
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import gzip
import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from taxi_assets.taxi_types import TAXI_TYPES, TaxiType

# DataTalksClub csv.gz headers (2019-2021), as the files spell them
HEADERS: dict[str, list[str]] = {
    "yellow": "VendorID,tpep_pickup_datetime,tpep_dropoff_datetime,passenger_count,trip_distance,RatecodeID,"
    "store_and_fwd_flag,PULocationID,DOLocationID,payment_type,fare_amount,extra,mta_tax,tip_amount,"
    "tolls_amount,improvement_surcharge,total_amount,congestion_surcharge".split(","),
    "green": "VendorID,lpep_pickup_datetime,lpep_dropoff_datetime,store_and_fwd_flag,RatecodeID,PULocationID,"
    "DOLocationID,passenger_count,trip_distance,fare_amount,extra,mta_tax,tip_amount,tolls_amount,ehail_fee,"
    "improvement_surcharge,total_amount,payment_type,trip_type,congestion_surcharge".split(","),
    "fhv": "dispatching_base_num,pickup_datetime,dropOff_datetime,PUlocationID,DOlocationID,SR_Flag,"
    "Affiliated_base_number".split(","),
}
# columns left empty in the block of rows that ends every yellow file
TAIL_EMPTY = {"vendor_id", "passenger_count", "ratecode_id", "store_and_fwd_flag", "payment_type", "congestion_surcharge"}
ALWAYS_EMPTY = {"ehail_fee"}

BOROUGHS = ["Manhattan", "Brooklyn", "Queens", "Bronx", "Staten Island"]


def source_path(root: Path, taxi: str, month: dt.date) -> Path:
    return Path(root) / taxi / f"{taxi}_tripdata_{month:%Y-%m}.csv.gz"


def _money(cents: np.ndarray) -> pa.Array:
    """Decimal strings the way the old files write them: '12.5', '.80', '-2.5', '0'."""
    sign = np.where(cents < 0, "-", "")
    a = np.abs(cents)
    whole = pc.cast(pa.array(a // 100), pa.string())
    whole = pc.if_else(pa.array(a // 100 == 0), "", whole)
    frac = pc.utf8_lpad(pc.cast(pa.array(a % 100), pa.string()), 2, "0")
    s = pc.binary_join_element_wise(pa.array(sign), whole, ".", frac, "")
    return pc.if_else(pa.array(a == 0), "0", s)


def _ints(rng: np.random.Generator, n: int, lo: int, hi: int) -> pa.Array:
    return pc.cast(pa.array(rng.integers(lo, hi + 1, n)), pa.string())


def _timestamps(rng: np.random.Generator, month: dt.date, n: int) -> tuple[np.ndarray, np.ndarray]:
    start = int(dt.datetime(month.year, month.month, 1).timestamp())
    days = calendar.monthrange(month.year, month.month)[1]
    pickup = start + rng.integers(0, days * 86400, n)
    # some trips from other months, a few far away (the real files have 2008 and 2088)
    other = rng.random(n) < 0.003
    pickup = np.where(other, pickup - rng.integers(1, 40, n) * 86400, pickup)
    if n > 10:
        pickup[n // 3] = int(dt.datetime(2008, 12, 31, 23, 50).timestamp())
        pickup[n // 2] = int(dt.datetime(2088, 1, 24, 0, 15).timestamp())
    dropoff = pickup + rng.integers(60, 3600, n)
    return pickup, dropoff


def _ts_strings(epoch: np.ndarray) -> pa.Array:
    return pc.strftime(pa.array(epoch.astype("datetime64[s]")), "%Y-%m-%d %H:%M:%S")


def _column(name: str, kind: str, rng: np.random.Generator, n: int, pickup, dropoff) -> pa.Array:
    if name == "pickup_datetime":
        return _ts_strings(pickup)
    if name == "dropoff_datetime":
        return _ts_strings(dropoff)
    if name == "vendor_id":
        return _ints(rng, n, 1, 2)
    if name == "passenger_count":
        return pc.cast(pa.array(rng.choice([0, 1, 1, 1, 1, 2, 2, 3, 5, 6], n)), pa.string())
    if name == "ratecode_id":
        return pc.cast(pa.array(rng.choice([1] * 30 + [2, 5, 99], n)), pa.string())
    if name == "store_and_fwd_flag":
        return pa.array(rng.choice(["N"] * 50 + ["Y"], n))
    if name in ("pu_location_id", "do_location_id"):
        return _ints(rng, n, 1, 265)
    if name == "payment_type":
        return _ints(rng, n, 1, 4)
    if name == "trip_type":
        return _ints(rng, n, 1, 2)
    if name == "sr_flag":
        return pc.if_else(pa.array(rng.random(n) < 0.1), "1", pa.nulls(n, pa.string()))
    if name in ("dispatching_base_num", "affiliated_base_number"):
        return pc.binary_join_element_wise("B0", _ints(rng, n, 1000, 3500), "")
    if name == "trip_distance":
        return _money(rng.integers(0, 2500, n))
    if name in ("extra", "mta_tax", "improvement_surcharge", "congestion_surcharge"):
        return _money(rng.choice([0, 30, 50, 80, 250], n))
    if name in ("tolls_amount",):
        return _money(np.where(rng.random(n) < 0.05, 612, 0))
    if kind == "float":  # fares, tips, totals: some refunds
        cents = rng.integers(250, 7000, n)
        return _money(np.where(rng.random(n) < 0.002, -cents, cents))
    raise ValueError(f"no generator for column {name}")


def generate_table(taxi: TaxiType, month: dt.date, rows: int, seed: int = 0) -> pa.Table:
    """`rows` rows of a file of this type and month, every value a string as in the CSV."""
    rng = np.random.default_rng(seed + month.year * 100 + month.month)
    pickup, dropoff = _timestamps(rng, month, rows)
    tail = np.zeros(rows, dtype=bool)
    if taxi.name == "yellow" and rows >= 20:
        tail[-max(rows // 100, 1) :] = True  # the empty block at the end of yellow files
    tail_arr = pa.array(tail)
    cols = {}
    for header in HEADERS[taxi.name]:
        col = next(c for c in taxi.columns if c.matches(header))
        values = _column(col.name, col.kind, rng, rows, pickup, dropoff)
        if col.name in ALWAYS_EMPTY:
            values = pa.nulls(rows, pa.string())
        elif col.name in TAIL_EMPTY:
            values = pc.if_else(tail_arr, pa.nulls(rows, pa.string()), values)
        cols[header] = values
    return pa.table(cols)


def write_month(root: Path, taxi: str, month: dt.date, rows: int, seed: int = 0, chunk_rows: int = 500_000) -> Path:
    """Write one csv.gz in the DataTalksClub layout; returns its path."""
    ttype = TAXI_TYPES[taxi]
    dest = source_path(root, taxi, month)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    opts = pacsv.WriteOptions(include_header=False, eol="\r\n", quoting_style="none")
    with gzip.open(tmp, "wb", compresslevel=1) as gz:
        gz.write((",".join(HEADERS[taxi]) + "\r\n").encode())
        done = 0
        while done < rows:
            n = min(chunk_rows, rows - done)
            table = generate_table(ttype, month, n, seed=seed + done)
            buf = io.BytesIO()
            pacsv.write_csv(table, buf, opts)
            gz.write(buf.getvalue())
            done += n
    tmp.replace(dest)
    return dest


# the TLC parquet files' column names and Arrow types (passenger_count & co. are doubles)
def tlc_parquet_fields(taxi: str, month: dt.date) -> list[tuple[str, pa.DataType]]:
    ts, f64, i64, i32, s = pa.timestamp("us"), pa.float64(), pa.int64(), pa.int32(), pa.string()
    if taxi == "yellow":
        fields = [
            ("VendorID", i32), ("tpep_pickup_datetime", ts), ("tpep_dropoff_datetime", ts), ("passenger_count", f64),
            ("trip_distance", f64), ("RatecodeID", f64), ("store_and_fwd_flag", s), ("PULocationID", i32),
            ("DOLocationID", i32), ("payment_type", i64), ("fare_amount", f64), ("extra", f64), ("mta_tax", f64),
            ("tip_amount", f64), ("tolls_amount", f64), ("improvement_surcharge", f64), ("total_amount", f64),
            ("congestion_surcharge", f64),
            ("airport_fee" if month.year <= 2022 else "Airport_fee", f64),
        ]
    elif taxi == "green":
        fields = [
            ("VendorID", i32), ("lpep_pickup_datetime", ts), ("lpep_dropoff_datetime", ts), ("store_and_fwd_flag", s),
            ("RatecodeID", f64), ("PULocationID", i32), ("DOLocationID", i32), ("passenger_count", f64),
            ("trip_distance", f64), ("fare_amount", f64), ("extra", f64), ("mta_tax", f64), ("tip_amount", f64),
            ("tolls_amount", f64), ("ehail_fee", f64), ("improvement_surcharge", f64), ("total_amount", f64),
            ("payment_type", f64), ("trip_type", f64), ("congestion_surcharge", f64),
        ]
    elif taxi == "fhv":
        fields = [
            ("dispatching_base_num", s), ("pickup_datetime", ts), ("dropOff_datetime", ts), ("PUlocationID", f64),
            ("DOlocationID", f64), ("SR_Flag", f64), ("Affiliated_base_number", s),
        ]
    else:
        raise ValueError(f"no TLC parquet layout for {taxi}")
    if month.year >= 2025 and taxi in ("yellow", "green"):
        fields.append(("cbd_congestion_fee", f64))
    return fields


def tlc_path(root: Path, taxi: str, month: dt.date) -> Path:
    return Path(root) / taxi / f"{taxi}_tripdata_{month:%Y-%m}.parquet"


def generate_tlc_table(taxi: str, month: dt.date, rows: int, seed: int = 0) -> pa.Table:
    """`rows` rows typed as the TLC parquet files type them."""
    ttype = TAXI_TYPES[taxi]
    strings = generate_table(ttype, month, rows, seed)
    by_target = {next(c for c in ttype.columns if c.matches(h)).name: strings.column(h) for h in strings.column_names}
    rng = np.random.default_rng(seed + 7)
    cols = {}
    for name, typ in tlc_parquet_fields(taxi, month):
        col = next(c for c in ttype.columns if c.matches(name))
        if col.name in by_target:
            values = by_target[col.name]
        elif col.name == "cbd_congestion_fee":
            values = pc.cast(pa.array(rng.choice(["0", "0.75"], rows)), pa.string())
        else:  # airport_fee: mostly 0, some 1.75
            values = pc.cast(pa.array(rng.choice(["0"] * 9 + ["1.75"], rows)), pa.string())
        if pa.types.is_timestamp(typ):
            values = pc.strptime(values, "%Y-%m-%d %H:%M:%S", "us")
        cols[name] = pc.cast(values, typ)
    return pa.table(cols)


def write_tlc_parquet(root: Path, taxi: str, month: dt.date, rows: int, seed: int = 0) -> Path:
    """Write one month as the TLC publishes it: `{root}/{taxi}/{taxi}_tripdata_YYYY-MM.parquet`."""
    dest = tlc_path(root, taxi, month)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    pq.write_table(generate_tlc_table(taxi, month, rows, seed), tmp, compression="snappy")
    tmp.replace(dest)
    return dest


# the original TLC CSVs of 2017-2018, as they spelled their headers
LEGACY_HEADERS: dict[str, list[str]] = {
    "yellow": HEADERS["yellow"][:-1],  # no congestion_surcharge before 2019
    "green": HEADERS["green"][:-1],  # 19 columns
    "fhv": ["Dispatching_base_num", "Pickup_DateTime", "DropOff_datetime", "PUlocationID", "DOlocationID"],
}


def legacy_path(root: Path, taxi: str, month: dt.date) -> Path:
    return Path(root) / taxi / f"{taxi}_tripdata_{month:%Y-%m}.csv"


def write_legacy_csv(root: Path, taxi: str, month: dt.date, rows: int, seed: int = 0) -> Path:
    """Write one month as the TLC's original plain CSV of 2017-2018 (blank second line, CRLF; fhv quoted)."""
    ttype = TAXI_TYPES[taxi]
    table = generate_table(ttype, month, rows, seed)
    headers = LEGACY_HEADERS[taxi]
    by_target = {next(c for c in ttype.columns if c.matches(h)).name: table.column(h) for h in table.column_names}
    legacy = pa.table({h: by_target[next(c for c in ttype.columns if c.matches(h)).name] for h in headers})
    quoted = taxi == "fhv"
    dest = legacy_path(root, taxi, month)
    dest.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    pacsv.write_csv(
        legacy, buf, pacsv.WriteOptions(include_header=False, eol="\r\n", quoting_style="all_valid" if quoted else "none")
    )
    head = ",".join(f'"{h}"' if quoted else h for h in headers)
    dest.write_bytes((head + "\r\n\r\n").encode() + buf.getvalue())
    return dest


def zone_rows() -> list[tuple[int, str, str, str]]:
    """265 zones shaped like the TLC lookup: EWR first, 'NV' and 'NA' (both Unknown) last."""
    rows = [(1, "EWR", "Newark Airport", "EWR")]
    for i in range(2, 264):
        borough = BOROUGHS[i % len(BOROUGHS)]
        service = "Yellow Zone" if borough == "Manhattan" else "Boro Zone"
        if i in (132, 138):
            service, name = "Airports", "JFK Airport" if i == 132 else "LaGuardia Airport"
            borough = "Queens"
        else:
            name = f"{borough} Zone {i}"
        rows.append((i, borough, name, service))
    rows += [(264, "Unknown", "NV", "N/A"), (265, "Unknown", "NA", "N/A")]
    return rows


def write_zones(root: Path) -> Path:
    """The zone lookup as the older file has it: every field quoted, CRLF."""
    dest = Path(root) / "misc" / "taxi_zone_lookup.csv"
    dest.parent.mkdir(parents=True, exist_ok=True)
    lines = ['"LocationID","Borough","Zone","service_zone"']
    lines += [f'"{i}","{b}","{z}","{s}"' for i, b, z, s in zone_rows()]
    dest.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return dest


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("root", type=Path)
    p.add_argument("--taxi", action="append", choices=sorted(TAXI_TYPES), help="repeatable; default: all")
    p.add_argument("--month", action="append", help="YYYY-MM, repeatable; default 2021-01")
    p.add_argument("--rows", type=int, default=20_000)
    p.add_argument("--format", choices=["dtc", "tlc", "legacy"], default="dtc", help="csv.gz, TLC parquet, 2017-18 CSV")
    args = p.parse_args(argv)
    writer = {"dtc": write_month, "tlc": write_tlc_parquet, "legacy": write_legacy_csv}[args.format]
    for taxi in args.taxi or sorted(TAXI_TYPES):
        for m in args.month or ["2021-01"]:
            month = dt.date.fromisoformat(m + "-01")
            print(writer(args.root, taxi, month, args.rows))
    print(write_zones(args.root))


if __name__ == "__main__":
    main()
