"""Schema evolution of the stores' tables: what a table lacks of a schema, or why it cannot follow it.

A new version of a record may add columns (the coordinates of the 2009-2010 yellow files, next
year's new TLC fee): `columns_to_add` returns them, and the store adds each to the existing table
in place, as a nullable column (the months loaded before read NULL there; nothing is reloaded). A
change that is not additive -- a column of the table that the schema no longer has (renamed or
removed), or a column whose type differs (narrowed, or changed at all) -- is refused with a
`SchemaChangeRefused` that names the table, the column and the way out; nothing is changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from taxi_assets.core.errors import SchemaChangeRefused
from taxi_assets.core.tables import Column


def columns_to_add(
    table: str, found: Mapping[str, str], expected: Sequence[Column], type_of, way_out: str
) -> list[Column]:
    """The expected columns `table` lacks. `found` maps the table's column names to their types,
    `type_of(column)` gives the type a column should have there (same spelling as `found`)."""
    names = {c.name for c in expected}
    gone = [name for name in found if name not in names]
    if gone:
        raise SchemaChangeRefused(
            f"table {table}: column(s) {', '.join(gone)} are in the table but not in the schema (renamed or removed?): "
            f"that change is not additive, so nothing was changed. {way_out}"
        )
    for c in expected:
        if c.name in found and found[c.name] != type_of(c):
            raise SchemaChangeRefused(
                f"table {table}: column {c.name} is {found[c.name]} in the table but {type_of(c)} in the schema: a type "
                f"change is not additive, so nothing was changed. {way_out}"
            )
    return [c for c in expected if c.name not in found]
