"""The file stores of raw downloads and cleaned parquet, one file per asset and partition: a local
folder (`FileStore`, the default) or a GCS bucket and prefix (`ObjectFileStore`, for runs that share
no disk, one container or pod per run). `open_file_store(TAXI_DATA_DIR)` picks one from the value."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from typing import TYPE_CHECKING

from taxi_assets.core.config import check_data_dir_url
from taxi_assets.core.stores.lake import PARQUET_CONTENT_TYPE, LakeStore, gcs_client, object_uri

if TYPE_CHECKING:  # imported when an object store is used, not with the definitions
    from google.cloud import storage


def _suffix(path: Path | str) -> str:
    """'.csv.gz', '.parquet', '.csv': everything from the first dot of the file name."""
    name = Path(path).name
    return name[name.index(".") :] if "." in name else ""


class _Staging:
    """Staging files: assets write into `staging_path()` and hand the path to `place()`."""

    def staging_path(self, name: str) -> Path:
        raise NotImplementedError

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

    def parquet_rows(self, key: Sequence[str], partition_key: str | None) -> int | None:
        from taxi_assets.core.formats import parquet_rows

        path = self.path_for(key, partition_key)
        return parquet_rows(path) if path else None


class FileStore(_Staging):
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

    def where(self, key: Sequence[str], partition_key: str | None = None) -> str:
        """Where the file of `key` (and partition) is, or would be: for messages and reports."""
        found = self.path_for(key, partition_key) if partition_key else None
        return str(found or self.dir_for(key))

    def staging_path(self, name: str) -> Path:
        """A fresh path on the store's file system, so that the final move is a rename."""
        staging = self.root / ".staging"
        staging.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=staging)) / name

    def size_of(self, key: Sequence[str], partition_key: str | None) -> int | None:
        path = self.path_for(key, partition_key)
        return path.stat().st_size if path else None

    def path_for(self, key: Sequence[str], partition_key: str | None) -> Path | None:
        found = sorted(self.dir_for(key).glob(f"{partition_key or 'latest'}.*"))
        return found[0] if found else None

    def place(self, staged: Path, key: Sequence[str], partition_key: str | None) -> Path:
        """Moves `staged` into place; returns the final path."""
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


# This process's local copies of objects (a run's steps share a process): object name -> (generation,
# path), in a private scratch folder removed when the process ends.
_SCRATCH: list[Path] = []
_COPIES: dict[str, tuple[int, Path]] = {}


def _scratch() -> Path:
    if not _SCRATCH:
        _SCRATCH.append(Path(tempfile.mkdtemp(prefix="taxi-files-")))  # mode 0700
        atexit.register(shutil.rmtree, _SCRATCH[0], True)
    return _SCRATCH[0]


def parse_gs_url(url: str) -> tuple[str, str]:
    """`gs://bucket/prefix` -> (bucket, prefix); ConfigError naming TAXI_DATA_DIR otherwise."""
    check_data_dir_url(url)
    bucket, _, prefix = url.removeprefix("gs://").partition("/")
    return bucket, prefix.strip("/")


class ObjectFileStore(_Staging):
    """Files as objects `gs://bucket/prefix/<key parts>/<partition><suffix>`, so that a run on any
    machine finds the files of earlier runs.

    Assets write a local staging file (in this process's scratch folder); `place()` uploads it in
    one resumable upload streamed from the file. GCS makes an object visible only when its upload
    completes, so a reader never sees half a file and a failed upload leaves the previous object.
    Readers get a local copy (`path_for`): streamed to disk at the generation that was listed,
    checksum verified, and reused for as long as that generation is current.
    """

    def __init__(self, url: str, project: str | None = None, timeout_seconds: float = 30.0,
                 retry_seconds: float = 60.0):
        self.url = url
        self.bucket, self.prefix = parse_gs_url(url)
        self.project, self.timeout_seconds, self.retry_seconds = project, timeout_seconds, retry_seconds

    @contextmanager
    def _lake(self) -> Iterator[LakeStore]:
        with LakeStore(gcs_client(self.project), self.bucket, self.prefix, self.timeout_seconds,
                       self.retry_seconds) as lake:
            yield lake

    @staticmethod
    def _name(key: Sequence[str], stem: str, suffix: str = "") -> str:
        return "/".join([*key, f"{stem}{suffix}"])

    def where(self, key: Sequence[str], partition_key: str | None = None) -> str:
        if partition_key:
            with self._lake() as lake:
                found = self._find(lake, key, partition_key)
            if found is not None:
                return f"gs://{self.bucket}/{found.name}"
        return object_uri(self.bucket, self.prefix, "/".join(key)) + "/"

    def staging_path(self, name: str) -> Path:
        staging = _scratch() / "staging"
        staging.mkdir(exist_ok=True)
        return Path(tempfile.mkdtemp(dir=staging)) / name

    def _find(self, lake: LakeStore, key: Sequence[str], partition_key: str | None) -> storage.Blob | None:
        found = lake.blobs(self._name(key, partition_key or "latest", "."))
        return found[0] if found else None

    def size_of(self, key: Sequence[str], partition_key: str | None) -> int | None:
        with self._lake() as lake:
            blob = self._find(lake, key, partition_key)
        return blob.size if blob is not None else None

    def path_for(self, key: Sequence[str], partition_key: str | None) -> Path | None:
        with self._lake() as lake:
            blob = self._find(lake, key, partition_key)
            if blob is None:
                return None
            copy = _COPIES.get(blob.name)
            if copy and copy[0] == blob.generation and copy[1].exists():
                return copy[1]
            local = _scratch() / "copies" / str(blob.generation) / blob.name
            local.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            lake.download(blob, local)
        self._remember(blob.name, blob.generation, local)
        return local

    def place(self, staged: Path, key: Sequence[str], partition_key: str | None) -> str:
        """Uploads `staged` as the partition's object (removing its other formats); returns its URI."""
        stem = partition_key or "latest"
        name = self._name(key, stem, _suffix(staged))
        with self._lake() as lake:
            full = lake.object_name(name)
            copy = _COPIES.get(full)
            if copy and copy[1] == staged:  # the kept file, unchanged at the source
                return lake.uri(name)
            content_type = PARQUET_CONTENT_TYPE if name.endswith(".parquet") else "application/octet-stream"
            obj = lake.upload(staged, name, content_type=content_type)
            for other in lake.blobs(self._name(key, stem, ".")):  # the same month in another format
                if other.name != full:
                    lake.delete(other)
        local = _scratch() / "copies" / str(obj.generation) / full
        local.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.replace(staged, local)  # the same folder tree: a rename; downstream steps read this copy
        shutil.rmtree(staged.parent, ignore_errors=True)
        self._remember(full, obj.generation, local)
        return obj.uri

    @staticmethod
    def _remember(name: str, generation: int, local: Path) -> None:
        old = _COPIES.get(name)
        _COPIES[name] = (generation, local)
        if old and old[1] != local:
            old[1].unlink(missing_ok=True)

    def parquet_rows(self, key: Sequence[str], partition_key: str | None) -> int | None:
        """The row count in the object's parquet footer (ranged reads, not a download)."""
        with self._lake() as lake:
            blob = self._find(lake, key, partition_key)
            if blob is None:
                return None
            return lake.parquet_rows(blob.name.removeprefix(f"{self.prefix}/") if self.prefix else blob.name)


def open_file_store(data_dir: str, project: str | None = None) -> FileStore | ObjectFileStore:
    """`gs://bucket/prefix`: the object store; anything else: a local folder."""
    return ObjectFileStore(data_dir, project) if data_dir.startswith("gs://") else FileStore(data_dir)
