"""The local file store: a file appears whole under its key, owner-only, and replaces the month's other format."""

import stat

from taxi_assets.core.stores.files import FileStore


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
