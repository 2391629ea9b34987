"""Signing in at the terminal, lockout after five failures, and the idle lock (injected clock)."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Input, Static

from mesomix.services.demo import load_demo
from mesomix.tui.app import make_app
from mesomix.tui.screens.compose import ComposeScreen
from mesomix.tui.screens.signin import LockScreen, SignInScreen
from tests.tui.pilot import settle

SIZE = (100, 34)


async def sign_in(pilot, name: str, password: str) -> None:
    screen = pilot.app.screen
    screen.query_one("#signin-name", Input).value = name
    screen.query_one("#signin-password", Input).value = password
    await pilot.click("#signin-go")
    await settle(pilot)


async def test_staff_signs_in_and_lands_in_compose(services):
    load_demo(services)
    app = make_app(services)
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


async def test_five_failures_lock_the_account(services):
    load_demo(services)
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for _ in range(5):
            await sign_in(pilot, "sam", "not my password")
        await sign_in(pilot, "sam", "demo-staff-2026")
        assert isinstance(app.screen, SignInScreen)
        assert "is locked until" in str(app.screen.query_one("#signin-problem", Static).render())


async def test_an_idle_session_locks_and_the_password_opens_it(services):
    load_demo(services)
    user = services.accounts.sign_in("sam", "demo-staff-2026")
    app = make_app(services, user, idle=timedelta(minutes=5))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        services.clock.advance(timedelta(minutes=6))
        app.check_idle()
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        field = app.screen.query_one("#lock-password", Input)
        field.value = "demo-staff-2026"
        await field.action_submit()
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
