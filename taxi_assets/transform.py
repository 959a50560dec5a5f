"""Streaming: one source file -> typed, cleaned Arrow record batches -> one parquet file.

Nothing here holds a whole month: CSV and parquet are read in record batches, each batch is
conformed to the taxi type's schema (names, types, `source_month`), the documented cleaning rule
is applied, and the result is appended to a parquet writer in row groups.

Cleaning, the whole of it (counts are reported, nothing else is dropped):
- yellow, green: rows with `passenger_count = 0` are dropped (NULL passenger counts are kept).
Everything else -- trips from other months, negative amounts, unknown zones -- is kept as it
came and reported by the asset checks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from taxi_assets.taxi_types import SOURCE_MONTH, Column, TaxiType

CSV_BLOCK_BYTES = 8 << 20  # one CSV read block; a batch is ~70k yellow rows
ROW_GROUP_ROWS = 256_000  # parquet row group: big enough for scans, small enough for memory


class TaxiFileError(ValueError):
    """A source file that cannot be loaded; the message names taxi type, month and problem."""


@dataclasses.dataclass
class CleanStats:
    rows_in: int = 0
    rows_dropped_zero_passengers: int = 0
    rows_out: int = 0
    source_format: str = ""
    unknown_columns: tuple[str, ...] = ()
    missing_optional_columns: tuple[str, ...] = ()
    seconds: float = 0.0


def sniff_format(path: Path) -> str:
    """'csv.gz', 'csv' or 'parquet', from the file's first bytes (not its name)."""
    with open(path, "rb") as f:
        head = f.read(4)
    if head[:2] == b"\x1f\x8b":
        return "csv.gz"
    if head == b"PAR1":
        return "parquet"
    return "csv"


def read_csv_header(path: Path, label: str) -> list[str]:
    opener = gzip.open if sniff_format(path) == "csv.gz" else open
    try:
        with opener(path, "rb") as f:
            line = f.readline(1 << 16)
    except (OSError, EOFError) as e:
        raise TaxiFileError(f"{label}: cannot read the file header: {e}") from e
    text = line.decode("utf-8-sig", errors="replace").strip()
    if not text:
        raise TaxiFileError(f"{label}: the file is empty (no header line)")
    if text.lstrip().startswith("<"):
        raise TaxiFileError(f"{label}: the file is an HTML page, not a CSV file (first line: {text[:80]!r})")
    return [h.strip().strip('"') for h in text.split(",")]


def match_columns(taxi: TaxiType, headers: list[str], label: str) -> tuple[dict[str, str], list[str], list[str]]:
    """Map target column name -> source header. Returns (mapping, unknown headers, missing optional)."""
    mapping: dict[str, str] = {}
    for col in taxi.columns:
        found = [h for h in headers if col.matches(h)]
        if found:
            mapping[col.name] = found[0]
    missing_required = [c.name for c in taxi.columns if c.required and c.name not in mapping]
    if missing_required:
        raise TaxiFileError(
            f"{label}: required column(s) missing: {', '.join(missing_required)}. "
            f"Expected (any spelling of) {[c.name for c in taxi.columns if c.required]}; found {headers}. "
            f"Is this a {taxi.name} file?"
        )
    used = set(mapping.values())
    unknown = [h for h in headers if h not in used and h.lower() != SOURCE_MONTH]
    missing_optional = [c.name for c in taxi.columns if c.name not in mapping]
    return mapping, unknown, missing_optional


def _read_type(col: Column) -> pa.DataType:
    # integers arrive as "1", "1.0" or doubles (parquet era): read as float, cast back safely
    return pa.float64() if col.kind == "int" else col.arrow_type


def _conform(batch: pa.RecordBatch, taxi: TaxiType, mapping: dict[str, str], month: dt.date, label: str) -> pa.RecordBatch:
    n = batch.num_rows
    arrays = []
    for col in taxi.columns:
        src = mapping.get(col.name)
        if src is None:
            arrays.append(pa.nulls(n, col.arrow_type))
            continue
        arr = batch.column(src)
        if arr.type != col.arrow_type:
            try:
                arr = arr.cast(col.arrow_type, safe=True)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                raise TaxiFileError(f"{label}: column {src!r} does not fit {col.name} ({col.kind}): {e}") from e
        arrays.append(arr)
    arrays.append(pa.repeat(pa.scalar(month, pa.date32()), n))
    return pa.RecordBatch.from_arrays(arrays, schema=taxi.arrow_schema)


def _source_batches(path: Path, taxi: TaxiType, label: str, stats: CleanStats) -> tuple[dict[str, str], Iterator[pa.RecordBatch]]:
    fmt = sniff_format(path)
    stats.source_format = fmt
    if path.stat().st_size == 0:
        raise TaxiFileError(f"{label}: the file is empty (0 bytes)")
    if fmt == "parquet":
        try:
            pf = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as e:
            raise TaxiFileError(f"{label}: corrupt parquet file: {e}") from e
        headers = pf.schema_arrow.names
        mapping, unknown, missing = match_columns(taxi, headers, label)
        stats.unknown_columns, stats.missing_optional_columns = tuple(unknown), tuple(missing)
        return mapping, pf.iter_batches(batch_size=131_072, columns=list(mapping.values()))

    headers = read_csv_header(path, label)
    mapping, unknown, missing = match_columns(taxi, headers, label)
    stats.unknown_columns, stats.missing_optional_columns = tuple(unknown), tuple(missing)
    by_name = {c.name: c for c in taxi.columns}
    try:
        reader = _open_csv(path, headers, mapping, by_name)
    except (pa.ArrowInvalid, OSError, EOFError) as e:
        raise TaxiFileError(f"{label}: unreadable row(s) in the first block: {e}") from e
    return mapping, reader


def _open_csv(path: Path, headers: list[str], mapping: dict[str, str], by_name: dict[str, Column]) -> pacsv.CSVStreamingReader:
    return pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=headers, skip_rows=1, block_size=CSV_BLOCK_BYTES),
        parse_options=pacsv.ParseOptions(newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(
            column_types={src: _read_type(by_name[t]) for t, src in mapping.items()},
            include_columns=list(mapping.values()),
            strings_can_be_null=True,
            null_values=[""],  # "NA" stays a string
        ),
    )


def clean_batches(
    path: Path, taxi: TaxiType, month: dt.date, stats: CleanStats | None = None
) -> Iterator[pa.RecordBatch]:
    """Yield cleaned, typed batches of one source file; fills `stats` as it goes."""
    stats = stats if stats is not None else CleanStats()
    label = taxi.file_label(month)
    mapping, batches = _source_batches(path, taxi, label, stats)
    it = iter(batches)
    while True:
        try:
            raw = next(it)
        except StopIteration:
            return
        except (pa.ArrowInvalid, OSError, EOFError, UnicodeDecodeError) as e:
            raise TaxiFileError(f"{label}: unreadable row(s) after {stats.rows_in} rows: {e}") from e
        batch = _conform(raw, taxi, mapping, month, label)
        stats.rows_in += batch.num_rows
        if taxi.drop_zero_passengers:
            keep = pc.fill_null(pc.not_equal(batch.column("passenger_count"), 0), True)
            kept = batch.filter(keep)
            stats.rows_dropped_zero_passengers += batch.num_rows - kept.num_rows
            batch = kept
        stats.rows_out += batch.num_rows
        yield batch


ProgressFn = Callable[[str], None]


class Progress:
    """Logs rows, bytes and rate at a steady cadence (every `every` seconds)."""

    def __init__(self, what: str, log: ProgressFn | None, every: float = 5.0):
        self.what, self.log, self.every = what, log, every
        self.start = self.last = time.monotonic()

    def tick(self, rows: int, nbytes: int | None = None) -> None:
        now = time.monotonic()
        if self.log is None or now - self.last < self.every:
            return
        self.last = now
        elapsed = now - self.start
        extra = f", {nbytes / 1e6:,.1f} MB" if nbytes is not None else ""
        self.log(f"{self.what}: {rows:,} rows{extra} in {elapsed:,.1f} s ({rows / elapsed:,.0f} rows/s)")


def write_parquet(
    src: Path, dest: Path, taxi: TaxiType, month: dt.date, log: ProgressFn | None = None
) -> CleanStats:
    """Clean one source file into `dest` (parquet, zstd, ~256k-row row groups)."""
    stats = CleanStats()
    t0 = time.monotonic()
    progress = Progress(f"{taxi.file_label(month)} -> parquet", log)
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    with pq.ParquetWriter(dest, taxi.arrow_schema, compression="zstd") as writer:
        for batch in clean_batches(src, taxi, month, stats):
            pending.append(batch)
            pending_rows += batch.num_rows
            if pending_rows >= ROW_GROUP_ROWS:
                writer.write_table(pa.Table.from_batches(pending), row_group_size=pending_rows)
                pending, pending_rows = [], 0
            progress.tick(stats.rows_in)
        if pending:
            writer.write_table(pa.Table.from_batches(pending), row_group_size=pending_rows)
    if stats.rows_in == 0:
        raise TaxiFileError(f"{taxi.file_label(month)}: the file has a header but no rows")
    stats.seconds = time.monotonic() - t0
    return stats


def parquet_batches(path: Path, batch_rows: int = 131_072) -> Iterator[pa.RecordBatch]:
    yield from pq.ParquetFile(path).iter_batches(batch_size=batch_rows)


def parquet_rows(path: Path) -> int:
    return pq.ParquetFile(path).metadata.num_rows
