"""The application's feel: cold start to the first frame, and CPU time per keystroke in Compose,
each against a bare Textual app with the same widgets, run side by side in the same run.

- Start: `python -m mesomix --db FILE`, as a person starts it, in a pseudo-terminal of 80×24;
  the time from starting the process to the sign-in screen's words reaching the terminal. The
  baseline is a bare Textual app with the sign-in screen's widgets, started and timed the same way.
- Keystroke: typing into Compose with a 10-ingredient mixture (each keystroke re-checks the
  mixture against the database in a worker, waited for) against typing into a bare app with the
  same fields; CPU time of the whole process (all threads), per keystroke.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Footer, Header, Input, Select, Static

from benchmarks.common import Figure

GOAL_START, GOAL_KEY = 1.6, 2.0
ROOT = Path(__file__).resolve().parents[1]
INGREDIENTS = [
    ("lidocaine", "20 mg"), ("tranexamic acid", "50 mg"), ("dexpanthenol", "125 mg"),
    ("cyanocobalamin", "500 mcg"), ("ascorbic acid", "150 mg"), ("thiamine", "25 mg"),
    ("pyridoxine", "25 mg"), ("folic acid", "1 mg"), ("l-carnitine", "100 mg"),
    ("glutathione", "150 mg"),
]  # fmt: skip
TYPED = "12 mL"  # typed into the final volume, keystroke by keystroke, then erased, again
ROUNDS = 6

BARE_START = """
from textual.app import App
from textual.containers import Vertical
from textual.widgets import Button, Footer, Header, Input, Label, Static
class Bare(App):
    def compose(self):
        yield Header()
        with Vertical():
            yield Label("Sign in")
            yield Input(placeholder="user name")
            yield Input(placeholder="password", password=True)
            yield Button("Sign in")
            yield Static("")
        yield Footer()
Bare().run()
"""
FIRST_FRAME = b"Sign in"  # both screens' first words: their first frame has reached the terminal


def _first_frame(*args: str, timeout: float = 30) -> float:
    """Seconds from starting a Python process in a pseudo-terminal to its first frame."""
    start = time.perf_counter()
    pid, terminal = pty.fork()
    if pid == 0:  # the child: an 80×24 terminal, then the program
        fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        os.chdir(ROOT)
        os.environ["TERM"] = "xterm-256color"
        os.execv(sys.executable, [sys.executable, *args])
    seen = b""
    try:
        while FIRST_FRAME not in seen:
            ready, _, _ = select.select([terminal], [], [], timeout)
            if not ready:
                raise TimeoutError(f"no first frame after {timeout} s: {seen[-300:]!r}")
            seen += os.read(terminal, 65536)
        return time.perf_counter() - start
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(terminal)


def _best_start(*args: str) -> float:
    return min(_first_frame(*args) for _ in range(7))


class BareCompose(App[None]):
    """The Compose screen's widgets with nothing behind them."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Select([("patient", "p")], id="patient", compact=True)
        with Horizontal():
            with Vertical(id="ingredients"):
                for what, amount in INGREDIENTS:
                    with Horizontal(classes="row"):
                        yield Input(value=what, compact=True)
                        yield Input(value=amount, compact=True)
            with Vertical():
                yield DataTable(id="plan")
                yield Static("", id="findings")
        yield Input(id="final-volume", compact=True)
        yield Button("Dispense")
        yield Footer()


async def _type(app: App[None], prepare) -> float:  # type: ignore[no-untyped-def]
    from tests.tui.pilot import settle

    async with app.run_test(size=(100, 34)) as pilot:
        await settle(pilot)
        await prepare(pilot)
        field = app.screen.query_one("#final-volume", Input)
        field.focus()
        await settle(pilot)
        keys = 0
        start = time.process_time()
        for _ in range(ROUNDS):
            for key in TYPED:
                await pilot.press("space" if key == " " else key)
                await settle(pilot)
                keys += 1
            for _ in TYPED:
                await pilot.press("backspace")
                await settle(pilot)
                keys += 1
        return (time.process_time() - start) / keys


def run() -> list[Figure]:
    from mesomix.bootstrap import Settings, build
    from mesomix.clock import FixedClock
    from mesomix.services.demo import load_demo
    from mesomix.tui.app import make_app

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'tui.sqlite'}"
        services = build(Settings(database_url=url, clock=FixedClock()))
        load_demo(services)
        ours_start = _best_start("-m", "mesomix", "--db", str(Path(folder) / "tui.sqlite"))
        bare_start = _best_start("-c", BARE_START)

        async def fill(pilot) -> None:  # type: ignore[no-untyped-def]
            screen = pilot.app.screen
            for _ in range(len(INGREDIENTS) - 3):
                screen.action_add_ingredient()
            await pilot.pause()
            screen.query_one("#patient").value = "P-0003"
            for row, (what, amount) in zip(
                screen.query(".ingredient-row"), INGREDIENTS, strict=True
            ):
                a, b = row.query(Input)
                a.value, b.value = what, amount

        async def nothing(pilot) -> None:  # type: ignore[no-untyped-def]
            return None

        user = services.accounts.sign_in("sam", "demo-staff-2026")
        ours_key = asyncio.run(_type(make_app(services, user), fill))
        bare_key = asyncio.run(_type(BareCompose(), nothing))
        services.close()
    return [
        Figure("TUI cold start to first frame", ours_start * 1000, bare_start * 1000, "ms", f"≤ {GOAL_START}×",
               ours_start / bare_start <= GOAL_START, "python -m mesomix in an 80×24 pseudo-terminal until the sign-in screen reaches it, best of 7; baseline: a bare Textual app with the sign-in widgets, the same way"),
        Figure("TUI CPU per keystroke (Compose, 10 ingredients)", ours_key * 1000, bare_key * 1000, "ms", f"≤ {GOAL_KEY}×",
               ours_key / bare_key <= GOAL_KEY, f"{ROUNDS * 2 * len(TYPED)} keystrokes, each re-checked in a worker and waited for; baseline: bare app, same fields"),
    ]  # fmt: skip


if __name__ == "__main__":
    for figure in run():
        print(
            f"{figure.name}: {figure.value:.2f} {figure.unit} vs {figure.baseline:.2f} = {figure.ratio:.2f}× ({figure.goal}: {'pass' if figure.passed else 'FAIL'})"
        )
