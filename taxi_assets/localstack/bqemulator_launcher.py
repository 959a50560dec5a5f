"""Start bqemulator offline. Run with the python of the separate bqemulator virtualenv.

    <bq-venv>/bin/python -I bqemulator_launcher.py start --rest-port ... (bqemulator CLI arguments)

Standalone on purpose: it must not import taxi_assets (that package lives in another environment).
Two patches make bqemulator 1.4.0 usable on a machine without internet access:

* ``DuckDBEngine._load_spatial`` becomes a no-op: it runs ``INSTALL spatial``, which downloads
  the DuckDB spatial extension (GEOGRAPHY support, not used by this project).
* ``"*/*"`` joins the accepted media types of multipart uploads: google-cloud-bigquery's
  ``load_table_from_file`` / ``load_table_from_dataframe`` send the file part as ``*/*``, and
  ``_is_permitted_media_type`` only accepts a part whose type starts with a listed prefix.
"""

from __future__ import annotations

import sys


def _patch() -> None:
    from bqemulator.api.routes import upload
    from bqemulator.storage import engine

    def _skip_spatial(self) -> None:  # noqa: ANN001 - mirrors the patched method
        return None

    engine.DuckDBEngine._load_spatial = _skip_spatial
    if "*/*" not in upload._PERMITTED_MEDIA_CONTENT_TYPES:
        upload._PERMITTED_MEDIA_CONTENT_TYPES = (*upload._PERMITTED_MEDIA_CONTENT_TYPES, "*/*")


def main() -> None:
    _patch()
    from bqemulator.cli import main as bqemulator_main

    bqemulator_main(args=sys.argv[1:], prog_name="bqemulator")


if __name__ == "__main__":
    main()
