"""What is typed is what the field holds: the real application in a pseudo-terminal of 80×24,
keys sent as bursts — all at once (a paste, a scanner, a password manager) or 10 ms apart (a
fast typist) — into every text field of every screen, while the checks and searches that typing
starts are running; after each burst every field must hold exactly what was typed, in order,
and nothing may have landed anywhere else.

The keys go through the terminal only. What the fields hold is asked on a pipe of the test's own
(tests/tui/typist.py answers from the app's loop), waiting until the field holds what was typed
or has not changed for a while: a slow app passes, a wrong field fails.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import select
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mesomix.bootstrap import Settings, build
from mesomix.services.demo import load_demo

ROOT = Path(__file__).resolve().parents[2]
SETTLED = 1.0  # seconds a wrong field must stay unchanged before it counts as wrong
STAYS = 0.05  # seconds a right field must stay right: no key of the burst still on its way
GAPS = (0.0, 0.010)  # seconds between the keys of a burst

# Keys that are not characters, as a terminal sends them.
BS, LEFT, RIGHT, HOME, END = "⌫", "←", "→", "⇤", "⇥"
ENTER, TAB, CTRL_O, CTRL_L, CTRL_F, ESC = "⏎", "↹", "^O", "^L", "^F", "⎋"
F3, F5, F6, F11 = "F3", "F5", "F6", "F11"
BYTES = {
    BS: b"\x7f", LEFT: b"\x1b[D", RIGHT: b"\x1b[C", HOME: b"\x1b[H", END: b"\x1b[F",
    ENTER: b"\r", TAB: b"\t", CTRL_O: b"\x0f", CTRL_L: b"\x0c", CTRL_F: b"\x06", ESC: b"\x1b",
    F3: b"\x1bOR", F5: b"\x1b[15~", F6: b"\x1b[17~", F11: b"\x1b[23~",
}  # fmt: skip

PRACTITIONER = ("drchen", "demo-practitioner-2026")
MANAGER = ("nadia", "demo-manager-2026")
NAMES = ["ascorbic acid", "lidocaine", "tranexamic acid", "dexpanthenol", "biotin", "glutathione"]
AMOUNTS = ["150 mg", "20 mg", "0.5 mL", "1 g", "500 mcg", "2 mL", "25 mg", "1150 mg"]
VOLUMES = ["10 mL", "5 mL", "12.5 mL", "3 mL"]


def key_bytes(key: str) -> bytes:
    return BYTES.get(key) or key.encode()


@dataclass
class Field:
    """A text field as the model of an Input sees it: its text and its selection."""

    value: str
    start: int
    end: int

    def press(self, key: str) -> None:
        low, high = sorted((self.start, self.end))
        if key == BS:
            if low != high:
                self.value, cursor = self.value[:low] + self.value[high:], low
            else:
                cursor = max(self.end - 1, 0)
                self.value = self.value[:cursor] + self.value[self.end :]
        elif key in (LEFT, RIGHT, HOME, END):
            assert low == high, "the bursts move the cursor only once the selection is gone"
            cursor = {
                LEFT: max(self.end - 1, 0),
                RIGHT: min(self.end + 1, len(self.value)),
                HOME: 0,
                END: len(self.value),
            }[key]
        else:
            assert len(key) == 1 and key.isprintable(), key
            self.value, cursor = self.value[:low] + key + self.value[high:], low + 1
        self.start = self.end = cursor


@dataclass
class Burst:
    """Keys into one field, or across fields by Tab or Enter (the order the screen goes)."""

    keys: list[str]
    order: Sequence[str] = ()  # the fields Tab and Enter go through, from the focused one


def expected(start: dict[str, Any], focused: str, burst: Burst) -> tuple[dict[str, str], str]:
    """What each field must hold after the burst, and which field must have the cursor."""
    model = {name: Field(shown["value"], *shown["selection"]) for name, shown in start.items()}
    order = list(burst.order) or [focused]
    at = order.index(focused)
    for key in burst.keys:
        if key in (TAB, ENTER):
            if at + 1 == len(order):  # Enter in the last field submits: checked by `then`
                continue
            at += 1
            model[order[at]] = Field(model[order[at]].value, 0, len(model[order[at]].value))
        else:
            model[order[at]].press(key)
    return {name: shown.value for name, shown in model.items()}, order[at]


def lost(want: str, got: str) -> int:
    """Characters lost, added or out of place: the edit distance."""
    row = list(range(len(got) + 1))
    for i, a in enumerate(want, 1):
        previous, row[0] = row[0], i
        for j, b in enumerate(got, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (a != b))
    return row[-1]


@dataclass
class Tally:
    bursts: int = 0
    keys: int = 0
    fields: set[str] = field(default_factory=set)
    wrong: list[str] = field(default_factory=list)
    lost: int = 0


class Terminal:
    """The app in a pseudo-terminal of 80×24, its output drained, and its control pipe."""

    def __init__(self, db: Path) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        control_read, self._control = os.pipe()
        self._replies, reply_write = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.tui.typist", "--db", str(db),
             str(control_read), str(reply_write)],
            cwd=ROOT,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            pass_fds=(control_read, reply_write),
            start_new_session=True,
            env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"},
        )  # fmt: skip
        for fd in (slave, control_read, reply_write):
            os.close(fd)
        self.output = bytearray()
        self._drain = threading.Thread(target=self._read, daemon=True)
        self._drain.start()
        self._pending = b""

    def _read(self) -> None:
        """Keep reading what the app draws: a terminal nobody reads blocks the app."""
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk
            del self.output[:-20000]

    def ask(self, request: dict[str, Any]) -> Any:
        os.write(self._control, (json.dumps(request) + "\n").encode())
        while b"\n" not in self._pending:
            ready, _, _ = select.select([self._replies], [], [], 30)
            assert ready, f"no answer to {request}; the screen: {self.screen()}"
            self._pending += os.read(self._replies, 65536)
        line, _, self._pending = self._pending.partition(b"\n")
        answer = json.loads(line)
        if "error" in answer:
            raise LookupError(answer["error"])
        return answer["ok"]

    def state(self) -> dict[str, Any]:
        return self.ask({"op": "dump"})

    def wait_for(self, test: Callable[[dict[str, Any]], bool], what: str, timeout: float = 30):
        """The app's state once test holds (the app may not be running yet at first)."""
        until = time.monotonic() + timeout
        state: dict[str, Any] = {}
        while time.monotonic() < until:
            try:
                state = self.state()
            except LookupError:
                state = {}
            if state and test(state):
                return state
            time.sleep(0.01)
        raise AssertionError(f"never {what}: {state}; the screen: {self.screen()}")

    def on(self, screen: str, focused: str | None = None) -> dict[str, Any]:
        return self.wait_for(
            lambda s: s["screen"] == screen and (focused is None or s["focused"] == focused),
            f"on {screen} ({focused})",
        )

    def choose(self, select_id: str, value: str) -> None:
        """A value of a Select, once its options are read (in a worker)."""
        until = time.monotonic() + 30
        while True:
            try:
                self.ask({"op": "choose", "id": select_id, "value": value})
                return
            except LookupError:
                assert time.monotonic() < until, f"{value} never offered in {select_id}"
                time.sleep(0.05)

    def focus(self, name: str) -> dict[str, Any]:
        self.ask({"op": "focus", "field": name})
        return self.wait_for(lambda s: s["focused"] == name, f"focused {name}")

    def send(self, keys: Sequence[str], gap: float = 0.0) -> None:
        if not gap:
            os.write(self.master, b"".join(key_bytes(key) for key in keys))
            return
        for key in keys:
            os.write(self.master, key_bytes(key))
            time.sleep(gap)

    def screen(self) -> str:
        return bytes(self.output[-600:]).decode("utf-8", "replace")

    def close(self) -> None:
        self.process.kill()
        self.process.wait(10)
        os.close(self.master)
        os.close(self._control)
        os.close(self._replies)


def burst(term: Terminal, tally: Tally, keys: Burst, gap: float, *, then: str = "") -> None:
    """Send one burst into the focused field; every field must end as the model says, the
    cursor where the keys took it, and (then) the app on that screen."""
    before = term.state()
    screen, focused = before["screen"], before["focused"]
    want, cursor = expected(before["fields"], focused, keys)
    term.send(keys.keys, gap)
    tally.bursts += 1
    tally.keys += len(keys.keys)
    tally.fields |= {f"{screen}:{name}" for name in {focused, *keys.order}}

    def done(state: dict[str, Any]) -> bool:
        held = {name: shown["value"] for name, shown in state["fields"].items()}
        return state["screen"] == (then or screen) and (
            then or (held == want and state["focused"] == cursor)
        )

    last, since, right = None, time.monotonic(), 0.0
    while True:
        state = term.state()
        if done(state):
            right = right or time.monotonic()
            if time.monotonic() - right >= STAYS:
                return
            time.sleep(0.01)
            continue
        right = 0.0
        if state != last:
            last, since = state, time.monotonic()
        elif time.monotonic() - since > SETTLED:
            break
        time.sleep(0.005)
    held = {name: shown["value"] for name, shown in state["fields"].items()}
    wrong = {name: held.get(name) for name in want if held.get(name) != want[name]}
    tally.lost += sum(lost(want[name], got or "") for name, got in wrong.items()) or 1
    tally.wrong.append(
        f"{screen}:{focused} {''.join(keys.keys)!r} at {gap * 1000:.0f} ms: wanted "
        f"{ {n: want[n] for n in wrong} } (cursor {cursor}, screen {then or screen}), got "
        f"{wrong} (cursor {state['focused']}, screen {state['screen']}); before: "
        f"{ {n: before['fields'][n] for n in wrong if n in before['fields']} }"
    )


def retype(rng: random.Random, now: str, text: str) -> list[str]:
    """Keys that turn what a field holds into text, the ways people do it: erase it all and
    type (the issue's own '8 Backspaces, then 150 mg'), type then correct the end ('20 mg',
    3 Backspaces, '5 mg'), or go back into the middle and mend it."""
    how = rng.randrange(3)
    if how == 0 or len(text) < 3:
        return [BS] * (len(now) + 2) + list(text)
    if how == 1:
        cut = rng.randrange(1, len(text))
        wrong = rng.choice(["5", "0 m", "x", "1"])
        return (
            [BS] * (len(now) + 1) + list(text[:cut] + wrong) + [BS] * len(wrong) + list(text[cut:])
        )
    middle = rng.randrange(1, len(text))
    return (
        [BS] * (len(now) + 1) + list(text[:middle] + text[middle + 1 :]) + [HOME] + [RIGHT] * middle
        + [text[middle]] + [END]
    )  # fmt: skip


def into(term: Terminal, tally: Tally, rng: random.Random, name: str, texts: Sequence[str],
         times: int) -> None:  # fmt: skip
    """Bursts into one field, at each gap in turn."""
    for round_ in range(times):
        state = term.focus(name)
        now = state["fields"][name]["value"]
        text = rng.choice([text for text in texts if text != now])  # a change to be seen
        burst(term, tally, Burst(retype(rng, now, text)), GAPS[round_ % 2])


def across(term: Terminal, tally: Tally, rng: random.Random, order: Sequence[str],
           texts: Sequence[Sequence[str]], go: str = TAB) -> None:  # fmt: skip
    """One burst through several fields, Tab (or Enter) between them."""
    state = term.focus(order[0])
    keys: list[str] = []
    for at, (name, choices) in enumerate(zip(order, texts, strict=True)):
        if at:
            keys.append(go)
        now = state["fields"][name]["value"]
        keys += [BS] * (len(now) + 1) + list(rng.choice([c for c in choices if c != now]))
    burst(term, tally, Burst(keys, order), GAPS[rng.randrange(2)])


def slowly_sign_in(term: Terminal, person: tuple[str, str]) -> None:
    """After a burst went wrong: sign in key by key, so that the rest can still be counted."""
    name, password = person
    if term.state()["screen"] != "SignInScreen":
        term.send([CTRL_O, CTRL_O], 0.3)
    for field_, text in (("signin-name", name), ("signin-password", password)):
        state = term.on("SignInScreen")
        term.focus(field_)
        term.send([BS] * (len(state["fields"][field_]["value"]) + 1) + list(text), 0.06)
    term.send([ENTER])
    term.wait_for(lambda s: s["user"] == name, f"signed in slowly as {name}")


def sign_in_burst(term: Terminal, tally: Tally, person: tuple[str, str], gap: float) -> None:
    """The name, Enter, the password — as a password manager types them — then Enter."""
    name, password = person
    state = term.on("SignInScreen", "signin-name")
    now = state["fields"]["signin-name"]["value"]
    keys = [BS] * (len(now) + 1) + [*name, ENTER, *password]
    wrong = len(tally.wrong)
    burst(term, tally, Burst(keys, ["signin-name", "signin-password"]), gap)
    if len(tally.wrong) > wrong:
        slowly_sign_in(term, person)
        return
    term.send([ENTER])
    term.wait_for(lambda s: s["user"] == name, f"signed in as {name}")


def sign_out_burst(term: Terminal, tally: Tally, person: tuple[str, str], gap: float) -> None:
    """Ctrl+O twice (a mixture may be typed) and at once the next person's name and password:
    they go to the sign-in screen, never into the screen being closed."""
    name, password = person
    keys = [CTRL_O, CTRL_O, *name, ENTER, *password]
    term.send(keys, gap)
    tally.bursts += 1
    tally.keys += len(keys)
    tally.fields |= {"SignInScreen:signin-name", "SignInScreen:signin-password"}
    want = {"signin-name": name, "signin-password": password}
    try:
        term.wait_for(
            lambda s: (
                s["screen"] == "SignInScreen"
                # the screen is on top a frame before its fields are mounted
                and {n: s["fields"].get(n, {}).get("value") for n in want} == want
            ),
            "signed out with the next person's name and password typed",
            timeout=5,
        )
    except AssertionError as exc:
        tally.lost += len(name) + len(password)
        tally.wrong.append(f"sign-out burst at {gap * 1000:.0f} ms: {str(exc)[:400]}")
        slowly_sign_in(term, person)
        return
    term.send([ENTER])
    term.wait_for(lambda s: s["user"] == name, f"signed in as {name}")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("typed") / "demo.sqlite"
    services = build(Settings(database_url=f"sqlite:///{path}"))
    load_demo(services)
    services.close()
    yield path


@pytest.mark.slow
def test_every_field_of_every_screen_holds_exactly_what_was_typed_in_bursts(demo_db):
    rng = random.Random(13)
    tally = Tally()
    term = Terminal(demo_db)
    try:
        # Signing in while the database is still being opened, as a password manager types.
        sign_in_burst(term, tally, PRACTITIONER, 0.0)

        # Compose: names, amounts and the final volume, a patient chosen so that every check
        # runs the allergies and dose limits; the catalogue search runs on every name typed.
        term.on("ComposeScreen", "Select")  # mounted: the patient's list has the cursor
        term.choose("patient", "P-0003")
        for _ in range(5):
            for row in range(3):
                into(term, tally, rng, f"{2 * row}.what", NAMES, 2)
                into(term, tally, rng, f"{2 * row + 1}.amount", AMOUNTS, 3)
            into(term, tally, rng, "final-volume", VOLUMES, 2)
            for row in range(3):
                across(term, tally, rng, [f"{2 * row}.what", f"{2 * row + 1}.amount"],
                       [NAMES, AMOUNTS])  # fmt: skip

        # The lock: its password, then the right one and Enter in the same burst.
        term.send([CTRL_L])
        term.on("LockScreen", "lock-password")
        into(term, tally, rng, "lock-password", ["not my password", "x", "demo"], 4)
        state = term.focus("lock-password")
        now = state["fields"]["lock-password"]["value"]
        burst(term, tally, Burst([BS] * (len(now) + 1) + [*PRACTITIONER[1], ENTER]), 0.0,
              then="ComposeScreen")  # fmt: skip
        if term.state()["screen"] == "LockScreen":  # the password came out wrong: type it slowly
            term.focus("lock-password")
            term.send([BS] * 40 + [*PRACTITIONER[1], ENTER], 0.06)

        # Patients: the weight, an allergy (its meaning is searched as it is typed), the find.
        term.send([F3])
        term.on("PatientsScreen")
        time.sleep(0.3)  # the list is read in a worker: a patient under the cursor
        term.send(["w"])
        term.on("FormScreen", "form-weight")
        into(term, tally, rng, "form-weight", ["70 kg", "82.5 kg", "154 lb", "65kg"], 12)
        term.send([ESC])
        term.on("PatientsScreen")
        term.send(["a"])
        term.on("FormScreen", "form-allergen")
        into(
            term, tally, rng, "form-allergen", ["lidocaine", "sulphites", "nickel", "bee sting"], 8
        )
        into(term, tally, rng, "form-reaction", ["urticaria", "rash after 2 h"], 4)
        into(term, tally, rng, "form-note", ["told by the patient", "2019, dentist"], 4)
        term.send([ESC])
        term.on("PatientsScreen")
        term.send([CTRL_F])
        term.on("PatientsScreen", "patient-find")
        into(term, tally, rng, "patient-find", ["amelie", "P-0003", "ortega", "lopez"], 10)

        # Out: the next person's keys go to the sign-in screen, not into the find field.
        sign_out_burst(term, tally, MANAGER, 0.0)

        # Inventory: receiving by the name on the box (searched, checked as typed), a count.
        term.on("InventoryScreen")
        time.sleep(0.3)
        term.send(["r"])
        term.on("FormScreen", "form-product")
        receive = {
            "form-product": ["Xylocaine 1% 30 mL", "lidocaine 2%", "vit c", "saline 10 mL"],
            "form-lot_number": ["AB1234", "L-77/2", "X9"],
            "form-expiry": ["2028-05", "2027-12-31", "05/2029"],
            "form-containers": ["10", "5", "120"],
            "form-supplier": ["Medline", "Pharma Nord"],
            "form-unit_cost": ["2.50", "0.85", "12"],
        }
        for name, texts in receive.items():
            into(term, tally, rng, name, texts, 4)
        for _ in range(4):
            across(term, tally, rng, list(receive), list(receive.values()), go=ENTER)
        term.send([ESC])
        term.on("InventoryScreen")
        term.send(["c"])
        term.on("FormScreen", "form-sealed")
        into(term, tally, rng, "form-sealed", ["12", "0", "7"], 8)
        into(term, tally, rng, "form-open", ["2.5 mL", "0", "10 mL"], 8)
        across(term, tally, rng, ["form-sealed", "form-open"], [["3", "40"], ["1.5 mL", "0"]])
        term.send([ESC])
        term.on("InventoryScreen")
        term.send([CTRL_F])
        term.on("InventoryScreen", "lot-find")
        into(term, tally, rng, "lot-find", ["lidocaine 2%", "AB12", "vit c", "saline"], 10)

        # Reports: the lot number of a recall.
        term.send([F6])
        term.on("ReportsScreen")
        into(term, tally, rng, "report-lot", ["AB1234", "LOT-2026-07", "X9"], 8)

        # Out again, to the practitioner, straight into Compose's own fields.
        sign_out_burst(term, tally, PRACTITIONER, 0.010)
        term.on("ComposeScreen", "Select")
        for row in range(3):
            into(term, tally, rng, f"{2 * row + 1}.amount", AMOUNTS, 4)

        # Courses: a course planned (zones, start, schedule), a session booked, the consent's
        # statement — each form's fields read as they are typed.
        term.send([F11])
        term.on("CoursesScreen")
        term.choose("courses-patient", "P-0006")
        time.sleep(0.3)  # the patient's courses are read in a worker
        term.send(["n"])
        term.on("FormScreen", "FormSelect")  # its own first focus, on the indication, first
        plan = {
            "form-zones": ["scalp 4 mL, neck 1 mL", "face_middle 2 mL", "thighs 40 mL"],
            "form-start": ["2026-12-10", "2027-01-04", "10/12/2026"],
            "form-schedule": ["4 x 3 weeks (min 2 weeks)", "8 x 1 week; 1 x 3 months", ""],
        }
        for name, texts in plan.items():
            into(term, tally, rng, name, texts, 2)
        term.send([ESC])
        term.on("CoursesScreen")
        term.send(["b"])
        term.on("FormScreen", "form-when")
        into(term, tally, rng, "form-when", ["2026-12-10 14:30", "2027-01-04 09:00"], 4)
        into(term, tally, rng, "form-early", ["travelling next week", "flight on Monday"], 2)
        term.send([ESC])
        term.on("CoursesScreen")
        term.send(["s"])
        term.on("ConsentScreen", "VerticalScroll")  # the text to read has the cursor first
        into(term, tally, rng, "consent-statement", ["explained in person; agreed", "read"], 2)
        term.send([ESC])
        term.on("CoursesScreen")
    finally:
        term.close()
        print(
            f"\nbursts sent: {tally.bursts}, keys: {tally.keys}, fields: {len(tally.fields)}, "
            f"characters lost: {tally.lost}, wrong bursts: {len(tally.wrong)}"
        )
        for line in tally.wrong[:40]:
            print("  " + line)
    assert not tally.wrong, f"{len(tally.wrong)} of {tally.bursts} bursts came out wrong"
    assert tally.bursts >= 200 and len(tally.fields) >= 20
