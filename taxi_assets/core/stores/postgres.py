"""Postgres: one table per taxi type, LIST-partitioned by `source_month`; a month is replaced by
COPY into a fresh partition and a swap, in one transaction.

Why partitions: replacing a month is then DROP + ATTACH of one partition (no DELETE of a
million rows, no bloat, no VACUUM); the COPY goes into a table of its own, so readers are not
blocked while it runs -- only the swap at the end locks the table, for the milliseconds of a
DROP, RENAME and ATTACH (waiting at most `lock_timeout_seconds` for running queries); a crash
(even `kill -9`) at any point leaves the previous month as it was.

Schema evolution: a table made by an older version gains the columns a newer record adds, in
place and nullable (`ensure_table`); a change that is not additive is refused
(`stores.evolution`).

The rows go in as binary COPY (`COPY … FROM STDIN (FORMAT binary, FREEZE true)` on psycopg), the
Arrow batches encoded by `stores.pgbinary` with numpy in a background thread while the previous
batch is sent: no text formatting and no CSV parsing in the server, and the staging table, made in
the same transaction, is written frozen (no hint-bit rewrite by the first reader). Figures beside
ADBC's `adbc_ingest` and the CSV COPY it replaced: docs/BENCHMARKS.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from typing import TYPE_CHECKING

from taxi_assets.core.identifiers import check_identifier
from taxi_assets.core.stores.evolution import columns_to_add
from taxi_assets.core.progress import Progress
from taxi_assets.core.tables import SOURCE_MONTH, Column

if TYPE_CHECKING:  # the driver is imported when the store is used, not with the definitions
    import psycopg
    import pyarrow as pa


def partition_name(table: str, month: dt.date) -> str:
    return f"{table}_{month:%Y_%m}"


@dataclasses.dataclass
class PostgresStore:
    """A Postgres database reached by a libpq URL (`TAXI_POSTGRES_URL`); tables in `db_schema`."""

    url: str
    db_schema: str = "public"
    lock_timeout_seconds: float = 120.0  # how long the swap waits for readers of the table

    @contextmanager
    def connect(self, autocommit: bool = False) -> Iterator[psycopg.Connection]:
        import psycopg

        with psycopg.connect(self.url, autocommit=autocommit, application_name="taxi_assets") as conn:
            yield conn

    def _ident(self, *parts: str) -> sql.Identifier:
        from psycopg import sql

        return sql.Identifier(*parts)

    def ensure_table(self, table: str, columns: Sequence[Column]) -> list[str]:
        """Create the partitioned table if needed, or bring an existing one up to `columns`.

        Columns the table lacks are added in place, nullable (every partition gains them; the
        months loaded before read NULL there). A column of the table that `columns` lacks, or one
        of another type, is refused (`SchemaChangeRefused`, see `stores.evolution`). Returns the
        names of the columns added.
        """
        from psycopg import sql

        schema = check_identifier(self.db_schema, "schema")
        check_identifier(table, "table")
        with self.connect() as conn:
            # one creator at a time per table (CREATE ... IF NOT EXISTS races otherwise)
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{schema}.{table}",))
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(self._ident(schema)))
            conn.execute(
                sql.SQL("CREATE TABLE IF NOT EXISTS {} ({}) PARTITION BY LIST ({})").format(
                    self._ident(schema, table), _column_ddl(columns), self._ident(SOURCE_MONTH)
                )
            )
            found = dict(
                conn.execute(
                    "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                    "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                    (sql.Identifier(schema, table).as_string(conn),),
                ).fetchall()
            )
            added = columns_to_add(
                f"{schema}.{table}", found, columns, _pg_type,
                f"Way out: load into a new schema (TAXI_POSTGRES_SCHEMA) and reload the months there, or change "
                f"the column of {schema}.{table} yourself (ALTER TABLE) and load again.",
            )
            if added:
                conn.execute(f"SET LOCAL lock_timeout = '{int(self.lock_timeout_seconds * 1000)}ms'")
                conn.execute(
                    sql.SQL("ALTER TABLE {} {}").format(
                        self._ident(schema, table),
                        sql.SQL(", ").join(
                            sql.SQL("ADD COLUMN IF NOT EXISTS {} {}").format(sql.Identifier(c.name), sql.SQL(c.postgres_type))
                            for c in added
                        ),
                    )
                )
        return [c.name for c in added]

    def replace_month(
        self,
        table: str,
        columns: Sequence[Column],
        month: dt.date,
        batches: Iterable[pa.RecordBatch],
        log: Callable[[str], None] | None = None,
    ) -> int:
        """Load `batches` as the month's rows of `table`, replacing what was there; returns rows."""
        from psycopg import sql

        added = self.ensure_table(table, columns)
        if added and log:
            log(f"{self.db_schema}.{table}: column(s) {', '.join(added)} added in place (NULL in the months loaded before)")
        schema = self.db_schema
        part = partition_name(table, month)
        staging = f"{part}__load"
        names = [c.name for c in columns]
        progress = Progress(f"{table} {month:%Y-%m} COPY", log)
        # one transaction (psycopg commits at the end of the block, rolls back on an error or a kill)
        with self.connect() as conn, conn.cursor() as cur:
            def run(stmt) -> None:
                cur.execute(stmt)

            # one writer per table and month; a second run of the same month waits, then replaces
            run(sql.SQL("SELECT pg_advisory_xact_lock(hashtext({}), hashtext({}))").format(
                sql.Literal(f"{schema}.{table}"), sql.Literal(str(month))))
            run(sql.SQL("DROP TABLE IF EXISTS {}").format(self._ident(schema, staging)))
            # the staging table is declared from the columns, not LIKE the parent: LIKE would hold a
            # lock on the parent for the whole COPY, and two months swapping in would deadlock
            run(
                sql.SQL("CREATE TABLE {} ({}, CHECK ({} = {}))").format(
                    self._ident(schema, staging), _column_ddl(columns), self._ident(SOURCE_MONTH), sql.Literal(month)
                )
            )
            rows = _ingest(cur, schema, staging, names, batches, progress)
            # the swap: the only moment the parent is locked (exclusively: dropping a partition needs
            # it), taken first and at once so that concurrent swaps queue instead of deadlocking
            run(f"SET LOCAL lock_timeout = '{int(self.lock_timeout_seconds * 1000)}ms'")
            run(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(self._ident(schema, table)))
            run(sql.SQL("DROP TABLE IF EXISTS {}").format(self._ident(schema, part)))
            run(sql.SQL("ALTER TABLE {} RENAME TO {}").format(self._ident(schema, staging), self._ident(part)))
            run(
                sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES IN ({})").format(
                    self._ident(schema, table), self._ident(schema, part), sql.Literal(month)
                )
            )
        return rows

    def has_month(self, table: str, month: dt.date) -> bool:
        """Whether the month was ever loaded: its partition exists (a month of 0 rows is still loaded)."""
        name = f"{check_identifier(self.db_schema, 'schema')}.{partition_name(check_identifier(table, 'table'), month)}"
        with self.connect() as conn:
            return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]

    def count_month(self, table: str, month: dt.date) -> int:
        from psycopg import sql

        with self.connect() as conn:
            q = sql.SQL("SELECT count(*) FROM {} WHERE {} = %s").format(
                self._ident(check_identifier(self.db_schema, "schema"), check_identifier(table, "table")),
                self._ident(SOURCE_MONTH),
            )
            return conn.execute(q, (month,)).fetchone()[0]

    def replace_table(self, table: str, columns: Sequence[Column], batches: Iterable[pa.RecordBatch]) -> int:
        """Replace a small unpartitioned table (the zone lookup) in one transaction."""
        from psycopg import sql

        schema = check_identifier(self.db_schema, "schema")
        check_identifier(table, "table")
        names = [c.name for c in columns]
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(sql.SQL("SELECT pg_advisory_xact_lock(hashtext({}))").format(sql.Literal(f"{schema}.{table}")))
            cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(self._ident(schema)))
            cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(self._ident(schema, table)))
            cur.execute(sql.SQL("CREATE TABLE {} ({})").format(self._ident(schema, table), _column_ddl(columns)))
            rows = _ingest(cur, schema, table, names, batches, None)
        return rows



def _pg_type(col: Column) -> str:
    """The column's type as `format_type` spells it."""
    return {"timestamp": "timestamp without time zone"}.get(col.postgres_type, col.postgres_type)


def _column_ddl(columns: Sequence[Column]) -> sql.Composed:
    from psycopg import sql

    return sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.postgres_type)) for c in columns)


def _ingest(
    cur, schema: str, table: str, names: list[str], batches: Iterable[pa.RecordBatch], progress: Progress | None
) -> int:
    """Binary COPY of `batches` (their `names` columns) into `schema.table`, created in the cursor's
    transaction (so FREEZE applies), in that transaction.

    Pipelined: a background thread reads the next batches and encodes them (`stores.pgbinary`;
    pyarrow and numpy release the GIL) while this one sends the previous, at most `_PREFETCH`
    batches ahead. Arrow types map to the table's (int64 bigint, float64 double precision,
    timestamp[us] timestamp, string text, date32 date); a type the encoder has no encoding for is
    refused before the COPY starts.
    """
    from psycopg import sql

    from taxi_assets.core.stores import pgbinary

    def encoded(items: Iterable[pa.RecordBatch]) -> Iterator[tuple[int, int, memoryview]]:
        for batch in items:
            batch = batch.select(names)
            pgbinary.check_types(batch.schema)
            for start in range(0, batch.num_rows, _ENCODE_ROWS):  # slices: zero-copy views of the batch
                part = batch.slice(start, _ENCODE_ROWS)
                yield part.num_rows, part.nbytes, pgbinary.encode(part)

    rows = nbytes = 0
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary, FREEZE true)").format(
        sql.Identifier(schema, table), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    with closing(_prefetched(encoded(batches), _PREFETCH)) as ahead:
        first = next(ahead, None)
        if first is None:
            return 0
        with cur.copy(copy_sql) as copy:
            copy.write(pgbinary.HEADER)
            for n, size, data in itertools.chain([first], ahead):
                copy.write(data)
                rows += n
                nbytes += size
                if progress:
                    progress.tick(rows, nbytes)
            copy.write(pgbinary.TRAILER)
    return rows


_PREFETCH = 2  # encoded pieces queued ahead of the COPY
# rows encoded at a time (~9 MB of yellow tuples, with as much again in temporaries): whole batches
# (~107k rows) cost ~60 MB more at the peak of a job, which loads Postgres beside GCS and BigQuery
_ENCODE_ROWS = 32_768


_DONE = object()


def _prefetched(items: Iterator, depth: int) -> Iterator:
    """Iterate `items` in a background thread, up to `depth` items ahead of the consumer.

    An exception in the producer is raised in the consumer; a consumer that stops early (an
    error while sending) stops the producer, which never blocks on a full queue forever.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
        except BaseException as e:  # handed to the consumer, raised there
            put((None, e))
            return
        put((_DONE, None))

    worker = threading.Thread(target=produce, name="copy-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, error = q.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        worker.join()
