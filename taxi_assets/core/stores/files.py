"""The local file store: raw downloads and cleaned parquet, one file per asset and partition."""

from __future__ import annotations


import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


def _suffix(path: Path) -> str:
    """'.csv.gz', '.parquet', '.csv': everything from the first dot of the file name."""
    name = path.name
    return name[name.index(".") :] if "." in name else ""


class FileStore:
    """Files under `base_dir/<key parts>/<partition><suffix>` (`yellow/raw_file/2021-01-01.csv.gz`).

    Assets write into `staging_path()` (same file system as the store) and hand the path over;
    `place()` moves it into place with one atomic rename, so a reader never sees half a file and
    a failed step leaves the previous file untouched.
    """

    def __init__(self, base_dir: str):
        self.base_dir = base_dir

    @property
    def root(self) -> Path:
        return Path(self.base_dir).expanduser().resolve()

    def dir_for(self, key: Sequence[str]) -> Path:
        return self.root.joinpath(*key)

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

    def path_for(self, key: Sequence[str], partition_key: str | None) -> Path | None:
        found = sorted(self.dir_for(key).glob(f"{partition_key or 'latest'}.*"))
        return found[0] if found else None

    def place(self, staged: Path, key: Sequence[str], partition_key: str | None) -> Path:
        stem = partition_key or "latest"
        target_dir = self.dir_for(key)
        target_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        final = target_dir / f"{stem}{_suffix(staged)}"
        if staged.resolve() == final.resolve():  # the kept file, unchanged at the source
            return final
        if staged.stat().st_dev != target_dir.stat().st_dev:  # staged elsewhere: copy next to it first
            tmp = target_dir / f".{final.name}.tmp"
            shutil.copyfile(staged, tmp)
            staged.unlink()
            staged = tmp
        os.chmod(staged, 0o600)  # owner-only, whatever the umask: trip data is not for every local user
        os.replace(staged, final)
        try:
            staged.parent.rmdir()
        except OSError:
            pass
        for other in target_dir.glob(f"{stem}.*"):  # the same month in another format
            if other != final:
                other.unlink()
        return final
