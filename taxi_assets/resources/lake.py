"""The data lake: the cleaned parquet of each month as one object in a GCS bucket.

Uploads go through dagster-gcp's `GCSResource` (google-cloud-storage underneath). With
`STORAGE_EMULATOR_HOST` set, the client talks to that emulator with anonymous credentials; with
it unset, to real GCS with Application Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS`).
"""


import dataclasses
from pathlib import Path

import dagster as dg
from dagster_gcp import GCSResource

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

    def upload(self, local: Path, name: str) -> LakeObject:
        blob = self.gcs.get_client().bucket(self.bucket).blob(self.object_name(name))
        # resumable, chunked upload: memory stays flat whatever the file size
        blob.chunk_size = 16 << 20
        blob.upload_from_filename(str(local), content_type=PARQUET_CONTENT_TYPE)
        blob.reload()
        return LakeObject(self.uri(name), blob.size, blob.crc32c, blob.md5_hash, blob.generation)

    def stat(self, name: str) -> LakeObject | None:
        blob = self.gcs.get_client().bucket(self.bucket).get_blob(self.object_name(name))
        if blob is None:
            return None
        return LakeObject(self.uri(name), blob.size, blob.crc32c, blob.md5_hash, blob.generation)
