"""Months: the first day of the month stands for a month (a partition key, a source file)."""

from __future__ import annotations

import datetime as dt


def partition_month(partition_key: str) -> dt.date:
    """`2021-01-01` -> date(2021, 1, 1); anything else is a clear error."""
    try:
        month = dt.date.fromisoformat(partition_key)
    except ValueError:
        raise ValueError(f"partition key {partition_key!r} is not a date (expected the first day of a month, 2021-01-01)") from None
    if month.day != 1:
        raise ValueError(f"partition key {partition_key!r} is not the first day of a month")
    return month


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def month_of(text: str) -> dt.date:
    """A month as a user writes it, `2021-01` or `2021-01-01`, -> date(2021, 1, 1); else ValueError."""
    try:
        day = dt.date.fromisoformat(text + "-01" if len(text) == 7 else text)
    except ValueError:
        day = None
    if day is None or day.day != 1 or len(text) not in (7, 10):
        raise ValueError(f"{text!r} is not a month")
    return day
