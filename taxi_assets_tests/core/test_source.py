import datetime as dt
import gzip

import pytest

from taxi_assets.localstack import sample
from taxi_assets.core.errors import DownloadFailed, SourceFileMissing
from taxi_assets.core.source import Source as TaxiSource, validate_download
from taxi_assets.core.errors import TaxiFileError
from taxi_assets_tests.http_source import SourceServer

JAN = dt.date(2021, 1, 1)
PATH = "/yellow/yellow_tripdata_2021-01.csv.gz"


@pytest.fixture
def server(tmp_path):
    sample.write_month(tmp_path / "site", "yellow", JAN, rows=5_000)
    with SourceServer(tmp_path / "site") as s:
        yield s


def source_for(server: SourceServer, **kw) -> TaxiSource:
    return TaxiSource(
        url_template=server.url + "/{taxi}/{taxi}_tripdata_{year}-{month}.csv.gz",
        timeout_seconds=5,
        **kw,
    )


def test_download_success_is_byte_identical(server, tmp_path):
    src = source_for(server)
    dest = tmp_path / "got.csv.gz"
    got = src.fetch(src.url_for("yellow", JAN), dest, "yellow 2021-01")
    original = (server.root / PATH.lstrip("/")).read_bytes()
    assert dest.read_bytes() == original
    assert got.bytes == len(original) and got.etag
    assert server.count(PATH) == 1


def test_404_names_taxi_type_and_month_and_is_not_retried(server, tmp_path):
    src = source_for(server)
    with pytest.raises(SourceFileMissing, match=r"green 2021-01.*404"):
        src.fetch(src.url_for("green", JAN), tmp_path / "x", "green 2021-01")
    assert server.count("/green/green_tripdata_2021-01.csv.gz") == 1


def test_503_is_a_transient_error_after_one_request_then_the_next_attempt_succeeds(server, tmp_path):
    # one attempt per call: the retries are the asset's RetryPolicy (defs/test_sensors.py counts them)
    server.script(PATH, [503])
    src = source_for(server)
    with pytest.raises(DownloadFailed, match="yellow 2021-01.*503"):
        src.fetch(src.url_for("yellow", JAN), tmp_path / "y", "yellow 2021-01")
    assert server.count(PATH) == 1
    src.fetch(src.url_for("yellow", JAN), tmp_path / "y.csv.gz", "yellow 2021-01")
    assert server.count(PATH) == 2
    assert gzip.decompress((tmp_path / "y.csv.gz").read_bytes()).startswith(b"VendorID")


def test_connection_reset_mid_download_is_a_transient_error(server, tmp_path):
    server.script(PATH, ["reset"])
    src = source_for(server)
    with pytest.raises(DownloadFailed, match="yellow 2021-01"):
        src.fetch(src.url_for("yellow", JAN), tmp_path / "y.csv.gz", "yellow 2021-01")
    got = src.fetch(src.url_for("yellow", JAN), tmp_path / "y.csv.gz", "yellow 2021-01")
    assert got.bytes == (server.root / PATH.lstrip("/")).stat().st_size


def test_truncated_gzip_fails_validation(server, tmp_path):
    server.script(PATH, ["truncate"])
    src = source_for(server)
    with pytest.raises(TaxiFileError, match="yellow 2021-01.*truncated"):
        src.fetch(src.url_for("yellow", JAN), tmp_path / "y.csv.gz", "yellow 2021-01")


def test_corrupt_gzip_fails_validation(tmp_path):
    """Bytes flipped inside the deflate stream: the whole-file check (isal's inflate) names the month."""
    good = gzip.compress(b"VendorID,tpep_pickup_datetime\n" + b"1,2021-01-01 00:00:00\n" * 50_000)
    bad = bytearray(good)
    bad[len(bad) // 2: len(bad) // 2 + 64] = bytes(64)  # zeroed deflate data: a bad block or a CRC mismatch
    path = tmp_path / "y.csv.gz"
    path.write_bytes(bytes(bad))
    with pytest.raises(TaxiFileError, match="yellow 2021-01: the gzip file is corrupt"):
        validate_download(path, "yellow 2021-01")
    path.write_bytes(good)
    validate_download(path, "yellow 2021-01")  # the same file whole passes


def test_html_page_with_status_200_is_rejected(server, tmp_path):
    server.script(PATH, ["html"])
    src = source_for(server)
    with pytest.raises(TaxiFileError, match="HTML"):
        src.fetch(src.url_for("yellow", JAN), tmp_path / "y.csv.gz", "yellow 2021-01")


def test_file_url(tmp_path):
    sample.write_month(tmp_path, "fhv", JAN, rows=100)
    src = TaxiSource(url_template=(tmp_path.as_uri() + "/{taxi}/{taxi}_tripdata_{year}-{month}.csv.gz"), file_root=str(tmp_path))
    got = src.fetch(src.url_for("fhv", JAN), tmp_path / "f.csv.gz", "fhv 2021-01")
    assert got.bytes == (tmp_path / "fhv" / "fhv_tripdata_2021-01.csv.gz").stat().st_size
    with pytest.raises(SourceFileMissing, match="fhv 2021-02"):
        src.fetch(src.url_for("fhv", dt.date(2021, 2, 1)), tmp_path / "g", "fhv 2021-02")


def test_403_is_a_missing_month_like_404_one_request_no_retry(tmp_path):
    # CloudFront (the TLC's site) answers 403 for a month it has not published
    sample.write_month(tmp_path / "site", "yellow", JAN, rows=100)
    with SourceServer(tmp_path / "site", missing_status=403) as server:
        src = source_for(server)
        feb = src.url_for("yellow", dt.date(2021, 2, 1))
        with pytest.raises(SourceFileMissing, match=r"yellow 2021-02: .*HTTP 403.*not published"):
            src.fetch(feb, tmp_path / "x", "yellow 2021-02")
        assert server.count("/yellow/yellow_tripdata_2021-02.csv.gz") == 1
        assert src.exists(feb, "yellow 2021-02") is False  # HEAD 403, then GET of one byte 403: not there
        assert src.exists(src.url_for("yellow", JAN), "yellow 2021-01") is True


def test_stat_gives_the_validators_and_size(server):
    src = source_for(server)
    remote = src.stat(src.url_for("yellow", JAN), "yellow 2021-01")
    assert remote.bytes == (server.root / PATH.lstrip("/")).stat().st_size
    assert remote.etag and remote.last_modified
    assert src.stat(src.url_for("green", JAN), "green 2021-01") is None
