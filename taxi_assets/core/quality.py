"""The data-quality rules and the measurements behind the asset checks, by column role.

A rule measures the share of the month's cleaned rows it flags; up to `pass_max` the check passes
(the real files always have a few such rows), above it fails with severity WARN, above
`error_above` with severity ERROR.

| rule                         | flags a row when                                              | passes up to | WARN above | ERROR above |
| ---------------------------- | ------------------------------------------------------------- | ------------ | ---------- | ----------- |
| `pickups_in_month`           | the pickup time is outside the partition's month               | 1 %          | 1 %        | 5 %         |
| `no_negative_amounts`        | any money column < 0 (refunds)                                 | 2 %          | 2 %        | 10 %        |
| `dropoff_not_before_pickup`  | the dropoff time is before the pickup time                     | 0.1 %        | 0.1 %      | 1 %         |
| `known_zone_ids`             | a zone id column is not NULL and outside 1..265                | 0            | 0          | 1 %         |

A rule applies to a taxi type when it has columns with the roles the rule reads (money, dropoff
time, zone ids). NULL zone ids (common in fhv) are counted but not flagged. A whole file of
another month (a wrong file at the URL) is ~100 % `pickups_in_month`: ERROR.

`raw_counts` counts a raw file's rows (and zero-passenger rows) without the transform, for the
reconciliation check.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pyarrow as pa

from taxi_assets.core.formats import parquet_batches, parquet_rows, read_csv_header, sniff_format
from taxi_assets.core.months import add_months
from taxi_assets.core.tables import Role, TaxiType

ZONE_MIN, ZONE_MAX = 1, 265
EXAMPLES = 5
PASS, WARN, ERROR = "PASS", "WARN", "ERROR"


@dataclasses.dataclass(frozen=True)
class Rule:
    name: str
    description: str
    pass_max: float  # share of rows flagged up to which the check passes
    error_above: float  # share above which it fails with ERROR (between: WARN)

    def grade(self, flagged: int, rows: int) -> tuple[str, float]:
        """(PASS, WARN or ERROR; the share of rows flagged)."""
        share = flagged / rows if rows else 0.0
        if share <= self.pass_max:
            return PASS, share
        return (ERROR if share > self.error_above else WARN), share


RULES: dict[str, Rule] = {
    r.name: r
    for r in (
        Rule("pickups_in_month", "Trips whose pickup is outside the file's month.", 0.01, 0.05),
        Rule("no_negative_amounts", "Trips with a negative fare, surcharge, tip, toll or total.", 0.02, 0.10),
        Rule("dropoff_not_before_pickup", "Trips that end before they start.", 0.001, 0.01),
        Rule("known_zone_ids", f"Trips with a pick-up or drop-off zone id outside {ZONE_MIN}..{ZONE_MAX}.", 0.0, 0.01),
    )
}


def quality_rules(taxi: TaxiType) -> list[Rule]:
    """The rules that apply to `taxi`, from its column roles."""
    out = [RULES["pickups_in_month"]]
    if taxi.with_role(Role.MONEY):
        out.append(RULES["no_negative_amounts"])
    if taxi.dropoff is not None:
        out.append(RULES["dropoff_not_before_pickup"])
    if taxi.with_role(Role.ZONE_ID):
        out.append(RULES["known_zone_ids"])
    return out


@dataclasses.dataclass
class Quality:
    rows: int = 0
    flagged: dict[str, int] = dataclasses.field(default_factory=dict)
    null_zone_ids: int = 0
    examples: dict[str, list[dict]] = dataclasses.field(default_factory=dict)


def measure_quality(path: Path, taxi: TaxiType, month: dt.date) -> Quality:
    """One pass over a cleaned parquet file (only the columns the rules read): rows each rule flags."""
    import pyarrow.compute as pc

    rules = {r.name for r in quality_rules(taxi)}
    pickup_col = taxi.pickup.name
    dropoff_col = taxi.dropoff.name if taxi.dropoff is not None else None
    money = [c.name for c in taxi.with_role(Role.MONEY)]
    zones = [c.name for c in taxi.with_role(Role.ZONE_ID)]
    wanted = list(dict.fromkeys([pickup_col, *([dropoff_col] if dropoff_col else []), *money, *zones]))
    start = pa.scalar(dt.datetime(month.year, month.month, 1), pa.timestamp("us"))
    nxt = add_months(month, 1)
    end = pa.scalar(dt.datetime(nxt.year, nxt.month, 1), pa.timestamp("us"))
    q = Quality(flagged=dict.fromkeys(rules, 0), examples={r: [] for r in rules})
    for batch in parquet_batches(path, columns=wanted):
        q.rows += batch.num_rows
        pickup = batch.column(pickup_col)
        masks: dict[str, pa.Array] = {
            "pickups_in_month": pc.or_(pc.less(pickup, start), pc.greater_equal(pickup, end)),
        }
        if "no_negative_amounts" in rules:
            neg = pa.repeat(False, batch.num_rows)
            for m in money:
                neg = pc.or_(neg, pc.fill_null(pc.less(batch.column(m), 0), False))
            masks["no_negative_amounts"] = neg
        if "dropoff_not_before_pickup" in rules:
            masks["dropoff_not_before_pickup"] = pc.less(batch.column(dropoff_col), pickup)
        if "known_zone_ids" in rules:
            bad = pa.repeat(False, batch.num_rows)
            for z in zones:
                col = batch.column(z)
                q.null_zone_ids += col.null_count
                out = pc.or_(pc.less(col, ZONE_MIN), pc.greater(col, ZONE_MAX))
                bad = pc.or_(bad, pc.fill_null(out, False))
            masks["known_zone_ids"] = bad
        for name, mask in masks.items():
            mask = pc.fill_null(mask, False)
            n = pc.sum(mask.cast(pa.int64())).as_py() or 0
            q.flagged[name] += n
            if n and len(q.examples[name]) < EXAMPLES:
                q.examples[name] += batch.filter(mask).slice(0, EXAMPLES - len(q.examples[name])).to_pylist()
    return q


def _count_zeros(values: pa.Array) -> int:
    import pyarrow.compute as pc

    return pc.sum(pc.fill_null(pc.equal(values, 0), False).cast(pa.int64())).as_py() or 0


def raw_counts(path: Path, taxi: TaxiType, label: str | None = None) -> tuple[int, int]:
    """(rows, rows with passenger count 0) of a raw source file, counted without the transform."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    label = label or taxi.name
    column = taxi.passenger_count if taxi.drop_zero_passengers else None
    if sniff_format(path) == "parquet":
        passenger = next((h for h in pq.read_schema(path).names if column and column.matches(h)), None)
        if passenger is None:
            return parquet_rows(path), 0
        return parquet_rows(path), sum(_count_zeros(b.column(0)) for b in parquet_batches(path, columns=[passenger]))
    headers = read_csv_header(path, label)
    passenger = next((h for h in headers if column and column.matches(h)), None)
    col = passenger or headers[0]
    # the passenger column parsed as a number, as the transform does ("0", "0.0", ".0", "00" are all 0)
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=headers, skip_rows=1, block_size=8 << 20),
        convert_options=pacsv.ConvertOptions(
            include_columns=[col],
            column_types={col: pa.float64() if passenger else pa.string()},
            strings_can_be_null=True,
            null_values=[""],
        ),
    )
    rows = zeros = 0
    for b in reader:
        rows += b.num_rows
        if passenger is not None:
            zeros += _count_zeros(b.column(0))
    return rows, zeros
