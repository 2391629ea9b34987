"""The program as a clinic installs it: a wheel built from this tree, installed with pip into a new
virtual environment from the package registry alone, without requirements.lock. Whatever the
program imports at run time must then be declared in pyproject.toml (openpyxl was not, and every
XLSX export of an installed mesomix stopped with exit status 70); the reference data must travel
in the wheel; the demo must open and take a sign-in.

Slow: building and installing take about a minute (pip's own cache is reused between runs)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import pytest

from tests.test_cli import DEMO_PASSWORDS

ROOT = Path(__file__).resolve().parents[1]
WAIT = 120  # seconds for any one step on a busy machine
pytestmark = pytest.mark.slow


def _run(*argv: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, env=env, cwd=cwd, check=False,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, f"{argv[:4]} exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Iterator[tuple[Path, dict[str, str]]]:
    """The wheel's `mesomix` console script in a new environment, and the environment variables
    to run it with: a home of its own, so the demo and its logs land in the test's folder."""
    where = tmp_path_factory.mktemp("installed")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", where / "dist", ROOT)
    (wheel,) = (where / "dist").glob("mesomix-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packed = set(archive.namelist())
    shipped = {
        f"mesomix/_data/{p.relative_to(ROOT / 'data').as_posix()}"
        for p in (ROOT / "data").rglob("*")
        if p.is_file()
    }
    assert shipped and shipped <= packed, f"missing from the wheel: {sorted(shipped - packed)}"

    # A new environment, and pip resolving every dependency from the registry: no lock file.
    # The environment's own pip is not needed: this pip installs into it (--python), without
    # compiling every module first (Python compiles what runs, as it runs).
    _run(sys.executable, "-m", "venv", "--without-pip", where / "env")
    python = where / "env" / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-compile", wheel)

    home = where / "home"
    home.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MESOMIX_", "PYTHON", "VIRTUAL_ENV", "XDG_"))
    }
    env |= {"HOME": str(home), "XDG_DATA_HOME": str(home / "data"), "TERM": "xterm-256color"}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    # the program runs from the environment, not from this tree, and reads the wheel's data
    where_from = _run(
        python, "-c", "import mesomix.reference as r; print(r.__file__); print(r.data_dir())",
        env=env, cwd=home,
    ).split()  # fmt: skip
    assert all(Path(p).is_relative_to(where / "env") for p in where_from), where_from
    assert where_from[1].endswith("mesomix/_data"), where_from
    yield python.parent / "mesomix", env


def test_an_xlsx_export_from_the_installed_program(installed, tmp_path):
    mesomix, env = installed
    db, target = tmp_path / "clinic.sqlite", tmp_path / "stock.xlsx"
    assert "demo data loaded" in _run(mesomix, "--db", db, "demo", env=env, cwd=tmp_path)
    env = env | {"MESOMIX_PASSWORD": DEMO_PASSWORDS["nadia"]}
    argv = ("--db", db, "report", "stock", "--output", target, "--user", "nadia")
    assert f"written to {target}" in _run(mesomix, *argv, env=env, cwd=tmp_path)
    sheet = openpyxl.load_workbook(target).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("product", "product_name", "lot_id", "lot_number")
    assert len(rows) > 5 and all(isinstance(row[2], int) for row in rows[1:])


def test_the_installed_demo_opens_and_takes_a_sign_in(installed):
    """`mesomix --demo` in an 80×24 pseudo-terminal: the sign-in screen shows, the demo database
    is made behind it, the manager signs in (the audit trail says so), Ctrl+Q quits cleanly."""
    mesomix, env = installed
    demo = Path(env["XDG_DATA_HOME"]) / "mesomix" / "demo.sqlite"
    pid, terminal = pty.fork()
    if pid == 0:  # the child: a terminal of 80×24, then the installed program
        fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        os.execve(mesomix, [str(mesomix), "--demo", "--user", "nadia"], env)
    shown = bytearray()
    try:
        _until(lambda: b"Sign in to mesomix" in shown, terminal, shown, "the sign-in screen")
        _until(lambda: _rows(demo, "SELECT 1 FROM user_account WHERE name = 'nadia'"), terminal, shown,
               "the demo database")  # fmt: skip
        os.write(terminal, DEMO_PASSWORDS["nadia"].encode() + b"\r")
        signed_in = "SELECT 1 FROM audit WHERE action = 'sign_in' AND user_name = 'nadia'"
        _until(lambda: _rows(demo, signed_in), terminal, shown, "the sign-in in the audit trail")
        os.write(terminal, b"\x11")  # Ctrl+Q
        ended: list[int] = []
        _until(lambda: _ended(pid, ended), terminal, shown, "the program's end")
        pid = 0
        assert ended == [0], f"the program ended with {ended}; the screen: {shown[-400:]!r}"
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(terminal)


def _until(done: Callable[[], object], terminal: int, shown: bytearray, what: str) -> None:
    """Read the terminal (the program would stop on a full one) until `done`, or fail naming
    `what` did not come, with the end of what the screen showed."""
    deadline = time.monotonic() + WAIT
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"no {what} after {WAIT} s; the screen ended with {shown[-400:]!r}"
            )
        if select.select([terminal], [], [], 0.2)[0]:
            try:
                shown += os.read(terminal, 65536)
            except OSError:  # the program has gone: the terminal is closed
                time.sleep(0.2)


def _ended(pid: int, status: list[int]) -> bool:
    """Whether the program has ended; its exit status, then, in `status`."""
    ended, code = os.waitpid(pid, os.WNOHANG)
    if ended:
        status.append(os.waitstatus_to_exitcode(code))
    return bool(ended)


def _rows(db: Path, query: str) -> bool:
    """Whether the query finds a row; a database not there yet, or busy being made, finds none."""
    if not db.exists():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)) as c:
            return c.execute(query).fetchone() is not None
    except sqlite3.Error:
        return False
