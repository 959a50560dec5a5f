"""Freshness of a taxi type: is the newest month loaded as recent as the source's publication lag allows?

The newest loaded month is the newest *partition key* loaded (not the time of the last load), so a
backfill of an old month never makes a type look fresh. What the source has surely published by
`today`:

- `tlc`: the TLC publishes a month about two months after it ends (January's trips in the second
  half of March). Allowing that lag and the month it takes, the month three before the current
  one must be there: on 2026-12-15 that is 2026-09 (October may appear any day; November cannot).
- `dtc`: the releases are fixed; their last month (2021-07) must be there.

| newest loaded month                              | grade |
| ------------------------------------------------ | ----- |
| the expected month or later                      | PASS  |
| one month older (`WARN_MONTHS_BEHIND`)           | WARN: the source is late, or a month was missed |
| two or more months older, or nothing loaded      | ERROR |
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from taxi_assets.core.config import TLC_LAG_MONTHS
from taxi_assets.core.months import add_months

PASS, WARN, ERROR = "PASS", "WARN", "ERROR"
WARN_MONTHS_BEHIND = 1  # up to this many months behind the expected month: WARN; more: ERROR
TLC_SURELY_PUBLISHED_AFTER_MONTHS = TLC_LAG_MONTHS + 1  # the usual lag and the month it takes to publish


@dataclasses.dataclass(frozen=True)
class Freshness:
    grade: str
    expected: dt.date  # the newest month the source has surely published
    newest: dt.date | None  # the newest month loaded
    behind: int  # months the newest loaded is behind the expected (0 when fresh)

    def describe(self, taxi: str) -> str:
        if self.newest is None:
            return f"{taxi}: no month loaded; {self.expected:%Y-%m} has been published"
        if self.grade == PASS:
            return f"{taxi}: the newest month loaded is {self.newest:%Y-%m} (expected at least {self.expected:%Y-%m})"
        return (f"{taxi}: the newest month loaded is {self.newest:%Y-%m}, {self.behind} month(s) behind "
                f"{self.expected:%Y-%m}, which the source has published by now")


def expected_month(today: dt.date, last_release: dt.date | None = None) -> dt.date:
    """The newest month the source has surely published by `today` (see the module docstring)."""
    if last_release is not None:
        return last_release
    return add_months(today.replace(day=1), -TLC_SURELY_PUBLISHED_AFTER_MONTHS)


def grade(newest: dt.date | None, expected: dt.date) -> Freshness:
    if newest is None:
        return Freshness(ERROR, expected, None, 0)
    behind = max(0, (expected.year - newest.year) * 12 + expected.month - newest.month)
    level = PASS if behind == 0 else WARN if behind <= WARN_MONTHS_BEHIND else ERROR
    return Freshness(level, expected, newest, behind)
