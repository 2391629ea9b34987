"""Throwaway PostgreSQL server for tests, built from the machine's own binaries.

Why: SQLite hides real concurrency behaviour (row locks, MVCC, isolation), so the
stock-keeping code must also be exercised against a real PostgreSQL. This module
runs ``initdb`` into a fresh temporary directory, starts ``postgres`` on a free
127.0.0.1 port with durability switched off (fast, data is disposable) and tears
everything down again - on ``stop()``, on context-manager exit, and via ``atexit``
if a test run dies with an exception.

Usage::

    with PostgresServer() as pg:
        engine = create_engine(pg.create_database("case_1"))

Binary lookup order: ``$MESOMIX_PG_BINDIR``, ``pg_config --bindir``, the Debian
layout ``/usr/lib/postgresql/<version>/bin`` (highest version), then ``initdb`` on
``PATH``. If none is found a ``RuntimeError`` is raised; whether to skip is the
caller's decision (CI must not skip silently).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import psycopg
from psycopg import sql

ENV_BINDIR = "MESOMIX_PG_BINDIR"
SUPERUSER = "postgres"
HOST = "127.0.0.1"
REQUIRED_BINARIES = ("initdb", "pg_ctl", "postgres")

# Durability off, small memory: the cluster lives for one test session only.
DEFAULT_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "100",
    "shared_buffers": "32MB",
    "max_wal_senders": "0",
    "wal_level": "minimal",
    "logging_collector": "off",
    "timezone": "UTC",
}

_DB_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_PORT_ATTEMPTS = 3


def _has_server_binaries(bindir: Path) -> bool:
    """True if ``bindir`` holds everything needed to run a server (not just client tools)."""
    return all(os.access(bindir / name, os.X_OK) for name in REQUIRED_BINARIES)


def _version_key(path: Path) -> tuple[int, ...]:
    """Sort key for ``/usr/lib/postgresql/<version>/bin`` so that 15 > 9.6."""
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (-1,)


def find_bindir() -> Path:
    """Locate the PostgreSQL server binaries without hard-coding this machine.

    ``pg_config`` alone is not trusted: on Debian it can come from ``libpq-dev``
    and point at a version whose server package is not installed, so every
    candidate is checked for ``initdb``/``pg_ctl``/``postgres``.
    """
    override = os.environ.get(ENV_BINDIR)
    if override:
        bindir = Path(override).expanduser()
        if not _has_server_binaries(bindir):
            raise RuntimeError(
                f"{ENV_BINDIR}={override!r} does not contain the PostgreSQL server "
                f"binaries {', '.join(REQUIRED_BINARIES)}."
            )
        return bindir

    tried: list[str] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()
            if out:
                tried.append(out)
                if _has_server_binaries(Path(out)):
                    return Path(out)

    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    for bindir in debian:
        tried.append(str(bindir))
        if _has_server_binaries(bindir):
            return bindir

    initdb = shutil.which("initdb")
    if initdb:
        bindir = Path(initdb).resolve().parent
        tried.append(str(bindir))
        if _has_server_binaries(bindir):
            return bindir

    raise RuntimeError(
        "No PostgreSQL server binaries found (need "
        f"{', '.join(REQUIRED_BINARIES)}). Install the PostgreSQL server "
        f"(e.g. `apt-get install postgresql`) or set {ENV_BINDIR} to its bin directory. "
        f"Looked in: pg_config --bindir, /usr/lib/postgresql/*/bin, PATH"
        + (f" ({', '.join(tried)})" if tried else "")
        + "."
    )


def _free_port() -> int:
    """Ask the kernel for an unused TCP port (racy, hence the retry in ``start``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, limit: int = 8000) -> str:
    """Last ``limit`` characters of a log file, for error messages."""
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<could not read {path}: {exc}>"
    return text if len(text) <= limit else "...\n" + text[-limit:]


def _die_with_parent() -> None:
    """Child-side hook: SIGQUIT the postmaster if the test process is SIGKILLed.

    SIGQUIT is postgres' immediate shutdown, so backends go too. Linux only;
    runs after subprocess has already dropped privileges, so it is not reset.
    """
    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, int(signal.SIGQUIT), 0, 0, 0)


class PostgresServer:
    """A private PostgreSQL cluster in a temp dir; start/stop it or use ``with``.

    As root the cluster is run as ``run_as`` (default ``postgres``) because
    initdb/postgres refuse to run as root; privileges are dropped with
    ``subprocess``'s ``user=``/``group=`` (setuid in the child, no shell quoting,
    no dependency on ``runuser``/``su``).
    """

    def __init__(
        self,
        *,
        bindir: str | os.PathLike[str] | None = None,
        settings: Mapping[str, str] | None = None,
        run_as: str = SUPERUSER,
        base_dir: str | os.PathLike[str] | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self._bindir_arg = Path(bindir) if bindir is not None else None
        self.settings: dict[str, str] = {**DEFAULT_SETTINGS, **(settings or {})}
        self._run_as = run_as
        self._base_dir = base_dir
        self.startup_timeout = startup_timeout

        self.bindir: Path | None = None
        self.tmpdir: Path | None = None
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self._owner_pid: int | None = None
        self._lock = threading.RLock()
        self._user_kwargs: dict[str, Any] = {}

    # -- paths -------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        """The cluster's PGDATA."""
        return self._require_tmpdir() / "data"

    @property
    def socket_dir(self) -> Path:
        """Unix-socket directory (kept inside the temp dir, not /var/run)."""
        return self._require_tmpdir() / "sock"

    @property
    def log_path(self) -> Path:
        """Server stderr; its tail is included in start-up errors."""
        return self._require_tmpdir() / "postgres.log"

    def _require_tmpdir(self) -> Path:
        if self.tmpdir is None:
            raise RuntimeError("PostgresServer is not started")
        return self.tmpdir

    # -- URLs --------------------------------------------------------------

    @property
    def url(self) -> str:
        """SQLAlchemy URL (psycopg 3 driver) of the ``postgres`` database."""
        return self.url_for("postgres")

    def url_for(self, dbname: str) -> str:
        """SQLAlchemy URL for ``dbname`` on this server."""
        if self.port is None or self._proc is None:
            raise RuntimeError("PostgresServer is not started")
        return f"postgresql+psycopg://{SUPERUSER}@{HOST}:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        """libpq conninfo for direct ``psycopg.connect`` use."""
        if self.port is None:
            raise RuntimeError("PostgresServer is not started")
        return f"host={HOST} port={self.port} user={SUPERUSER} dbname={dbname}"

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> Self:
        """initdb + start + wait until a connection succeeds; cleans up on failure."""
        with self._lock:
            if self._proc is not None:
                return self
            self.bindir = self._bindir_arg if self._bindir_arg is not None else find_bindir()
            if not _has_server_binaries(self.bindir):
                raise RuntimeError(f"{self.bindir} does not contain {', '.join(REQUIRED_BINARIES)}")
            self._owner_pid = os.getpid()
            atexit.register(self._atexit)
            try:
                self._prepare_dirs()
                self._initdb()
                self._launch_until_ready()
            except BaseException:
                self.stop()
                raise
            return self

    def stop(self) -> None:
        """Immediate shutdown and removal of the temp dir; safe to call repeatedly."""
        with self._lock:
            try:
                self._stop_process()
            finally:
                if self._log_file is not None:
                    self._log_file.close()
                    self._log_file = None
                if self.tmpdir is not None:
                    shutil.rmtree(self.tmpdir, ignore_errors=True)
                    self.tmpdir = None
                self.port = None
                atexit.unregister(self._atexit)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _atexit(self) -> None:
        """Only the process that started the server may stop it (not forked children)."""
        if os.getpid() == self._owner_pid:
            self.stop()

    # -- database helpers --------------------------------------------------

    def create_database(self, name: str, template: str = "template0") -> str:
        """Create a database and return its SQLAlchemy URL: empty, or a copy of ``template``
        (a database made once and then left unconnected: PostgreSQL copies its files).

        Empty ones are cloned from ``template0`` so concurrent callers never collide on
        "template1 is being accessed by other users".
        """
        for given in (name, template):
            if not _DB_NAME_RE.fullmatch(given):
                raise ValueError(f"database name must match {_DB_NAME_RE.pattern}: {given!r}")
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} ENCODING 'UTF8'").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting any leftover sessions first."""
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    # -- internals ---------------------------------------------------------

    def _bin(self, name: str) -> str:
        assert self.bindir is not None
        return str(self.bindir / name)

    def _prepare_dirs(self) -> None:
        """Fresh temp dir owned by the server user, with the socket dir inside."""
        self.tmpdir = Path(tempfile.mkdtemp(prefix="mesomix-pg-", dir=self._base_dir))
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam(self._run_as)
            except KeyError:
                raise RuntimeError(
                    f"running as root, but system user {self._run_as!r} does not exist; "
                    "initdb refuses to run as root (create the user or run tests unprivileged)"
                ) from None
            for path in (self.tmpdir, self.socket_dir):
                os.chown(path, pw.pw_uid, pw.pw_gid)
            self._user_kwargs = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        else:
            self._user_kwargs = {}

    def _env(self) -> dict[str, str]:
        """Child environment without PG* variables that could redirect the tools."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        if self._user_kwargs:
            env["HOME"] = str(self._require_tmpdir())
        return env

    def _run(self, args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL tool as the server user, capturing its output."""
        return subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self._require_tmpdir(),
            env=self._env(),
            check=False,
            **self._user_kwargs,
        )

    def _initdb(self) -> None:
        result = self._run(
            [
                self._bin("initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "-E",
                "UTF8",
                "--locale=C",
                "--auth=trust",
                "--no-sync",
                "--no-instructions",
            ],
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"initdb failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
            )

    def _launch_until_ready(self) -> None:
        """Start postgres; retry on a new port if the probed one was taken meanwhile."""
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            self.port = _free_port()
            self._launch()
            if self._wait_ready():
                return
            assert self._proc is not None
            exit_code = self._proc.poll()
            log = _tail(self.log_path)
            self._stop_process()
            if "Address already in use" in log and attempt < _PORT_ATTEMPTS:
                continue
            why = (
                f"exited during start-up (exit code {exit_code})"
                if exit_code is not None
                else f"did not accept connections within {self.startup_timeout:.0f}s"
            )
            raise RuntimeError(f"PostgreSQL on {HOST}:{self.port} {why}. Server log:\n{log}")

    def _launch(self) -> None:
        """Run the postmaster as our direct child so we always hold its pid."""
        assert self.port is not None
        args = [
            self._bin("postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-k",
            str(self.socket_dir),
            "-c",
            f"listen_addresses={HOST}",
        ]
        for key, value in self.settings.items():
            args += ["-c", f"{key}={value}"]
        if self._log_file is not None:
            self._log_file.close()
        self._log_file = self.log_path.open("wb")  # fresh per attempt: errors show this one
        # prctl in preexec_fn is only safe while no other thread could hold a lock.
        preexec = (
            _die_with_parent if sys.platform == "linux" and threading.active_count() == 1 else None
        )
        self._proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            cwd=self._require_tmpdir(),
            env=self._env(),
            start_new_session=True,  # Ctrl-C reaches pytest, which then stops us cleanly
            preexec_fn=preexec,
            **self._user_kwargs,
        )

    def _wait_ready(self) -> bool:
        """Poll with real connections: proves TCP, auth and catalog are all usable."""
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            try:
                with psycopg.connect(self.conninfo(), connect_timeout=2, autocommit=True) as conn:
                    conn.execute("SELECT 1")
                return True
            except psycopg.OperationalError:
                time.sleep(0.05)
        return False

    def _stop_process(self) -> None:
        """``pg_ctl stop -m immediate``, then signals as a fallback; never raises."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None and self.tmpdir is not None:
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                self._run(
                    [
                        self._bin("pg_ctl"),
                        "stop",
                        "-D",
                        str(self.data_dir),
                        "-m",
                        "immediate",
                        "-w",
                        "-t",
                        "10",
                        "-s",
                    ],
                    timeout=15,
                )
        for sig in (signal.SIGQUIT, signal.SIGKILL):
            try:
                proc.wait(timeout=5)
                return
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
