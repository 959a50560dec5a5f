import dagster as dg

from taxi_assets_tests.pipeline import trip_assets
from taxi_assets_tests.pipeline import build_resources, stores

RAW = dg.AssetKey(["yellow", "raw_file"])


def materialize_raw(instance, run_config=None):
    result = dg.materialize(
        trip_assets,
        selection=dg.AssetSelection.assets(RAW),
        partition_key="2021-01-01",
        resources=build_resources(),
        instance=instance,
        run_config=run_config,
    )
    [mat] = result.asset_materializations_for_node("yellow__raw_file")
    return {k: v.value for k, v in mat.metadata.items()}


def test_unchanged_file_is_not_downloaded_again(pipeline_env, source_server):
    path = "/yellow/yellow_tripdata_2021-01.csv.gz"
    with dg.instance_for_test() as instance:
        first = materialize_raw(instance)
        with stores() as res:
            file = res.file_store.path_for(RAW.path, "2021-01-01")
        mtime = file.stat().st_mtime_ns
        gets = source_server.count(path)
        second = materialize_raw(instance)
        assert first["downloaded"] is True and second["downloaded"] is False
        assert second["etag"] == first["etag"] and second["bytes"] == first["bytes"]
        assert source_server.count(path) == gets + 1  # one conditional GET, answered 304
        assert file.stat().st_mtime_ns == mtime  # the kept copy was not rewritten

        forced = materialize_raw(instance, {"ops": {"yellow__raw_file": {"config": {"force": True}}}})
        assert forced["downloaded"] is True
        assert file.stat().st_mtime_ns != mtime
