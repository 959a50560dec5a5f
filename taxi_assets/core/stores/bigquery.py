"""BigQuery: tables partitioned by month on `source_month`, loaded from the lake by load jobs.

A month is replaced without a partition decorator (the emulator has none) and atomically on
real BigQuery too: the GCS object is loaded into a staging table (WRITE_TRUNCATE), then one
script deletes the month and inserts the staged rows inside a transaction.

Endpoint and credentials follow the Google client conventions: with `BIGQUERY_EMULATOR_HOST`
set, the client talks to that emulator with anonymous credentials; otherwise to BigQuery with
Application Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS` names a key file). dagster-gcp's
`BigQueryResource` takes neither an endpoint nor anonymous credentials, hence this resource.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import os
import time
from collections.abc import Callable, Sequence

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from taxi_assets.core.identifiers import check_identifier, check_project
from taxi_assets.core.tables import SOURCE_MONTH, Column

def bq_schema(columns: Sequence[Column]) -> list[bigquery.SchemaField]:
    return [bigquery.SchemaField(c.name, c.bigquery_type, mode="NULLABLE", description=c.description) for c in columns]


@dataclasses.dataclass
class BigQueryStore:
    """Tables in `project.dataset`; `location` is where datasets and jobs live."""

    project: str
    dataset: str
    location: str = "US"

    def client(self) -> bigquery.Client:
        emulator = os.environ.get("BIGQUERY_EMULATOR_HOST")
        if emulator:
            return bigquery.Client(
                project=self.project,
                credentials=AnonymousCredentials(),
                client_options=ClientOptions(api_endpoint=emulator),
                location=self.location,
            )
        return bigquery.Client(project=self.project, location=self.location)

    def table_id(self, table: str) -> str:
        check_identifier(self.dataset, "dataset")
        check_identifier(table, "table")
        return f"{check_project(self.project)}.{self.dataset}.{table}"

    def ensure_dataset(self, client: bigquery.Client) -> None:
        ds = bigquery.Dataset(f"{check_project(self.project)}.{check_identifier(self.dataset, 'dataset')}")
        ds.location = self.location
        client.create_dataset(ds, exists_ok=True)

    def ensure_month_table(self, client: bigquery.Client, table: str, columns: Sequence[Column]) -> None:
        t = bigquery.Table(self.table_id(table), schema=bq_schema(columns))
        t.time_partitioning = bigquery.TimePartitioning(type_=bigquery.TimePartitioningType.MONTH, field=SOURCE_MONTH)
        client.create_table(t, exists_ok=True)

    def replace_month_from_uri(
        self, table: str, columns: Sequence[Column], month: dt.date, uri: str, log: Callable[[str], None] | None = None
    ) -> int:
        """Load `uri` (parquet) as the month's rows of `table`; returns the month's row count."""
        with contextlib.closing(self.client()) as client:
            return self._replace_month(client, table, columns, month, uri, log)

    def _replace_month(self, client, table, columns, month, uri, log) -> int:
        self.ensure_dataset(client)
        self.ensure_month_table(client, table, columns)
        target = self.table_id(table)
        staging = self.table_id(f"{table}__load_{month:%Y%m}")
        # a staging table that expires by itself, should a crash leave it behind
        stage = bigquery.Table(staging, schema=bq_schema(columns))
        stage.expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
        client.create_table(stage, exists_ok=True)
        load = client.load_table_from_uri(
            uri,
            staging,
            job_config=bigquery.LoadJobConfig(
                source_format=bigquery.SourceFormat.PARQUET,
                schema=bq_schema(columns),
                write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
                create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED,
            ),
        )
        _wait(load, f"load job {load.job_id} ({uri} -> {staging})", log)
        names = ", ".join(f"`{c.name}`" for c in columns)
        month_literal = f"DATE '{month.isoformat()}'"  # a date object, formatted by us: no injection
        script = f"""
        BEGIN TRANSACTION;
        DELETE FROM `{target}` WHERE `{SOURCE_MONTH}` = {month_literal};
        INSERT INTO `{target}` ({names}) SELECT {names} FROM `{staging}`;
        COMMIT TRANSACTION;
        """
        try:
            client.query(script).result()
        finally:
            client.delete_table(staging, not_found_ok=True)
        return self.count_month(table, month, client)

    def count_month(self, table: str, month: dt.date, client: bigquery.Client | None = None) -> int:
        if client is None:
            with contextlib.closing(self.client()) as own:
                return self.count_month(table, month, own)
        job = client.query(
            f"SELECT COUNT(*) AS n FROM `{self.table_id(table)}` WHERE `{SOURCE_MONTH}` = @m",
            job_config=bigquery.QueryJobConfig(query_parameters=[bigquery.ScalarQueryParameter("m", "DATE", month)]),
        )
        return next(iter(job.result()))["n"]

    def replace_table_from_uri(self, table: str, columns: Sequence[Column], uri: str) -> int:
        """Load a small unpartitioned table (the zone lookup) whole."""
        with contextlib.closing(self.client()) as client:
            return self._replace_table(client, table, columns, uri)

    def _replace_table(self, client: bigquery.Client, table: str, columns: Sequence[Column], uri: str) -> int:
        self.ensure_dataset(client)
        client.load_table_from_uri(
            uri,
            self.table_id(table),
            job_config=bigquery.LoadJobConfig(
                source_format=bigquery.SourceFormat.PARQUET,
                schema=bq_schema(columns),
                write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            ),
        ).result()
        return client.get_table(self.table_id(table)).num_rows

    def query(self, sql: str) -> list[dict]:
        with contextlib.closing(self.client()) as client:
            return [dict(r) for r in client.query(sql).result()]


def _wait(job: bigquery.LoadJob, what: str, log: Callable[[str], None] | None, every: float = 5.0) -> None:
    """Wait for a job, logging its state every `every` seconds."""
    t0 = time.monotonic()
    while True:
        try:
            job.result(timeout=every)
            return
        except concurrent.futures.TimeoutError:
            if log:
                log(f"{what}: {job.state} after {time.monotonic() - t0:,.0f} s")
