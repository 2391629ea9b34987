"""Each person's main journey through the whole application, driven by the Pilot on a demo
database, with the database checked afterwards — not only the screen."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select
from textual.widgets import DataTable, Input, Select, Static

from mesomix.db.tables import AllergyRow, LotRow, MovementRow, PatientRow
from mesomix.services.uow import unit_of_work
from mesomix.tui.app import make_app
from mesomix.tui.screens.compose import ComposeScreen
from mesomix.tui.screens.help import HelpScreen
from mesomix.tui.screens.inventory import InventoryScreen, TraceScreen
from mesomix.tui.screens.label import LabelScreen
from mesomix.tui.screens.patients import PatientsScreen
from mesomix.tui.screens.reports import ReportsScreen
from mesomix.tui.widgets.form import FormScreen
from tests.factories import assert_ledger_exact
from tests.tui.pilot import Toasts, settle

SIZE = (100, 34)
ROOT = Path(__file__).resolve().parents[2]


async def fill(pilot, **values: str) -> None:
    """Type into the open form, field by field, as a person would."""
    form = pilot.app.screen
    assert isinstance(form, FormScreen)
    for key, value in values.items():
        widget = form.query_one(f"#form-{key}")
        if isinstance(widget, Select):
            widget.value = value
        else:
            widget.focus()
            await pilot.press(*value)
    await settle(pilot)


async def submit(pilot) -> None:
    await pilot.click("#form-go")
    await settle(pilot)


def problems(pilot) -> str:
    return str(pilot.app.screen.query_one("#form-problems", Static).render())


async def open_patient(pilot, ref: str) -> None:
    """From a fresh start: the Patients screen (F3), that patient chosen."""
    await settle(pilot)
    await pilot.press("f3")
    await settle(pilot)
    await choose_row(pilot, "#patient-list", ref)


async def choose_row(pilot, table_id: str, key: str) -> None:
    table = pilot.app.screen.query_one(table_id, DataTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(key))
    await settle(pilot)


async def test_manager_imports_a_delivery_note_with_every_row_checked_first(demo, tmp_path):
    sample = (ROOT / "data" / "import" / "stock-sample.csv").read_text(encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(sample.replace("2027-09-30", "2019-09-30").replace(",20,", ",twenty,"))
    good = tmp_path / "good.csv"
    good.write_text(sample)
    app = make_app(demo, demo.accounts.sign_in("nadia", "demo-manager-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = lot_numbers(demo)
        await pilot.press("i")
        await settle(pilot)
        await fill(pilot, kind="stock", file=str(bad))
        await submit(pilot)
        said = problems(pilot)
        assert "row 2, column 'containers'" in said and "row 3, column 'expiry'" in said
        assert lot_numbers(demo) == before  # nothing written
        app.screen.query_one("#form-file", Input).value = ""
        await fill(pilot, file=str(good))
        await submit(pilot)
        assert isinstance(app.screen, InventoryScreen)
        assert "Imported" in str(app.screen.query_one("#status", Static).render())
    assert lot_numbers(demo) - before == {"LD24117", "CB5521A", "NS0930", "XY77310"}


def lot_numbers(services) -> set[str]:
    with unit_of_work(services.engine) as session:
        return set(session.exec(select(LotRow.lot_number)))


async def test_manager_receives_counts_recalls_and_exports(demo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(demo, demo.accounts.sign_in("nadia", "demo-manager-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, InventoryScreen)  # a manager lands on the stock
        await pilot.press("r")
        await settle(pilot)
        await fill(pilot, product="lidocaine_2pct_2ml_amp", lot_number="NEW-1", expiry="2020-01-01")
        assert "expired on 2020-01-01" in problems(pilot)  # checked as typed
        form = app.screen
        form.query_one("#form-expiry", Input).value = ""
        await fill(pilot, expiry="2028-06-30", containers="12", unit_cost="0.95")
        assert problems(pilot) == ""
        await submit(pilot)
        assert isinstance(app.screen, InventoryScreen)
        with unit_of_work(demo.engine) as session:
            lot = session.exec(select(LotRow).where(LotRow.lot_number == "NEW-1")).one()
        assert lot.on_hand_ul == 12 * 2000 and lot.unit_cost_cents == 95

        await choose_row(pilot, "#lot-list", str(lot.id))
        await pilot.press("c")
        await settle(pilot)
        await fill(pilot, sealed="10", reason="breakage")
        await submit(pilot)
        with unit_of_work(demo.engine) as session:
            counted = session.get(LotRow, lot.id)
            kinds = [
                m.kind
                for m in session.exec(select(MovementRow).where(MovementRow.lot_id == lot.id))
            ]
        assert counted.on_hand_ul == 10 * 2000 and kinds == ["receive", "count"]

        await choose_row(pilot, "#lot-list", str(lot.id))
        await pilot.press("x")
        await settle(pilot)
        await fill(pilot, reason="supplier recall notice 2026-11")
        await submit(pilot)
        assert isinstance(app.screen, TraceScreen)  # who received it, at once
        await pilot.press("escape")
        with unit_of_work(demo.engine) as session:
            assert session.get(LotRow, lot.id).status == "recalled"

        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, ReportsScreen)
        assert app.screen.query_one("#report-table", DataTable).row_count > 0
        await pilot.press("ctrl+e")
        await settle(pilot)
        await fill(pilot, format="csv", path="stock.csv")
        await submit(pilot)
        assert (tmp_path / "stock.csv").read_text(encoding="utf-8").startswith('"product",')
    assert_ledger_exact(demo)


async def test_practitioner_records_a_weight_and_an_allergy_then_codes_and_confirms_it(demo):
    app = make_app(demo, demo.accounts.sign_in("drchen", "demo-practitioner-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)
        await pilot.press("f3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PatientsScreen)
        screen.query_one("#patient-find", Input).value = "P-0005"
        await settle(pilot)
        await choose_row(pilot, "#patient-list", "P-0005")
        await pilot.press("w")
        await settle(pilot)
        await fill(pilot, weight="5,5 kg")
        await submit(pilot)
        assert "comma" in problems(pilot)  # refused in the form, which stays open
        app.screen.query_one("#form-weight", Input).value = ""
        await fill(pilot, weight="72.5 kg")
        await submit(pilot)
        assert "72.5 kg is 25% more than the 57.8 kg recorded" in problems(pilot)  # not saved
        assert isinstance(app.screen, FormScreen)
        app.screen.query_one("#form-weight", Input).focus()
        await pilot.press("enter")  # yes, it is right: saved
        await settle(pilot)
        assert isinstance(app.screen, PatientsScreen), problems(pilot)
        await pilot.press("a")
        await settle(pilot)
        await fill(pilot, allergen="grandma's eye drops", reaction="hives")
        await submit(pilot)
        await settle(pilot)
        with unit_of_work(demo.engine) as session:
            patient = session.exec(select(PatientRow).where(PatientRow.ref == "P-0005")).one()
            allergy = session.exec(
                select(AllergyRow).where(
                    AllergyRow.patient_id == patient.id, AllergyRow.text == "grandma's eye drops"
                )
            ).one()
        assert patient.weight_g == 72_500 and allergy.substance_code is None
        await choose_row(pilot, "#allergy-list", str(allergy.id))
        await pilot.press("c")
        await settle(pilot)
        await fill(pilot, allergen="parabns")  # misspelt: the form says what it may mean
        await settle(pilot)
        hint = str(app.screen.query_one("#form-hint", Static).render())
        assert hint.startswith("did you mean: Parabens")
        await submit(pilot)
        assert "not one substance" in problems(pilot)  # a guess is never coded silently
        app.screen.query_one("#form-allergen", Input).value = ""
        await fill(pilot, allergen="parabens")
        await settle(pilot)
        assert "means the allergen group Parabens" in str(
            app.screen.query_one("#form-hint", Static).render()
        )
        await submit(pilot)
        await choose_row(pilot, "#allergy-list", str(allergy.id))
        await pilot.press("v")
        await settle(pilot)
        await submit(pilot)  # the confirm form: its note is optional
        with unit_of_work(demo.engine) as session:
            coded = session.get(AllergyRow, allergy.id)
        assert (coded.group_code or coded.substance_code) and coded.verification == "confirmed"
        assert "not coded" not in str(
            app.screen.query_one("#allergy-list", DataTable).get_cell(str(allergy.id), "allergy")
        )


async def test_staff_may_not_open_the_managers_screens_and_help_says_why(demo):
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    toasts = Toasts()
    async with app.run_test(size=SIZE, message_hook=toasts) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, ComposeScreen)  # F6 answers: staff have no work there
        assert "staff has no work on the reports screen" in " ".join(toasts.said)
        assert not app.screen.check_action("save_formula", ())  # a practitioner's job
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, InventoryScreen)  # everyone sees stock...
        offered = {command.title for command in app.get_system_commands(app.screen)}
        assert "Count" not in offered and "Receive" not in offered  # ...only managers change it
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, InventoryScreen)  # no form to fill in for nothing
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "dispense a mixture" in str(app.screen.query_one("#help-may", Static).render())


async def test_names_that_look_like_markup_are_shown_as_typed(demo):
    demo.people.add_patient("drchen", "P-9000", "[bold]x[/] [link=http://x]y[/link]")
    app = make_app(demo, demo.accounts.sign_in("drchen", "demo-practitioner-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await open_patient(pilot, "P-9000")
        card = str(app.screen.query_one("#patient-card", Static).render())
        assert "[bold]x[/] [link=http://x]y[/link]" in card


async def test_staff_start_a_formula_scaled_and_dispense_it_then_a_practitioner_saves_a_version(
    demo, tmp_path
):
    from mesomix.db.tables import BatchRow
    from mesomix.tui.screens.formulas import FormulasScreen

    demo.labels.folder = tmp_path / "labels"
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, FormulasScreen)
        codes = [row.value for row in screen.query_one("#formula-list", DataTable).rows]
        hair = next(code for code in codes if "hair" in code)
        await choose_row(pilot, "#formula-list", hair)
        await pilot.press("s")
        await settle(pilot)
        await fill(pilot, patient="P-0003", final_volume="0 mL")
        await submit(pilot)
        assert "volume" in problems(pilot)  # refused in the form
        app.screen.query_one("#form-final_volume", Input).value = ""
        await fill(pilot, final_volume="10 mL")
        await submit(pilot)
        await settle(pilot)
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        await settle(pilot)
        draft = compose.draft()
        assert draft.final_volume == "10 mL" and draft.formula_version is not None
        assert any(
            i.what.startswith("dexpanthenol") and i.amount == "500 mg" for i in draft.ingredients
        )
        from tests.tui.test_compose import findings

        assert not [f for f in findings(compose) if f.startswith("BLOCK")], findings(compose)
        await pilot.press("f9")
        await settle(pilot)
        assert "Dispensed batch" in str(compose.query_one("#status", Static).render())
        assert isinstance(app.screen, LabelScreen)
        await pilot.press("s")  # the label, saved as a file
        await settle(pilot)
        said = str(app.screen.query_one("#label-status", Static).render())
    with unit_of_work(demo.engine) as session:
        batch = session.exec(select(BatchRow).order_by(BatchRow.id.desc())).first()
    assert batch.formula_version_id == draft.formula_version and batch.final_volume_ul == 10_000
    saved = tmp_path / "labels" / f"batch-{batch.id:06d}-label.txt"
    assert (
        said == f"saved to {saved}"
        and saved.read_text(encoding="utf-8") == f"Batch {batch.id}\n{batch.label}\n"
    )


async def test_a_label_from_a_patients_history_goes_to_the_printer(demo, tmp_path, monkeypatch):
    from mesomix.db.tables import BatchRow
    from tests.services.test_labels import fake_printer

    printer = fake_printer(tmp_path / "bin", "lp")
    monkeypatch.setenv("PATH", f"{printer}:/usr/bin:/bin")
    app = make_app(demo, demo.accounts.sign_in("drchen", "demo-practitioner-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await open_patient(pilot, "P-0003")
        history = app.screen.query_one("#history-list", DataTable)
        assert history.row_count > 0
        newest = int(str(history.get_row_at(0)[0]))
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, LabelScreen)
        await pilot.press("p")
        await settle(pilot)
        said = str(app.screen.query_one("#label-status", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, PatientsScreen)
    with unit_of_work(demo.engine) as session:
        label = session.get(BatchRow, newest).label
    assert said == f"label of batch {newest} sent to the default printer"
    assert (printer / "lp.text").read_text(encoding="utf-8") == f"Batch {newest}\n{label}\n"


async def test_a_practitioner_saves_the_mixture_as_a_formula(demo):
    async def save(name: str, password: str) -> str:
        app = make_app(demo, demo.accounts.sign_in(name, password))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            row = app.screen.query(".ingredient-row").first()
            what, amount = row.query(Input)
            what.value, amount.value = "lidocaine", "20 mg"
            app.screen.query_one("#final-volume", Input).value = "4 mL"
            app.screen.query_one("#purpose", Select).value = "pain"
            await settle(pilot)
            await pilot.press("f7")
            await settle(pilot)
            if isinstance(app.screen, FormScreen):  # the purpose chosen in Compose is offered
                assert app.screen.query_one("#form-purpose", Select).value == "pain"
            await fill(pilot, name="Pain relief lidocaine", note="first")
            await submit(pilot)
            if isinstance(app.screen, FormScreen):
                return problems(pilot)
            return str(app.screen.query_one("#status", Static).render())

    assert "version 1" in await save("drchen", "demo-practitioner-2026")
    (summary,) = [f for f in demo.formulas.formulas("drchen") if f.name == "Pain relief lidocaine"]
    assert (summary.purpose, summary.latest_version, summary.final_volume) == ("pain", 1, "4 mL")
