"""Every screen and dialog at 80×24, 60×20 and 160×48: nothing off the screen or cut by a frame
that cannot scroll, no field squeezed to nothing, and drop-down lists that open within the screen
above the footer. One app per size walks every screen (a person's journey, signed in as staff,
then as the manager); a few snapshots keep the pictures (pytest-textual-snapshot)."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from pytest_textual_snapshot import SVGImageExtension
from sqlmodel import select
from textual.app import App
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, Select
from textual.widgets._select import SelectOverlay  # not exported; its place is what is tested

from mesomix.bootstrap import Settings, build
from mesomix.clock import FixedClock
from mesomix.db.tables import LotRow, MovementRow
from mesomix.services.demo import load_demo
from mesomix.services.uow import unit_of_work
from mesomix.tui.app import make_app
from mesomix.tui.screens.compose import FindingsView, PlanView
from tests.conftest import NOW
from tests.tui.pilot import screen_text, settle

SIZES = [(80, 24), (60, 20), (160, 48)]
FIELDS = (Input, Select, Button, DataTable)  # what a person types in, chooses or reads from
BACTERIOSTATIC = "bacteriostatic_water_30ml_mdv"
# The pictures kept: Compose and its drop-down, a dialog and its drop-down, a two-column screen,
# a table in a dialog. The other screens are checked by geometry only (and at 80×24 pictured
# in test_snapshots.py).
PICTURED = {"compose-diluent-list", "override-reason-list", "patients", "recall-trace"}
SHOWN = {
    "compose": ("q.s. default", "room temp.", "Blocked (F9)"),
    "recall-trace": ("Drawn", "2.5 mL"),
    "sessions": ("Jean-Luc Moreau", "session 3 of 11"),
    "courses": ("course 3", "consent: none in force"),
    "consent": ("Consent to course 3", "Sign"),
    "reports-forecast": ("need", "left"),
    "accounts": ("drchen", "nadia"),
    "account-form": ("Display name", "Again"),
}


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory) -> str:
    """One demo database for the module, built once; each test works on its own copy."""
    path = tmp_path_factory.mktemp("sizes") / "demo.sqlite"
    built = build(Settings(database_url=f"sqlite:///{path}", clock=FixedClock(NOW)))
    load_demo(built)
    built.close()
    return str(path)


@pytest.fixture
def demo(demo_file, tmp_path, clock):
    copy = tmp_path / "demo.sqlite"
    shutil.copy(demo_file, copy)
    built = build(Settings(database_url=f"sqlite:///{copy}", clock=clock))
    yield built
    built.close()


def scrolls(widget: Widget) -> bool:
    """Whether what lies past the widget's edge can be scrolled into view."""
    styles = widget.styles
    return widget.is_scrollable and (
        styles.overflow_x in ("auto", "scroll") or styles.overflow_y in ("auto", "scroll")
    )


def unreachable(app: App[object]) -> list[str]:
    """Widgets of the screen shown that lie off the screen, or past the edge of a frame that
    cannot scroll them into view, and fields squeezed to nothing."""
    screen = app.screen
    found: list[str] = []
    faulted: set[Widget] = set()  # what is inside a faulted widget is not said again
    for widget in screen.walk_children(with_self=False):
        if (
            not widget.display
            or not widget.visible
            or any(not node.display or node in faulted for node in widget.ancestors)
        ):
            continue
        said = len(found)
        parent = widget.parent
        inside_scroll = any(
            scrolls(node)
            for node in widget.ancestors
            if isinstance(node, Widget) and node is not screen  # a screen is sized to fit
        )
        region = widget.region
        if isinstance(widget, FIELDS) and not inside_scroll and not region:
            found.append(f"{widget!r} has no room")
            continue
        if not region:
            continue  # scrolled out of view (reachable), or an empty line
        over = widget.styles.overlay == "screen"  # drawn over the screen, not in its parent
        if isinstance(widget, SelectOverlay):
            found.extend(misplaced(widget, screen.region))
        elif inside_scroll and not over:
            continue  # its scrolling frame is checked instead
        elif not screen.region.contains_region(region):
            found.append(f"{widget!r} at {region} is off the {screen.region.size} screen")
        elif (
            not over
            and isinstance(parent, Widget)
            and parent is not screen
            and not scrolls(parent)
            and not parent.region.contains_region(region)
        ):
            found.append(f"{widget!r} at {region} is cut by {parent!r} at {parent.region}")
        elif isinstance(widget, DataTable) and not widget.show_horizontal_scrollbar:
            width = widget.scrollable_content_region.width
            if widget.virtual_size.width > width:
                found.append(f"{widget!r}'s columns are cut at {width} and do not scroll")
        if len(found) > said:
            faulted.add(widget)
    return found


def misplaced(overlay: SelectOverlay, screen: Region) -> list[str]:
    """A drop-down list opens within the screen, above its last line (the footer's keys), and
    leaves the choice it belongs to in view."""
    region, chosen = overlay.region, overlay.parent.region  # type: ignore[union-attr]
    above_footer = Region(0, 0, screen.width, screen.height - 1)
    return [
        f"{overlay.parent!r}'s list at {region} {problem}"
        for problem, wrong in (
            ("is not above the footer", not above_footer.contains_region(region)),
            ("hides its choice", region.overlaps(chosen.crop_size((chosen.width, 1)))),
        )
        if wrong
    ]


async def picture(pilot: Pilot[object]) -> str:
    """The screen as an SVG, the same however long the walk took: no toast, no blinking cursor."""
    app = pilot.app
    app.clear_notifications()
    for field in app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()
    return app.export_screenshot(title=app.title, simplify=True)


async def still(pilot: Pilot[object]) -> None:
    """Workers done, their messages handled, and the idle-time work after them (a DataTable
    sizes its columns when the app is next idle after rows arrive)."""
    await settle(pilot)
    await pilot.pause()


def most_traced_lot(services) -> str:
    """The number of the demo lot that went into the most mixtures: the longest recall trace."""
    with unit_of_work(services.engine) as session:
        moves = session.exec(select(MovementRow).where(MovementRow.kind == "dispense")).all()
        lot_id = Counter(move.lot_id for move in moves).most_common(1)[0][0]
        lot = session.get(LotRow, lot_id)
        assert lot is not None
        return lot.lot_number


async def stops(pilot: Pilot[object], traced: str) -> AsyncIterator[str]:
    """Every screen and dialog, one after another; each yielded name is a stop to check."""
    app = pilot.app
    await still(pilot)
    yield "sign-in"
    await pilot.press(*"sam", "tab", *"demo-staff-2026", "enter")
    await still(pilot)
    yield "compose"
    screen = app.screen
    for name in ("#diluent", "#storage", "#patient", "#prescriber"):
        select = screen.query_one(name, Select)
        select.focus()
        await pilot.press("space")
        await still(pilot)
        yield f"compose-{name[1:]}-list"
        await pilot.press("escape")
    screen.query_one("#patient", Select).value = "P-0001"  # a confirmed procaine allergy
    what, amount = screen.query(".ingredient-row").first().query(Input)
    what.value, amount.value = "procaine", "20 mg"
    await still(pilot)
    await pilot.press("f8")
    await still(pilot)
    yield "override"
    app.screen.query_one("#override-reason", Select).focus()
    await pilot.press("space")
    await still(pilot)
    yield "override-reason-list"
    await pilot.press("escape", "escape")
    await still(pilot)
    screen.query_one("#patient", Select).value = "P-0020"  # benzyl alcohol: two warnings
    what.value, amount.value = "lidocaine", "20 mg"
    screen.query_one("#final-volume", Input).value = "5 mL"
    screen.query_one("#diluent", Select).value = BACTERIOSTATIC
    await still(pilot)
    await pilot.press("f9")
    await still(pilot)
    yield "acknowledge"
    await pilot.press("enter", "enter", "enter")
    await still(pilot)
    yield "label"
    await pilot.press("escape", "f1")
    await still(pilot)
    yield "help"
    await pilot.press("escape", "f3")
    await still(pilot)
    yield "patients"
    await pilot.press("a")
    await still(pilot)
    yield "allergy-form"
    for select in app.screen.query(Select):
        select.focus()
        await pilot.press("space")
        await still(pilot)
        yield f"allergy-form-{select.id}-list"
        await pilot.press("escape")
    await pilot.press("escape")
    await still(pilot)
    patients = app.screen.query_one("#patient-list", DataTable)
    patients.move_cursor(row=patients.get_row_index("P-0004"))  # one with mixtures
    await still(pilot)
    await pilot.press("r")
    await still(pilot)
    yield "reaction-form"
    app.screen.query_one("#form-kind", Select).focus()
    await pilot.press("space")
    await still(pilot)
    yield "reaction-form-kind-list"
    await pilot.press("escape", "escape", "f4")
    await still(pilot)
    yield "formulas"
    await pilot.press("f12", "w")
    await still(pilot)
    yield "sessions"
    await pilot.press("f11")
    await still(pilot)
    app.screen.query_one("#courses-patient", Select).value = "P-0006"  # a course to consent
    await still(pilot)
    yield "courses"
    await pilot.press("b")
    await still(pilot)
    yield "book-form"
    await pilot.press("escape", "f5")
    await still(pilot)
    yield "inventory"
    await pilot.press("r")
    await still(pilot)
    yield "receive-form"
    await pilot.press("escape", "ctrl+l")
    await still(pilot)
    yield "lock"
    await pilot.press("ctrl+o")  # someone else: the locked person is signed out
    await still(pilot)
    await pilot.press(*"nadia", "tab", *"demo-manager-2026", "enter")
    await still(pilot)
    yield "inventory-manager"
    await pilot.press("w")
    await still(pilot)
    yield "waste-form"
    app.screen.query_one("#form-reason", Select).focus()
    await pilot.press("space")
    await still(pilot)
    yield "waste-form-reason-list"
    await pilot.press("escape", "escape")
    await still(pilot)
    app.screen.query_one("#lot-find", Input).value = traced
    await still(pilot)
    app.screen.query_one("#lot-list", DataTable).focus()
    await pilot.press("t")
    await still(pilot)
    yield "recall-trace"
    await pilot.press("escape", "g")
    await still(pilot)
    yield "signals"
    await pilot.press("escape", "f6")
    await still(pilot)
    yield "reports"
    app.screen.query_one("#report-name", Select).focus()
    await pilot.press("space")
    await still(pilot)
    yield "reports-list"
    await pilot.press("escape")
    app.screen.query_one("#report-name", Select).value = "forecast"
    await still(pilot)
    yield "reports-forecast"
    await pilot.press("ctrl+o")
    await still(pilot)
    await pilot.press(*"drchen", "tab", *"demo-practitioner-2026", "enter")
    await still(pilot)
    await pilot.press("f11")
    await still(pilot)
    app.screen.query_one("#courses-patient", Select).value = "P-0006"
    await still(pilot)
    await pilot.press("n")
    await still(pilot)
    yield "course-form"
    await pilot.press("escape", "s")
    await still(pilot)
    yield "consent"
    await pilot.press("escape", "ctrl+o")
    await still(pilot)
    await pilot.press(*"admin", "tab", *"demo-admin-2026", "enter")
    await still(pilot)
    yield "accounts"
    await pilot.press("n")
    await still(pilot)
    yield "account-form"
    for select in app.screen.query(Select):
        select.focus()
        await pilot.press("space")
        await still(pilot)
        yield f"account-form-{select.id}-list"
        await pilot.press("escape")


@pytest.mark.parametrize("size", SIZES, ids=lambda size: "{}x{}".format(*size))
async def test_every_screen_and_dialog_fits(demo, size, snapshot):
    pictures = snapshot.use_extension(SVGImageExtension)
    app = make_app(demo)
    problems: dict[str, list[str]] = {}
    async with app.run_test(size=size) as pilot:
        async for stop in stops(pilot, most_traced_lot(demo)):
            found = unreachable(app)
            shown = screen_text(app) if stop in SHOWN else ""
            found += [f"{word!r} not shown" for word in SHOWN.get(stop, ()) if word not in shown]
            if stop in PICTURED and pictures(name=stop) != await picture(pilot):
                found.append("not as in its snapshot (--snapshot-update after a change meant)")
            if found:
                problems[stop] = found
    assert not problems, "\n".join(
        f"{stop}: {said}" for stop, faults in problems.items() for said in faults
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda size: "{}x{}".format(*size))
async def test_a_new_databases_first_admin_screen_fits(services, size):
    app = make_app(services)
    async with app.run_test(size=size) as pilot:
        await still(pilot)
        assert type(app.screen).__name__ == "FirstAdminScreen"
        assert not unreachable(app), unreachable(app)


async def test_compose_widens_its_ingredients_and_keeps_the_diluent_as_the_terminal_is_resized(
    demo,
):
    """One Compose, its terminal resized under it: the names' column grows with the width
    (28 columns at 80), and the diluent keeps a field wide enough to read at every size."""
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    widths: dict[tuple[int, int], tuple[int, int]] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        await still(pilot)
        for size in [(120, 40), (160, 48), (60, 20), (80, 24)]:
            await pilot.resize_terminal(*size)
            await still(pilot)
            assert not unreachable(app), (size, unreachable(app))
            screen = app.screen
            widths[size] = (
                screen.query_one("#ingredients").region.width,
                screen.query_one("#diluent").region.width,
            )
    assert widths[(80, 24)][0] == 28  # as before sizes were looked at: the 80×24 pictures hold
    assert widths[(60, 20)][0] < widths[(80, 24)][0] < widths[(120, 40)][0] < widths[(160, 48)][0]
    assert min(diluent for _, diluent in widths.values()) >= len("q.s. default") + 2


async def test_plan_and_findings_rewrap_when_their_scrollbar_comes(demo):
    """At 60×20 a long plan and its findings need a scrollbar: their words are wrapped again to
    the narrower width, never cut under the bar (a product's name lost its last letters)."""
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=(60, 20)) as pilot:
        await still(pilot)
        rows = list(app.screen.query(".ingredient-row"))[:2]  # three rows from the start
        for row, (what, amount) in zip(
            rows, [("kybella", "20 mg"), ("lidocaine", "10 mg")], strict=True
        ):
            name, quantity = row.query(Input)
            name.value, quantity.value = what, amount
        await still(pilot)
        views = [app.screen.query_one(PlanView), app.screen.query_one(FindingsView)]
        assert any(view.show_vertical_scrollbar for view in views)
        for view in views:
            width = view.scrollable_content_region.width
            assert all(len(line) <= width for line in view.text()), (width, view.text())
        words = " ".join(" ".join(views[0].text()).split())
        assert "Kybella (deoxycholic acid) injection" in words
