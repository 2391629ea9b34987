"""The hostile corpus (tests/hostile/corpus.toml) through every service entry point that takes text.

One database for the module. Each entry point gets every input in the place of its text; the
outcome must be a refusal with a specific message and nothing written, or an acceptance that reads
back exactly as typed (a patient may be called `Robert'); DELETE FROM patient;--`). Hostile
quantities must be refused outright. The figures are printed as a table and must be:
0 uncaught exceptions, 0 refusals that wrote a row, 0 vague or unsafe messages, 0 misreads.

Passwords are hashed with argon2id at its smallest cost while the corpus runs (the shipped
parameters are the accounts tests' business): hundreds of sign-ins would otherwise take most of
the run, and the library, the code paths and the refusals are the same.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from mesomix.bootstrap import Services, Settings, build
from mesomix.clock import FixedClock
from mesomix.db.tables import (
    AllergyRow,
    BatchRow,
    LotRow,
    MovementRow,
    OverrideRow,
    PatientRow,
    ProductRow,
    UserRow,
)
from mesomix.domain.allergy import Allergy, Reaction
from mesomix.domain.findings import Severity
from mesomix.domain.mixture import DraftIngredient, DraftMixture
from mesomix.domain.units import Field, canonical, parse_quantity
from mesomix.services.audit import show as audit_show
from mesomix.services.mixtures import Signature
from mesomix.services.uow import unit_of_work
from tests.factories import add_allergy, receive, seed_people
from tests.hostile import Hostile, corpus
from tests.hostile.harness import (
    Point,
    Refused,
    dump_failures,
    quick_passwords,
    report,
    run_points,
)

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LIDOCAINE = "lidocaine_2pct_2ml_amp"
SALINE = "sodium_chloride_09_10ml_vial"
MULTI_DOSE = "xylocaine_1pct_10ml_mdv"
RECEIVED = "carnitor_1g_5ml_vial"  # lots received by hand, and
IMPORTED = (  # by CSV (in turn, so that no product's lots pile up): none drawn from here
    "wfi_10ml_vial",
    "wfi_20ml_vial",
    "wfi_50ml_vial",
    "bacteriostatic_water_30ml_mdv",
    "cyklokapron_2000mg_20ml_vial",
    "carnitene_2g_5ml_amp",
)
PASSWORD = "correct horse battery"  # tests.factories' users
EXPIRY = date(2027, 11, 24)


def open_clinic(url: str) -> Services:
    """The program on a database with people, stock, an allergic patient and a user to lock out."""
    with quick_passwords():
        services = build(Settings(database_url=url, clock=FixedClock(NOW), session_hours=1))
        seed_people(services)
        for code, lot, containers in (
            (LIDOCAINE, "H-LIDO", 5_000),
            (SALINE, "H-SALINE", 5_000),
            (MULTI_DOSE, "H-MDV", 1_000),
        ):
            receive(services, code, lot, containers)
        services.people.add_patient("drchen", "P-ALLERGIC", "Noor Haddad", weight="64 kg")
        add_allergy(services, "P-ALLERGIC", substance_code="lidocaine_hcl", verification="confirmed", criticality="high")  # fmt: skip
        services.accounts.create_user("root", "victim", "Vic Tim", "staff", PASSWORD)
    return services


@pytest.fixture(scope="module")
def clinic(tmp_path_factory) -> Iterator[Services]:
    services = open_clinic(f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'hostile.sqlite'}")
    yield services
    services.close()


# --- reading back what was accepted ------------------------------------------------------------


def _one(services: Services, query):
    with unit_of_work(services.engine) as session:
        return session.exec(query).first()


def _equal(what: str, stored: object, typed: object) -> str | None:
    return None if stored == typed else f"{what} stored as {stored!r:.80}, typed {typed!r:.80}"


def _quantity_equal(typed: str, field: Field, value: Decimal, dimension: str) -> str | None:
    """An accepted quantity must be stored as what it means (mg, mL: canonical magnitudes)."""
    expected = canonical(parse_quantity(typed, field))
    got = (Decimal(value), dimension)
    return None if got == expected else f"stored as {got}, typed {typed!r} means {expected}"


def _open_equal(typed: str, left_ml: Decimal) -> str | None:
    """An opened container counted: a volume, or empty ("0", "0 mL", "empty") read as none."""
    if re.fullmatch(r"0\s*(ml)?|empty", typed.strip(), re.IGNORECASE):
        return None if left_ml == 0 else f"typed {typed!r} (empty) but {left_ml} mL left open"
    return _quantity_equal(typed, Field.VOLUME, left_ml, "volume")


def _lot(services: Services, number: str, product: str | None = None) -> LotRow | None:
    """The lot so numbered (of that product: a number may be on record for several, as the
    corpus's texts are given to the CSV import's products too)."""
    query = select(LotRow).where(LotRow.lot_number == number)
    if product is not None:
        query = query.where(LotRow.product_code == product)
    return _one(services, query)


def _plan_outcome(plan):
    """A check answers with findings: blocking ones are its refusal."""
    blocks = [f for f in plan.findings if f.severity is Severity.BLOCK]
    if blocks:
        return Refused("; ".join(f.message for f in blocks), tuple(f.code for f in blocks))
    return plan


def _blank(entry: Hostile) -> bool:
    """Typed as nothing (spaces only): an optional field left empty."""
    return not entry.text.replace("\u00a0", " ").strip()


def _hostile_quantity(entry: Hostile) -> bool:
    return entry.amount is None


def _hostile_volume(entry: Hostile) -> bool:
    """A final volume left empty is no final volume (the ingredients' sum): not hostile."""
    return entry.amount is None and not _blank(entry)


# --- the entry points ------------------------------------------------------------------------


UNIQUE = itertools.count(1)


def points(s: Services) -> list[Point]:
    n = UNIQUE  # numbers for references, codes and lot numbers never used before

    def draft(**changes) -> DraftMixture:
        fields = {
            "ingredients": (DraftIngredient("lidocaine", "20 mg"),),
            "final_volume": "5 mL",
            "patient": "P-1",
        }
        fields.update(changes)
        return DraftMixture(**fields)

    def check(**changes):
        return _plan_outcome(s.mixtures.check(draft(**changes), "sam"))

    def dispense(*args, **kwargs):
        """Each dispense in a session of its own (an hour, and an hour later): what the accepted
        ones add up to is not what the hostile inputs are refused for."""
        s.clock.advance(timedelta(minutes=61))  # type: ignore[attr-defined]
        return s.mixtures.dispense(*args, **kwargs)

    def amount_read(entry: Hostile, plan) -> str | None:
        delivered = plan.draws[0].delivered[0]
        return _quantity_equal(
            entry.amount or "", Field.AMOUNT, delivered.value, delivered.dimension
        )

    def batch_draft(entry: Hostile, result) -> dict:
        row = _one(s, select(BatchRow).where(BatchRow.id == result.batch_id))
        return row.draft

    def new_patient(entry: Hostile, _id) -> str | None:
        row = _one(s, select(PatientRow).where(PatientRow.ref == entry.text.strip()))
        if row is None:
            return "no patient under the reference as typed"
        s.people.set_weight("drchen", entry.text, "70 kg")  # found again by what was typed
        return None

    def patient_named(entry: Hostile, patient_id: int) -> str | None:
        row = _one(s, select(PatientRow).where(PatientRow.id == patient_id))
        return _equal("name", row.name, entry.text.strip())

    def patient_weight(entry: Hostile, patient_id: int) -> str | None:
        row = _one(s, select(PatientRow).where(PatientRow.id == patient_id))
        if _blank(entry):
            return _equal("weight", row.weight_g, None)  # no weight yet
        return _quantity_equal(entry.text, Field.BODY_WEIGHT, Decimal(row.weight_g) * 1000, "mass")

    def p1_weight(entry: Hostile, _none) -> str | None:
        row = _one(s, select(PatientRow).where(PatientRow.ref == "P-1"))
        return _quantity_equal(entry.text, Field.BODY_WEIGHT, Decimal(row.weight_g) * 1000, "mass")

    def lot_numbered(entry: Hostile, lot_id: int) -> str | None:
        row = _lot(s, entry.text.strip(), RECEIVED)
        return "no lot under the number as typed" if row is None or row.id != lot_id else None

    def lot_field(name: str, expected):
        def read(entry: Hostile, lot_id: int) -> str | None:
            row = _one(s, select(LotRow).where(LotRow.id == lot_id))
            return _equal(name, getattr(row, name), expected(entry.text))

        return read

    def movement_note(entry: Hostile, movement_id: int) -> str | None:
        row = _one(s, select(MovementRow).where(MovementRow.id == movement_id))
        return _equal("note", row.note, entry.text.strip())

    def moved_as_typed(entry: Hostile, movement_id: int) -> str | None:
        row = _one(s, select(MovementRow).where(MovementRow.id == movement_id))
        return _quantity_equal(
            entry.text, Field.VOLUME, Decimal(abs(row.quantity_ul)) / 1000, "volume"
        )

    mdv = _lot(s, "H-MDV")
    lido = _lot(s, "H-LIDO")
    statuses = _other_status(s, mdv.id)  # a change to the status the lot has is refused
    correctable: list[int] = []

    def fresh_movement(_entry: Hostile) -> None:
        correctable.append(s.inventory.adjust("nadia", mdv.id, 10, "found", "to be corrected"))

    def allergy_field(read):
        def check_row(entry: Hostile, allergy_id) -> str | None:
            ids = allergy_id if isinstance(allergy_id, list) else [allergy_id]
            row = _one(s, select(AllergyRow).where(AllergyRow.id == ids[0]))
            return read(entry, row)

        return check_row

    def fhir(entry: Hostile, **changes) -> dict:
        resource = {
            "resourceType": "AllergyIntolerance",
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "verificationStatus": {"coding": [{"code": "unconfirmed"}]},
            "code": {"text": "procaine"},
            "patient": {"reference": "Patient/P-1"},
        }
        resource.update(changes)
        return resource

    def csv_text(header: list[str], row: list[str]) -> str:
        out = io.StringIO()
        writer = csv.writer(out)  # quotes cells holding CR or LF: each cell arrives as typed
        writer.writerows([header, row])
        return out.getvalue()

    product_header = ["code", "name", "container", "container_volume", "source", "strengths"]

    def product_row(**cells: str) -> list[str]:
        row = {
            "code": f"hostile_{next(n)}",
            "name": "Hostile test product",
            "container": "single_dose",
            "container_volume": "1 mL",
            "source": "hostile corpus",
            "strengths": "biotin 5 mg/mL",
        }
        row.update(cells)
        return [row[c] for c in product_header]

    def products(text: str):
        """Import products without reloading the catalogue after each: every accepted row would
        reload it (what the import checks reads the database and the shipped catalogue alone)."""
        invalidate, s.catalog.invalidate = s.catalog.invalidate, lambda: None
        try:
            return s.imports.products("nadia", text)
        finally:
            s.catalog.invalidate = invalidate

    def product_named(entry: Hostile, _result) -> str | None:
        row = _one(s, select(ProductRow).where(ProductRow.name == entry.text.strip()))
        return None if row is not None else "no product under the name as typed"

    imported = itertools.cycle(IMPORTED)
    stock_header = ["product", "lot_number", "expiry", "containers", "supplier", "unit_cost"]

    def stock_row(**cells: str) -> list[str]:
        row = {
            "product": next(imported),
            "lot_number": f"CSV-{next(n)}",
            "expiry": EXPIRY.isoformat(),
            "containers": "1",
            "supplier": "",
            "unit_cost": "",
        }
        row.update(cells)
        return [row[c] for c in stock_header]

    def unlock_victim(_entry: Hostile) -> None:
        with unit_of_work(s.engine, write=True) as session:
            session.execute(
                sa.update(UserRow).where(UserRow.name == "victim").values(failed_attempts=0, locked_until=None)
            )  # fmt: skip

    def unlock_drchen(_entry: Hostile) -> None:  # each password judged, not the lock it made
        with unit_of_work(s.engine, write=True) as session:
            session.execute(
                sa.update(UserRow).where(UserRow.name == "drchen").values(failed_attempts=0, locked_until=None)
            )  # fmt: skip

    def user_named(entry: Hostile, _id) -> str | None:
        s.accounts.sign_in(entry.text, PASSWORD)  # signs in under the name as typed
        return None

    def user_display(entry: Hostile, user_id: int) -> str | None:
        row = _one(s, select(UserRow).where(UserRow.id == user_id))
        return _equal("display name", row.display_name, entry.text)

    def user_password(entry: Hostile, user_id: int) -> str | None:
        row = _one(s, select(UserRow).where(UserRow.id == user_id))
        s.accounts.sign_in(row.name, entry.text)  # the password works exactly as typed
        return None

    allergic = s.mixtures.check(draft(patient="P-ALLERGIC"), "sam")
    allergy_key = next(f.key for f in allergic.findings if f.overridable)

    def signed(**changes) -> list[Signature]:
        fields = {
            "finding_key": allergy_key,
            "practitioner": "drchen",
            "password": PASSWORD,
            "reason_code": "tolerated_before",
            "reason_text": "given in 2025 without reaction",
        }
        fields.update(changes)
        return [Signature(**fields)]

    def override_text(entry: Hostile, result) -> str | None:
        row = _one(s, select(OverrideRow).where(OverrideRow.batch_id == result.batch_id))
        return _equal("reason", row.reason_text, entry.text.strip())

    def audit_filtered(entry: Hostile, lines) -> str | None:
        wrong = [line.user_name for line in lines if entry.text and line.user_name != entry.text]
        return f"rows of other users: {wrong[:3]}" if wrong else None

    amount = ("amount", "ingredient", "lidocaine")
    csv_file = ("row", "file", "CSV")  # a problem of the whole row or file, not of one cell
    volume = ("final volume", "volume")
    tables = frozenset
    return [
        # quantities: the mixture, checked and dispensed
        Point("check: ingredient amount", lambda e: check(ingredients=(DraftIngredient("lidocaine", e.text),)),
              amount_read, amount, must_refuse=_hostile_quantity),
        Point("check: final volume", lambda e: check(final_volume=e.text), None, volume,
              must_refuse=_hostile_volume),
        Point("check: ingredient name", lambda e: check(ingredients=(DraftIngredient(e.text, "20 mg"),)),
              None, ("ingredient", "substance", "product")),
        Point("check: product code", lambda e: check(ingredients=(DraftIngredient("lidocaine", "20 mg", e.text),)),
              None, ("product",)),
        Point("check: patient", lambda e: check(patient=e.text), None, ("patient",)),
        Point("check: diluent", lambda e: check(diluent=e.text), None, ("diluent",)),
        Point("check: storage, category, purpose", lambda e: check(storage=e.text, category=e.text, purpose=e.text),
              None, ("storage", "category", "purpose")),
        Point("check: prescriber", lambda e: check(prescriber=e.text), None, ("practitioner",)),
        Point("check: acting user", lambda e: s.mixtures.check(draft(), e.text), None, ("user",)),
        Point("dispense: ingredient amount",
              lambda e: dispense(draft(ingredients=(DraftIngredient("lidocaine", e.text),)), "sam"),
              lambda e, r: _equal("amount", batch_draft(e, r)["ingredients"][0]["amount"], e.text),
              amount, tables({"lot", "movement", "batch", "batch_line"}), must_refuse=_hostile_quantity),
        Point("dispense: ingredient name",
              lambda e: dispense(draft(ingredients=(DraftIngredient(e.text, "20 mg"),)), "sam"),
              lambda e, r: _equal("ingredient", batch_draft(e, r)["ingredients"][0]["what"], e.text),
              ("ingredient", "substance", "product"), tables({"lot", "movement", "batch", "batch_line"})),
        Point("dispense: final volume", lambda e: dispense(draft(final_volume=e.text), "sam"),
              lambda e, r: _equal("final volume", batch_draft(e, r)["final_volume"], e.text),
              volume, tables({"lot", "movement", "batch", "batch_line"}), must_refuse=_hostile_volume),
        Point("dispense: override reason text",
              lambda e: dispense(draft(patient="P-ALLERGIC"), "sam", signed(reason_text=e.text)),
              override_text, ("override", "why", "reason"),
              tables({"lot", "movement", "batch", "batch_line", "override"})),
        Point("dispense: override finding key",
              lambda e: dispense(draft(patient="P-ALLERGIC"), "sam", signed(finding_key=e.text)),
              None, ("finding", "override")),
        Point("dispense: override password",
              lambda e: dispense(draft(patient="P-ALLERGIC"), "sam", signed(password=e.text)),
              None, ("signature", "password"), refusal_writes=tables({"user_account"}), prepare=unlock_drchen),
        # patients
        Point("patient add: reference", lambda e: s.people.add_patient("drchen", e.text, "Hostile Reference"),
              new_patient, ("reference",), tables({"patient"})),
        Point("patient add: name", lambda e: s.people.add_patient("drchen", f"HN-{next(n)}", e.text),
              patient_named, ("name",), tables({"patient"})),
        Point("patient add: weight", lambda e: s.people.add_patient("drchen", f"HW-{next(n)}", "W", weight=e.text),
              patient_weight, ("weight",), tables({"patient"})),
        Point("patient weight: reference", lambda e: s.people.set_weight("drchen", e.text, "70 kg"),
              None, ("reference", "patient"), tables({"patient"})),
        Point("patient weight: weight", lambda e: s.people.set_weight("drchen", "P-1", e.text),
              p1_weight, ("weight",), tables({"patient"})),
        # stock and the manager's work
        Point("receive: lot number", lambda e: s.stock.receive("nadia", RECEIVED, e.text, EXPIRY, 1),
              lot_numbered, ("lot number",), tables({"lot", "movement"})),
        Point("receive: supplier", lambda e: s.stock.receive("nadia", RECEIVED, f"SUP-{next(n)}", EXPIRY, 1, supplier=e.text),
              lot_field("supplier", str.strip), ("supplier",), tables({"lot", "movement"})),
        Point("receive: unit cost", lambda e: s.stock.receive("nadia", RECEIVED, f"UC-{next(n)}", EXPIRY, 1, unit_cost=e.text),
              lot_field("unit_cost_cents", lambda t: int(Decimal(t.strip()) * 100) if t.strip() else None), ("unit cost",),
              tables({"lot", "movement"})),
        Point("receive: product code", lambda e: s.stock.receive("nadia", e.text, "PC-1", EXPIRY, 1),
              None, ("product",)),
        Point("stock: product filter", lambda e: s.stock.lots("nadia", e.text),
              lambda e, lines: None if not e.text or all(line.product_code == e.text for line in lines) else "other products"),
        Point("lot adjust: note", lambda e: s.inventory.adjust("nadia", mdv.id, 10, "found", e.text),
              movement_note, ("note",), tables({"lot", "movement"})),
        Point("lot adjust: quantity", lambda e: s.inventory.adjust_typed("nadia", mdv.id, e.text, "add", "found", "a note"),
              moved_as_typed, ("volume", "container"), tables({"lot", "movement"}), must_refuse=_hostile_volume),
        Point("lot waste: quantity", lambda e: s.inventory.waste_typed("nadia", mdv.id, e.text, "damaged", "a note"),
              moved_as_typed, ("volume", "container", "H-MDV"), tables({"lot", "movement"}), must_refuse=_hostile_volume),
        Point("lot adjust: reason", lambda e: s.inventory.adjust("nadia", mdv.id, 10, e.text, "a note"),
              None, ("reason",), tables({"lot", "movement"})),
        Point("lot return: note", lambda e: s.inventory.return_to_supplier("nadia", lido.id, 1, e.text),
              lambda e, m: movement_note(e, m) if e.text.strip() else None, ("note",),
              tables({"lot", "movement"})),
        Point("lot count: open volume",
              lambda e: s.inventory.count("nadia", mdv.id, _lot(s, "H-MDV").on_hand_ul // 10_000, e.text, "miscount_previously"),
              lambda e, _m: None if _blank(e) else _open_equal(e.text, Decimal(_lot(s, "H-MDV").open_ul) / 1000),
              ("open vial", "open volume", "opened container"), tables({"lot", "movement"})),
        Point("lot status: reason", lambda e: s.inventory.set_status("nadia", mdv.id, next(statuses), e.text),
              lambda e, _none: _equal("reason", _lot(s, "H-MDV").status_reason, e.text.strip()),
              ("why", "reason"), tables({"lot"})),
        Point("lot correct: note", lambda e: s.inventory.correct("nadia", correctable[-1], e.text),
              movement_note, ("why", "note"), tables({"lot", "movement"}), prepare=fresh_movement),
        Point("product reorder: code", lambda e: s.inventory.set_reorder("nadia", e.text, 5, 10),
              None, ("product",)),
        # allergies, typed and imported
        Point("allergy: free text", lambda e: s.allergies.record("P-1", "drchen", Allergy(text=e.text)),
              allergy_field(lambda e, row: _equal("text", row.text, e.text.strip())), ("allergy", "free text"),
              tables({"allergy"})),
        Point("allergy: note", lambda e: s.allergies.record("P-1", "drchen", Allergy(substance="procaine_hcl", note=e.text)),
              allergy_field(lambda e, row: _equal("note", row.note, e.text)), ("note",), tables({"allergy"})),
        Point("allergy: reaction",
              lambda e: s.allergies.record("P-1", "drchen", Allergy(substance="procaine_hcl", reactions=(Reaction(e.text, "mild"),))),
              allergy_field(lambda e, row: _equal("reaction", row.reactions[0]["manifestation"], e.text)),
              ("reaction",), tables({"allergy"})),
        Point("allergy: patient", lambda e: s.allergies.record(e.text, "drchen", Allergy(substance="procaine_hcl")),
              None, ("patient",), tables({"allergy"})),  # references taken by "patient add" are found
        Point("allergy: substance code", lambda e: s.allergies.record("P-1", "drchen", Allergy(substance=e.text)),
              None, ("substance", "allergy")),
        Point("FHIR import: whole document", lambda e: s.allergies.import_fhir("P-1", "drchen", e.text),
              None, ("JSON", "resource")),
        Point("FHIR import: code text", lambda e: s.allergies.import_fhir("P-1", "drchen", fhir(e, code={"text": e.text})),
              allergy_field(lambda e, row: None if row.substance_code or row.group_code else _equal("text", row.text, e.text.strip())),
              ("code", "text"), tables({"allergy"})),
        Point("FHIR import: note", lambda e: s.allergies.import_fhir("P-1", "drchen", fhir(e, note=[{"text": e.text}])),
              allergy_field(lambda e, row: _equal("note", row.note, e.text.strip())), ("note",), tables({"allergy"})),
        Point("FHIR import: reaction",
              lambda e: s.allergies.import_fhir("P-1", "drchen", fhir(e, reaction=[{"manifestation": [{"text": e.text}]}])),
              allergy_field(lambda e, row: _equal("reaction", row.reactions[0]["manifestation"], e.text)),
              ("reaction", "manifestation"), tables({"allergy"})),
        Point("FHIR import: criticality", lambda e: s.allergies.import_fhir("P-1", "drchen", fhir(e, criticality=e.text)),
              None, ("criticality",), tables({"allergy"})),
        Point("FHIR import: recorded date", lambda e: s.allergies.import_fhir("P-1", "drchen", fhir(e, recordedDate=e.text)),
              None, ("recordedDate", "date"), tables({"allergy"})),
        Point("FHIR import: patient reference",
              lambda e: s.allergies.import_fhir("P-1", "drchen", fhir(e, patient={"reference": e.text})),
              None, ("patient",), tables({"allergy"})),
        # CSV imports: each cell, and the file itself
        Point("CSV products: name", lambda e: products(csv_text(product_header, product_row(name=e.text))),
              product_named, ("name", *csv_file), tables({"product"}), longest_message=12_000),
        Point("CSV products: code", lambda e: products(csv_text(product_header, product_row(code=e.text))),
              None, ("code", *csv_file), tables({"product"}), longest_message=12_000),
        Point("CSV products: container volume",
              lambda e: products(csv_text(product_header, product_row(container_volume=e.text))),
              None, ("container_volume", *csv_file), tables({"product"}), must_refuse=_hostile_quantity, longest_message=12_000),
        Point("CSV products: strengths",
              lambda e: products(csv_text(product_header, product_row(strengths=e.text))),
              None, ("strengths", *csv_file), tables({"product"}), longest_message=12_000),
        Point("CSV products: whole file", lambda e: products(e.text),
              None, ("column", "file", "row"), tables({"product"}), longest_message=12_000),
        Point("CSV products: raw in a row",
              lambda e: products(",".join(product_header) + f"\nhostile_raw_{next(n)},{e.text},single_dose,1 mL,src,biotin 5 mg/mL\n"),
              None, ("row", *csv_file), tables({"product"}), longest_message=12_000),
        Point("CSV stock: lot number", lambda e: s.imports.stock("nadia", csv_text(stock_header, stock_row(lot_number=e.text))),
              lambda e, _r: None if _lot(s, e.text.strip()) else "no lot under the number as typed",
              ("lot_number", *csv_file), tables({"lot", "movement"}), longest_message=12_000),
        Point("CSV stock: supplier", lambda e: s.imports.stock("nadia", csv_text(stock_header, stock_row(supplier=e.text))),
              None, ("supplier", *csv_file), tables({"lot", "movement"}), longest_message=12_000),
        Point("CSV stock: unit cost", lambda e: s.imports.stock("nadia", csv_text(stock_header, stock_row(unit_cost=e.text))),
              None, ("unit_cost", *csv_file), tables({"lot", "movement"}), longest_message=12_000),
        Point("CSV stock: quantity",
              lambda e: s.imports.stock("nadia", csv_text([*stock_header[:3], "quantity"], [*stock_row()[:3], e.text])),
              None, ("quantity", *csv_file), tables({"lot", "movement"}), must_refuse=_hostile_quantity, longest_message=12_000),
        Point("CSV stock: expiry", lambda e: s.imports.stock("nadia", csv_text(stock_header, stock_row(expiry=e.text))),
              None, ("expiry", *csv_file), tables({"lot", "movement"}), longest_message=12_000),
        Point("CSV stock: product", lambda e: s.imports.stock("nadia", csv_text(stock_header, stock_row(product=e.text))),
              None, ("product", *csv_file), tables({"lot", "movement"}), longest_message=12_000),
        Point("CSV stock: whole file", lambda e: s.imports.stock("nadia", e.text),
              None, ("column", "file", "row"), tables({"lot", "movement"}), longest_message=12_000),
        # people: signing in and the admin's work
        Point("sign in: user name", lambda e: s.accounts.sign_in(e.text, PASSWORD), None, ("user name",)),
        Point("sign in: password", lambda e: s.accounts.sign_in("victim", e.text), None, ("password",),
              refusal_writes=tables({"user_account"}), prepare=unlock_victim),
        Point("user create: name", lambda e: s.accounts.create_user("root", e.text, "Hostile", "staff", PASSWORD),
              user_named, ("user name",), tables({"user_account", "user_site"})),
        Point("user create: display name", lambda e: s.accounts.create_user("root", f"display{next(n)}", e.text, "staff", PASSWORD),
              user_display, ("display name",), tables({"user_account", "user_site"})),
        Point("user create: password", lambda e: s.accounts.create_user("root", f"password{next(n)}", "P", "staff", e.text),
              user_password, ("password",), tables({"user_account", "user_site"})),
        Point("user create: role", lambda e: s.accounts.create_user("root", f"role{next(n)}", "R", e.text, PASSWORD),
              None, ("role",), tables({"user_account", "user_site"})),
        Point("user unlock: name", lambda e: s.accounts.unlock("root", e.text), None, ("user",), tables({"user_account"})),
        # what managers read
        Point("audit show: user filter", lambda e: audit_show(s.engine, user=e.text), audit_filtered),
        Point("report: name", lambda e: s.reports.report("nadia", e.text), None, ("report",)),
        Point("report: period", lambda e: s.reports.report("nadia", "usage", period=e.text), None, ("period",)),
    ]  # fmt: skip


# Two halves, so that two test workers share the run (each builds the module's database).
HALVES = {
    "mixtures, patients and stock": lambda name: name.split(":")[0] in (
        "check", "dispense", "patient add", "patient weight", "receive", "stock", "lot adjust",
        "lot waste", "lot return", "lot count", "lot status", "lot correct", "product reorder",
    ),
    "allergies, imports, accounts and reports": lambda name: name.split(":")[0] in (
        "allergy", "FHIR import", "CSV products", "CSV stock", "sign in", "user create",
        "user unlock", "audit show", "report",
    ),
}  # fmt: skip


def test_every_service_entry_point_is_in_a_half(clinic):
    names = [point.name for point in points(clinic)]
    assert sorted(n for n in names for half in HALVES.values() if half(n)) == sorted(names)


@pytest.mark.slow
@pytest.mark.parametrize("half", list(HALVES))
def test_every_hostile_input_through_every_service_entry_point(clinic, half):
    chosen = [point for point in points(clinic) if HALVES[half](point.name)]
    with quick_passwords():
        tallies = run_points(chosen, clinic.engine)
    total, table = report(tallies, f"services, {half}")
    print(table)
    assert total.calls == len(corpus()) * len(tallies)
    dump_failures(total.failures)
    assert total.problems == 0, table + "\n" + "\n".join(total.failures[:80])
    assert clinic.stock.discrepancies() == []


# PostgreSQL refuses NUL in text and stores by encoding: the inputs that hold what it treats
# differently, through the entry points that look text up or store it.
ON_POSTGRESQL = (
    "check: patient", "check: prescriber", "check: acting user", "check: diluent",
    "patient add: reference", "patient add: name", "patient weight: reference",
    "receive: lot number", "receive: supplier", "receive: product code", "stock: product filter",
    "lot adjust: note", "lot status: reason", "product reorder: code",
    "allergy: free text", "allergy: note", "allergy: reaction", "allergy: patient",
    "FHIR import: note", "CSV products: name", "CSV stock: lot number", "CSV stock: product",
    "sign in: user name", "sign in: password", "user create: display name", "audit show: user filter",
)  # fmt: skip


def _differs_on_postgresql(entry: Hostile) -> bool:
    return len(entry.text) > 1_000 or any(
        ord(c) < 0x20 or ord(c) == 0x7F or 0xD800 <= ord(c) <= 0xDFFF for c in entry.text
    )


@pytest.mark.slow
def test_the_inputs_postgresql_treats_differently(postgres):
    services = open_clinic(postgres.create_database("hostile"))
    chosen = [point for point in points(services) if point.name in ON_POSTGRESQL]
    entries = [entry for entry in corpus() if _differs_on_postgresql(entry)]
    with quick_passwords():
        tallies = run_points(chosen, services.engine, entries)
    total, table = report(tallies, "PostgreSQL: NUL, controls, surrogates, length")
    print(table)
    assert len(chosen) == len(ON_POSTGRESQL) and total.calls == len(entries) * len(chosen)
    assert total.problems == 0, table + "\n" + "\n".join(total.failures[:80])
    assert services.stock.discrepancies() == []
    services.close()


NAME_FIELDS = (
    "patient add: name", "patient add: reference", "receive: lot number", "receive: supplier",
    "lot adjust: note", "allergy: free text", "user create: display name", "sign in: user name",
    "check: ingredient name", "CSV products: name",
)  # fmt: skip


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=300))
@example(text="SODIUM_HYALURONATE")  # a substance's code: a shortage named no row once
def test_random_text_in_the_name_fields(clinic, text):
    """Names, references, lot numbers, notes as hypothesis writes them: each refused with a
    specific message and nothing written, or stored and read back exactly."""
    entry = Hostile(0, "hypothesis", text)
    chosen = [point for point in points(clinic) if point.name in NAME_FIELDS]
    with quick_passwords():
        tallies = run_points(chosen, clinic.engine, [entry])
    failures = [f for tally in tallies.values() for f in tally.failures]
    assert len(chosen) == len(NAME_FIELDS) and not failures, failures


def _other_status(services, lot_id: int):
    """Endlessly, the status the lot does not have now (quarantined or available)."""
    while True:
        now = services.inventory.lot_ref("nadia", lot_id).status
        yield "available" if now == "quarantined" else "quarantined"
