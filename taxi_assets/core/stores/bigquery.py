"""BigQuery: tables partitioned by month on `source_month`, loaded from the lake by load jobs.

A month is replaced without a partition decorator (the emulator has none) and atomically on
real BigQuery too: the GCS object is loaded into a staging table, then one script deletes the
month and inserts the staged rows inside a transaction. A month the table does not hold yet is
appended by one load job instead (all its rows or none; no staged copy).

Every call is bounded: one request waits at most `timeout_seconds`, the client's retries of one
call stop after `retry_seconds`, a load job or query is waited for at most `job_seconds` (then
cancelled), and the cleanup in `finally` has the same bounds -- so a BigQuery that is down fails
the step with `StoreUnavailable` (naming BigQuery and its endpoint) in about `retry_seconds`, and
the step's RetryPolicy tries again; nothing waits forever, and a SIGTERM is never stuck behind an
unbounded retry loop.

Endpoint and credentials follow the Google client conventions: with `BIGQUERY_EMULATOR_HOST`
set, the client talks to that emulator with anonymous credentials; otherwise to BigQuery with
Application Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS` names a key file). dagster-gcp's
`BigQueryResource` takes neither an endpoint nor anonymous credentials, hence this resource.

Schema evolution: a table made by an older version gains the columns a newer record adds, in place
and NULLABLE (`ensure_month_table`); a change that is not additive is refused (`stores.evolution`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import os
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from taxi_assets.core.errors import StoreUnavailable
from taxi_assets.core.identifiers import check_identifier, check_project
from taxi_assets.core.stores.evolution import columns_to_add
from taxi_assets.core.tables import SOURCE_MONTH, Column

if TYPE_CHECKING:  # the client library is imported when a store is used, not with the definitions
    from google.cloud import bigquery

# the legacy SQL names the API may answer with, and their standard SQL names (those of `KINDS`)
_LEGACY_TYPES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL"}


def _sql_string(text: str) -> str:
    """A GoogleSQL string literal (our own descriptions: quotes and backslashes escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def bq_schema(columns: Sequence[Column]) -> list[bigquery.SchemaField]:
    from google.cloud import bigquery

    return [bigquery.SchemaField(c.name, c.bigquery_type, mode="NULLABLE", description=c.description) for c in columns]


@dataclasses.dataclass
class BigQueryStore:
    """Tables in `project.dataset`; `location` is where datasets and jobs live."""

    project: str
    dataset: str
    location: str = "US"
    timeout_seconds: float = 30.0  # one HTTP request
    retry_seconds: float = 60.0  # the client's retries of one call
    job_seconds: float = 900.0  # a load job or query, start to end (a 20M-row month loads in minutes)

    @property
    def endpoint(self) -> str:
        return os.environ.get("BIGQUERY_EMULATOR_HOST") or "https://bigquery.googleapis.com"

    def client(self) -> bigquery.Client:
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        emulator = os.environ.get("BIGQUERY_EMULATOR_HOST")
        if emulator:
            return bigquery.Client(
                project=self.project,
                credentials=AnonymousCredentials(),
                client_options=ClientOptions(api_endpoint=emulator),
                location=self.location,
            )
        return bigquery.Client(project=self.project, location=self.location)

    @property
    def _call(self) -> dict:
        """Bounds for one API call."""
        from google.cloud import bigquery

        return {"retry": bigquery.DEFAULT_RETRY.with_timeout(self.retry_seconds), "timeout": self.timeout_seconds}

    @property
    def _query(self) -> dict:
        """Bounds for a query: the call's; no re-issue of a failed query job (the client's own
        job-insert retry runs 10 min whatever the call's bound: the step's RetryPolicy retries instead)."""
        return {**self._call, "job_retry": None}

    @contextlib.contextmanager
    def _session(self) -> Iterator[bigquery.Client]:
        """A client, closed after; a BigQuery that does not answer is a `StoreUnavailable`."""
        import requests
        from google.api_core import exceptions as google_exceptions

        try:
            with contextlib.closing(self.client()) as client:
                yield client
        except (google_exceptions.RetryError, google_exceptions.ServiceUnavailable, requests.ConnectionError,
                requests.Timeout, concurrent.futures.TimeoutError) as e:
            raise StoreUnavailable(
                f"BigQuery ({self.endpoint}) did not answer within {self.retry_seconds:.0f} s: {type(e).__name__}"
            ) from e

    def table_id(self, table: str) -> str:
        check_identifier(self.dataset, "dataset")
        check_identifier(table, "table")
        return f"{check_project(self.project)}.{self.dataset}.{table}"

    def ensure_dataset(self, client: bigquery.Client) -> None:
        from google.cloud import bigquery

        ds = bigquery.Dataset(f"{check_project(self.project)}.{check_identifier(self.dataset, 'dataset')}")
        ds.location = self.location
        client.create_dataset(ds, exists_ok=True, **self._call)

    def ensure_month_table(self, client: bigquery.Client, table: str, columns: Sequence[Column]) -> tuple[list[str], bool]:
        """Create the month-partitioned table if needed, or bring an existing one up to `columns`:
        the columns it lacks are added in place, NULLABLE (a schema update: no month is reloaded);
        a column it has that `columns` lacks, or one of another type, is refused
        (`SchemaChangeRefused`, see `stores.evolution`). Returns the names of the columns added, and
        whether the table's columns are `columns` in their order (a table that gained columns has
        them at its end; the emulator's load jobs match parquet columns by position)."""
        from google.cloud import bigquery

        t = bigquery.Table(self.table_id(table), schema=bq_schema(columns))
        t.time_partitioning = bigquery.TimePartitioning(type_=bigquery.TimePartitioningType.MONTH, field=SOURCE_MONTH)
        existing = client.create_table(t, exists_ok=True, **self._call)
        found = {f.name: _LEGACY_TYPES.get(f.field_type, f.field_type) for f in existing.schema}
        added = columns_to_add(
            self.table_id(table), found, columns, lambda c: c.bigquery_type,
            "Way out: load into a new dataset (TAXI_BQ_DATASET) and reload the months there, or change the "
            "table yourself (ALTER TABLE, or copy it with the new schema) and load again.",
        )
        if added:
            # DDL, not only a schema patch: the emulator answers a patch without changing its data
            for c in added:  # one statement per column (the emulator takes one ALTER at a time)
                ddl = (f"ALTER TABLE `{self.table_id(table)}` ADD COLUMN IF NOT EXISTS `{c.name}` {c.bigquery_type} "
                       f"OPTIONS(description={_sql_string(c.description)})")
                _wait(client.query(ddl, **self._query), f"adding {c.name} to {self.table_id(table)}", None, self.job_seconds)
            # the emulator applies the DDL to its data but not to the table's metadata: patch that too
            # (on BigQuery the fresh metadata already has the columns and nothing more is sent)
            fresh = client.get_table(self.table_id(table), **self._call)
            have = {f.name for f in fresh.schema}
            if any(c.name not in have for c in added):
                fresh.schema = list(fresh.schema) + bq_schema([c for c in added if c.name not in have])
                client.update_table(fresh, ["schema"], **self._call)
        in_order = [f.name for f in existing.schema] == [c.name for c in columns]
        return [c.name for c in added], in_order

    def replace_month_from_uri(
        self, table: str, columns: Sequence[Column], month: dt.date, uri: str, log: Callable[[str], None] | None = None
    ) -> int:
        """Load `uri` (parquet) as the month's rows of `table`; returns the month's row count."""
        with self._session() as client:
            return self._replace_month(client, table, columns, month, uri, log)

    def load_staging(self, client: bigquery.Client, staging: str, columns: Sequence[Column], uri: str, log=None) -> None:
        """A fresh staging table that expires by itself (should a crash leave it behind), filled from `uri`.

        Appended to, not truncated: WRITE_TRUNCATE would replace the table and drop its expiry."""
        from google.cloud import bigquery

        client.delete_table(staging, not_found_ok=True, **self._call)
        stage = bigquery.Table(staging, schema=bq_schema(columns))
        stage.expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
        client.create_table(stage, **self._call)
        self._append(client, staging, columns, uri, log)

    def _append(self, client: bigquery.Client, table_id: str, columns: Sequence[Column], uri: str, log=None) -> None:
        """One load job appending `uri` (parquet) to an existing table: all its rows or none."""
        from google.cloud import bigquery

        load = client.load_table_from_uri(
            uri,
            table_id,
            job_config=bigquery.LoadJobConfig(
                source_format=bigquery.SourceFormat.PARQUET,
                schema=bq_schema(columns),
                write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
                create_disposition=bigquery.CreateDisposition.CREATE_NEVER,
            ),
            **self._call,
        )
        _wait(load, f"load job {load.job_id} ({uri} -> {table_id})", log, self.job_seconds)

    def _replace_month(self, client, table, columns, month, uri, log) -> int:
        self.ensure_dataset(client)
        added, in_order = self.ensure_month_table(client, table, columns)
        if added and log:
            log(f"{self.table_id(table)}: column(s) {', '.join(added)} added in place (NULL in the months loaded before)")
        target = self.table_id(table)
        if in_order and self.count_month(table, month, client) == 0:
            # a first load (a backfill's every month): nothing to replace, so one load job appends the
            # month straight into the table -- atomic as the swap, without staging the rows and
            # copying them again (which real BigQuery bills as a query over the staged month); a
            # table out of order goes through staging, whose INSERT names every column
            self._append(client, target, columns, uri, log)
            return self.count_month(table, month, client)
        staging = self.table_id(f"{table}__load_{month:%Y%m}")
        self.load_staging(client, staging, columns, uri, log)
        names = ", ".join(f"`{c.name}`" for c in columns)
        month_literal = f"DATE '{month.isoformat()}'"  # a date object, formatted by us: no injection
        script = f"""
        BEGIN TRANSACTION;
        DELETE FROM `{target}` WHERE `{SOURCE_MONTH}` = {month_literal};
        INSERT INTO `{target}` ({names}) SELECT {names} FROM `{staging}`;
        COMMIT TRANSACTION;
        """
        try:
            _wait(client.query(script, **self._query), f"month swap of {target}", log, self.job_seconds)
        finally:
            client.delete_table(staging, not_found_ok=True, **self._call)  # bounded: never hangs a SIGTERM
        return self.count_month(table, month, client)

    def count_month(self, table: str, month: dt.date, client: bigquery.Client | None = None) -> int:
        from google.cloud import bigquery

        if client is None:
            with self._session() as own:
                return self.count_month(table, month, own)
        job = client.query(
            f"SELECT COUNT(*) AS n FROM `{self.table_id(table)}` WHERE `{SOURCE_MONTH}` = @m",
            job_config=bigquery.QueryJobConfig(query_parameters=[bigquery.ScalarQueryParameter("m", "DATE", month)]),
            **self._query,
        )
        return next(iter(job.result(timeout=self.job_seconds, retry=self._call["retry"])))["n"]

    def replace_table_from_uri(self, table: str, columns: Sequence[Column], uri: str) -> int:
        """Load a small unpartitioned table (the zone lookup) whole."""
        with self._session() as client:
            return self._replace_table(client, table, columns, uri)

    def _replace_table(self, client: bigquery.Client, table: str, columns: Sequence[Column], uri: str) -> int:
        from google.cloud import bigquery

        self.ensure_dataset(client)
        load = client.load_table_from_uri(
            uri,
            self.table_id(table),
            job_config=bigquery.LoadJobConfig(
                source_format=bigquery.SourceFormat.PARQUET,
                schema=bq_schema(columns),
                write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            ),
            **self._call,
        )
        _wait(load, f"load of {table}", None, self.job_seconds)
        return client.get_table(self.table_id(table), **self._call).num_rows

    def query(self, sql: str) -> list[dict]:
        with self._session() as client:
            job = client.query(sql, **self._query)
            return [dict(r) for r in job.result(timeout=self.job_seconds, retry=self._call["retry"])]


def _wait(job, what: str, log: Callable[[str], None] | None, limit: float, every: float = 5.0) -> None:
    """Wait for a job at most `limit` seconds (then cancel it), logging its state every `every` seconds."""
    t0 = time.monotonic()
    while True:
        try:
            job.result(timeout=every)
            return
        except concurrent.futures.TimeoutError:
            waited = time.monotonic() - t0
            if waited >= limit:
                with contextlib.suppress(Exception):
                    job.cancel(timeout=10)
                raise
            if log:
                log(f"{what}: {job.state} after {waited:,.0f} s")
