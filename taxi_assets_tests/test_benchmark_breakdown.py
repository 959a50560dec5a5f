"""The job breakdown of the benchmark, from a run's events (no stack: events made up here)."""

from types import SimpleNamespace

import dagster as dg

from benchmarks.benchmark import run_breakdown

T = dg.DagsterEventType


def entry(ts: float, kind: dg.DagsterEventType, step: str | None = None, **data):
    return SimpleNamespace(timestamp=ts, step_key=step,
                           dagster_event=SimpleNamespace(event_type=kind, event_specific_data=SimpleNamespace(**data)))


def materialized(ts: float, step: str, asset: str, seconds: float):
    m = SimpleNamespace(asset_key=dg.AssetKey(asset.split("/")), metadata={"seconds": dg.MetadataValue.float(seconds)})
    return entry(ts, T.ASSET_MATERIALIZATION, step, materialization=m)


def test_breakdown_splits_start_up_steps_overlap_and_the_rest():
    events = [
        entry(100.5, T.RUN_STARTING), entry(101.0, T.RUN_START),
        entry(101.5, T.STEP_START, "a"), entry(103.0, T.STEP_SUCCESS, "a"),
        entry(102.0, T.STEP_START, "b"), entry(104.5, T.STEP_SUCCESS, "b"),  # overlaps a by 1 s
        materialized(104.4, "b", "yellow/postgres_table", 2.25), materialized(104.4, "b", "yellow/gcs_object", 0.5),
        entry(105.0, T.RUN_SUCCESS),
    ]
    instance = SimpleNamespace(all_logs=lambda run_id: events)
    b = run_breakdown(instance, "r", launched=99.0, exited=105.75)
    assert b["startup"] == 1.5 and b["setup"] == 0.5 and b["run"] == 4.0 and b["shutdown"] == 0.75
    assert [(k, off, round(s, 2)) for k, off, s in b["steps"]] == [("a", 0.5, 1.5), ("b", 1.0, 2.5)]
    assert b["overlap"] == 1.0  # 4 s of step time in 3 s of wall
    assert b["outside_steps"] == 1.0  # 101.0-101.5 and 104.5-105.0
    assert b["assets"] == [("b", "yellow/postgres_table", 2.25), ("b", "yellow/gcs_object", 0.5)]
    assert b["events"] == len(events)
