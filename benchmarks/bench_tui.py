"""The application's feel: cold start to the first frame, and CPU time per keystroke in Compose,
each against a bare Textual app with the same widgets, run side by side in the same run.

- Start: a fresh process opens mesomix on a demo database and leaves after its first frame (the
  sign-in screen); the baseline process opens a bare app with the sign-in screen's widgets.
- Keystroke: typing into Compose with a 10-ingredient mixture (each keystroke re-checks the
  mixture against the database in a worker, waited for) against typing into a bare app with the
  same fields; CPU time of the whole process (all threads), per keystroke.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
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
import sys, time
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
    def on_mount(self):
        self.call_after_refresh(self.exit)
Bare().run(headless=True)
"""

MESOMIX_START = """
import sys
from mesomix.bootstrap import Settings, build
from mesomix.tui.app import make_app
from mesomix.tui.screens.signin import SignInScreen
services = build(Settings(database_url=sys.argv[1]))
app = make_app(services)
def leave_after_first_frame(screen):
    if isinstance(screen, SignInScreen):
        app.call_after_refresh(app.exit)
original = app.push_screen
def push(screen, *args, **kwargs):
    result = original(screen, *args, **kwargs)
    leave_after_first_frame(screen)
    return result
app.push_screen = push
app.run(headless=True)
"""


def _wall(code: str, *args: str) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", code, *args], check=True, cwd=ROOT, capture_output=True
        )
        best = min(best, time.perf_counter() - start)
    return best


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
        ours_start, bare_start = _wall(MESOMIX_START, url), _wall(BARE_START)

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
               ours_start / bare_start <= GOAL_START, "fresh processes, best of 5; baseline: a bare Textual app with the sign-in widgets"),
        Figure("TUI CPU per keystroke (Compose, 10 ingredients)", ours_key * 1000, bare_key * 1000, "ms", f"≤ {GOAL_KEY}×",
               ours_key / bare_key <= GOAL_KEY, f"{ROUNDS * 2 * len(TYPED)} keystrokes, each re-checked in a worker and waited for; baseline: bare app, same fields"),
    ]  # fmt: skip


if __name__ == "__main__":
    for figure in run():
        print(
            f"{figure.name}: {figure.value:.2f} {figure.unit} vs {figure.baseline:.2f} = {figure.ratio:.2f}× ({figure.goal}: {'pass' if figure.passed else 'FAIL'})"
        )
