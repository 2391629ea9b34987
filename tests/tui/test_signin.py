"""Starting the app (sign-in before the program is built), signing in, lockout after five
failures, and the idle lock (injected clock)."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import timedelta

from textual.app import App
from textual.widgets import Input, Static

from mesomix.bootstrap import Services, Settings, build, build_services
from mesomix.cli.output import explain
from mesomix.services.audit import show
from mesomix.services.demo import load_demo
from mesomix.tui.app import MesomixApp, make_app, starting_app
from mesomix.tui.screens.compose import ComposeScreen
from mesomix.tui.screens.patients import PatientsScreen
from mesomix.tui.screens.signin import FirstAdminScreen, LockScreen, SignInScreen
from tests.tui.pilot import Toasts, screen_text, settle

SIZE = (100, 34)


def staff_app(services: Services) -> MesomixApp:
    """The app on the demo database with Sam (staff) signed in."""
    return make_app(services, services.accounts.sign_in("sam", "demo-staff-2026"))


async def sign_in(pilot, name: str, password: str) -> None:
    screen = pilot.app.screen
    screen.query_one("#signin-name", Input).value = name
    screen.query_one("#signin-password", Input).value = password
    await pilot.click("#signin-go")
    await settle(pilot)


async def test_staff_signs_in_and_lands_in_compose(demo):
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)
        await sign_in(pilot, "sam", "wrong password here")
        assert "wrong user name or password" in str(
            app.screen.query_one("#signin-problem", Static).render()
        )
        await sign_in(pilot, "sam", "demo-staff-2026")
        assert isinstance(app.screen, ComposeScreen)
        assert "Sam Ortega" in str(app.screen.query_one("#made-by").render())


async def test_five_failures_lock_the_account(demo):
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for _ in range(5):
            await sign_in(pilot, "sam", "not my password")
        await sign_in(pilot, "sam", "demo-staff-2026")
        assert isinstance(app.screen, SignInScreen)
        assert "is locked until" in str(app.screen.query_one("#signin-problem", Static).render())


async def test_an_idle_session_locks_and_the_password_opens_it(demo):
    user = demo.accounts.sign_in("sam", "demo-staff-2026")
    app = make_app(demo, user, idle=timedelta(minutes=5))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        demo.clock.advance(timedelta(minutes=6))
        app.lock_if_idle()
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        field = app.screen.query_one("#lock-password", Input)
        field.value = "demo-staff-2026"
        await field.action_submit()
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)


async def test_the_sign_in_screen_comes_before_the_program_is_built(demo):
    """The first frame does not wait for the database: the program is built behind it."""
    release = threading.Event()

    def build() -> Services:
        release.wait(timeout=30)
        return demo

    app = starting_app(demo.settings, build)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen)
        status = app.screen.query_one("#signin-status", Static)
        assert "opening the database" in str(status.render())
        app.screen.query_one("#signin-name", Input).value = "sam"
        app.screen.query_one("#signin-password", Input).value = "demo-staff-2026"
        await pilot.click("#signin-go")
        await pilot.pause()
        assert "as soon as it is open" in str(status.render())
        assert isinstance(app.screen, SignInScreen)  # still waiting for the program
        release.set()
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
    assert app.start_error is None


async def test_a_database_that_cannot_be_opened_ends_the_app_with_the_reason(tmp_path):
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(b"this is not a database" * 100)
    settings = Settings(database_url=f"sqlite:///{damaged}")
    app = starting_app(settings, lambda: build_services(settings))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
    assert app.return_code == 2
    problem = explain(app.start_error)
    assert problem is not None and str(damaged) in problem and "restore" in problem


async def test_enter_in_the_name_goes_to_the_password_then_signs_in(demo):
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(*"sam", "enter")
        assert app.focused is app.screen.query_one("#signin-password", Input)
        assert str(app.screen.query_one("#signin-problem", Static).render()) == ""
        await pilot.press(*"demo-staff-2026", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)


async def test_a_new_database_asks_for_its_first_admin_field_by_field(services):
    app = starting_app(services.settings, lambda: services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FirstAdminScreen)
        for text in ("root", "Clinic Admin", "a long admin passphrase", "a long admin passphrase"):
            await pilot.press(*text, "enter")  # Enter goes on, and creates from the last field
        await settle(pilot)
        assert not isinstance(app.screen, FirstAdminScreen)
    assert services.accounts.sign_in("root", "a long admin passphrase").role == "admin"


async def test_a_read_only_database_says_so_in_the_header(db_url, clock):
    ready = build(Settings(database_url=db_url, clock=clock))
    load_demo(ready)
    ready.close()
    settings = Settings(database_url=db_url, clock=clock, read_only=True)
    app = starting_app(settings, lambda: build(settings))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.sub_title.startswith("READ-ONLY (")
        await sign_in(pilot, "nadia", "demo-manager-2026")
        assert app.screen.sub_title in (None, "", app.sub_title)
    app.services.close()


async def test_a_terminal_of_a_chain_says_which_site_it_works_at(db_url, clock):
    """At one site of several the header names it (read-only said beside it); a clinic of
    one site is not told where it is."""
    ready = build(Settings(database_url=db_url, clock=clock))
    load_demo(ready)
    ready.sites.add("admin", "north", "North clinic")
    ready.sites.assign("admin", "sam", add=["north"])
    ready.close()
    settings = Settings(database_url=db_url, clock=clock, site="north", read_only=True)
    app = starting_app(settings, lambda: build(settings))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.sub_title.startswith("North clinic (north) · READ-ONLY (")
        await sign_in(pilot, "sam", "demo-staff-2026")
        assert "North clinic (north)" in screen_text(app)
    app.services.close()


def test_opening_the_app_loads_nothing_heavy_before_its_first_frame():
    """What `mesomix` imports to draw the sign-in screen: no database, pint or pandas."""
    code = (
        "import sys, mesomix.__main__, mesomix.tui.app; "
        "print(sorted(m for m in ('sqlalchemy', 'sqlmodel', 'pint', 'pandas', 'alembic', "
        "'mesomix.bootstrap', 'mesomix.cli') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


async def test_a_locked_screen_hides_the_work_and_opens_nothing_over_it(demo):
    app = staff_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        what = app.screen.query(".what").first(Input)
        what.value = "lidocaine"
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        assert "Locked — Sam Ortega" in screen_text(app)
        assert "lidocaine" not in screen_text(app)  # the draft behind is not readable
        for key in ("ctrl+p", "f1", "f3", "ctrl+o"):
            if key == "ctrl+o":
                break  # signing out is the lock screen's own key: the next test
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, LockScreen), key
        await pilot.press(*"demo-staff-2026", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        assert app.screen.query(".what").first(Input).value == "lidocaine"  # nothing lost


async def test_someone_else_signs_out_the_idle_session_and_signs_in_as_themselves(demo):
    user = demo.accounts.sign_in("sam", "demo-staff-2026")
    app = make_app(demo, user, idle=timedelta(minutes=5))
    toasts = Toasts()
    async with app.run_test(size=SIZE, message_hook=toasts) as pilot:
        await settle(pilot)
        app.screen.query(".what").first(Input).value = "biotin"
        demo.clock.advance(timedelta(minutes=6))
        app.lock_if_idle()
        await pilot.pause()
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)
        assert app.user is None
        said = toasts.said  # the toast: plain text, no markup
        assert "Sam Ortega signed out." in said and all(isinstance(m, str) for m in said)
        assert app.screen.query_one("#signin-name", Input).value == ""
        await pilot.press("f2")  # nothing opens before someone signs in
        assert isinstance(app.screen, SignInScreen)

        await sign_in(pilot, "drchen", "demo-practitioner-2026")
        assert isinstance(app.screen, ComposeScreen)
        assert "Dr Mei Chen" in str(app.screen.query_one("#made-by").render())
        assert app.screen.query(".what").first(Input).value == ""  # Sam's draft is gone

        await pilot.press("ctrl+o")  # and signing out without the lock
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)
        await sign_in(pilot, "sam", "demo-staff-2026")
        assert isinstance(app.screen, ComposeScreen)

    trail = [(line.user_name, line.action, line.reason) for line in show(demo.engine)]
    assert ("sam", "sign_out", "signed out at the lock") in trail
    assert ("drchen", "sign_out", "signed out") in trail


def test_the_app_does_not_shadow_textuals_own_methods():
    """An override of a Textual method by accident breaks Textual quietly: naming our idle
    lock `check_idle` stopped the repaint after every screen switch. Every name the app shares
    with Textual's App must be one we mean to override."""
    meant = {
        "__init__", "on_mount", "on_event", "check_action", "action_command_palette",
        "action_help", "action_quit", "get_system_commands",
    }  # fmt: skip
    shared = {
        name for name, value in vars(MesomixApp).items() if callable(value) and hasattr(App, name)
    }
    assert shared <= meant, shared - meant


async def test_ctrl_l_locks_over_a_dialog_and_the_palette(demo):
    app = staff_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for opening in ("f1", "ctrl+p"):
            await pilot.press(opening)
            await settle(pilot)
            assert not isinstance(app.screen, (ComposeScreen, LockScreen)), opening
            await pilot.press("ctrl+l")
            await settle(pilot)
            assert isinstance(app.screen, LockScreen), opening
            await pilot.press(*"demo-staff-2026", "enter")
            await settle(pilot)
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, ComposeScreen)


async def test_signing_out_or_quitting_with_a_typed_mixture_asks_once_more(demo):
    app = staff_app(demo)
    toasts = Toasts()
    async with app.run_test(size=SIZE, message_hook=toasts) as pilot:
        await settle(pilot)
        what = app.screen.query(".what").first(Input)
        what.focus()
        await pilot.press(*"biotin")
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen) and app.user is not None
        assert any("press Ctrl+O again to sign out and drop it" in m for m in toasts.said)
        await pilot.press("ctrl+q")  # another key: asked on its own
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, ComposeScreen)
        await pilot.press("ctrl+o")  # Ctrl+O again, but not straight after the first
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen) and app.user is None


async def test_the_palette_names_actions_in_full_and_offers_no_screenshot(demo):
    app = staff_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        offered = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert offered["Override: a practitioner signs off an allergy or dose block"] == (
            "F8 on this screen"
        )
        assert "Lock" in offered and "Sign out" in offered and "Go to patients" in offered
        assert "Screenshot" not in offered  # an SVG of patients' data left in a folder
        assert not any(title.startswith("Save this mixture") for title in offered)  # staff
        # the other screens' actions, by name, as far as the role may do them
        assert offered["Formulas: Start for a patient"] == "S on the Formulas screen (F4)"
        assert "Patients: Add an allergy" not in offered  # a practitioner's


async def test_the_palette_does_another_screens_action_there(demo):
    app = make_app(demo, demo.accounts.sign_in("drchen", "demo-practitioner-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        offered = {c.title: c for c in app.get_system_commands(app.screen)}
        await offered["Patients: Add an allergy"].callback()
        await settle(pilot)
        # there, as the key would: a patient is chosen first, never the first one listed
        assert isinstance(app.screen, PatientsScreen)
        assert "Choose a patient first." in screen_text(app)


async def test_the_lock_screen_says_the_account_is_locked_not_wrong_at_80x24(demo):
    """Five wrong passwords at the idle lock lock the account; then the right one is answered
    with the lock, until when and who can unlock it — not "wrong password"."""
    from sqlmodel import select

    from mesomix.db.tables import UserRow
    from mesomix.services.uow import unit_of_work

    app = staff_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        problem = app.screen.query_one("#lock-problem", Static)
        await pilot.press(*"not my password", "enter")
        await settle(pilot)
        assert str(problem.render()) == (
            "wrong password for sam: 4 more and the account locks for 15 minutes"
        )
        for _ in range(4):
            await pilot.press(*"not my password", "enter")
            await settle(pilot)
        await pilot.press(*"demo-staff-2026", "enter")
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)  # the right password does not open it now
        assert str(problem.render()) == (
            "the account 'sam' is locked until 09:15 after repeated wrong passwords: "
            "wait until then, or ask an admin to unlock it"
        )
        shown = " ".join(screen_text(app).replace("█", " ").split())  # the box's sides apart
        assert "locked until 09:15" in shown and "ask an admin to unlock it" in shown
    with unit_of_work(demo.engine) as session:
        sam = session.exec(select(UserRow).where(UserRow.name == "sam")).one()
    assert sam.failed_attempts == 5 and sam.locked_until == demo.clock.now() + timedelta(minutes=15)
    trail = [line.action for line in reversed(show(demo.engine, user="sam", limit=7))]
    assert trail == [*["sign_in.failed"] * 5, "account.locked", "sign_in.refused"]
