"""The freshness check of a type (issue 15.7): passes when the last published month is loaded, WARN
one month behind, ERROR further; a backfill of an old month does not make the type fresh. The
check's clock is moved by the test; the loads are recorded in a test instance (no store is read)."""

import datetime as dt

import dagster as dg
import pytest

from taxi_assets.core.config import load_settings
from taxi_assets.core.freshness import expected_month
from taxi_assets.core.taxi_types import TAXI_TYPES
from taxi_assets.defs import freshness
from taxi_assets.defs.freshness import CHECK_NAME, build_freshness_schedule
from taxi_assets.defs.shared import shared_defs
from taxi_assets.defs.taxi import build_taxi_defs


def defs(source: str) -> dg.Definitions:
    settings = load_settings({"TAXI_SOURCE": source})
    return dg.Definitions.merge(
        shared_defs(settings),
        *(build_taxi_defs(t, settings) for t in TAXI_TYPES.values()),
        dg.Definitions(schedules=[build_freshness_schedule(TAXI_TYPES.values(), settings)]),
    )


def loaded(instance, taxi: str, month: str) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(dg.AssetKey([taxi, "bigquery_table"]), partition=month))


def evaluate(d: dg.Definitions, instance, monkeypatch, today: dt.date) -> dict:
    monkeypatch.setattr(freshness, "now", lambda: dt.datetime(today.year, today.month, today.day, 12, tzinfo=dt.timezone.utc))
    result = d.resolve_job_def("freshness_checks_job").execute_in_process(instance=instance)
    evals = {e.asset_key.path[0]: e for e in result.get_asset_check_evaluations()}
    assert {e.check_name for e in evals.values()} == {CHECK_NAME}
    return evals


def test_fresh_then_warn_then_error_as_the_clock_moves_and_a_backfill_does_not_help(monkeypatch):
    d = defs("tlc")
    with dg.instance_for_test() as instance:
        loaded(instance, "yellow", "2024-12-01")
        loaded(instance, "yellow", "2025-01-01")
        # mid-April: January is the newest the TLC has surely published -- loaded
        fresh = evaluate(d, instance, monkeypatch, dt.date(2025, 4, 15))["yellow"]
        assert fresh.passed and fresh.metadata["expected_month"].value == "2025-01-01"

        # mid-May: February should be there by now, it is not
        late = evaluate(d, instance, monkeypatch, dt.date(2025, 5, 15))["yellow"]
        assert not late.passed and late.severity == dg.AssetCheckSeverity.WARN
        assert "2025-01, 1 month(s) behind 2025-02" in late.description

        loaded(instance, "yellow", "2019-03-01")  # a backfill of an old month, loaded now
        still = evaluate(d, instance, monkeypatch, dt.date(2025, 5, 20))["yellow"]
        assert not still.passed and still.severity == dg.AssetCheckSeverity.WARN
        assert still.metadata["newest_loaded_month"].value == "2025-01-01"

        error = evaluate(d, instance, monkeypatch, dt.date(2025, 6, 15))
        assert error["yellow"].severity == dg.AssetCheckSeverity.ERROR and error["yellow"].metadata["months_behind"].value == 2
        # nothing loaded at all: ERROR
        assert not error["fhvhv"].passed and error["fhvhv"].severity == dg.AssetCheckSeverity.ERROR

        loaded(instance, "yellow", "2025-03-01")  # catching up makes it fresh again
        assert evaluate(d, instance, monkeypatch, dt.date(2025, 6, 15))["yellow"].passed


def test_dtc_is_fresh_once_the_last_release_is_loaded(monkeypatch):
    d = defs("dtc")
    with dg.instance_for_test() as instance:
        loaded(instance, "green", "2021-06-01")
        assert evaluate(d, instance, monkeypatch, dt.date(2030, 1, 1))["green"].severity == dg.AssetCheckSeverity.WARN
        loaded(instance, "green", "2021-07-01")
        assert evaluate(d, instance, monkeypatch, dt.date(2030, 1, 1))["green"].passed


@pytest.mark.parametrize("today, expected", [(dt.date(2026, 12, 2), dt.date(2026, 9, 1)), (dt.date(2026, 2, 28), dt.date(2025, 11, 1))])
def test_the_tlc_surely_has_the_month_three_before_the_current(today, expected):
    assert expected_month(today) == expected
