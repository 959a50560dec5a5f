"""Parquet batches are sized by bytes, not rows: a wide row (fhvhv) gets fewer rows per batch than a
narrow one, and a batch of either takes about the same memory."""

import datetime as dt

import pytest

from taxi_assets.core.formats import batch_rows_for, parquet_batches
from taxi_assets.core.taxi_types import TAXI_TYPES
from taxi_assets.localstack import sample

BATCH = 1 << 20


def test_wider_rows_get_fewer_rows_per_batch():
    rows = {name: batch_rows_for(t.arrow_schema, BATCH) for name, t in TAXI_TYPES.items()}
    widths = {name: len(t.arrow_schema) for name, t in TAXI_TYPES.items()}
    assert rows["fhv"] > rows["green"] > rows["fhvhv"] and widths["fhv"] < widths["fhvhv"]


@pytest.mark.parametrize("taxi", ["yellow", "fhvhv", "fhv"])
def test_a_batch_of_any_type_takes_about_the_same_memory(tmp_path, taxi, monkeypatch):
    monkeypatch.setattr("taxi_assets.core.formats.BATCH_BYTES", BATCH)
    src = sample.write_tlc_parquet(tmp_path, taxi, dt.date(2024, 1, 1), rows=60_000)
    first = next(parquet_batches(src))
    assert 0.4 * BATCH <= first.nbytes <= 2.5 * BATCH, (taxi, first.num_rows, first.nbytes)
