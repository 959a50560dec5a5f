"""The taxi zone lookup asset and its job: 265 zones (LocationID -> borough, zone, service zone), so
that trips join to names. One small unpartitioned file, loaded whole into Postgres, the lake and
BigQuery."""


import time

import dagster as dg

from taxi_assets.core.errors import TaxiFileError
from taxi_assets.core.redaction import redact
from taxi_assets.core.taxi_types import ZONES
from taxi_assets.core.zones import read_zones
from taxi_assets.defs.failures import NETWORK_RETRY, cloud_errors, permanent, stop_on_interrupt
from taxi_assets.defs.metadata import column_schema
from taxi_assets.defs.preflight import PreflightResource
from taxi_assets.defs.resources import (
    BigQueryResource,
    FileStoreResource,
    LakeResource,
    PostgresResource,
    SourceResource,
)


@dg.asset(
    key=ZONES.table,
    group_name="zones",
    kinds={"csv", "postgres", "gcs", "bigquery"},
    code_version="1",
    retry_policy=NETWORK_RETRY,
    metadata={"dagster/column_schema": column_schema(ZONES.columns)},
)
def taxi_zone_lookup(
    context: dg.AssetExecutionContext,
    source: SourceResource,
    file_store: FileStoreResource,
    postgres: PostgresResource,
    lake: LakeResource,
    bigquery: BigQueryResource,
    preflight: PreflightResource,
) -> dg.MaterializeResult:
    """The TLC taxi zone lookup (265 zones) downloaded once and loaded whole, in one step, into
    Postgres, the lake (`gs://<bucket>/misc/taxi_zone_lookup.parquet`) and BigQuery, each
    replaced in place."""
    import pyarrow.parquet as pq

    t0 = time.monotonic()
    client = source.client()
    url = client.zones_url
    pg, warehouse = postgres.store(), bigquery.store()
    with file_store.store().staging("taxi_zone_lookup.csv", keep=False) as staged:  # removed when done, whatever happens
        try:
            client.fetch(url, staged, ZONES.name, log=context.log.info)
            zones = read_zones(staged, ZONES)
        except TaxiFileError as e:
            raise permanent(e) from e
        parquet = staged.with_suffix(".parquet")
        pq.write_table(zones, parquet)
        pg_rows = pg.replace_table(ZONES.table, ZONES.columns, zones.to_batches())
        with cloud_errors(), lake.store() as store:
            obj = stop_on_interrupt(store.upload, parquet, ZONES.lake_object)
            bq_rows = stop_on_interrupt(warehouse.replace_table_from_uri, ZONES.table, ZONES.columns, obj.uri)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": zones.num_rows,
            "postgres_rows": pg_rows,
            "postgres_table": f"{pg.db_schema}.{ZONES.table}",
            "bigquery_rows": bq_rows,
            "dagster/table_name": warehouse.table_id(ZONES.table),
            "dagster/uri": obj.uri,
            "source_url": dg.MetadataValue.url(redact(url)),
            "boroughs": ", ".join(sorted({b for b in zones.column("borough").to_pylist() if b})),
            "seconds": round(time.monotonic() - t0, 3),
        }
    )


zones_job = dg.define_asset_job(
    "taxi_zone_lookup_job",
    selection=dg.AssetSelection.assets(taxi_zone_lookup),
    description="Load the taxi zone lookup into Postgres, the lake and BigQuery.",
)
