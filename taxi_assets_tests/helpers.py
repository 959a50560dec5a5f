"""Independent counting of source files, so tests never hard-code expected results."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path


def read_source_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a CSV or csv.gz with Python's csv module (not the code under test)."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    reader = csv.reader(io.StringIO(raw.decode("utf-8")))
    header = next(reader)
    rows = [dict(zip(header, r)) for r in reader if r]
    return header, rows


def expected_kept(path: Path, drops_zero_passengers: bool) -> tuple[int, int]:
    """(rows in the file, rows the documented rule drops)."""
    _, rows = read_source_rows(path)
    dropped = sum(1 for r in rows if r.get("passenger_count", "").strip() in ("0", "0.0")) if drops_zero_passengers else 0
    return len(rows), dropped


def refusal(result) -> str:
    """The preflight's message when a run was refused before any step ran ('' if it was not)."""
    import dagster as dg

    for e in result.all_events:
        if e.event_type == dg.DagsterEventType.RESOURCE_INIT_FAILURE:
            error = getattr(e.event_specific_data, "error", None)
            text = []
            while error is not None:
                text.append(error.message)
                error = error.cause
            return " <- ".join(text)
    return ""
