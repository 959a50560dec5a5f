"""Progress lines for long steps (rows, bytes and rate), at a steady cadence."""

from __future__ import annotations

import time
from collections.abc import Callable

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
        if rows:
            self.log(f"{self.what}: {rows:,} rows{extra} in {elapsed:,.1f} s ({rows / elapsed:,.0f} rows/s)")
        else:
            self.log(f"{self.what}: {extra.lstrip(', ')} in {elapsed:,.1f} s ({(nbytes or 0) / 1e6 / elapsed:,.1f} MB/s)")
