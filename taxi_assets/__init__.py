"""taxi_assets: NYC TLC trip files, month by month, into Postgres, GCS and BigQuery with Dagster."""


def __getattr__(name: str):
    # `taxi_assets.defs` without importing Dagster for `taxi-stack` and `taxi_assets.sample`
    if name == "defs":
        from taxi_assets.definitions import defs

        return defs
    raise AttributeError(name)
