"""Patients, a patient's labels and starting a formula, at 80×24 on a demo database, driven by the
Pilot: every change through a form that names what it changes, and the database checked after."""

from __future__ import annotations

from rich.text import Text
from sqlmodel import select
from textual.widgets import DataTable, Select, Static

from mesomix.db.tables import AllergyRow, AuditRow, PatientRow
from mesomix.domain.allergy import Allergy
from mesomix.domain.mixture import DraftIngredient, DraftMixture
from mesomix.services.labels import OVERRIDDEN
from mesomix.services.mixtures import Signature
from mesomix.services.uow import unit_of_work
from mesomix.tui.app import make_app
from mesomix.tui.screens.compose import ComposeScreen
from mesomix.tui.screens.formulas import FormulasScreen
from mesomix.tui.screens.label import LabelScreen
from mesomix.tui.screens.patients import PatientsScreen
from mesomix.tui.widgets.form import FormScreen
from tests.domain.test_fhir_examples import example
from tests.services.test_labels import fake_printer
from tests.services.test_no_known_allergy import rows
from tests.tui.pilot import screen_text, settle
from tests.tui.test_journeys import choose_row, fill, open_patient, problems, submit

SIZE = (80, 24)
DRCHEN = ("drchen", "demo-practitioner-2026")


def allergies_of(services, ref: str) -> list[AllergyRow]:
    with unit_of_work(services.engine) as session:
        patient = session.exec(select(PatientRow).where(PatientRow.ref == ref)).one()
        return list(
            session.exec(
                select(AllergyRow)
                .where(AllergyRow.patient_id == patient.id)
                .order_by(AllergyRow.id)
            )
        )


def verify_rows(services) -> list[AuditRow]:
    with unit_of_work(services.engine) as session:
        return list(session.exec(select(AuditRow).where(AuditRow.action == "allergy.verify")))


def status(pilot) -> str:
    return str(pilot.app.screen.query_one("#status", Static).render())


def intro(pilot) -> str:
    return str(pilot.app.screen.query_one(".form-intro", Static).render())


async def press(pilot, *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot)


async def test_refuting_asks_why_names_the_allergy_and_keeps_the_reason(demo):
    (procaine,) = allergies_of(demo, "P-0001")  # confirmed, high criticality
    app = make_app(demo, demo.accounts.sign_in(*DRCHEN))
    async with app.run_test(size=SIZE) as pilot:
        await open_patient(pilot, "P-0001")
        await choose_row(pilot, "#allergy-list", str(procaine.id))
        await press(pilot, "x")
        assert isinstance(app.screen, FormScreen)  # one keypress changes nothing
        said = intro(pilot)
        assert "Procaine hydrochloride" in said and "Amélie Laurent (P-0001)" in said
        assert "no longer blocks or warns" in said
        await submit(pilot)  # no reason
        assert "refuting an allergy needs a few words" in problems(pilot)
        assert allergies_of(demo, "P-0001")[0].verification == "confirmed"  # nothing written
        assert verify_rows(demo) == []
        await fill(pilot, reason="tolerated procaine at the dentist, 2026-10")
        await submit(pilot)
        assert isinstance(app.screen, PatientsScreen)
        assert "marked refuted" in status(pilot)
        (row,) = allergies_of(demo, "P-0001")
        assert row.verification == "refuted"
        assert row.note.endswith("by Dr Mei Chen: tolerated procaine at the dentist, 2026-10")
        (audit,) = verify_rows(demo)
        assert audit.reason == "tolerated procaine at the dentist, 2026-10"
        shown = app.screen.query_one("#allergy-list", DataTable).get_cell(
            str(procaine.id), "allergy"
        )
        assert "refuted" in str(shown)
        await press(pilot, "x")  # again: said, no form
        assert isinstance(app.screen, PatientsScreen)
        assert "is refuted already" in status(pilot)


async def test_confirming_from_the_patient_list_takes_the_only_allergy_it_can_mean(demo):
    (lidocaine,) = allergies_of(demo, "P-0009")  # unconfirmed
    app = make_app(demo, demo.accounts.sign_in(*DRCHEN))
    async with app.run_test(size=SIZE) as pilot:
        await open_patient(pilot, "P-0009")
        await press(pilot, "v")
        assert "Lidocaine hydrochloride" in intro(pilot)
        assert "Anjali Deshpande (P-0009)" in intro(pilot)
        await press(pilot, "escape")  # cancelled: nothing written
        assert allergies_of(demo, "P-0009")[0].verification == "unconfirmed"
        await press(pilot, "v")
        await fill(pilot, reason="reaction seen again, 2026-11")
        await submit(pilot)
        (row,) = allergies_of(demo, "P-0009")
        assert row.verification == "confirmed" and row.id == lidocaine.id
        assert row.note.splitlines()[-1].endswith("Dr Mei Chen: reaction seen again, 2026-11")
        assert [r.reason for r in verify_rows(demo)] == ["reaction seen again, 2026-11"]


async def test_with_several_allergies_the_list_takes_focus_to_choose_one(demo):
    methylparaben, parabens = allergies_of(demo, "P-0004")
    app = make_app(demo, demo.accounts.sign_in(*DRCHEN))
    async with app.run_test(size=SIZE) as pilot:
        await open_patient(pilot, "P-0004")
        await press(pilot, "x")
        assert isinstance(app.screen, PatientsScreen)  # no form: which one was not said
        assert "2 allergies not refuted: choose one, then press x." in status(pilot)
        table = app.screen.query_one("#allergy-list", DataTable)
        assert table.has_focus
        await press(pilot, "down", "x")
        assert "Parabens" in intro(pilot) and "Methylparaben" not in intro(pilot)
        await fill(pilot, reason="patch test negative for the parabens mix")
        await submit(pilot)
    rows = {row.id: row.verification for row in allergies_of(demo, "P-0004")}
    assert rows == {methylparaben.id: "confirmed", parabens.id: "refuted"}


async def test_code_from_the_patient_list_takes_the_allergy_not_coded(demo):
    ester, bee_sting = allergies_of(demo, "P-0002")  # a coded group, then free text
    app = make_app(demo, demo.accounts.sign_in(*DRCHEN))
    async with app.run_test(size=SIZE) as pilot:
        await open_patient(pilot, "P-0002")
        table = app.screen.query_one("#allergy-list", DataTable)
        table.move_cursor(row=table.get_row_index(str(ester.id)))  # the cursor is on the coded one
        app.screen.query_one("#patient-list", DataTable).focus()
        await press(pilot, "c")
        assert "'bee sting'" in intro(pilot) and "Siobhán O'Neill" in intro(pilot)
        await fill(pilot, allergen="hyaluronidas")
        hint = str(app.screen.query_one("#form-hint", Static).render())
        assert hint.startswith("did you mean")  # the hint as typed is kept
        app.screen.query_one("#form-allergen").value = ""
        await fill(pilot, allergen="hyaluronidase_venom")
        await submit(pilot)
        assert isinstance(app.screen, PatientsScreen), problems(pilot)
        coded = allergies_of(demo, "P-0002")[1]
        assert coded.id == bee_sting.id and coded.group_code == "hyaluronidase_venom"
        await choose_row(pilot, "#allergy-list", str(ester.id))
        await press(pilot, "c")  # chosen in the list, and coded already
        assert isinstance(app.screen, PatientsScreen)
        assert "Ester local anaesthetics is coded already" in status(pilot)
        app.screen.query_one("#patient-list", DataTable).focus()
        await press(pilot, "c")
        assert isinstance(app.screen, PatientsScreen)
        assert "No allergy of Siobhán O'Neill needs coding." in status(pilot)
    assert allergies_of(demo, "P-0002")[0].group_code == ester.group_code  # untouched


async def test_every_allergy_shows_whole_and_empty_lists_say_so(demo):
    app = make_app(demo, demo.accounts.sign_in(*DRCHEN))
    async with app.run_test(size=SIZE) as pilot:
        await open_patient(pilot, "P-0004")
        table = app.screen.query_one("#allergy-list", DataTable)
        assert table.row_count == 2 and table.max_scroll_y == 0  # nothing scrolled out of view
        shown = screen_text(app)
        for words in ("Methylparaben", "injection sites", "Parabens", "eczematous rash"):
            assert words in shown, words
        await choose_row(pilot, "#patient-list", "P-0008")  # no allergy, no mixture
        shown = screen_text(app)
        assert "none recorded" in shown and "no mixtures yet" in shown
        assert not table.display
        assert not app.screen.query_one("#history-list", DataTable).display
        await press(pilot, "l")
        assert isinstance(app.screen, PatientsScreen)
        assert status(pilot) == "Björn Lindqvist has no mixtures yet: there is no label."
        await press(pilot, "v")
        assert status(pilot) == "Björn Lindqvist has no allergy recorded."


async def test_the_history_lists_what_was_typed_and_the_block_signed_off(
    demo, tmp_path, monkeypatch
):
    plan = demo.mixtures.check(
        DraftMixture((DraftIngredient("procaine", "20 mg"),), "5 mL", patient="P-0001"), "sam"
    )
    (block,) = [f for f in plan.findings if f.severity.value == "block"]
    why = "given twice in 2025 without reaction"
    draft = DraftMixture(
        (DraftIngredient("procaine", "20 mg"), DraftIngredient("", ""), DraftIngredient("", "")),
        "5 mL",
        patient="P-0001",
    )
    signature = Signature(block.key, "drchen", DRCHEN[1], "tolerated_before", why)
    batch_id = demo.mixtures.dispense(draft, "sam", [signature]).batch_id
    printer = fake_printer(tmp_path / "bin", "lp")
    monkeypatch.setenv("PATH", f"{printer}:/usr/bin:/bin")
    demo.labels.folder = tmp_path / "labels"
    app = make_app(demo, demo.accounts.sign_in(*DRCHEN))
    async with app.run_test(size=SIZE) as pilot:
        await open_patient(pilot, "P-0001")
        history = app.screen.query_one("#history-list", DataTable)
        mixture = history.get_row(str(batch_id))[1]
        assert isinstance(mixture, Text)
        lines = mixture.plain.splitlines()
        assert lines[0] == "2026-11-24 5 mL: procaine 20 mg"  # no ' +  +' for blank rows
        assert lines[1] == (
            f"{OVERRIDDEN} allergy to Procaine hydrochloride, "
            f"signed by Dr Mei Chen (tolerated before): {why}"
        )
        await choose_row(pilot, "#history-list", str(batch_id))
        await press(pilot, "l")
        assert isinstance(app.screen, LabelScreen)
        label = str(app.screen.query_one("#label-text", Static).render())
        assert f"{OVERRIDDEN}: allergy to Procaine hydrochloride" in label
        assert f"signed by Dr Mei Chen (tolerated before): {why}" in label
        await press(pilot, "P")  # Shift+P, or caps lock: the button reads "Print (P)"
        printed = str(app.screen.query_one("#label-status", Static).render())
        await press(pilot, "S")
        saved = str(app.screen.query_one("#label-status", Static).render())
    assert printed == f"label of batch {batch_id} sent to the default printer"
    assert OVERRIDDEN in (printer / "lp.text").read_text(encoding="utf-8")
    file = tmp_path / "labels" / f"batch-{batch_id:06d}-label.txt"
    assert saved == f"saved to {file}" and OVERRIDDEN in file.read_text(encoding="utf-8")


async def test_a_formula_is_started_for_a_patient_chosen_from_the_list(demo):
    demo.people.add_patient("drchen", "P-9000", "[bold]x[/] Moreau")
    app = make_app(demo, demo.accounts.sign_in("sam", "demo-staff-2026"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "f4")
        screen = app.screen
        assert isinstance(screen, FormulasScreen)
        codes = [row.value for row in screen.query_one("#formula-list", DataTable).rows]
        await choose_row(pilot, "#formula-list", next(code for code in codes if "hair" in code))
        await press(pilot, "s")
        patient = app.screen.query_one("#form-patient", Select)
        assert patient.has_focus and patient.value == ""  # no one chosen for the person
        assert intro(pilot) == "Patient: Space or the arrows open the list; type a name there."
        await press(pilot, *"jean")  # on the closed list typing finds no one: the hint says so
        await press(pilot, "enter", "enter", "enter")  # Enter alone, through every field
        assert isinstance(app.screen, FormScreen)
        assert "choose the patient first" in problems(pilot)  # refused; nothing started
        assert patient.value == ""
        shown = [prompt for prompt, _ in patient._options]
        assert all(isinstance(prompt, Text) for prompt in shown)  # names are never markup
        assert "[bold]x[/] Moreau (P-9000)" in [prompt.plain for prompt in shown]
        await submit(pilot)
        assert "choose the patient first" in problems(pilot)  # refused; nothing started
        assert isinstance(app.screen, FormScreen)
        patient.focus()
        await press(pilot, "space", *"jean-luc", "enter")  # typing finds the name
        assert patient.value == "P-0003"
        await submit(pilot)
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        await settle(pilot)
        assert compose.draft().patient == "P-0003"


def weight_of(services, ref: str) -> int | None:
    with unit_of_work(services.engine) as session:
        return session.exec(select(PatientRow).where(PatientRow.ref == ref)).one().weight_g


async def test_a_weight_far_from_the_recorded_one_is_questioned_then_saved_on_a_second_enter(demo):
    app = make_app(demo, demo.accounts.sign_in(*DRCHEN))
    async with app.run_test(size=SIZE) as pilot:
        await open_patient(pilot, "P-0019")  # Alex Kowalczyk, 66 kg recorded
        await press(pilot, "w", *"30 kg")
        assert problems(pilot).startswith("weight: check it — 55% less than the 66 kg recorded")
        assert "saving asks you to confirm it" in problems(pilot)
        await press(pilot, "enter")  # the first Enter asks; it does not save
        assert isinstance(app.screen, FormScreen)
        said = problems(pilot)
        assert said.startswith("weight: 30 kg is 55% less than the 66 kg recorded")
        assert "Save again to record it" in said
        shown = " ".join(screen_text(app).split())  # in view at 80×24, wrapped
        assert "Is it right? Save again to record it" in shown, screen_text(app)
        assert weight_of(demo, "P-0019") == 66_000
        await press(pilot, "backspace", "backspace", "backspace", "backspace", *"1 kg")
        assert weight_of(demo, "P-0019") == 66_000
        await press(pilot, "enter")  # 31 kg is another weight: asked afresh
        assert isinstance(app.screen, FormScreen)
        assert problems(pilot).startswith("weight: 31 kg is 53% less")
        assert weight_of(demo, "P-0019") == 66_000
        await press(pilot, "enter")  # the same weight again: confirmed
        assert isinstance(app.screen, PatientsScreen)
        assert "Weight of Alex Kowalczyk recorded." in status(pilot)
    assert weight_of(demo, "P-0019") == 31_000


async def test_a_near_weight_is_saved_on_one_submit(demo):
    from decimal import Decimal

    app = make_app(demo, demo.accounts.sign_in(*DRCHEN))
    async with app.run_test(size=SIZE) as pilot:
        await open_patient(pilot, "P-0001")  # 61.5 kg recorded
        await press(pilot, "w")
        await fill(pilot, weight="62 kg")
        assert problems(pilot) == ""
        await submit(pilot)
        assert isinstance(app.screen, PatientsScreen)
    assert weight_of(demo, "P-0001") == 62_000
    assert demo.people.check_weight("62 kg", Decimal("61.5")) == []
    assert demo.people.check_weight("62", Decimal("61.5"))[0].startswith("weight:")  # no unit


async def test_a_date_of_birth_after_today_is_refused_and_the_form_parses_nothing(demo):
    app = make_app(demo, demo.accounts.sign_in(*DRCHEN))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "f3", "n")
        await fill(pilot, ref="P-0100", name="Noor Haddad", born="2030-01-01")
        assert problems(pilot) == "date of birth 2030-01-01: after today (2026-11-24)"
        await fill(pilot, weight="64.5 kg")
        await submit(pilot)
        assert isinstance(app.screen, FormScreen)
        assert "after today" in problems(pilot)
        assert demo.people.patient_id("P-0100") is None  # nothing written
        born = app.screen.query_one("#form-born")
        born.value = ""
        await fill(pilot, born="1990-02-30")
        assert problems(pilot) == "date of birth 1990-02-30: not a day of the calendar"
        born.value = ""
        await fill(pilot, born="1990-02-28")
        assert problems(pilot) == ""
        await submit(pilot)
        assert isinstance(app.screen, PatientsScreen)
    row = patient_row(demo, "P-0100")
    assert str(row.date_of_birth) == "1990-02-28" and row.weight_g == 64_500


def patient_row(services, ref: str) -> PatientRow:
    with unit_of_work(services.engine) as session:
        return session.exec(select(PatientRow).where(PatientRow.ref == ref)).one()


async def test_confirming_free_text_says_what_it_is_checked_for(demo):
    demo.allergies.record(
        "P-0008", "drchen", Allergy(text="xylocain", verification="unconfirmed")
    )  # free text that very probably means lidocaine: it blocks as a coded allergy would
    app = make_app(demo, demo.accounts.sign_in(*DRCHEN))
    async with app.run_test(size=SIZE) as pilot:
        await open_patient(pilot, "P-0008")
        await press(pilot, "v")
        said = intro(pilot)
        assert "can only warn" not in said
        assert "it is checked only where its words clearly name a substance or group" in said
        assert "code it (c) to check it in full" in said


async def test_a_refused_code_is_no_longer_said_once_another_name_is_typed(demo):
    _ester, bee_sting = allergies_of(demo, "P-0002")
    app = make_app(demo, demo.accounts.sign_in(*DRCHEN))
    async with app.run_test(size=SIZE) as pilot:
        await open_patient(pilot, "P-0002")
        await choose_row(pilot, "#allergy-list", str(bee_sting.id))
        await press(pilot, "c")
        await fill(pilot, allergen="prilocaine")
        await submit(pilot)
        assert "'prilocaine' is not one substance" in problems(pilot)
        await fill(pilot, allergen="x")  # typing on: the refusal was of the name before
        assert problems(pilot) == ""
        assert isinstance(app.screen, FormScreen)
    assert allergies_of(demo, "P-0002")[1].group_code is None  # nothing coded


async def test_no_known_allergy_shows_as_a_statement_and_is_set_aside_by_a_real_one(demo):
    """Imported 'no known latex allergy' and 'no known drug allergy' read as what they are;
    recording a latex allergy sets the latex statement aside, kept in the list."""
    for name in ("nkla", "nkda"):
        demo.allergies.import_fhir(
            "P-0008", "drchen", example(name) | {"patient": {"reference": "Patient/P-0008"}}
        )
    nkla, nkda = (row.id for row in allergies_of(demo, "P-0008"))
    app = make_app(demo, demo.accounts.sign_in(*DRCHEN))
    async with app.run_test(size=SIZE) as pilot:
        await open_patient(pilot, "P-0008")
        shown = screen_text(app)
        for words in ("No known latex allergy", "No known drug allergy", "not an allergen"):
            assert words in shown, words
        assert "not coded" not in shown
        await press(pilot, "c")  # nothing to code: statements are not allergens
        assert "No allergy of Björn Lindqvist needs coding." in status(pilot)
        await press(pilot, "a")
        await fill(pilot, allergen="latex")
        await submit(pilot)
        assert isinstance(app.screen, PatientsScreen), problems(pilot)
        await settle(pilot)
        table = app.screen.query_one("#allergy-list", DataTable)
        lines = [str(table.get_cell(key, "allergy")) for key in table.rows]  # wrapped on screen
        assert any("SET ASIDE" in line and "latex" in line for line in lines)
        assert any(line.startswith("Natural rubber latex") for line in lines)
        assert table.row_count == 3 and table.max_scroll_y == 0
    after = rows(demo)
    assert after[nkla].clinical_status == "inactive"  # set aside: a latex allergy is recorded
    assert after[nkda].clinical_status == "active"  # latex is not a drug allergy


async def test_an_allergy_whose_code_relates_to_nothing_held_says_so_not_not_coded(demo):
    demo.allergies.import_fhir(
        "P-0008", "drchen", example("medication") | {"patient": {"reference": "Patient/P-0008"}}
    )
    app = make_app(demo, demo.accounts.sign_in(*DRCHEN))
    async with app.run_test(size=SIZE) as pilot:
        await open_patient(pilot, "P-0008")
        table = app.screen.query_one("#allergy-list", DataTable)
        (line,) = (str(table.get_cell(key, "allergy")) for key in table.rows)
        assert line.startswith("'Penicillin G' (RxNorm 7980: relates to nothing mesomix holds)")
        assert "RxNorm 7980" in screen_text(app) and "not coded" not in screen_text(app)
        await press(pilot, "c")  # nothing mesomix holds to code it to
        assert "No allergy of Björn Lindqvist needs coding." in status(pilot)
