"""Compose at 80×24, by keyboard: F9 on a mixture with warnings opens a dialog showing each
whole, one key per warning, and nothing is dispensed until each is read; the batch keeps who
read what. A dose limit per session shows what the patient received earlier today."""

from __future__ import annotations

from sqlmodel import select
from textual.widgets import Button, Select, Static

from mesomix.db.tables import AcknowledgementRow, BatchRow
from mesomix.domain.findings import Severity
from mesomix.domain.mixture import DraftIngredient, DraftMixture
from mesomix.services.mixtures import Signature
from mesomix.services.uow import unit_of_work
from mesomix.tui.app import make_app
from mesomix.tui.screens.acknowledge import AcknowledgeScreen, ReadIt
from mesomix.tui.screens.compose import ComposeScreen, LabelScreen
from tests.factories import counts
from tests.tui.pilot import screen_text, settle
from tests.tui.test_compose import choose_patient, compose, findings

SIZE = (80, 24)
BACTERIOSTATIC = "bacteriostatic_water_30ml_mdv"


async def choose_diluent(pilot, code: str) -> None:
    select = pilot.app.screen.query_one("#diluent", Select)
    select.focus()
    await pilot.press("enter")
    options = [value for _, value in select._options if isinstance(value, str)]
    await pilot.press(*["down"] * (options.index(code) + 1), "enter")
    assert select.value == code
    await settle(pilot)


def acknowledgements(services) -> list[tuple[str, str, int]]:
    """Those of the batches made here (the demo's history has its own)."""
    with unit_of_work(services.engine) as session:
        rows = session.exec(
            select(AcknowledgementRow)
            .join(BatchRow)
            .where(BatchRow.created_at == services.clock.now())
            .order_by(AcknowledgementRow.id)
        ).all()
        return [(r.finding_code, r.finding_message, r.batch_id) for r in rows]


async def test_each_warning_is_read_before_dispensing_and_kept_with_the_batch(demo):
    """P-0020: a confirmed, low-criticality benzyl-alcohol allergy and an uncoded 'nickel'; the
    mixture made up with bacteriostatic water. One F9 press dispensed it before."""
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose_patient(pilot, "P-0020")
        await compose(pilot, ("lidocaine", "20 mg"), final="5 mL")
        await choose_diluent(pilot, BACTERIOSTATIC)
        warned = [t for t in findings(app.screen) if t.startswith("WARNING:")]
        assert len(warned) == 2
        before = counts(demo)

        await pilot.press("f9")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, AcknowledgeScreen)
        first, second = dialog.query(ReadIt)
        assert app.focused is first and not first.read  # read by choice, never by default
        shown = " ".join(screen_text(app).split())
        assert "2 WARNINGs — read before dispensing" in shown
        assert "[ ] unread" in shown and "WARNING: allergy to Benzyl alcohol" in shown
        assert first.finding.message.split()[-1] in shown  # whole, not cut to a line
        assert dialog.query_one("#acknowledge-dispense", Button).disabled
        await pilot.press("escape")  # back to the mixture: nothing dispensed
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        assert "Not dispensed" in str(app.screen.query_one("#status", Static).render())
        assert counts(demo) == before

        await pilot.press("f9")
        await settle(pilot)
        dialog = app.screen
        first, second = dialog.query(ReadIt)
        await pilot.press("enter")  # the first read; on to the second
        assert first.read and app.focused is second
        assert "1 still unread" in str(dialog.query_one("#acknowledge-problem", Static).render())
        await pilot.press("enter")  # the second read; on to the button
        button = dialog.query_one("#acknowledge-dispense", Button)
        assert second.read and not button.disabled and app.focused is button
        assert "[x] read" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LabelScreen)
        label = str(app.screen.query_one("#label-text", Static).render())
        assert "ACKNOWLEDGED: allergy to Benzyl alcohol" in label
        assert "read by Sam Ortega before dispensing" in label

    with unit_of_work(demo.engine) as session:
        batch = session.exec(select(BatchRow).order_by(BatchRow.id.desc())).first()  # type: ignore[union-attr]
        assert batch is not None and batch.label == label
    assert acknowledgements(demo) == [
        (f.finding.code, f.finding.message, batch.id) for f in (first, second)
    ]


async def test_warnings_that_changed_since_the_check_are_asked_again(demo):
    """The dialog's keys no longer match the dispense's re-check (the plan shown was older):
    the dispense refuses and the dialog opens again with the warnings as they are now."""
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose_patient(pilot, "P-0020")
        await compose(pilot, ("lidocaine", "20 mg"), final="5 mL")
        await choose_diluent(pilot, BACTERIOSTATIC)
        screen = app.screen
        draft = screen.draft()
        stale = [f for f in screen._plan.findings if f.severity is Severity.WARN]
        screen._start_dispense(draft, [f.key + "0" for f in stale])  # as if read before a change
        await settle(pilot)
        assert isinstance(app.screen, AcknowledgeScreen)
        assert "read them again" in str(screen.query_one("#status", Static).render())
        assert [r.finding.key for r in app.screen.query(ReadIt)] == [f.key for f in stale]
    assert acknowledgements(demo) == []


async def test_compose_shows_what_the_patient_received_earlier_today(demo):
    """P-0003 (84 kg) received 250 mg of lidocaine at 09:00, overridden; 190 mg more is blocked
    and the finding says the sum."""
    draft = DraftMixture((DraftIngredient("lidocaine", "250 mg"),), patient="P-0003")
    (block,) = [
        f for f in demo.mixtures.check(draft, "sam").findings if f.severity is Severity.BLOCK
    ]
    signature = Signature(
        block.key, "drchen", "demo-practitioner-2026", "dose_clinically_justified", "planned"
    )
    batch = demo.mixtures.dispense(draft, "sam", [signature]).batch_id
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose_patient(pilot, "P-0003")
        await compose(pilot, ("lidocaine", "190 mg"))
        (shown,) = [t for t in findings(app.screen) if t.startswith("BLOCK:")]
        assert (
            f"Lidocaine hydrochloride 250 mg dispensed today at 09:00 (batch {batch}) + 190 mg now "
            "= 440 mg > 200 mg maximum" in shown
        )
        assert app.screen.query_one("#dispense", Button).disabled
        assert f"today at 09:00 (batch {batch}) + 190 mg now = 440 mg" in screen_text(app)


async def test_the_patients_history_lists_the_warnings_read(demo):
    from rich.text import Text
    from textual.widgets import DataTable

    from mesomix.services.labels import ACKNOWLEDGED
    from tests.tui.test_journeys import open_patient

    draft = DraftMixture(
        (DraftIngredient("lidocaine", "20 mg"),),
        "5 mL",
        diluent=BACTERIOSTATIC,
        patient="P-0020",
    )
    result = demo.mixtures.dispense(draft, "sam", acknowledge_all=True)
    app = make_app(demo, demo.accounts.sign_in("drchen", "demo-practitioner-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await open_patient(pilot, "P-0020")
        history = app.screen.query_one("#history-list", DataTable)
        mixture = history.get_row(str(result.batch_id))[1]
        assert isinstance(mixture, Text)
        assert mixture.plain.splitlines()[1:] == [
            f"{ACKNOWLEDGED} allergy to Benzyl alcohol, read by Sam Ortega before dispensing",
            f"{ACKNOWLEDGED} allergy recorded as free text 'nickel' matches nothing mesomix "
            "knows, read by Sam Ortega before dispensing",
        ]
