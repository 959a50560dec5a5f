"""The file stores (a local folder, a GCS bucket): a file appears whole under its key, owner-only, and
replaces the month's other format; an object placed by one process is found by another."""

import os
import stat

import pytest

from taxi_assets.core.config import load_settings
from taxi_assets.core.errors import ConfigError
from taxi_assets.core.stores import files
from taxi_assets.core.stores import lake as lake_module
from taxi_assets.core.stores.files import FileStore, ObjectFileStore, open_file_store


def test_a_placed_file_is_owner_only_and_replaces_the_months_other_format(tmp_path):
    store = FileStore(str(tmp_path / "data"))
    with store.staging("2021-01-01.csv.gz") as staged:
        staged.write_bytes(b"one")
    first = store.place(staged, ("yellow", "raw_file"), "2021-01-01")
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    assert stat.S_IMODE(first.parent.stat().st_mode) == 0o700
    with store.staging("2021-01-01.parquet") as staged:
        staged.write_bytes(b"two")
    second = store.place(staged, ("yellow", "raw_file"), "2021-01-01")
    assert store.path_for(("yellow", "raw_file"), "2021-01-01") == second and not first.exists()
    assert not list((tmp_path / "data" / ".staging").iterdir())  # no staging left behind


@pytest.fixture
def object_store(pipeline_env, monkeypatch):
    monkeypatch.setattr(files, "_COPIES", {})  # this test's own local copies
    return open_file_store(f"gs://{os.environ['TAXI_GCS_BUCKET']}/{pipeline_env['TAXI_GCS_PREFIX']}/files")


def test_the_object_store_is_chosen_by_a_gs_url_and_a_bad_one_names_the_variable(tmp_path):
    assert isinstance(open_file_store("gs://bucket/some/prefix"), ObjectFileStore)
    assert isinstance(open_file_store(str(tmp_path)), FileStore)
    assert (ObjectFileStore("gs://bucket/some/prefix/").bucket, ObjectFileStore("gs://bucket/some/prefix/").prefix) == (
        "bucket", "some/prefix")
    for bad in ("gs://", "s3://bucket/x", "gs://bu?cket/x"):
        with pytest.raises(ConfigError, match="TAXI_DATA_DIR"):
            load_settings({"TAXI_DATA_DIR": bad})


def test_a_placed_object_is_found_by_another_process_and_replaces_the_months_other_format(object_store, monkeypatch):
    key = ("yellow", "raw_file")
    assert object_store.path_for(key, "2021-01-01") is None and object_store.size_of(key, "2021-01-01") is None
    with object_store.staging("2021-01-01.csv.gz") as staged:
        staged.write_bytes(b"one")
    first = object_store.place(staged, key, "2021-01-01")
    assert first.startswith("gs://") and first.endswith("/yellow/raw_file/2021-01-01.csv.gz") and not staged.exists()
    with object_store.staging("2021-01-01.parquet") as staged:
        staged.write_bytes(b"two!")
    second = object_store.place(staged, key, "2021-01-01")
    assert object_store.where(key, "2021-01-01") == second
    assert object_store.size_of(key, "2021-01-01") == 4
    monkeypatch.setattr(files, "_COPIES", {})  # as a run in another process, on another machine, starts
    local = object_store.path_for(key, "2021-01-01")
    assert local.name == "2021-01-01.parquet" and local.read_bytes() == b"two!"
    assert stat.S_IMODE(local.parent.stat().st_mode) == 0o700
    with object_store._lake() as lake:
        names = [b.name for b in lake.blobs("yellow/raw_file/")]
    assert names == [second.removeprefix(f"gs://{object_store.bucket}/")]  # the csv.gz is gone


def test_a_failed_upload_leaves_the_previous_object_whole(object_store, monkeypatch):
    key = ("green", "cleaned_parquet")
    with object_store.staging("2021-02-01.parquet") as staged:
        staged.write_bytes(b"old")
    object_store.place(staged, key, "2021-02-01")
    with object_store.staging("2021-02-01.parquet") as staged:
        staged.write_bytes(os.urandom(20 << 20))  # more than one 16 MB chunk of the resumable upload
    real_read = lake_module._ProgressReader.read

    def read_then_die(self, n=-1):
        if self._read >= 16 << 20:
            raise ConnectionResetError("the network went away mid-upload")
        return real_read(self, n)

    monkeypatch.setattr(lake_module._ProgressReader, "read", read_then_die)
    with pytest.raises(ConnectionResetError):
        object_store.place(staged, key, "2021-02-01")
    monkeypatch.setattr(files, "_COPIES", {})
    assert object_store.path_for(key, "2021-02-01").read_bytes() == b"old"
