"""The binary COPY encoder (`taxi_assets.core.stores.pgbinary`): what it writes, read back by a
decoder written here from PostgreSQL's documented format (not the code under test), and, in the
stack tier, what the server stores."""

import datetime as dt
import os
import random
import struct

import pyarrow as pa
import pytest

from taxi_assets.core.stores import pgbinary

PG_EPOCH = dt.datetime(2000, 1, 1)


def decode(data: bytes, types: list[pa.DataType]) -> list[tuple]:
    """Rows of a binary COPY stream (header, tuples, trailer), each value as Python sees it."""
    assert data[:11] == b"PGCOPY\n\xff\r\n\x00"
    flags, ext = struct.unpack(">ii", data[11:19])
    assert flags == 0 and ext == 0
    pos, rows = 19, []
    while True:
        (count,) = struct.unpack(">h", data[pos:pos + 2])
        pos += 2
        if count == -1:
            assert pos == len(data)
            return rows
        assert count == len(types)
        row = []
        for t in types:
            (n,) = struct.unpack(">i", data[pos:pos + 4])
            pos += 4
            if n == -1:
                row.append(None)
                continue
            raw = data[pos:pos + n]
            pos += n
            if pa.types.is_string(t) or pa.types.is_large_string(t):
                row.append(raw.decode())
            elif pa.types.is_timestamp(t):
                row.append(PG_EPOCH + dt.timedelta(microseconds=struct.unpack(">q", raw)[0]))
            elif pa.types.is_date32(t):
                row.append(PG_EPOCH.date() + dt.timedelta(days=struct.unpack(">i", raw)[0]))
            elif pa.types.is_boolean(t):
                row.append(raw == b"\x01")
            else:
                fmt = {pa.int16(): ">h", pa.int32(): ">i", pa.int64(): ">q", pa.float32(): ">f", pa.float64(): ">d"}[t]
                assert n == struct.calcsize(fmt)
                row.append(struct.unpack(fmt, raw)[0])
        rows.append(tuple(row))


def stream(batches: list[pa.RecordBatch]) -> bytes:
    return pgbinary.HEADER + b"".join(bytes(pgbinary.encode(b)) for b in batches) + pgbinary.TRAILER


def random_batch(rows: int, seed: int, null_share: float = 0.1, words=("", "N", "Y", "Credit card", "Cash", "Dispute")) -> pa.RecordBatch:
    rnd = random.Random(seed)

    def maybe(v):
        return None if rnd.random() < null_share else v

    cols = {
        "i64": pa.array([maybe(rnd.randint(-2**62, 2**62)) for _ in range(rows)], pa.int64()),
        "i32": pa.array([maybe(rnd.randint(-2**31, 2**31 - 1)) for _ in range(rows)], pa.int32()),
        "i16": pa.array([maybe(rnd.randint(-2**15, 2**15 - 1)) for _ in range(rows)], pa.int16()),
        "f64": pa.array([maybe(rnd.uniform(-1e6, 1e6)) for _ in range(rows)], pa.float64()),
        "f32": pa.array([maybe(float(rnd.randint(-1000, 1000)) / 4) for _ in range(rows)], pa.float32()),
        "ok": pa.array([maybe(rnd.random() < 0.5) for _ in range(rows)], pa.bool_()),
        "ts": pa.array([maybe(dt.datetime(2021, 1, 1) + dt.timedelta(microseconds=rnd.randint(-10**15, 10**15)))
                        for _ in range(rows)], pa.timestamp("us")),
        "ts_ms": pa.array([maybe(dt.datetime(1999, 12, 31, 23, 59, 59, 999000)) for _ in range(rows)], pa.timestamp("ms")),
        "day": pa.array([maybe(dt.date(1990, 1, 1) + dt.timedelta(days=rnd.randint(0, 20000))) for _ in range(rows)], pa.date32()),
        "word": pa.array([maybe(rnd.choice(words)) for _ in range(rows)], pa.string()),
        "text": pa.array([maybe("é" * rnd.randint(0, 40)) for _ in range(rows)], pa.large_string()),
    }
    return pa.RecordBatch.from_pydict(cols)


def expected_rows(batch: pa.RecordBatch) -> list[tuple]:
    return [tuple(r.values()) for r in batch.to_pylist()]


def as_sorted(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=repr)  # the encoder groups rows by layout: their order is not kept


@pytest.fixture
def paths(monkeypatch):
    """Rows encoded by each path (one array per layout, or the byte scatter)."""
    used = {"group": 0, "scatter": 0}
    for name, fn in (("group", pgbinary._encode_group), ("scatter", pgbinary._encode_scatter)):
        def spy(cols, idx, _fn=fn, _name=name):
            used[_name] += len(idx)
            return _fn(cols, idx)
        monkeypatch.setattr(pgbinary, f"_encode_{name}", spy)
    return used


def test_every_type_with_nulls_and_strings_reads_back_as_the_batch(paths):
    # few layouts (short words, 2 % NULLs): nearly every row in a layout array of its own
    batch = random_batch(20_000, seed=1, null_share=0.02).drop_columns(["text"])
    got = decode(stream([batch]), batch.schema.types)
    assert as_sorted(got) == as_sorted(expected_rows(batch))
    assert paths["group"] > 0.5 * batch.num_rows and paths["scatter"] > 0


def test_many_rare_layouts_go_through_the_scatter_path_and_still_read_back(paths):
    # free text of 0..40 characters and 30 % NULLs: hundreds of layouts of a few rows each
    batch = random_batch(2_000, seed=2, null_share=0.3)
    got = decode(stream([batch]), batch.schema.types)
    assert as_sorted(got) == as_sorted(expected_rows(batch))
    assert paths["scatter"] > 0.9 * batch.num_rows


def test_sliced_batches_and_no_nulls_at_all():
    whole = random_batch(1_000, seed=3, null_share=0.0)
    parts = [whole.slice(0, 300), whole.slice(300, 1), whole.slice(301)]
    got = decode(stream(parts), whole.schema.types)
    assert as_sorted(got) == as_sorted(expected_rows(whole))


def test_an_empty_string_is_not_null():
    batch = pa.RecordBatch.from_pydict({"s": pa.array(["", None, "a"] * 100, pa.string())})
    assert as_sorted(decode(stream([batch]), [pa.string()])) == as_sorted([("",), (None,), ("a",)] * 100)


def test_an_empty_batch_writes_nothing():
    batch = random_batch(5, seed=4).slice(0, 0)
    assert bytes(pgbinary.encode(batch)) == b""


@pytest.mark.parametrize("t", [pa.uint32(), pa.decimal128(10, 2), pa.timestamp("us", tz="UTC"), pa.list_(pa.int64())])
def test_a_type_without_an_encoding_is_refused_by_name(t):
    with pytest.raises(TypeError, match="column 'x'"):
        pgbinary.check_types(pa.schema([("x", t)]))


def test_the_server_stores_what_was_encoded(pipeline_env):
    """COPY … (FORMAT binary) into a table of the matching Postgres types, then read back."""
    import psycopg

    batch = random_batch(5_000, seed=5)
    ddl = ("i64 bigint, i32 integer, i16 smallint, f64 double precision, f32 real, ok boolean, "
           "ts timestamp, ts_ms timestamp, day date, word text, text text")
    with psycopg.connect(os.environ["TAXI_POSTGRES_URL"]) as conn:
        conn.execute("CREATE TEMP TABLE pgbinary_roundtrip (" + ddl + ")")
        with conn.cursor().copy("COPY pgbinary_roundtrip FROM STDIN (FORMAT binary)") as copy:
            copy.write(stream([batch.slice(0, 2_000), batch.slice(2_000)]))
        got = conn.execute("SELECT * FROM pgbinary_roundtrip").fetchall()
    assert as_sorted(got) == as_sorted(expected_rows(batch))
