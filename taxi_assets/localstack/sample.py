"""Synthetic TLC files in the real formats, for the offline demo, the tests and the benchmark.

The real files cannot be fetched here, so this writes files shaped like them (headers by era,
CRLF line ends, decimals like `.80`, the tail block of yellow rows with empty VendorID /
passenger_count / RatecodeID / store_and_fwd_flag / payment_type, trips from other months
including 2008 and 2088, passenger_count 0, negative amounts, RatecodeID 99) -- generated
column by column with Arrow, so a 7.7-million-row month takes seconds, not minutes.

    python -m taxi_assets.localstack.sample DIR --taxi yellow --month 2021-01 --rows 20000
writes DIR/yellow/yellow_tripdata_2021-01.csv.gz (the DataTalksClub release layout) and
DIR/misc/taxi_zone_lookup.csv (`--format tlc` writes the TLC's parquet instead, `--format
legacy` the original 2017-2018 CSV).

Everything per type comes from the type's record (`taxi_assets.core.taxi_types`): the headers
and physical types are its `layouts`, the values follow each column's roles, kind and `values`
(codes, flags, typical surcharges), the empty block at the end of a file its `tail_block_nulls`.
A new `TaxiType` gets sample files with no change here.

- `write_month`: the layout `csv.gz` (the DataTalksClub releases of 2019-2021);
- `write_tlc_parquet`: the `parquet` layout of that month (the TLC's own files: doubles for
  counts and codes, `airport_fee` / `Airport_fee`, `cbd_congestion_fee` from 2025, real timestamps);
- `write_legacy_csv`: the `csv` layout (the TLC's original plain CSVs of 2017-2018: a blank second
  line, CRLF; quoted where the layout says so).
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

from taxi_assets.core.formats import is_pandas_index
from taxi_assets.core.tables import Column, Layout, Role, TaxiType
from taxi_assets.core.taxi_types import TAXI_TYPES, ZONES

BOROUGHS = ["Manhattan", "Brooklyn", "Queens", "Bronx", "Staten Island"]


def _taxi(taxi: str | TaxiType) -> TaxiType:
    return taxi if isinstance(taxi, TaxiType) else TAXI_TYPES[taxi]


def source_path(root: Path, taxi: str | TaxiType, month: dt.date) -> Path:
    name = _taxi(taxi).name
    return Path(root) / name / f"{name}_tripdata_{month:%Y-%m}.csv.gz"


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


def _decimals(values: np.ndarray) -> pa.Array:
    return _money(np.round(np.asarray(values, dtype=float) * 100).astype(np.int64))


def _column(col: Column, rng: np.random.Generator, n: int, pickup, dropoff) -> pa.Array:
    """`n` values of `col` as the CSV spells them, from its roles, kind and documented values."""
    if col.has(Role.PICKUP_TIME):
        return _ts_strings(pickup)
    if col.has(Role.DROPOFF_TIME):
        return _ts_strings(dropoff)
    if col.values is not None and not col.values:  # documented as always empty
        return pa.nulls(n, pa.string())
    if col.has(Role.PASSENGER_COUNT):
        return pc.cast(pa.array(rng.choice([0, 1, 1, 1, 1, 2, 2, 3, 5, 6], n)), pa.string())
    if col.has(Role.ZONE_ID):
        return _ints(rng, n, 1, 265)
    if col.has(Role.BASE_NUMBER):
        return pc.binary_join_element_wise("B0", _ints(rng, n, 1000, 3500), "")
    if col.has(Role.FLAG):  # mostly the first value (N), now and then the others
        first, *others = col.values or ("N", "Y")
        return pa.array(np.where(rng.random(n) < 0.98, first, rng.choice(others or [first], n)))
    if col.has(Role.CODE) and col.values and len(col.values) == 1:  # a marker: the value or NULL
        return pc.if_else(pa.array(rng.random(n) < 0.1), str(col.values[0]), pa.nulls(n, pa.string()))
    if col.values:
        chosen = rng.choice(np.array(col.values), n)
        if col.kind == "string":
            return pa.array(chosen.astype(str))
        return pc.cast(pa.array(chosen), pa.string()) if col.kind == "int" else _decimals(chosen)
    if col.has(Role.DISTANCE):
        return _money(rng.integers(0, 2500, n))
    if col.has(Role.MONEY):  # fares, tips, totals: some refunds
        cents = rng.integers(250, 7000, n)
        return _money(np.where(rng.random(n) < 0.002, -cents, cents))
    if col.kind == "timestamp":  # request / on-scene times: a few minutes before the pickup
        return _ts_strings(pickup - rng.integers(60, 600, n))
    if col.kind == "int":
        return _ints(rng, n, 1, 9)
    if col.kind == "float":
        return _money(rng.integers(0, 10000, n))
    if col.kind == "string":
        return pc.binary_join_element_wise("X", _ints(rng, n, 100, 999), "")
    raise ValueError(f"no generator for column {col.name} ({col.kind})")


def generate_table(taxi: str | TaxiType, month: dt.date, rows: int, seed: int = 0, layout: Layout | None = None) -> pa.Table:
    """`rows` rows of a file of this type and month in `layout` (default: csv.gz), every value a string."""
    ttype = _taxi(taxi)
    layout = layout or ttype.layout("csv.gz")
    rng = np.random.default_rng(seed + month.year * 100 + month.month)
    pickup, dropoff = _timestamps(rng, month, rows)
    tail = np.zeros(rows, dtype=bool)
    if ttype.tail_block_nulls and rows >= 20:
        tail[-max(rows // 100, 1) :] = True  # the empty block at the end of the file
    tail_arr = pa.array(tail)
    cols = {}
    texts = dict(zip(layout.headers, layout.types or ()))
    for header in layout.headers:
        if is_pandas_index(header):  # the row index pandas wrote into the file
            cols[header] = pc.cast(pa.array(np.arange(rows)), pa.string())
            continue
        col = ttype.column_for(header)
        if col is None:
            raise ValueError(f"{ttype.name} layout {layout.name}: header {header!r} matches no column")
        if header in layout.empty:  # a column of the era's files that is all NULL (a fee before it existed)
            cols[header] = pa.nulls(rows, pa.string())
            continue
        if col.value_map is not None and texts.get(header) == pa.string():  # the era wrote the code as text
            values = _column(ttype.column(col.text_column), rng, rows, pickup, dropoff)
        else:
            values = _column(col, rng, rows, pickup, dropoff)
        if col.name in ttype.tail_block_nulls:
            values = pc.if_else(tail_arr, pa.nulls(rows, pa.string()), values)
        cols[header] = values
    return pa.table(cols)


def write_month(root: Path, taxi: str | TaxiType, month: dt.date, rows: int, seed: int = 0, chunk_rows: int = 500_000) -> Path:
    """Write one csv.gz in the DataTalksClub layout; returns its path."""
    ttype = _taxi(taxi)
    layout = ttype.layout("csv.gz", month)
    dest = source_path(root, ttype, month)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    opts = pacsv.WriteOptions(include_header=False, eol="\r\n", quoting_style="none")
    with gzip.open(tmp, "wb", compresslevel=1) as gz:
        gz.write((",".join(layout.headers) + "\r\n").encode())
        done = 0
        while done < rows:
            n = min(chunk_rows, rows - done)
            table = generate_table(ttype, month, n, seed=seed + done, layout=layout)
            buf = io.BytesIO()
            pacsv.write_csv(table, buf, opts)
            gz.write(buf.getvalue())
            done += n
    tmp.replace(dest)
    return dest


def tlc_path(root: Path, taxi: str | TaxiType, month: dt.date) -> Path:
    name = _taxi(taxi).name
    return Path(root) / name / f"{name}_tripdata_{month:%Y-%m}.parquet"


def generate_tlc_table(taxi: str | TaxiType, month: dt.date, rows: int, seed: int = 0) -> pa.Table:
    """`rows` rows typed as the TLC parquet files of that month type them (the month's parquet layout:
    its column names and physical types, string timestamps in 2009-2010, all-NULL columns of fees
    that did not exist yet)."""
    layout = _taxi(taxi).layout("parquet", month)
    strings = generate_table(taxi, month, rows, seed, layout=layout)
    cols = {}
    for name, typ in zip(layout.headers, layout.types):
        values = strings.column(name)
        if pa.types.is_timestamp(typ):
            values = pc.strptime(values, "%Y-%m-%d %H:%M:%S", "us")
        cols[name] = pc.cast(values, typ)
    return pa.table(cols)


def write_tlc_parquet(
    root: Path, taxi: str | TaxiType, month: dt.date, rows: int, seed: int = 0, chunk_rows: int = 1 << 20,
    distinct_chunks: int | None = None,
) -> Path:
    """Write one month as the TLC publishes it: `{root}/{taxi}/{taxi}_tripdata_YYYY-MM.parquet`, in
    row groups of `chunk_rows` (generated one at a time: a 20-million-row month never in memory).
    `distinct_chunks`: generate only that many row groups and repeat them up to `rows` (the
    benchmark's full-size months, where size and memory are measured, not values)."""
    dest = tlc_path(root, taxi, month)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    writer, done, made = None, 0, {}
    try:
        while done < rows or writer is None:
            n = min(chunk_rows, rows - done)
            i = len(made) if distinct_chunks is None else (done // chunk_rows) % distinct_chunks
            if i not in made or made[i].num_rows < n:
                made[i] = generate_tlc_table(taxi, month, n, seed if done == 0 else seed + done)
            table = made[i].slice(0, n)
            if distinct_chunks is None:
                made.clear()
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="snappy")
            writer.write_table(table, row_group_size=chunk_rows)
            done += n
    finally:
        if writer is not None:
            writer.close()
    tmp.replace(dest)
    return dest


def legacy_path(root: Path, taxi: str | TaxiType, month: dt.date) -> Path:
    name = _taxi(taxi).name
    return Path(root) / name / f"{name}_tripdata_{month:%Y-%m}.csv"


def write_legacy_csv(root: Path, taxi: str | TaxiType, month: dt.date, rows: int, seed: int = 0) -> Path:
    """Write one month as the TLC's original plain CSV of 2017-2018 (blank second line, CRLF; quoted
    where the layout says so)."""
    layout = _taxi(taxi).layout("csv", month)
    table = generate_table(taxi, month, rows, seed, layout=layout)
    dest = legacy_path(root, taxi, month)
    dest.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    quoting = "all_valid" if layout.quoted else "none"
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, eol="\r\n", quoting_style=quoting))
    head = ",".join(f'"{h}"' if layout.quoted else h for h in layout.headers)
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


def write_zones(root: Path, current: bool = False) -> Path:
    """The zone lookup as the older file has it (every field quoted, CRLF, rows 264/265 "NV"/"NA"), or
    with `current` as the TLC's current file has it: LF, the id unquoted, and rows 264
    `"Unknown","N/A","N/A"` and 265 `"N/A","Outside of NYC","N/A"`."""
    dest = Path(root) / "misc" / "taxi_zone_lookup.csv"
    dest.parent.mkdir(parents=True, exist_ok=True)
    rows = zone_rows()
    if current:
        rows = rows[:-2] + [(264, "Unknown", "N/A", "N/A"), (265, "N/A", "Outside of NYC", "N/A")]
        lines = [",".join(f'"{h}"' for h in ZONES.header)] + [f'{i},"{b}","{z}","{s}"' for i, b, z, s in rows]
        dest.write_bytes(("\n".join(lines) + "\n").encode())
        return dest
    lines = [",".join(f'"{h}"' for h in ZONES.header)]
    lines += [f'"{i}","{b}","{z}","{s}"' for i, b, z, s in rows]
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
