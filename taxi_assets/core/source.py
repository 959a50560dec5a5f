"""The download site: URL template, streamed downloads, validation of what arrived.

One attempt per call: a transient failure (5xx, 408/425/429, timeout, reset, a body cut short)
raises `DownloadFailed`, and the caller's retry layer (the asset's Dagster `RetryPolicy`, with
backoff and jitter) tries again; a 404/410 -- or a 403, CloudFront's answer for an object that is
not there (the TLC's site answers 403 for a month not published yet) -- raises `SourceFileMissing`
(never retried; "not yet" for the sensors), and anything else that cannot be fixed by retrying
(an HTML page, a truncated gzip, another 4xx) a `TaxiFileError`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import shutil
import string
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from taxi_assets.core.config import DTC_URL_TEMPLATE, DTC_ZONES_URL
from taxi_assets.core.errors import DownloadFailed, SourceFileMissing, TaxiFileError
from taxi_assets.core.formats import sniff_format
from taxi_assets.core.progress import Progress
from taxi_assets.core.redaction import redact

if TYPE_CHECKING:  # imported when a download runs, not with the definitions (~80 ms)
    import requests

CHUNK = 1 << 20


def _new_session() -> requests.Session:
    import requests

    return requests.Session()


@dataclasses.dataclass
class Download:
    url: str
    path: Path
    bytes: int
    etag: str | None = None
    last_modified: str | None = None
    seconds: float = 0.0
    not_modified: bool = False  # the source confirmed the copy we hold is current (HTTP 304)


def _file_validators(path: Path) -> tuple[str, str]:
    st = path.stat()
    return f'"{st.st_size:x}-{st.st_mtime_ns:x}"', time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(st.st_mtime))


TEMPLATE_FIELDS = {"taxi", "year", "month"}


SCHEMES = ("http", "https", "file")


def check_url_template(template: str) -> str:
    """A template must use {taxi}, {year} and {month}, in the URL's path only.

    Without all three, one file would load into every partition. Anywhere but the path they do
    not choose the file: after `#` (a fragment) or, for file://, `?` (a query) they are ignored,
    so a template like `file:///any/file#{taxi}{year}{month}` would read one fixed file. So: the
    scheme is http, https or file; no fragment; a query only on http(s), without placeholders
    (some real sources need one: a signed URL's parameters).
    """
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as e:
        raise ValueError(f"source URL template {redact(template)!r} is malformed: {e}") from e
    if fields != TEMPLATE_FIELDS:
        raise ValueError(
            f"source URL template {redact(template)!r} must use exactly {{taxi}}, {{year}} and {{month}} "
            f"(found {sorted(fields)})"
        )
    parts = urllib.parse.urlsplit(template)
    if parts.scheme not in SCHEMES:
        raise ValueError(f"source URL template {redact(template)!r}: the scheme must be http, https or file")
    if "#" in template:
        raise ValueError(f"source URL template {redact(template)!r} has a fragment (#...): placeholders go in the path")
    if parts.query and parts.scheme == "file":
        raise ValueError(f"source URL template {redact(template)!r}: a file:// URL has no query (?...)")
    if "{" in parts.query or "{" in parts.netloc:
        raise ValueError(f"source URL template {redact(template)!r}: {{taxi}}, {{year}} and {{month}} go in the URL's path only")
    return template


def local_path(url: str, root: str | None, label: str) -> Path:
    """The file a file:// URL names, if it lies under `root` (resolved: no `..`, no symlink out)."""
    path = Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path)).resolve()
    if not root:
        raise TaxiFileError(
            f"{label}: file:// sources are off (set TAXI_SOURCE_FILE_ROOT to the folder they may read from)"
        )
    top = Path(root).expanduser().resolve()
    if not path.is_relative_to(top):
        raise TaxiFileError(f"{label}: {path} is outside the source folder TAXI_SOURCE_FILE_ROOT ({top})")
    return path


# "no such file": 404/410, and 403, which S3 behind CloudFront answers for a missing object (the
# TLC's d37ci6vzurychx.cloudfront.net does, for every month it has not published)
MISSING_STATUS = (403, 404, 410)


@dataclasses.dataclass(frozen=True)
class Remote:
    """What the source says about a file without sending it: its validators and size."""

    etag: str | None
    last_modified: str | None
    bytes: int | None


def _retryable_status(code: int) -> bool:
    return code >= 500 or code in (408, 425, 429)


@dataclasses.dataclass
class Source:
    """Where monthly trip files come from.

    `url_template` takes `{taxi}`, `{year}` and `{month}` (two digits) in its path; http(s):// and
    file:// (under `file_root` only) both work. Every request has a timeout of `timeout_seconds`
    (connect and each read).
    """

    url_template: str = DTC_URL_TEMPLATE
    zones_url: str = DTC_ZONES_URL
    timeout_seconds: float = 60.0
    file_root: str | None = None  # file:// URLs may read below this folder only; None: no file:// at all
    session: requests.Session = dataclasses.field(default_factory=_new_session, repr=False)

    def url_for(self, taxi: str, month: dt.date, template: str | None = None) -> str:
        template = check_url_template(template or self.url_template)
        return template.format(taxi=taxi, year=f"{month:%Y}", month=f"{month:%m}")

    def fetch(
        self,
        url: str,
        dest: Path,
        label: str,
        log: Callable[[str], None] | None = None,
        known: dict | None = None,
    ) -> Download:
        """Stream `url` into `dest` (a temporary path the caller owns) and validate it.

        `known` holds the validators (etag, last_modified, bytes) of the copy already kept: when
        the source says it is unchanged (HTTP 304 to a conditional GET; same size and mtime for
        file://), nothing is downloaded and the result has `not_modified=True`.

        Raises SourceFileMissing (404/410/403), DownloadFailed (transient: worth another attempt) or
        TaxiFileError (what arrived is not a readable file). `dest` is left incomplete on error:
        the caller must not move it into place.
        """
        t0 = time.monotonic()
        try:
            result = self._fetch(url, dest, label, log, known or {})
            if not result.not_modified:
                validate_download(dest, label, log)
        except OSError as e:
            if getattr(e, "errno", None) in (errno.ENOSPC, errno.EDQUOT):  # not worth retrying
                raise TaxiFileError(f"{label}: no space left on the device while downloading to {dest}") from e
            raise
        result.seconds = time.monotonic() - t0
        return result

    def _fetch(self, url: str, dest: Path, label: str, log: Callable[[str], None] | None, known: dict) -> Download:
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme != "file":
            return self._fetch_http(url, dest, label, log, known)
        src = local_path(url, self.file_root, label)
        if not src.is_file():
            raise SourceFileMissing(f"{label}: no such file at the source: {redact(url)}")
        etag, last_modified = _file_validators(src)
        if known.get("etag") == etag:
            return Download(url, dest, src.stat().st_size, etag, last_modified, not_modified=True)
        shutil.copyfile(src, dest)
        return Download(url, dest, dest.stat().st_size, etag, last_modified)

    def exists(self, url: str, label: str) -> bool:
        """Does the source have this file yet? 404/410/403 -> False; other failures raise DownloadFailed."""
        return self.stat(url, label) is not None

    def stat(self, url: str, label: str) -> Remote | None:
        """The file's ETag, Last-Modified and size at the source (one HEAD), None if it has none.

        A HEAD refused (403/405/501: some signed URLs allow GET only) is asked again as a GET of the
        first byte; a 403 to that GET is "no such file" (CloudFront's answer for a missing object).
        """
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme == "file":
            path = local_path(url, self.file_root, label)
            if not path.is_file():
                return None
            etag, last_modified = _file_validators(path)
            return Remote(etag, last_modified, path.stat().st_size)
        import requests

        try:
            r = self.session.head(url, allow_redirects=True, timeout=self.timeout_seconds)
            size = r.headers.get("Content-Length")
            if r.status_code in (405, 403, 501):  # HEAD not allowed: ask for the first byte instead
                with self.session.get(url, headers={"Range": "bytes=0-0"}, stream=True, timeout=self.timeout_seconds) as g:
                    r = g
                    total = g.headers.get("Content-Range", "").rpartition("/")[2]
                    size = total if total.isdigit() else (g.headers.get("Content-Length") if g.status_code == 200 else None)
        except (requests.ConnectionError, requests.Timeout) as e:
            raise DownloadFailed(f"{label}: probing the source failed: {type(e).__name__}") from e
        if r.status_code in MISSING_STATUS:
            return None
        if r.status_code < 400:
            return Remote(r.headers.get("ETag"), r.headers.get("Last-Modified"),
                          int(size) if size and size.isdigit() else None)
        raise DownloadFailed(f"{label}: probing the source answered HTTP {r.status_code} ({redact(url)})")

    def _fetch_http(
        self, url: str, dest: Path, label: str, log: Callable[[str], None] | None, known: dict
    ) -> Download:
        headers = {}
        if known.get("etag"):
            headers["If-None-Match"] = str(known["etag"])
        if known.get("last_modified"):
            headers["If-Modified-Since"] = str(known["last_modified"])
        import requests

        try:
            with self.session.get(url, stream=True, timeout=self.timeout_seconds, headers=headers) as r:
                if r.status_code == 304:
                    return Download(url, dest, int(known.get("bytes") or 0), known.get("etag") or None,
                                    known.get("last_modified") or None, not_modified=True)
                if r.status_code in MISSING_STATUS:
                    raise SourceFileMissing(
                        f"{label}: the source has no file for this month (HTTP {r.status_code} from {redact(url)}"
                        + ("; CloudFront answers 403 for a file that is not there: not published (yet)" if r.status_code == 403 else "")
                        + ")"
                    )
                if _retryable_status(r.status_code):
                    raise DownloadFailed(f"{label}: the source answered HTTP {r.status_code} ({redact(url)})")
                if r.status_code >= 400:
                    raise TaxiFileError(f"{label}: the source refused the download (HTTP {r.status_code} from {redact(url)})")
                expected = r.headers.get("Content-Length")
                nbytes = 0
                progress = Progress(f"{label} download", log)
                with open(dest, "wb") as f:
                    for chunk in r.raw.stream(CHUNK, decode_content=False):
                        f.write(chunk)
                        nbytes += len(chunk)
                        progress.tick(0, nbytes)
                if expected is not None and int(expected) != nbytes:
                    raise DownloadFailed(f"{label}: the connection closed after {nbytes} of {expected} bytes ({redact(url)})")
                return Download(url, dest, nbytes, r.headers.get("ETag"), r.headers.get("Last-Modified"))
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as e:
            raise DownloadFailed(f"{label}: download failed: {type(e).__name__} ({redact(url)})") from e
        except Exception as e:  # urllib3 protocol errors surface under several names
            if "IncompleteRead" in type(e).__name__ or "ProtocolError" in type(e).__name__:
                raise DownloadFailed(f"{label}: download failed: {type(e).__name__} ({redact(url)})") from e
            raise


def validate_download(path: Path, label: str, log: Callable[[str], None] | None = None) -> None:
    """A download is only kept if it is a whole, readable file of a kind we load."""
    size = path.stat().st_size
    if size == 0:
        raise TaxiFileError(f"{label}: the source sent an empty file (0 bytes)")
    fmt = sniff_format(path)
    if fmt == "csv.gz":
        # decompress to the end: a truncated gzip fails here, not three assets later. With isal's
        # zlib (python-isal: zlib's interface over Intel's ISA-L), 3x zlib's speed: 0.21 s of CPU
        # against 0.65 s for a 53 MB month (docs/BENCHMARKS.md, "Choices")
        from isal import isal_zlib as zlib

        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        first = b""
        progress, checked = Progress(f"{label} gzip check", log), 0
        try:
            with open(path, "rb") as f:
                while chunk := f.read(CHUNK):
                    checked += len(chunk)
                    progress.tick(0, checked)
                    out = d.decompress(chunk)
                    if len(first) < 512:
                        first += out[:512]
                    while d.unused_data:  # concatenated gzip members
                        rest = d.unused_data
                        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                        d.decompress(rest)
            if not d.eof:
                raise TaxiFileError(f"{label}: the gzip file is truncated ({size} bytes arrived)")
        except zlib.error as e:
            raise TaxiFileError(f"{label}: the gzip file is corrupt: {e}") from e
        _check_text_head(first, label)
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            pq.ParquetFile(path).metadata
        except Exception as e:
            raise TaxiFileError(f"{label}: the parquet file is corrupt or truncated: {e}") from e
    else:
        with open(path, "rb") as f:
            _check_text_head(f.read(512), label)


def _check_text_head(head: bytes, label: str) -> None:
    text = head.lstrip().lower()
    if text.startswith(b"<!doctype") or text.startswith(b"<html") or text.startswith(b"<"):
        raise TaxiFileError(f"{label}: the source sent an HTML page, not a data file")

