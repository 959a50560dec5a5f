"""The data lake: the cleaned parquet of each month as one object in a GCS bucket.

Uploads go through dagster-gcp's `GCSResource` (google-cloud-storage underneath). With
`STORAGE_EMULATOR_HOST` set, the client talks to that emulator with anonymous credentials; with
it unset, to real GCS with Application Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS`).
"""


import dataclasses
from collections.abc import Callable
from pathlib import Path

import dagster as dg
from dagster_gcp import GCSResource

from taxi_assets.transform import Progress

PARQUET_CONTENT_TYPE = "application/vnd.apache.parquet"


@dataclasses.dataclass
class LakeObject:
    uri: str
    bytes: int
    crc32c: str | None
    md5: str | None
    generation: int | None


class TaxiLake(dg.ConfigurableResource):
    """Objects in `gs://{bucket}/{prefix}...`; an upload overwrites the object in place."""

    gcs: dg.ResourceDependency[GCSResource]
    bucket: str
    prefix: str = ""

    def object_name(self, name: str) -> str:
        return f"{self.prefix.strip('/')}/{name}" if self.prefix.strip("/") else name

    def uri(self, name: str) -> str:
        return f"gs://{self.bucket}/{self.object_name(name)}"

    def upload(self, local: Path, name: str, log: Callable[[str], None] | None = None) -> LakeObject:
        blob = self.gcs.get_client().bucket(self.bucket).blob(self.object_name(name))
        # resumable, chunked upload: memory stays flat whatever the file size
        blob.chunk_size = 16 << 20
        size = local.stat().st_size
        with open(local, "rb") as f:
            blob.upload_from_file(
                _ProgressReader(f, Progress(f"upload to {self.uri(name)}", log)), size=size, content_type=PARQUET_CONTENT_TYPE
            )
        blob.reload()
        return LakeObject(self.uri(name), blob.size, blob.crc32c, blob.md5_hash, blob.generation)



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
