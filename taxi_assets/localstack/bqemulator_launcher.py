"""Start bqemulator offline. Run with the python of the separate bqemulator virtualenv.

    <bq-venv>/bin/python -I bqemulator_launcher.py start --rest-port ... (bqemulator CLI arguments)

Standalone on purpose: it must not import taxi_assets (that package lives in another environment).
Three patches; the first two make bqemulator 1.4.0 usable on a machine without internet access:

* ``DuckDBEngine._load_spatial`` becomes a no-op: it runs ``INSTALL spatial``, which downloads
  the DuckDB spatial extension (GEOGRAPHY support, not used by this project).
* ``"*/*"`` joins the accepted media types of multipart uploads: google-cloud-bigquery's
  ``load_table_from_file`` / ``load_table_from_dataframe`` send the file part as ``*/*``, and
  ``_is_permitted_media_type`` only accepts a part whose type starts with a listed prefix.
* ``SnapshotManager.record_change`` no longer copies the table: after every load job and every
  DML statement bqemulator copied the whole table into a time-travel snapshot
  (``CREATE TABLE … AS SELECT *``), so loading month N of a backfill copied N months, and a
  6-month backfill spent most of the emulator's CPU on copies (docs/BENCHMARKS.md, "Choices").
  BigQuery's own time travel costs a load nothing; this project never reads it (no
  ``FOR SYSTEM_TIME AS OF``). The change event that dependents listen to is still published, and
  ``CREATE SNAPSHOT TABLE`` still makes a snapshot.
"""

from __future__ import annotations

import sys


def _patch() -> None:
    from bqemulator.api.routes import upload
    from bqemulator.domain.events import TableDataChanged
    from bqemulator.storage import engine
    from bqemulator.versioning import snapshots

    def _skip_spatial(self) -> None:  # noqa: ANN001 - mirrors the patched method
        return None

    engine.DuckDBEngine._load_spatial = _skip_spatial
    if "*/*" not in upload._PERMITTED_MEDIA_CONTENT_TYPES:
        upload._PERMITTED_MEDIA_CONTENT_TYPES = (*upload._PERMITTED_MEDIA_CONTENT_TYPES, "*/*")

    def _record_change(self, project_id: str, dataset_id: str, table_id: str) -> None:  # noqa: ANN001
        self._events.publish(TableDataChanged(project_id, dataset_id, table_id))

    snapshots.SnapshotManager.record_change = _record_change


def main() -> None:
    _patch()
    from bqemulator.cli import main as bqemulator_main

    bqemulator_main(args=sys.argv[1:], prog_name="bqemulator")


if __name__ == "__main__":
    main()
