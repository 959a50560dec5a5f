"""The data lake: the cleaned parquet of each month as one object in a GCS bucket.

The client is a google-cloud-storage `Client` (`gcs_client`, imported only when a store is made). Every call is bounded: a request waits at most `timeout_seconds` and the client's
retries of one call stop after `retry_seconds`; a GCS that does not answer is a `StoreUnavailable`
naming GCS and its endpoint (the step's RetryPolicy tries again). With `STORAGE_EMULATOR_HOST` set, it talks to that emulator with anonymous
credentials; with it unset, to real GCS with Application Default Credentials
(`GOOGLE_APPLICATION_CREDENTIALS`). Use the store as a context manager: the client is closed after.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from taxi_assets.core.errors import StoreUnavailable
from taxi_assets.core.progress import Progress

if TYPE_CHECKING:  # the client library is imported when a store is made, not with the definitions
    from google.cloud import storage

PARQUET_CONTENT_TYPE = "application/vnd.apache.parquet"


@dataclasses.dataclass
class LakeObject:
    uri: str
    bytes: int
    crc32c: str | None
    md5: str | None
    generation: int | None


def gcs_client(project: str | None) -> storage.Client:
    """A google-cloud-storage client for `project` (the emulator when `STORAGE_EMULATOR_HOST` is set)."""
    from google.cloud import storage

    return storage.Client(project=project)


def object_uri(bucket: str, prefix: str, name: str) -> str:
    """`gs://bucket/prefix/name` (no prefix: `gs://bucket/name`)."""
    prefix = prefix.strip("/")
    return f"gs://{bucket}/{prefix}/{name}" if prefix else f"gs://{bucket}/{name}"


@dataclasses.dataclass
class LakeStore:
    """Objects in `gs://{bucket}/{prefix}...`; an upload overwrites the object in place."""

    client: storage.Client
    bucket: str
    prefix: str = ""
    timeout_seconds: float = 30.0  # one HTTP request (one 16 MB chunk of an upload)
    retry_seconds: float = 60.0  # the client's retries of one call

    def __enter__(self) -> LakeStore:
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()

    @property
    def _call(self) -> dict:
        from google.cloud.storage.retry import DEFAULT_RETRY

        return {"retry": DEFAULT_RETRY.with_timeout(self.retry_seconds), "timeout": self.timeout_seconds}

    @contextlib.contextmanager
    def _bounded(self) -> Iterator[None]:
        import requests
        from google.api_core import exceptions as google_exceptions

        try:
            yield
        except (google_exceptions.RetryError, google_exceptions.ServiceUnavailable, requests.ConnectionError,
                requests.Timeout) as e:
            endpoint = os.environ.get("STORAGE_EMULATOR_HOST") or "https://storage.googleapis.com"
            raise StoreUnavailable(
                f"GCS ({endpoint}) did not answer within {self.retry_seconds:.0f} s: {type(e).__name__}"
            ) from e

    def object_name(self, name: str) -> str:
        return f"{self.prefix.strip('/')}/{name}" if self.prefix.strip("/") else name

    def uri(self, name: str) -> str:
        return object_uri(self.bucket, self.prefix, name)

    def upload(self, local: Path, name: str, log: Callable[[str], None] | None = None,
               content_type: str = PARQUET_CONTENT_TYPE) -> LakeObject:
        blob = self.client.bucket(self.bucket).blob(self.object_name(name))
        # resumable, chunked upload: memory stays flat whatever the file size
        blob.chunk_size = 16 << 20
        size = local.stat().st_size
        with self._bounded(), open(local, "rb") as f:
            blob.upload_from_file(
                _ProgressReader(f, Progress(f"upload to {self.uri(name)}", log)), size=size,
                content_type=content_type, **self._call,
            )
            blob.reload(**self._call)
        return LakeObject(self.uri(name), blob.size, blob.crc32c, blob.md5_hash, blob.generation)

    def blobs(self, name_prefix: str) -> list[storage.Blob]:
        """The objects whose names (after the store's prefix) start with `name_prefix`, by name."""
        with self._bounded():
            found = self.client.list_blobs(self.bucket, prefix=self.object_name(name_prefix), **self._call)
            return sorted(found, key=lambda b: b.name)

    def download(self, blob: storage.Blob, local: Path) -> None:
        """Streams that generation of the object to `local` (checksum verified): whole or not at all."""
        tmp = local.with_name(f".{local.name}.part")
        try:
            with self._bounded():
                blob.download_to_filename(str(tmp), if_generation_match=blob.generation, **self._call)
            os.replace(tmp, local)
        finally:
            tmp.unlink(missing_ok=True)

    def delete(self, blob: storage.Blob) -> None:
        with self._bounded():
            blob.delete(if_generation_match=blob.generation, **self._call)

    def parquet_rows(self, name: str) -> int | None:
        """The row count in an object's parquet footer (two ranged GETs, not a download); None if absent."""
        import pyarrow.parquet as pq

        with self._bounded():
            blob = self.client.bucket(self.bucket).get_blob(self.object_name(name), **self._call)
            if blob is None:
                return None
            with pq.ParquetFile(io.BufferedReader(_BlobFile(blob, self._call), buffer_size=64 << 10)) as pf:
                return pf.metadata.num_rows


class _ProgressReader:
    """A file object that reports bytes read (the upload's progress) at a steady cadence."""

    def __init__(self, f, progress: Progress):
        self._f, self._progress, self._read = f, progress, 0

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        self._read += len(data)
        self._progress.tick(0, self._read)
        return data

    def __getattr__(self, name: str):  # tell, seek, name, ... from the real file
        return getattr(self._f, name)


class _BlobFile(io.RawIOBase):
    """A GCS object as a seekable read-only file: ranged GETs, so a parquet footer costs two requests."""

    def __init__(self, blob, call: dict):
        self.blob, self.pos, self.size, self.call = blob, 0, blob.size, call

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = {0: offset, 1: self.pos + offset, 2: self.size + offset}[whence]
        return self.pos

    def readinto(self, b) -> int:
        n = min(len(b), self.size - self.pos)
        if n <= 0:
            return 0
        data = self.blob.download_as_bytes(start=self.pos, end=self.pos + n - 1, **self.call)
        b[: len(data)] = data
        self.pos += len(data)
        return len(data)
