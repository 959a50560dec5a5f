"""Reading the zone lookup file: every text kept verbatim ('NA', 'NV', 'N/A' are zone names)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from taxi_assets.core.formats import match_columns, read_csv_header
from taxi_assets.core.tables import ZoneTable


def read_zones(path: Path, zones: ZoneTable, label: str = "taxi_zone_lookup") -> pa.Table:
    """The lookup as an Arrow table with the record's column names; only an empty field is NULL."""
    import pyarrow.csv as pacsv

    headers = read_csv_header(path, label)
    mapping, _, _ = match_columns(zones, headers, label)
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=headers, skip_rows=1),
        convert_options=pacsv.ConvertOptions(
            column_types={mapping[c.name]: c.arrow_type for c in zones.columns},
            include_columns=[mapping[c.name] for c in zones.columns],
            strings_can_be_null=True,
            null_values=[""],
        ),
    )
    return table.rename_columns([c.name for c in zones.columns])
