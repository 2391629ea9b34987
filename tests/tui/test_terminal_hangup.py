"""A terminal window closed under the app ends it: found by hand, when a closed tmux window
left `make demo`'s app spinning a core for ever (make outlives the hangup and waits for it, so
no SIGHUP reached the app, and Textual's input thread read end-of-file in a busy loop)."""

from __future__ import annotations

import fcntl
import os
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_app_ends_soon_after_its_terminal_hangs_up_and_no_signal_comes(tmp_path: Path) -> None:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    # A session of its own with no controlling terminal: the hangup sends no SIGHUP, as
    # under make; only the terminal's going away can tell the app.
    app = subprocess.Popen(
        [sys.executable, "-m", "mesomix", "--db", str(tmp_path / "hangup.sqlite")],
        cwd=ROOT,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"},
    )
    os.close(slave)
    drawn = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            drawn.extend(chunk)

    threading.Thread(target=drain, daemon=True).start()
    try:
        deadline = time.monotonic() + 60
        while b"mesomix" not in drawn and time.monotonic() < deadline:
            time.sleep(0.1)
        assert b"mesomix" in drawn, "the app never drew its first screen"
        time.sleep(1)
        os.close(master)  # the window closes
        closed = time.monotonic()
        status = app.wait(timeout=20)  # spun for ever before
        assert time.monotonic() - closed < 10
        assert status == 1  # ended by the check, not killed
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(10)
