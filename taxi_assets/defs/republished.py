"""The republished-file sensor of a taxi type: notices a month already loaded whose file changed at
the source, and loads that month again.

The TLC re-publishes old months now and then (a new ETag / Last-Modified, often a new size, on a
file that was loaded long ago). For each loaded month the sensor asks the source for the file's
validators (one HEAD, or a one-byte GET where HEAD is refused) and compares them with what
`raw_file` recorded when it downloaded the month (`etag`, `last_modified`, `bytes` in its
materialization metadata); a difference requests the month's job again, with the download forced.

Off by default: it costs one request per loaded month. Each tick probes at most
`MAX_PROBES_PER_TICK` (24) months, taking the loaded months in turn (the cursor is the last one
probed), every `TAXI_REPUBLISH_INTERVAL_SECONDS` (default one day): 24 requests a day per taxi
type, so the ~200 yellow months of 2009-now are all looked at within nine days. Months loaded from
another URL (a different source family or template) are not compared.
"""


import hashlib
import json
from collections.abc import Sequence

import dagster as dg

from taxi_assets.core.errors import DownloadFailed
from taxi_assets.core.months import partition_month
from taxi_assets.core.redaction import redact
from taxi_assets.core.source import Remote
from taxi_assets.core.tables import RAW_FILE, TaxiType
from taxi_assets.defs.metadata import latest_materialization, record_metadata
from taxi_assets.defs.resources import SourceResource

MAX_PROBES_PER_TICK = 24


def next_slice(loaded: Sequence[str], cursor: str | None, n: int = MAX_PROBES_PER_TICK) -> list[str]:
    """The next `n` loaded months after the cursor's, wrapping around to the oldest."""
    keys = sorted(loaded)
    after = json.loads(cursor).get("after", "") if cursor else ""
    rest = [k for k in keys if k > after]
    return (rest + [k for k in keys if k <= after])[: min(n, len(keys))]


def changed(recorded: dict, now: Remote) -> list[str]:
    """What differs between the validators recorded at download and the source's now."""
    out = []
    if recorded.get("etag") and now.etag and recorded["etag"] != now.etag:
        out.append(f"ETag {recorded['etag']} -> {now.etag}")
    if recorded.get("last_modified") and now.last_modified and recorded["last_modified"] != now.last_modified:
        out.append(f"Last-Modified {recorded['last_modified']} -> {now.last_modified}")
    if recorded.get("bytes") and now.bytes is not None and int(recorded["bytes"]) != now.bytes:
        out.append(f"size {recorded['bytes']} -> {now.bytes} bytes")
    return out


def build_republished_sensor(taxi: TaxiType, job, raw_file: dg.AssetsDefinition, interval_seconds: int) -> dg.SensorDefinition:
    op_name = "__".join(raw_file.key.path)

    @dg.sensor(
        name=f"{taxi.name}_republished_file_sensor",
        job=job,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=(
            f"Compares the ETag, Last-Modified and size of loaded {taxi.name} months at the source with what "
            f"{taxi.name}/{RAW_FILE} recorded, at most {MAX_PROBES_PER_TICK} months a tick, and loads a month again "
            "when its file was re-published. Off by default (one request per loaded month)."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext, source: SourceResource):
        loaded = context.instance.get_materialized_partitions(raw_file.key)
        keys = next_slice(list(loaded), context.cursor)
        if not keys:
            return dg.SkipReason(f"{taxi.name}: no month loaded yet")
        client = source.client()
        requests, probed, last = [], 0, None
        for key in keys:
            month = partition_month(key)
            label = taxi.file_label(month)
            meta = record_metadata(latest_materialization(context.instance, raw_file.key, key))
            url = client.url_for(taxi.name, month)
            if meta.get("source_url") != redact(url):
                last = key
                continue  # loaded from another source: nothing to compare with
            try:
                now = client.stat(url, label)
            except DownloadFailed as e:  # the source is unwell: go on from here next tick
                context.log.warning(redact(str(e)))
                break
            probed, last = probed + 1, key
            diff = [] if now is None else changed(meta, now)
            if diff:
                context.log.info(f"{label}: re-published at the source ({'; '.join(diff)}): loading it again")
                version = hashlib.sha256(repr((now.etag, now.last_modified, now.bytes)).encode()).hexdigest()[:16]
                requests.append(dg.RunRequest(
                    run_key=f"{taxi.name}:{key}:republished:{version}",
                    partition_key=key,
                    run_config={"ops": {op_name: {"config": {"force": True}}}},
                    tags={"taxi_assets/reason": "republished"},
                ))
        cursor = json.dumps({"after": last}) if last else context.cursor
        if not requests:
            return dg.SensorResult(
                skip_reason=f"{taxi.name}: {probed} loaded month(s) probed ({keys[0][:7]}..{(last or keys[0])[:7]}), none re-published",
                cursor=cursor,
            )
        return dg.SensorResult(run_requests=requests, cursor=cursor)

    return _sensor
