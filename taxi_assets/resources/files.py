"""The local file store: raw downloads and cleaned parquet, one file per asset and partition."""


import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg


def _suffix(path: Path) -> str:
    """'.csv.gz', '.parquet', '.csv': everything from the first dot of the file name."""
    name = path.name
    return name[name.index(".") :] if "." in name else ""


class FileStore(dg.ConfigurableResource):
    """Files under `base_dir/<asset key>/<partition><suffix>` (`yellow/raw_csv/2021-01-01.csv.gz`).

    Assets write into `staging_path()` (same file system as the store) and hand the path over;
    `place()` moves it into place with one atomic rename, so a reader never sees half a file and
    a failed step leaves the previous file untouched.
    """

    base_dir: str

    @property
    def root(self) -> Path:
        return Path(self.base_dir).expanduser().resolve()

    def dir_for(self, asset_key: dg.AssetKey) -> Path:
        return self.root.joinpath(*asset_key.path)

    def staging_path(self, name: str) -> Path:
        """A fresh path on the store's file system, so that the final move is a rename."""
        staging = self.root / ".staging"
        staging.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=staging)) / name

    @contextmanager
    def staging(self, name: str, keep: bool = True) -> Iterator[Path]:
        """A staging path that is removed if the block fails (and, with keep=False, always);
        on success it is handed over to `place()` (through the IO manager), which moves it."""
        path = self.staging_path(name)
        try:
            yield path
        except BaseException:
            shutil.rmtree(path.parent, ignore_errors=True)
            raise
        if not keep:
            shutil.rmtree(path.parent, ignore_errors=True)

    def path_for(self, asset_key: dg.AssetKey, partition_key: str | None) -> Path | None:
        found = sorted(self.dir_for(asset_key).glob(f"{partition_key or 'latest'}.*"))
        return found[0] if found else None

    def place(self, staged: Path, asset_key: dg.AssetKey, partition_key: str | None) -> Path:
        stem = partition_key or "latest"
        target_dir = self.dir_for(asset_key)
        target_dir.mkdir(parents=True, exist_ok=True)
        final = target_dir / f"{stem}{_suffix(staged)}"
        if staged.resolve() == final.resolve():  # the kept file, unchanged at the source
            return final
        if staged.stat().st_dev != target_dir.stat().st_dev:  # staged elsewhere: copy next to it first
            tmp = target_dir / f".{final.name}.tmp"
            shutil.copyfile(staged, tmp)
            staged.unlink()
            staged = tmp
        os.replace(staged, final)
        try:
            staged.parent.rmdir()
        except OSError:
            pass
        for other in target_dir.glob(f"{stem}.*"):  # the same month in another format
            if other != final:
                other.unlink()
        return final


class LocalFileIOManager(dg.ConfigurableIOManager):
    """Stores a `Path` an asset returns in the `FileStore`; hands downstream assets the final `Path`."""

    store: dg.ResourceDependency[FileStore]

    def handle_output(self, context: dg.OutputContext, obj: Path) -> None:
        partition = context.asset_partition_key if context.has_asset_partitions else None
        final = self.store.place(Path(obj), context.asset_key, partition)
        context.add_output_metadata({"path": dg.MetadataValue.path(str(final))})

    def load_input(self, context: dg.InputContext) -> Path:
        key = context.upstream_output.asset_key if context.upstream_output else context.asset_key
        partition = context.asset_partition_key if context.has_asset_partitions else None
        path = self.store.path_for(key, partition)
        if path is None:
            raise FileNotFoundError(
                f"{key.to_user_string()} has no file for partition {partition or '(unpartitioned)'} in "
                f"{self.store.dir_for(key)}: materialize it first"
            )
        return path
