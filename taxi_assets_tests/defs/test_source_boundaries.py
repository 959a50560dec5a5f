"""The source reads only what it should (issue 12.1): placeholders only in the URL's path, file://
only under TAXI_SOURCE_FILE_ROOT, from the environment or from run config, and an error about a
file that is not a trip file never quotes it. No server: the raw_file asset alone, a test instance."""

import datetime as dt
import os

import dagster as dg
import pytest

from taxi_assets.core.source import check_url_template, local_path
from taxi_assets.core.errors import TaxiFileError
from taxi_assets.core.taxi_types import TAXI_TYPES
from taxi_assets.defs.partitions import monthly_partitions
from taxi_assets.defs.preflight import PreflightResource
from taxi_assets.defs.resources import FileIOManager, FileStoreResource, SourceResource
from taxi_assets.defs.trip_assets import build_trip_assets
from taxi_assets.core.config import load_settings
from taxi_assets.localstack import sample

SECRET = "db-password-do-not-copy-0xC0FFEE"
MONTH = dt.date(2021, 1, 1)


@pytest.mark.parametrize(
    "template, says",
    [
        ("file:///etc/passwd#{taxi}{year}{month}", "fragment"),
        ("https://host/data.csv?t={taxi}&y={year}&m={month}", "path only"),
        ("file:///tmp/x.csv?{taxi}{year}{month}", "no query"),
        ("ftp://host/{taxi}_{year}-{month}.csv", "scheme"),
        ("https://{taxi}.example/{year}-{month}.csv", "path only"),
    ],
)
def test_templates_whose_placeholders_do_not_choose_the_file_are_refused(template, says):
    with pytest.raises(ValueError, match=says):
        check_url_template(template)


def test_a_query_without_placeholders_is_allowed_on_http():
    t = "https://host/{taxi}/{taxi}_{year}-{month}.parquet?alt=media"
    assert check_url_template(t) == t


def test_file_urls_resolve_inside_the_root_only(tmp_path):
    root = tmp_path / "site"
    (root / "yellow").mkdir(parents=True)
    inside = root / "yellow" / "f.csv"
    inside.write_text("x")
    outside = tmp_path / "secret.txt"
    outside.write_text(SECRET)
    (root / "yellow" / "link.csv").symlink_to(outside)
    assert local_path(inside.as_uri(), str(root), "yellow 2021-01") == inside.resolve()
    for escape in ((root / "yellow" / ".." / ".." / "secret.txt").as_uri(), (root / "yellow" / "link.csv").as_uri()):
        with pytest.raises(TaxiFileError, match="outside the source folder"):
            local_path(escape, str(root), "yellow 2021-01")
    with pytest.raises(TaxiFileError, match="file:// sources are off"):
        local_path(inside.as_uri(), None, "yellow 2021-01")


def _materialize_raw(tmp_path, source: SourceResource, run_config=None):
    assets = build_trip_assets(TAXI_TYPES["yellow"], monthly_partitions(load_settings(), TAXI_TYPES["yellow"]))
    data = str(tmp_path / "data")
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [assets.raw_file], partition_key=MONTH.isoformat(), instance=instance, raise_on_error=False,
        resources={"preflight": PreflightResource(enabled=False), "source": source, "file_store": FileStoreResource(base_dir=data), "file_io_manager": FileIOManager(base_dir=data)},
        run_config=run_config,
    )
    return result, instance, tmp_path / "data"


def _everything_written(instance, result, data_dir) -> str:
    text = [p.read_text(errors="replace") for p in data_dir.rglob("*") if p.is_file()] if data_dir.exists() else []
    text += [str(e) for e in instance.all_logs(result.run_id)]
    run = instance.get_run_by_id(result.run_id)
    text.append(str(run.run_config))
    return "\n".join(text)


def test_a_secret_file_behind_a_fragment_is_never_read(tmp_path):
    secret = tmp_path / "state.json"
    secret.write_text(f'{{"password": "{SECRET}"}}\n')
    source = SourceResource(url_template=secret.as_uri() + "#{taxi}{year}{month}", file_root=str(tmp_path))
    result, instance, data = _materialize_raw(tmp_path, source)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "fragment" in failure.event_specific_data.error.message
    assert SECRET not in _everything_written(instance, result, data)


def test_run_config_cannot_name_a_url_only_a_known_source(tmp_path):
    """A URL in run config is refused by Dagster's config validation, before a run exists: nothing
    stored, nothing read, the URL not repeated. A run may only pick one of the known sources."""
    site = tmp_path / "site"
    sample.write_month(site, "yellow", MONTH, rows=200)
    secret = tmp_path / "state.json"
    secret.write_text(f'{{"password": "{SECRET}"}}\n')
    source = SourceResource(url_template=site.as_uri() + "/{taxi}/{taxi}_tripdata_{year}-{month}.csv.gz", file_root=str(site))
    hostile = {"ops": {"yellow__raw_file": {"config": {"url_template": secret.as_uri() + "#{taxi}{year}{month}"}}}}
    with pytest.raises(dg.DagsterInvalidConfigError) as refused:
        _materialize_raw(tmp_path, source, hostile)
    assert 'unexpected config entry "url_template"' in str(refused.value) and SECRET not in str(refused.value)
    assert "state.json" not in str(refused.value)
    assert not (tmp_path / "data").exists()
    raw_file = build_trip_assets(TAXI_TYPES["yellow"], monthly_partitions(load_settings(), TAXI_TYPES["yellow"])).raw_file
    defs = dg.Definitions(assets=[raw_file], jobs=[dg.define_asset_job("raw", selection=[raw_file])], resources={"preflight": PreflightResource(enabled=False), "source": source,
                                                 "file_store": FileStoreResource(base_dir="x"), "file_io_manager": FileIOManager(base_dir="x")})
    resolved = defs.resolve_job_def("raw")
    assert dg.validate_run_config(resolved, {"ops": {"yellow__raw_file": {"config": {"source": "tlc"}}}})
    with pytest.raises(dg.DagsterInvalidConfigError, match="source"):
        dg.validate_run_config(resolved, {"ops": {"yellow__raw_file": {"config": {"source": "https://u:pw@mirror.example/x"}}}})


def test_a_file_outside_the_root_is_refused_and_not_quoted(tmp_path):
    secret_dir = tmp_path / "private" / "yellow"
    secret_dir.mkdir(parents=True)
    (secret_dir / "yellow_tripdata_2021-01.csv.gz").write_text(SECRET + "\n")
    site = tmp_path / "site"
    site.mkdir()
    source = SourceResource(url_template=(tmp_path / "private").as_uri() + "/{taxi}/{taxi}_tripdata_{year}-{month}.csv.gz",
                            file_root=str(site))
    result, instance, data = _materialize_raw(tmp_path, source)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "outside the source folder" in failure.event_specific_data.error.message
    assert SECRET not in _everything_written(instance, result, data)


def test_a_non_trip_file_inside_the_root_is_named_not_quoted(tmp_path):
    site = tmp_path / "site" / "yellow"
    site.mkdir(parents=True)
    (site / "yellow_tripdata_2021-01.csv").write_text(f"{SECRET},another_column\n1,2\n")
    source = SourceResource(url_template=(tmp_path / "site").as_uri() + "/{taxi}/{taxi}_tripdata_{year}-{month}.csv",
                            file_root=str(tmp_path / "site"))
    result, instance, data = _materialize_raw(tmp_path, source)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    message = failure.event_specific_data.error.message
    assert "yellow 2021-01" in message and "required column" in message and "2 column(s)" in message
    assert SECRET not in _everything_written(instance, result, data)
    assert not any(p.is_file() for p in (data / "yellow" / "raw_file").glob("*")) if (data / "yellow").exists() else True
