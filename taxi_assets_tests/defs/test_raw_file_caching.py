import dagster as dg
import pytest

from taxi_assets.core.stores import files
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


def kept_version(pipeline_env) -> int:
    """The kept copy's version: its mtime in a folder, its generation in a bucket."""
    with stores() as res:
        store = res.file_store
        if isinstance(store, files.ObjectFileStore):
            with store._lake() as lake:
                [blob] = lake.blobs("yellow/raw_file/2021-01-01.")
            return blob.generation
        return store.path_for(RAW.path, "2021-01-01").stat().st_mtime_ns


@pytest.mark.parametrize("pipeline_env", ["local", "gcs"], indirect=True)
def test_unchanged_file_is_not_downloaded_again(pipeline_env, source_server, monkeypatch):
    path = "/yellow/yellow_tripdata_2021-01.csv.gz"
    with dg.instance_for_test() as instance:
        first = materialize_raw(instance)
        version = kept_version(pipeline_env)
        gets = source_server.count(path)
        monkeypatch.setattr(files, "_COPIES", {})  # the next run starts in a new process, maybe elsewhere
        second = materialize_raw(instance)
        assert first["downloaded"] is True and second["downloaded"] is False
        assert second["etag"] == first["etag"] and second["bytes"] == first["bytes"]
        assert source_server.count(path) == gets + 1  # one conditional GET, answered 304
        assert kept_version(pipeline_env) == version  # the kept copy was not rewritten

        forced = materialize_raw(instance, {"ops": {"yellow__raw_file": {"config": {"force": True}}}})
        assert forced["downloaded"] is True
        assert kept_version(pipeline_env) != version
