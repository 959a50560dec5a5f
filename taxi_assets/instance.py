"""The Dagster instance's storage: dagster-postgres' own, with its connections pooled.

`DagsterPostgresStorage` opens a new connection for every event it stores and every query
(SQLAlchemy `NullPool`, with no setting to change it; only the webserver gets a pool, through
`optimize_for_webserver`). A month's run made ~220 connections to the instance database, ~9 ms
each with SCRAM authentication: ~2 s of the run's wall and CPU on both sides, in every run and in
the daemon's loops (docs/BENCHMARKS.md). `PooledPostgresStorage` is that storage with the three
engines built the way `optimize_for_webserver` builds them -- a small pool per storage, checked
before use (a restarted Postgres costs one reconnect, not a failed event) and recycled hourly --
and nothing else changed: same tables, same config, same migrations. dagster.yaml:

    storage:
      custom:
        module: taxi_assets.instance
        class: PooledPostgresStorage
        config:
          postgres_url: {env: TAXI_DAGSTER_PG_URL}

Written here because dagster-postgres has no option for it (one class, one concern).
"""

from typing import Any

from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.utils import create_pg_engine, get_token_provider_from_config, pg_url_from_config

POOL_SIZE = 2  # connections kept open per storage (the run, the events, the schedules): a run's main thread and one more
MAX_OVERFLOW = 8  # opened beyond that when threads need them at once (the daemon), closed when returned
POOL_RECYCLE_SECONDS = 3600


class PooledPostgresStorage(DagsterPostgresStorage):
    """`DagsterPostgresStorage` whose run, event log and schedule storages hold pooled connections."""

    def __init__(self, postgres_url: str, should_autocreate_tables: bool = True, inst_data=None, token_provider=None):
        super().__init__(postgres_url, should_autocreate_tables, inst_data=inst_data, token_provider=token_provider)
        for storage in (self._run_storage, self._event_log_storage, self._schedule_storage):
            _pool(storage)

    @classmethod
    def from_config_value(cls, inst_data, config_value: dict[str, Any]) -> "PooledPostgresStorage":
        return cls(
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            inst_data=inst_data,
            token_provider=get_token_provider_from_config(config_value),
        )


def _pool(storage) -> None:
    """Replace a dagster-postgres storage's NullPool engine by a pooled one (as optimize_for_webserver does)."""
    kwargs: dict[str, Any] = {
        "isolation_level": "AUTOCOMMIT",
        "pool_size": POOL_SIZE,
        "max_overflow": MAX_OVERFLOW,
        "pool_recycle": POOL_RECYCLE_SECONDS,
        "pool_pre_ping": True,
    }
    options = storage._engine.url.query.get("options")
    if options:
        kwargs["connect_args"] = {"options": options}
    old = storage._engine
    storage._engine = create_pg_engine(storage.postgres_url, storage._token_provider, **kwargs)
    old.dispose()
