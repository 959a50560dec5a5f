"""Source file formats: sniffing csv.gz / csv / parquet, reading a CSV header, matching headers
to a table's columns, and streaming parquet files in record batches."""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa

from taxi_assets.core.errors import TaxiFileError
from taxi_assets.core.tables import SOURCE_MONTH, Column, Table


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
        raise TaxiFileError(f"{label}: the file is an HTML page, not a CSV file")
    headers = [h.strip().strip('"').strip() for h in next(csv.reader([text]))]
    if len(set(headers)) != len(headers):
        dupes = sorted({h for h in headers if headers.count(h) > 1})
        raise TaxiFileError(f"{label}: the header names a column twice: {dupes}")
    return headers


def match_columns(
    table: Table, headers: list[str], label: str, others: Iterable[Table] = ()
) -> tuple[dict[str, str], list[str], list[str]]:
    """Map target column name -> source header. Returns (mapping, unknown headers, missing optional).

    A missing required column is a `TaxiFileError` listing the expected spellings, the number of
    columns found and those of them that are known spellings (never other text of the file); when the headers are those of one of `others`,
    it says so ("another taxi type's file is at the yellow URL").
    """
    mapping = _map_headers(table, headers)
    missing_required = [c.name for c in table.columns if c.required and c.name not in mapping]
    if missing_required:
        known = [h for h in headers if table.column_for(h) is not None]  # our own spellings: safe to show
        looks_like = [
            other.name
            for other in others
            if other.name != table.name
            and all(c.name in _map_headers(other, headers) for c in other.columns if c.required)
        ]
        hint = (
            f" The columns are those of a {' or '.join(looks_like)} file: another taxi type's file is at the "
            f"{table.name} URL."
            if looks_like
            else f" Is this a {table.name} file?"
        )
        raise TaxiFileError(
            f"{label}: required column(s) missing: {', '.join(missing_required)}. "
            f"Expected (any of the spellings) {[_spellings(c) for c in table.columns if c.required]}; "
            f"the file's header has {len(headers)} column(s), {len(known)} of them known {known}"
            f"{' (the others are not shown: the file may be anything)' if len(known) < len(headers) else ''}.{hint}"
        )
    used = set(mapping.values())
    unknown = [h for h in headers if h not in used and h.lower() != SOURCE_MONTH and not is_pandas_index(h)]
    missing_optional = [c.name for c in table.columns if c.name not in mapping]
    return mapping, unknown, missing_optional


_PANDAS_INDEX = re.compile(r"^__index_level_\d+__$")


def is_pandas_index(header: str) -> bool:
    """A pandas index written into the file (`__index_level_0__`, 2010-02/03 yellow): not data, ignored."""
    return bool(_PANDAS_INDEX.match(header))


def _spellings(col: Column) -> str:
    return "/".join((col.name, *col.sources))


def _map_headers(table: Table, headers: list[str]) -> dict[str, str]:
    """target column -> the header that feeds it; an exact (case-insensitive) name wins over an alias."""
    mapping: dict[str, str] = {}
    for h in headers:
        col = table.column_for(h)
        if col is not None and (col.name not in mapping or h.strip().lower() == col.name):
            mapping[col.name] = h
    return mapping


# one Arrow batch's decoded size: the rows of a batch are this over the row's width, so a wide row
# (fhvhv: 25 columns, 8 of them text) does not make batches, and memory, bigger than a narrow one's
BATCH_BYTES = 24 << 20
TEXT_BYTES = 16  # a text value's assumed width: a 4-byte offset and a short code (N, HV0003, B03404)


def batch_rows_for(schema: pa.Schema, batch_bytes: int | None = None) -> int:
    """Rows per batch so that a batch of `schema` takes about `batch_bytes` (default `BATCH_BYTES`; fixed-width types by
    their width, text by `TEXT_BYTES`), between 4,096 and 1,048,576."""
    width = 0
    for field in schema:
        t = field.type
        width += max(t.bit_width // 8, 1) if pa.types.is_primitive(t) else TEXT_BYTES
    return max(4096, min(1 << 20, (batch_bytes or BATCH_BYTES) // max(width, 1)))


def parquet_batches(
    path: Path, batch_rows: int | None = None, columns: list[str] | None = None
) -> Iterator[pa.RecordBatch]:
    """Stream a parquet file in record batches (only `columns`, if given); the file is closed after.
    `batch_rows` None: sized by bytes (`batch_rows_for`), not by rows."""
    import pyarrow.parquet as pq

    # pre_buffer=False: the default reads column chunks ahead of the consumer, so memory grows with
    # the month (Arrow pool 226 MB on a 7.7M-row month vs 88 MB on 1.37M); without it ~64 MB, flat.
    # buffer_size: a column chunk is read in 1 MB pieces, not whole (a TLC row group holds ~1M rows)
    with pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20) as pf:
        schema = pf.schema_arrow if columns is None else pa.schema([pf.schema_arrow.field(c) for c in columns])
        yield from pf.iter_batches(batch_size=batch_rows or batch_rows_for(schema), columns=columns)


def parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as pf:
        return pf.metadata.num_rows


def parquet_schema(path: Path) -> pa.Schema:
    """The Arrow schema of a parquet file, from its footer."""
    import pyarrow.parquet as pq

    return pq.read_schema(path)
