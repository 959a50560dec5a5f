"""The new-file sensor of a taxi type: probes the source for months not loaded yet.

The probe plan (`plan_probes`) is pure: the candidates are the partitions from the oldest loaded
month on (every partition if none is loaded) that are neither loaded nor already requested -- the
months after the newest loaded one, and any gap left behind (a month that was late while the
next one was not) -- oldest first, at most `MAX_PROBES_PER_TICK` a tick.
"""


import json
from collections.abc import Iterable, Sequence

import dagster as dg

from taxi_assets.core.errors import DownloadFailed
from taxi_assets.core.months import partition_month
from taxi_assets.core.redaction import redact
from taxi_assets.core.tables import TaxiType
from taxi_assets.defs.resources import SourceResource

MAX_PROBES_PER_TICK = 12


def plan_probes(partition_keys: Sequence[str], done: Iterable[str], cursor: str | None) -> tuple[list[str], set[str]]:
    """(months to probe, oldest first; months already requested and not yet loaded)."""
    done = set(done)
    requested = set(json.loads(cursor).get("requested", [])) - done if cursor else set()
    oldest = min(done, default="")
    keys = [k for k in partition_keys if k >= oldest and k not in done and k not in requested]
    return keys, requested


def build_new_file_sensor(
    taxi: TaxiType, job, raw_file: dg.AssetsDefinition,
    partitions_def: dg.PartitionsDefinition, interval_seconds: int,
) -> dg.SensorDefinition:
    @dg.sensor(
        name=f"{taxi.name}_new_file_sensor",
        job=job,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=(
            f"Probes the source (HEAD) for {taxi.name} months not loaded yet (after the newest, and gaps), at most "
            f"{MAX_PROBES_PER_TICK} a tick, and runs {job.name} for each file that has appeared. "
            "A 404 means 'not yet'."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext, source: SourceResource):
        done = context.instance.get_materialized_partitions(raw_file.key)
        candidates, requested = plan_probes(partitions_def.get_partition_keys(), done, context.cursor)
        if not candidates:
            return dg.SkipReason(f"{taxi.name}: every month up to the last complete one is loaded or requested")
        client = source.client()
        found = []
        for key in candidates[:MAX_PROBES_PER_TICK]:
            month = partition_month(key)
            try:
                if client.exists(client.url_for(taxi.name, month), taxi.file_label(month)):
                    found.append(key)
            except DownloadFailed as e:  # the source is unwell: try again next tick
                context.log.warning(redact(str(e)))
                break
        if not found:
            probed = candidates[:MAX_PROBES_PER_TICK]
            return dg.SkipReason(f"{taxi.name}: no new file among {probed[0][:7]}..{probed[-1][:7]}")
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key=f"{taxi.name}:{key}", partition_key=key) for key in found],
            cursor=json.dumps({"requested": sorted(requested | set(found))}),
        )

    return _sensor
