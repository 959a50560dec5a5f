"""The taxi zone lookup: 265 zones (LocationID -> borough, zone, service zone), so that trips
join to names. One small unpartitioned file, loaded whole into Postgres, the lake and BigQuery."""


import time
import urllib.parse
from pathlib import PurePosixPath

import dagster as dg
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from taxi_assets.assets.trips import (
    NETWORK_RETRY,
    cloud_errors,
    column_schema,
    permanent,
)
from taxi_assets.redaction import redact
from taxi_assets.resources import (
    BigQueryWarehouse,
    FileStore,
    PostgresWarehouse,
    TaxiLake,
    TaxiSource,
)
from taxi_assets.taxi_types import Column, TaxiType
from taxi_assets.transform import TaxiFileError, match_columns, read_csv_header

ZONES = TaxiType(
    name="taxi_zone_lookup",
    description="TLC taxi zones.",
    columns=(
        Column("location_id", "int", "TLC taxi zone id (PULocationID / DOLocationID of the trips).", ("LocationID",)),
        Column("borough", "string", "Borough: Manhattan, Brooklyn, Queens, Bronx, Staten Island, EWR or Unknown."),
        Column("zone", "string", "Zone name. 'NA' and 'NV' are zone names, not missing values."),
        Column("service_zone", "string", "Yellow Zone, Boro Zone, Airports, EWR or N/A."),
    ),
)
ZONES_TABLE = "taxi_zone_lookup"


def read_zones(path, label: str = "taxi_zone_lookup") -> pa.Table:
    """Read the lookup with every text kept verbatim: only an empty field is NULL."""
    headers = read_csv_header(path, label)
    mapping, _, _ = match_columns(ZONES, headers, label)
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=headers, skip_rows=1),
        convert_options=pacsv.ConvertOptions(
            column_types={mapping[c.name]: c.arrow_type for c in ZONES.columns},
            include_columns=[mapping[c.name] for c in ZONES.columns],
            strings_can_be_null=True,
            null_values=[""],
        ),
    )
    return table.rename_columns([c.name for c in ZONES.columns])


@dg.asset(
    key=ZONES_TABLE,
    group_name="zones",
    kinds={"csv", "postgres", "gcs", "bigquery"},
    code_version="1",
    retry_policy=NETWORK_RETRY,
    metadata={
        "dagster/column_schema": column_schema(ZONES.columns),
    },
)
def taxi_zone_lookup(
    context: dg.AssetExecutionContext,
    source: TaxiSource,
    file_store: FileStore,
    postgres: PostgresWarehouse,
    lake: TaxiLake,
    warehouse: BigQueryWarehouse,
) -> dg.MaterializeResult:
    """The TLC taxi zone lookup (265 zones) downloaded once and loaded whole, in one step, into
    Postgres, the lake (`gs://<bucket>/misc/taxi_zone_lookup.parquet`) and BigQuery, each
    replaced in place."""
    t0 = time.monotonic()
    url = source.zones_url
    name = PurePosixPath(urllib.parse.urlparse(url).path).name or "taxi_zone_lookup.csv"
    with file_store.staging(name, keep=False) as staged:  # removed when done, whatever happens
        try:
            source.fetch(url, staged, "taxi_zone_lookup", log=context.log.info)
            zones = read_zones(staged)
        except TaxiFileError as e:
            raise permanent(e) from e
        parquet = staged.with_suffix(".parquet")
        pq.write_table(zones, parquet)
        pg_rows = postgres.replace_table(ZONES_TABLE, ZONES.columns, zones.to_batches())
        with cloud_errors():
            obj = lake.upload(parquet, "misc/taxi_zone_lookup.parquet")
            bq_rows = warehouse.replace_table_from_uri(ZONES_TABLE, ZONES.columns, obj.uri)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": zones.num_rows,
            "postgres_rows": pg_rows,
            "postgres_table": f"{postgres.db_schema}.{ZONES_TABLE}",
            "bigquery_rows": bq_rows,
            "dagster/table_name": warehouse.table_id(ZONES_TABLE),
            "dagster/uri": obj.uri,
            "source_url": dg.MetadataValue.url(redact(url)),
            "boroughs": ", ".join(sorted({b for b in zones.column("borough").to_pylist() if b})),
            "seconds": round(time.monotonic() - t0, 3),
        }
    )
