"""Streaming: one source file -> typed, cleaned Arrow record batches -> one parquet file.

Nothing here holds a whole month: CSV and parquet are read in record batches, each batch is
conformed to the taxi type's schema (names, types, `source_month`), the documented cleaning rule
is applied, and the result is appended to a parquet writer in row groups.

Cleaning, the whole of it (counts are reported, nothing else is dropped):
- types with `drop_zero_passengers` (yellow, green): rows whose passenger-count column is 0 are dropped (NULL passenger counts are kept).
Everything else -- trips from other months, negative amounts, unknown zones -- is kept as it
came and reported by the quality checks (`taxi_assets/core/quality.py`).

Formats, detected from the file's first bytes (never its name): csv.gz (the DataTalksClub
releases), plain CSV (the TLC's original 2009-2018 files: CRLF, a blank second line, quoted
headers in other capitalisations) and parquet (the TLC's own files: doubles where the CSVs had
integers, `Airport_fee`/`airport_fee`, `cbd_congestion_fee` from 2025). Headers are matched to
the taxi type's columns by `formats.match_columns`; a column absent from an era is NULL, an
unknown extra column is reported in `CleanStats.unknown_columns` (and not loaded), a missing
required column is a `TaxiFileError` listing the expected spellings and how many columns the file
has (never its values: it may not be a trip file at all), and naming the taxi type the file looks
like, when it is another type's file.

What is an error (a `TaxiFileError` naming taxi type and month; the step fails, nothing is
written in place, the previous data stays as it was):
- an empty, header-only, HTML or truncated/corrupt file; another taxi type's file;
- rows with too many or too few fields (all such rows are counted, a few quoted; a file with
  a ragged row is damaged or misparsed, and silently dropping rows would break the row-count
  reconciliation rows_in = raw rows);
- a value that does not parse as its column's type (a timestamp that is not a timestamp, a
  number that is not a number), with the column named;
- a number too large for its column (it would be stored as infinity), with the column and the
  data row named; NaN in a parquet double is NULL, as an empty CSV field is;
- a file whose trips are mostly (over `MAX_OTHER_MONTH_SHARE`, 50 %) outside its month: another
  month's file at this month's URL; the message names the month the trips are of. `probe()` makes
  the same check on the first block before a download replaces the kept raw file;
- the disk filling up while the parquet is written (an `OSError` with the label; the partial
  file is removed).

Non-UTF-8 bytes in a text column are NOT an error, by choice: text columns are flags and base
numbers, where a stray byte is not worth refusing a month of trips. A text value that is not
valid UTF-8 is decoded as Latin-1, which maps every byte to one code point (U+0000..U+00FF), so
the conversion is lossless (`value.encode("latin-1")` gives back the original bytes). The
number of such values is `CleanStats.non_utf8_values` (logged as a warning). Non-UTF-8 bytes in
a numeric or timestamp column fail the parse as above.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from taxi_assets.core.errors import TaxiFileError
from taxi_assets.core.formats import batch_rows_for, is_pandas_index, match_columns, parquet_batches, read_csv_header, sniff_format
from taxi_assets.core.months import add_months
from taxi_assets.core.progress import Progress, ProgressFn
from taxi_assets.core.tables import Column, Role, TaxiType
from taxi_assets.core.taxi_types import TAXI_TYPES

CSV_BLOCK_BYTES = 1 << 20  # one CSV read block (~9.5k yellow rows); bigger blocks pile up in the reader's readahead: +200 MB on a 7.7M-row month at 8 MB, no faster
# parquet row group, by bytes (~256k yellow rows): big enough for scans, small enough for memory, and
# no bigger for a wide row (fhvhv) than for a narrow one
ROW_GROUP_BYTES = 64 << 20
# timestamps: ISO 8601 (`2021-01-01 00:30:10`, the DataTalksClub and TLC CSVs) first, then the
# US spellings some older exports use
TIMESTAMP_PARSERS = [pacsv.ISO8601, "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M"]
BAD_ROW_EXAMPLES = 3
# above this share of pickups outside the file's month, the file is another month's: refused. The real
# files have well under 1 % (trips that began the evening before, clock errors); a shifted file ~100 %.
MAX_OTHER_MONTH_SHARE = 0.5


@dataclasses.dataclass
class CleanStats:
    rows_in: int = 0
    rows_dropped_zero_passengers: int = 0
    rows_out: int = 0
    source_format: str = ""
    unknown_columns: tuple[str, ...] = ()
    missing_optional_columns: tuple[str, ...] = ()
    non_utf8_values: int = 0  # text values decoded as Latin-1 (see the module docstring)
    rows_wrong_field_count: int = 0  # CSV rows with too many or too few fields: an error
    wrong_field_examples: list[str] = dataclasses.field(default_factory=list)
    source_columns: tuple[str, ...] = ()
    ignored_columns: tuple[str, ...] = ()  # pandas index columns (`__index_level_0__`): not data
    rows_outside_month: int = 0  # pickups outside the file's month (a few are normal; most: the wrong file)
    month_sample: pa.RecordBatch | None = dataclasses.field(default=None, repr=False)
    seconds: float = 0.0


def _read_type(col: Column) -> pa.DataType:
    # integers arrive as "1", "1.0" or doubles (parquet era): read as float, cast back safely;
    # text is read as bytes and decoded here (UTF-8, else Latin-1: see the module docstring)
    if col.kind == "int":
        return pa.float64()
    if col.kind == "string":
        return pa.binary()
    return col.arrow_type


def _decode_text(arr: pa.Array, stats: CleanStats) -> pa.Array:
    """Bytes -> UTF-8 strings; values that are not UTF-8 are decoded as Latin-1 (lossless)."""
    try:
        return arr.cast(pa.string())
    except pa.ArrowInvalid:
        pass
    out = []
    for v in arr.to_pylist():
        if v is None:
            out.append(None)
            continue
        try:
            out.append(v.decode("utf-8"))
        except UnicodeDecodeError:
            stats.non_utf8_values += 1
            out.append(v.decode("latin-1"))
    return pa.array(out, pa.string())


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _codes(text: pa.Array, col: Column) -> pa.Array:
    """Text -> the documented codes of `col.value_map` (case-insensitive); text not listed -> NULL."""
    keys, codes = zip(*col.value_map)
    idx = pc.index_in(pc.utf8_upper(pc.utf8_trim_whitespace(text)), value_set=pa.array(keys, pa.string()))
    return pc.take(pa.array(codes, col.arrow_type), idx)


def _to_target(arr: pa.Array, col: Column, stats: CleanStats) -> pa.Array:
    if pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type):
        arr = _decode_text(arr, stats)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if col.value_map is not None and _is_text(arr.type):
        return _codes(arr, col)
    if col.has(Role.FLAG) and (pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)):
        # a flag sent as a number (2009's store_and_forward): 0 -> N, anything else -> Y
        return pc.if_else(pc.equal(arr, 0), "N", "Y").cast(pa.string())
    if col.kind == "int" and _is_text(arr.type):
        arr = arr.cast(pa.float64())  # "1", "1.0" (the 2010 rate codes are text in most months)
    if col.kind in ("int", "float") and pa.types.is_floating(arr.type):
        arr = pc.if_else(pc.is_nan(arr), pa.scalar(None, arr.type), arr)  # NaN (parquet doubles): NULL
    if arr.type != col.arrow_type:
        arr = arr.cast(col.arrow_type, safe=True)
    return arr


def _overflow_row(arr: pa.Array) -> int | None:
    """Index of the first value that overflowed to +-infinity (a number too big for a double), if any."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_floating(arr.type):
        return None
    inf = pc.fill_null(pc.is_inf(arr), False)
    if not pc.any(inf).as_py():
        return None
    return pc.index(inf, True).as_py()


def _month_share(batch: pa.RecordBatch, taxi: TaxiType, month: dt.date) -> int:
    """How many rows of `batch` have their pickup outside `month`."""
    start = pa.scalar(dt.datetime(month.year, month.month, 1), pa.timestamp("us"))
    nxt = add_months(month, 1)
    end = pa.scalar(dt.datetime(nxt.year, nxt.month, 1), pa.timestamp("us"))
    pickup = batch.column(taxi.pickup.name)
    outside = pc.or_(pc.less(pickup, start), pc.greater_equal(pickup, end))
    return pc.sum(pc.fill_null(outside, False).cast(pa.int64())).as_py() or 0


def _check_month(stats: CleanStats, sample: pa.RecordBatch | None, taxi: TaxiType, month: dt.date, label: str) -> None:
    """A file whose trips are mostly of another month is the wrong file: refuse it, naming that month."""
    if not stats.rows_in or stats.rows_outside_month / stats.rows_in <= MAX_OTHER_MONTH_SHARE:
        return
    seen = "another month"
    if sample is not None and sample.num_rows:
        counts = pc.value_counts(pc.strftime(sample.column(taxi.pickup.name), "%Y-%m")).to_pylist()
        counts = [c for c in counts if c["values"] is not None]
        if counts:
            seen = max(counts, key=lambda c: c["counts"])["values"]
    raise TaxiFileError(
        f"{label}: {stats.rows_outside_month / stats.rows_in:.0%} of the trips are not in {month:%Y-%m}: these are "
        f"the trips of {seen} (another month's file at this month's URL?). Nothing was loaded."
    )


def _conform(
    batch: pa.RecordBatch, taxi: TaxiType, mapping: dict[str, str], month: dt.date, label: str, stats: CleanStats
) -> pa.RecordBatch:
    n = batch.num_rows
    arrays = []
    texts = taxi.text_columns
    for col in taxi.columns:
        if col.name in texts:  # the text of a code column, when this era sent text
            src = mapping.get(texts[col.name].name)
            raw = batch.column(src) if src is not None else None
            if raw is not None and (pa.types.is_binary(raw.type) or pa.types.is_large_binary(raw.type)):
                raw = _decode_text(raw, stats)
            arrays.append(raw.cast(pa.string()) if raw is not None and _is_text(raw.type) else pa.nulls(n, pa.string()))
            continue
        src = mapping.get(col.name)
        if src is None:
            arrays.append(pa.nulls(n, col.arrow_type))
            continue
        bad = _overflow_row(batch.column(src))
        if bad is not None:
            raise TaxiFileError(
                f"{label}: column {src!r}, data row {stats.rows_in + bad + 1}: the number is too large for "
                f"{col.name} ({col.kind}): it would be stored as infinity"
            )
        try:
            arrays.append(_to_target(batch.column(src), col, stats))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
            raise TaxiFileError(
                f"{label}: column {src!r} ({batch.column(src).type}) does not fit {col.name} ({col.kind}): {e}"
            ) from e
    arrays.append(pa.repeat(pa.scalar(month, pa.date32()), n))
    return pa.RecordBatch.from_arrays(arrays, schema=taxi.arrow_schema)


def _source_batches(path: Path, taxi: TaxiType, label: str, stats: CleanStats) -> tuple[dict[str, str], Iterator[pa.RecordBatch]]:
    fmt = sniff_format(path)
    stats.source_format = fmt
    if path.stat().st_size == 0:
        raise TaxiFileError(f"{label}: the file is empty (0 bytes)")
    if fmt == "parquet":
        try:
            headers = pq.read_schema(path).names
        except (pa.ArrowInvalid, OSError) as e:
            raise TaxiFileError(f"{label}: corrupt parquet file: {e}") from e
        stats.source_columns = tuple(headers)
        mapping, unknown, missing = match_columns(taxi, headers, label, TAXI_TYPES.values())
        stats.unknown_columns, stats.missing_optional_columns = tuple(unknown), tuple(missing)
        stats.ignored_columns = tuple(h for h in headers if is_pandas_index(h))
        return mapping, parquet_batches(path, columns=list(mapping.values()))

    headers = read_csv_header(path, label)
    stats.source_columns = tuple(headers)
    mapping, unknown, missing = match_columns(taxi, headers, label, TAXI_TYPES.values())
    stats.unknown_columns, stats.missing_optional_columns = tuple(unknown), tuple(missing)
    stats.ignored_columns = tuple(h for h in headers if is_pandas_index(h))
    by_name = {c.name: c for c in taxi.columns}
    try:
        reader = _open_csv(path, headers, mapping, by_name, stats)
    except (pa.ArrowInvalid, OSError, EOFError) as e:
        raise TaxiFileError(f"{label}: unreadable row(s) in the first block: {_explain(e, headers)}") from e
    return mapping, reader


def _explain(e: Exception, headers: list[str]) -> str:
    """Arrow says `In CSV column #3: ...`; name the column too."""
    msg = str(e)
    m = re.search(r"CSV column #(\d+)", msg)
    if m and int(m.group(1)) < len(headers):
        msg = f"column {headers[int(m.group(1))]!r}: {msg}"
    return msg


def _open_csv(
    path: Path, headers: list[str], mapping: dict[str, str], by_name: dict[str, Column], stats: CleanStats
) -> pacsv.CSVStreamingReader:
    def wrong_field_count(row) -> str:
        stats.rows_wrong_field_count += 1
        if len(stats.wrong_field_examples) < BAD_ROW_EXAMPLES:
            stats.wrong_field_examples.append(f"{row.actual_columns} fields: {row.text[:120]!r}")
        return "skip"  # counted here, reported as an error once the whole file has been read

    return pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=headers, skip_rows=1, block_size=CSV_BLOCK_BYTES),
        parse_options=pacsv.ParseOptions(newlines_in_values=False, invalid_row_handler=wrong_field_count),
        convert_options=pacsv.ConvertOptions(
            column_types={src: _read_type(by_name[t]) for t, src in mapping.items()},
            include_columns=list(mapping.values()),
            strings_can_be_null=True,
            null_values=[""],  # "NA" stays a string
            timestamp_parsers=TIMESTAMP_PARSERS,
        ),
    )


def clean_batches(
    path: Path, taxi: TaxiType, month: dt.date, stats: CleanStats | None = None
) -> Iterator[pa.RecordBatch]:
    """Yield cleaned, typed batches of one source file; fills `stats` as it goes."""
    stats = stats if stats is not None else CleanStats()
    label = taxi.file_label(month)
    mapping, batches = _source_batches(path, taxi, label, stats)
    headers = list(stats.source_columns)
    it = iter(batches)
    while True:
        try:
            raw = next(it)
        except StopIteration:
            break
        except (pa.ArrowException, OSError, EOFError, UnicodeDecodeError) as e:
            raise TaxiFileError(f"{label}: unreadable row(s) after {stats.rows_in} rows: {_explain(e, headers)}") from e
        batch = _conform(raw, taxi, mapping, month, label, stats)
        stats.rows_in += batch.num_rows
        stats.rows_outside_month += _month_share(batch, taxi, month)
        if stats.month_sample is None:
            stats.month_sample = batch.select([taxi.pickup.name]).slice(0, 10_000)
        if taxi.drop_zero_passengers:
            keep = pc.fill_null(pc.not_equal(batch.column(taxi.passenger_count.name), 0), True)
            kept = batch.filter(keep)
            stats.rows_dropped_zero_passengers += batch.num_rows - kept.num_rows
            batch = kept
        stats.rows_out += batch.num_rows
        yield batch
    if stats.rows_wrong_field_count:
        raise TaxiFileError(
            f"{label}: {stats.rows_wrong_field_count} row(s) with too many or too few fields (the header has "
            f"{len(stats.source_columns)}); e.g. {'; '.join(stats.wrong_field_examples)}"
        )
    _check_month(stats, stats.month_sample, taxi, month, label)


def probe(path: Path, taxi: TaxiType, month: dt.date) -> CleanStats:
    """Is this `taxi`'s file for `month`? Its header, at least one row, a first block that parses, and
    that block's trips mostly in the month -- checked before a download replaces the kept raw file.
    Raises `TaxiFileError` (naming taxi type, month and problem, never quoting the file)."""
    stats = CleanStats()
    batches = clean_batches(path, taxi, month, stats)
    try:
        next(batches, None)
    finally:
        batches.close()
    label = taxi.file_label(month)
    if stats.rows_in == 0:
        raise TaxiFileError(f"{label}: the file has a header but no rows")
    if stats.rows_wrong_field_count:
        raise TaxiFileError(
            f"{label}: {stats.rows_wrong_field_count} row(s) with too many or too few fields in the first block "
            f"(the header has {len(stats.source_columns)}); e.g. {'; '.join(stats.wrong_field_examples)}"
        )
    _check_month(stats, stats.month_sample, taxi, month, label)
    return stats


def write_parquet(
    src: Path, dest: Path, taxi: TaxiType, month: dt.date, log: ProgressFn | None = None
) -> CleanStats:
    """Clean one source file into `dest` (parquet, zstd, ~256k-row row groups)."""
    label = taxi.file_label(month)
    try:
        stats = _write_parquet(src, dest, taxi, month, log)
    except BaseException as e:
        Path(dest).unlink(missing_ok=True)  # never leave half a file behind
        if isinstance(e, OSError) and not isinstance(e, TaxiFileError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise OSError(e.errno, f"{label}: no space left on the device while writing {dest}: {e.strerror}") from e
        if isinstance(e, OSError) and "No space left" in str(e):  # Arrow's IOError carries no errno
            raise OSError(errno.ENOSPC, f"{label}: no space left on the device while writing {dest}: {e}") from e
        raise
    if stats.rows_in == 0:
        Path(dest).unlink(missing_ok=True)
        raise TaxiFileError(f"{label}: the file has a header but no rows")
    if stats.non_utf8_values and log:
        log(f"{label}: {stats.non_utf8_values} text value(s) were not UTF-8 and were decoded as Latin-1")
    return stats


def _write_parquet(src: Path, dest: Path, taxi: TaxiType, month: dt.date, log: ProgressFn | None) -> CleanStats:
    stats = CleanStats()
    t0 = time.monotonic()
    progress = Progress(f"{taxi.file_label(month)} -> parquet", log)
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    group_rows = batch_rows_for(taxi.arrow_schema, ROW_GROUP_BYTES)
    with pq.ParquetWriter(dest, taxi.arrow_schema, compression="zstd") as writer:
        for batch in clean_batches(src, taxi, month, stats):
            pending.append(batch)
            pending_rows += batch.num_rows
            if pending_rows >= group_rows:
                writer.write_table(pa.Table.from_batches(pending), row_group_size=pending_rows)
                pending, pending_rows = [], 0
            progress.tick(stats.rows_in)
        if pending:
            writer.write_table(pa.Table.from_batches(pending), row_group_size=pending_rows)
    stats.seconds = time.monotonic() - t0
    return stats


