"""The instance storage of taxi_assets/instance.py, on the local stack's Postgres: the project's
dagster.yaml loads it, its connections are reused, and it survives its connections being killed."""

import os

import dagster as dg
import psycopg
import sqlalchemy.pool

from taxi_assets.instance import POOL_SIZE, PooledPostgresStorage

EVENTS = 40


def _dagster_db() -> str:
    return os.environ["TAXI_DAGSTER_PG_URL"].replace("postgresql+psycopg2://", "postgresql://")


def _sessions() -> int:
    """Connections ever made to the instance database (pg_stat_database.sessions)."""
    with psycopg.connect(_dagster_db(), autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()").fetchone()[0]


def _store_events(instance: dg.DagsterInstance, n: int, tag: str) -> None:
    for i in range(n):
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=["instance_test", tag], metadata={"i": i}))


def test_dagster_yaml_loads_the_pooled_storage_and_reuses_connections(local_stack):
    with dg.DagsterInstance.get() as instance:
        ref = instance.get_ref().storage_data
        assert (ref.module_name, ref.class_name) == ("taxi_assets.instance", PooledPostgresStorage.__name__)
        engines = [s._engine for s in (instance._run_storage, instance._event_storage, instance._schedule_storage)]
        assert all(isinstance(e.pool, sqlalchemy.pool.QueuePool) for e in engines)
        _store_events(instance, 1, "warm")  # the pool's first connection
        before = _sessions()
        _store_events(instance, EVENTS, "pooled")
        made = _sessions() - before
        stored = instance.fetch_materializations(dg.AssetKey(["instance_test", "pooled"]), limit=EVENTS + 1).records
    assert len(stored) == EVENTS
    # dagster-postgres' NullPool made one connection per event: here the pool's few serve them all
    assert made <= POOL_SIZE + 1, f"{made} connections for {EVENTS} events"


def test_pooled_connections_killed_by_the_server_are_replaced(local_stack):
    with dg.DagsterInstance.get() as instance:
        _store_events(instance, 2, "before_kill")
        with psycopg.connect(_dagster_db(), autocommit=True) as conn:
            killed = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            ).fetchone()[0]
        assert killed >= 1  # the pool's idle connections, as a restarted Postgres would leave them
        _store_events(instance, 3, "after_kill")  # checked before use: reconnects, no error
        stored = instance.fetch_materializations(dg.AssetKey(["instance_test", "after_kill"]), limit=10).records
    assert len(stored) == 3
