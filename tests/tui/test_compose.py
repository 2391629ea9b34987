"""The Compose screen driven by the Pilot on a real demo database: the person's journey, then the
database checked afterwards, not only the screen."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from textual.widgets import Button, Input, OptionList, Select, Static

from mesomix.services.mixtures import Signature
from mesomix.tui.app import make_app
from mesomix.tui.screens.acknowledge import AcknowledgeScreen
from mesomix.tui.screens.compose import ComposeScreen, FindingsView, LabelScreen, PlanView
from tests.factories import assert_ledger_exact, counts
from tests.tui.pilot import screen_text, settle

SIZE = (100, 34)


async def choose_patient(pilot, ref: str) -> None:
    select = pilot.app.screen.query_one("#patient", Select)
    select.focus()
    await pilot.press("enter")
    options = [value for _, value in select._options if isinstance(value, str)]
    await pilot.press(*["down"] * (options.index(ref) + 1), "enter")
    assert select.value == ref


async def type_into(pilot, widget: Input, text: str) -> None:
    widget.focus()
    await pilot.press(*text)


async def compose(pilot, *ingredients: tuple[str, str], final: str = "") -> None:
    screen = pilot.app.screen
    rows = list(screen.query(".ingredient-row"))
    for row, (what, amount) in zip(rows, ingredients, strict=False):
        what_input, amount_input = row.query(Input)
        await type_into(pilot, what_input, what)
        await type_into(pilot, amount_input, amount)
    if final:
        await type_into(pilot, screen.query_one("#final-volume", Input), final)
    await settle(pilot)


def findings(screen) -> list[str]:
    return screen.query_one(FindingsView).texts


async def test_staff_composes_sees_the_plan_and_dispenses(demo):
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        await choose_patient(pilot, "P-0003")
        await compose(pilot, ("lidocaine", "20 mg"), ("tranexamic acid", "50 mg"), final="5 mL")

        draw, product, delivers = app.screen.query_one(PlanView).rows[0]
        assert draw == "2 mL" and "Lidocaine" in product and delivers.startswith("→ 20 mg")
        assert not any(text.startswith("BLOCK") for text in findings(app.screen))
        assert not app.screen.query_one("#dispense", Button).disabled

        before = counts(demo)
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, LabelScreen)
        label = str(app.screen.query_one("#label-text", Static).render())
        assert "Jean-Luc Moreau (P-0003)" in label and "Tranexamic acid 50 mg" in label
        await pilot.press("escape")
        await settle(pilot)
        status = app.screen.query_one("#status", Static)
        assert str(status.render()).startswith("Dispensed batch")
        # The next mixture starts with choosing its patient: none is left selected.
        patient = app.screen.query_one("#patient", Select)
        assert app.focused is patient and patient.is_blank()
        assert app.screen.query_one("#purpose", Select).is_blank()
        assert "Choose a patient" in str(app.screen.query_one("#patient-info", Static).render())
        app.screen.query(".what").first(Input).focus()
        await pilot.press("b")
        assert str(status.render()) == ""  # not left standing over the next mixture

    after = counts(demo)
    assert after["batches"] == before["batches"] + 1
    assert after["on_hand"] < before["on_hand"]
    assert_ledger_exact(demo)


async def test_a_typed_unit_error_blocks_live_and_dispense_writes_nothing(demo):
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose_patient(pilot, "P-0003")
        await compose(pilot, ("lidocaine", "20 Mg"))
        shown = findings(app.screen)
        assert any(text.startswith("BLOCK:") and "megagrams" in text for text in shown)
        assert app.screen.query_one("#dispense", Button).disabled
        before = counts(demo)
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        assert "not dispensed" in str(app.screen.query_one("#status", Static).render())
    assert counts(demo) == before


async def test_names_are_shown_as_typed_not_as_markup(demo):
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        select = app.screen.query_one("#patient", Select)
        marked = next(value for label, value in select._options if "Markup" in str(label))
        select.value = marked
        await settle(pilot)
        info = str(app.screen.query_one("#patient-info", Static).render())
        assert "[bold]Test[/] Markup" in info


async def test_adding_and_removing_ingredient_rows(demo):
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        rows = len(app.screen.query(".ingredient-row"))
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert len(app.screen.query(".ingredient-row")) == rows + 1
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert len(app.screen.query(".ingredient-row")) == rows


async def test_a_new_database_asks_for_its_first_admin_then_signs_in(services):
    from mesomix.tui.screens.signin import FirstAdminScreen, SignInScreen

    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FirstAdminScreen)
        for field, text in (
            ("#admin-name", "ines"),
            ("#admin-display", "Inès Admin"),
            ("#admin-password", "a long admin password"),
            ("#admin-again", "a long admin password"),
        ):
            await type_into(pilot, app.screen.query_one(field, Input), text)
        await pilot.click("#admin-go")
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)
    assert services.accounts.has_users()


async def test_a_failing_service_is_reported_not_a_crash(demo, monkeypatch):
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))

    def broken(_draft, _user):
        raise RuntimeError("disk I/O error")

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        monkeypatch.setattr(demo.mixtures, "check", broken)
        await compose(pilot, ("lidocaine", "20 mg"))
        assert app.is_running
        assert "could not check the mixture: disk I/O error" in str(
            app.screen.query_one("#status", Static).render()
        )


async def test_practitioner_signs_an_override_then_staff_dispenses(demo):
    from sqlmodel import select

    from mesomix.db.tables import OverrideRow
    from mesomix.services.uow import unit_of_work
    from mesomix.tui.screens.override import OverrideScreen, SignOff

    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose_patient(pilot, "P-0001")  # confirmed, high-criticality procaine allergy
        await compose(pilot, ("procaine", "20 mg"))
        assert any(t.startswith("BLOCK:") and "F8" in t for t in findings(app.screen))
        assert app.screen.query_one("#dispense", Button).disabled

        await pilot.press("f8")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, OverrideScreen)
        (sign_off,) = dialog.query(SignOff)
        assert app.focused is sign_off  # the first Tab stop is the finding, not its frame
        shown = " ".join(screen_text(app).split())
        assert "[ ] leave" in shown and not sign_off.chosen  # signed off by choice only
        assert sign_off.finding.message.split()[-1] in shown  # the whole finding, not one line
        await pilot.press("space")
        assert sign_off.chosen and "[x] sign off" in screen_text(app)
        await pilot.press("enter")  # Enter goes on; it does not untick
        assert sign_off.chosen and app.focused is dialog.query_one("#override-practitioner")
        dialog.query_one("#override-practitioner", Select).value = "drchen"
        password = dialog.query_one("#override-password", Input)
        await type_into(pilot, password, "not her password")
        await pilot.press("enter")  # Enter in the password goes on to the reason
        assert app.focused is dialog.query_one("#override-reason")
        dialog.query_one("#override-reason", Select).value = "tolerated_before"
        await type_into(
            pilot, dialog.query_one("#override-why", Input), "procaine given 2025, no reaction"
        )
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is dialog  # checked at Sign, while the practitioner is there
        problem = str(dialog.query_one("#override-problem", Static).render())
        assert problem.startswith("wrong password for drchen") and app.focused is password
        password.value = ""
        await type_into(pilot, password, "demo-practitioner-2026")
        await pilot.press("enter")  # the rest is given: Enter in the password signs
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        assert any("SIGNED OFF" in t for t in findings(app.screen))
        assert not app.screen.query_one("#dispense", Button).disabled

        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, LabelScreen)

    with unit_of_work(demo.engine) as session:
        (override,) = session.exec(select(OverrideRow)).all()
    assert (
        override.reason_code == "tolerated_before"
        and override.finding_code == "allergy.direct_match"
    )


async def test_changing_the_mixture_drops_the_signatures(demo):
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose_patient(pilot, "P-0001")
        await compose(pilot, ("procaine", "20 mg"))
        screen = app.screen
        screen._signed([Signature("k", "drchen", "pw", "tolerated_before", "why")])
        amount = screen.query(".amount").first(Input)
        await type_into(pilot, amount, "0")
        await settle(pilot)
        assert screen._signatures == []
        assert "no longer hold" in str(screen.query_one("#status", Static).render())


async def test_a_misspelt_ingredient_is_offered_its_right_name(demo):
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose_patient(pilot, "P-0003")
        await compose(pilot, ("dexpantenol", "100 mg"), final="4 mL")
        assert any("not a substance or product" in f for f in findings(app.screen))
        hint = str(app.screen.query_one("#ingredient-hint", Static).render())
        picks = app.screen.query_one("#picks", OptionList)
        first = str(picks.get_option_at_index(0).prompt)
        assert "did you mean" in hint and "anthenol" in first.lower()
        app.screen.query(".ingredient-row").first().query(Input).first().focus()
        await pilot.press("ctrl+space")
        await settle(pilot)
        what = app.screen.query(".ingredient-row").first().query(Input).first().value
        assert "panthenol" in what.lower()
        assert not any("not a substance or product" in f for f in findings(app.screen))


async def test_the_purpose_and_immediate_use_chosen_in_compose_go_into_the_batch(demo):
    from sqlmodel import select

    from mesomix.db.tables import BatchRow
    from mesomix.services.uow import unit_of_work

    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose_patient(pilot, "P-0003")
        app.screen.query_one("#purpose", Select).value = "pain"
        app.screen.query_one("#storage", Select).value = "immediate"
        await compose(pilot, ("lidocaine", "20 mg"), final="5 mL")
        assert any("immediate use" in text and "4 h" in text for text in findings(app.screen))
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, LabelScreen)

    with unit_of_work(demo.engine) as session:
        batch = session.exec(select(BatchRow).order_by(BatchRow.id.desc())).first()
    assert batch.patient_id is not None and batch.purpose == "pain"
    assert batch.beyond_use_at - batch.created_at == timedelta(hours=4)
    assert "immediate use" in batch.beyond_use_rule


async def test_a_mixture_started_from_a_formula_is_saved_again_under_its_name(demo):
    from mesomix.tui.widgets.form import FormScreen

    (hair,) = [f for f in demo.formulas.formulas("drchen") if "hair" in f.name.lower()]
    app = make_app(demo, demo.accounts.sign_in("drchen", "demo-practitioner-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.load(demo.formulas.start("drchen", hair.code, "P-0003"))
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        assert form.query_one("#form-name", Input).value == hair.name  # a typo made another
        assert form.query_one("#form-purpose", Select).value == hair.purpose
        form.query_one("#form-note", Input).value = "same, checked"
        await pilot.click("#form-go")
        await settle(pilot)
        said = str(form.query_one("#form-problems", Static).render())
        assert "already: no new version was saved" in said  # the same recipe is not saved twice
        app.screen.dismiss(None)
        await settle(pilot)
        amount = app.screen.query(".amount").first(Input)
        amount.value = "300 mg" if amount.value != "300 mg" else "200 mg"
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)
        app.screen.query_one("#form-note", Input).value = "a changed amount"
        await pilot.click("#form-go")
        await settle(pilot)
    assert [f.latest_version for f in demo.formulas.formulas("drchen") if f.code == hair.code] == [
        hair.latest_version + 1
    ]


async def test_each_block_may_be_signed_off_with_its_own_reason(demo):
    from sqlmodel import select

    from mesomix.db.tables import OverrideRow
    from mesomix.services.uow import unit_of_work
    from mesomix.tui.screens.override import OverrideScreen, SignOff

    async def sign(pilot, reason: str, why: str) -> None:
        await pilot.press("f8")
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, OverrideScreen)
        first, *_ = dialog.query(SignOff)
        first.chosen = True  # the first block left: one at a time
        dialog.query_one("#override-practitioner", Select).value = "drchen"
        dialog.query_one("#override-password", Input).value = "demo-practitioner-2026"
        dialog.query_one("#override-reason", Select).value = reason
        dialog.query_one("#override-why", Input).value = why
        await pilot.click("#override-sign")
        await settle(pilot)

    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose_patient(pilot, "P-0001")  # procaine allergy, confirmed and high
        await compose(pilot, ("procaine", "20 mg"), ("lidocaine", "600 mg"), final="35 mL")
        blocks = [t for t in findings(app.screen) if t.startswith("BLOCK:") and "F8" in t]
        assert len(blocks) == 2, findings(app.screen)
        await sign(pilot, "tolerated_before", "procaine given 2025, no reaction")
        status = str(app.screen.query_one("#status", Static).render())
        assert "1 block(s) still to sign off (F8)" in status
        assert app.screen.query_one("#dispense", Button).disabled
        await sign(pilot, "dose_clinically_justified", "large area, divided over two sessions")
        assert "F9 dispenses" in str(app.screen.query_one("#status", Static).render())
        await pilot.press("f9")
        await settle(pilot)
        # The methylparaben of the lidocaine vial (a paraben-procaine cross-reaction) warns:
        # read and acknowledged (Enter on it, then on the button) before dispensing.
        assert isinstance(app.screen, AcknowledgeScreen)
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, LabelScreen)
    with unit_of_work(demo.engine) as session:
        reasons = {
            (o.finding_code.split(".")[0], o.reason_code) for o in session.exec(select(OverrideRow))
        }
    assert reasons == {("allergy", "tolerated_before"), ("dose", "dose_clinically_justified")}


async def test_the_override_dialog_says_a_locked_practitioner_is_locked_at_80x24(demo):
    """Her right password in the dialog, while her account is locked: the dialog says locked,
    until when and who unlocks it (not "wrong password"), counts nothing, and the trail says who
    tried to sign for whose mixture."""
    from sqlmodel import select

    from mesomix.db.tables import UserRow
    from mesomix.services.accounts import SignInRefused
    from mesomix.services.audit import show
    from mesomix.services.uow import unit_of_work
    from mesomix.tui.screens.override import OverrideScreen

    for _ in range(5):
        with pytest.raises(SignInRefused):
            demo.accounts.sign_in("drchen", "someone guessing")
    before = counts(demo)
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await choose_patient(pilot, "P-0001")
        await compose(pilot, ("procaine", "20 mg"))
        await pilot.press("f8")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, OverrideScreen)
        await pilot.press("space")
        dialog.query_one("#override-practitioner", Select).value = "drchen"
        await type_into(
            pilot, dialog.query_one("#override-password", Input), "demo-practitioner-2026"
        )
        dialog.query_one("#override-reason", Select).value = "tolerated_before"
        await type_into(
            pilot, dialog.query_one("#override-why", Input), "procaine 2025, no reaction"
        )
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is dialog  # not signed
        said = str(dialog.query_one("#override-problem", Static).render())
        assert said == (
            "the account 'drchen' is locked until 09:15 after repeated wrong passwords: "
            "wait until then, or ask an admin to unlock it"
        )
        shown = " ".join(screen_text(app).replace("█", " ").split())  # the box's sides apart
        assert "locked until 09:15" in shown and "ask an admin to unlock it" in shown
    with unit_of_work(demo.engine) as session:
        drchen = session.exec(select(UserRow).where(UserRow.name == "drchen")).one()
    assert counts(demo) == before  # nothing dispensed
    assert drchen.failed_attempts == 5 and drchen.locked_until is not None
    last = show(demo.engine, limit=1)[0]
    assert (last.action, last.user_name, last.reason) == (
        "signature.refused",
        "drchen",
        "account locked",
    )
    assert last.new is not None
    assert (last.new["checked"], last.new["dispensing"], last.new["patient"]) == (
        "override dialog",
        "sam",
        "P-0001",
    )


async def test_a_check_returning_while_the_app_closes_draws_nothing(demo, monkeypatch):
    """CI once failed at the end of the journey above: the key typed last started a check, and
    its thread returned while the app was closing — the screen's widgets already removed, its
    workers not yet cancelled — so drawing the plan found no dispense button. A check that
    returns to a screen being taken down draws nothing."""
    closing: list[ComposeScreen] = []
    check = demo.mixtures.check

    def check_until_the_widgets_are_gone(draft, user):
        plan = check(draft, user)
        if closing:  # the app is closing: return once the screen's widgets are removed
            screen = closing[0]
            deadline = time.monotonic() + 5
            while (screen.is_running or screen.children) and time.monotonic() < deadline:
                time.sleep(0.001)
        return plan

    monkeypatch.setattr(demo.mixtures, "check", check_until_the_widgets_are_gone)
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    # Textual cancels a screen's workers at its unmount, after its widgets are gone; held back
    # here, the window a loaded machine opens by chance is open every time.
    monkeypatch.setattr(app.workers, "cancel_node", lambda node: None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose_patient(pilot, "P-0003")
        await compose(pilot, ("lidocaine", "20 mg"))
        closing.append(app.screen)
        app.screen.query(".what").first(Input).focus()
        await pilot.press("b")
        await pilot.pause(0.3)  # the check is due and in its thread when the app closes
    # Leaving the block closed the app; a worker's failure there is raised by run_test.
