"""The demo data set: people from data/demo, stock generated around today, a little history, and
reorder levels for a few products (data/demo/stock.toml) so the low-stock list shows something.

Lots are received and mixtures dispensed through the real services with a back-dated clock, so the
demo ledger is what a clinic's would be: every lot's stock is the sum of its movements.
"""

from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlmodel import func, select

from mesomix.clock import Clock, FixedClock
from mesomix.db.append_only import ledger_guard_lifted
from mesomix.db.sites import site_of
from mesomix.db.tables import (
    AcknowledgementRow,
    AllergyRow,
    BatchLineRow,
    BatchRow,
    ConsentRow,
    CourseRow,
    CourseSessionRow,
    CourseVersionRow,
    FormulaRow,
    FormulaVersionRow,
    InjectionRow,
    LotRow,
    MovementRow,
    OverrideRow,
    PatientRow,
    ProductGtinRow,
    ReactionAllergyRow,
    ReactionRow,
    ReactionVersionRow,
    UserRow,
    UserSiteRow,
)
from mesomix.domain.catalog import Product
from mesomix.domain.course.plan import ZoneVolume
from mesomix.domain.ledger import WIPE_ACTION
from mesomix.domain.mixture import DraftIngredient, DraftMixture
from mesomix.domain.permissions import Action
from mesomix.reference import data_dir
from mesomix.services.accounts import AccountService
from mesomix.services.audit import Entry, append, record
from mesomix.services.catalog import CatalogService
from mesomix.services.courses import CourseService
from mesomix.services.errors import ServiceError
from mesomix.services.formulas import FormulaService
from mesomix.services.gtins import GtinService
from mesomix.services.mixtures import MixtureService
from mesomix.services.passwords import hash_password
from mesomix.services.stock import StockService
from mesomix.services.uow import unit_of_work

_CLEARED = (
    ProductGtinRow,  # linked by people, who go
    ReactionAllergyRow,
    ReactionVersionRow,
    ReactionRow,
    MovementRow,
    BatchLineRow,
    AcknowledgementRow,
    OverrideRow,
    BatchRow,
    InjectionRow,
    CourseSessionRow,
    ConsentRow,
    CourseVersionRow,
    CourseRow,
    FormulaVersionRow,
    FormulaRow,
    LotRow,
    AllergyRow,
    PatientRow,
    UserSiteRow,
    UserRow,
)
DEMO_MANAGER = "nadia"
DEMO_STAFF = "sam"
DEMO_PRACTITIONER = "drchen"
SUPPLIERS = (
    "Pharma Direct",
    "MedSupply Europe",
    "Clinique Distribution",
    "Hospital Wholesale",
)  # fictional


class DemoServices(Protocol):
    """What the demo loads through: bootstrap's Services, named here by what is used of it
    (importing it would point up a layer)."""

    @property
    def engine(self) -> sa.Engine: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def catalog(self) -> CatalogService: ...
    @property
    def inventory(self) -> StockService: ...
    @property
    def formulas(self) -> FormulaService: ...
    @property
    def courses(self) -> CourseService: ...
    @property
    def gtins(self) -> GtinService: ...


def holds_data(engine: sa.Engine) -> bool:
    with unit_of_work(engine) as session:
        return any(
            session.exec(select(func.count()).select_from(table)).one()
            for table in (UserRow, PatientRow, LotRow)
        )


def require_replacing(engine: sa.Engine, accounts: AccountService, actor: str | None) -> None:
    """Wiping a database that holds data takes an admin, signed in; an empty one anybody may
    fill."""
    if not holds_data(engine):
        return
    if not actor:
        raise ServiceError("replacing a database's data needs an admin: add --user NAME")
    accounts.require(actor, Action.LOAD_DEMO)


def load_demo(services: DemoServices, *, replace: bool = False, seed: int = 2026) -> dict[str, int]:
    """Fill the database with the demo set; refuses a database with other data unless `replace`."""
    engine = services.engine
    now = services.clock.now()
    if holds_data(engine) and not replace:
        raise ServiceError(
            "this database already holds users, patients or stock: the demo would mix with them. "
            "Use another database (--db) or say --replace to wipe it and load the demo."
        )
    people = tomllib.loads((data_dir() / "demo" / "people.toml").read_text(encoding="utf-8"))
    with unit_of_work(engine, write=True) as session:
        if replace:
            _wipe(session.connection(), now)
        here = site_of(session.connection())
        for user in people["user"]:
            row = UserRow(
                name=user["name"],
                display_name=user["display_name"],
                role=user["role"],
                password_hash=hash_password(user["password"]),
                created_at=now,
            )
            session.add(row)
            session.flush()
            session.add(UserSiteRow(user_id=row.id or 0, site_id=here))
        for raw in people["patient"]:
            patient = PatientRow(
                ref=raw["ref"],
                name=raw["name"],
                date_of_birth=raw.get("date_of_birth"),
                sex=raw.get("sex", "unknown"),
                weight_g=int(Decimal(raw["weight_kg"]) * 1000) if "weight_kg" in raw else None,
                notes=raw.get("notes", ""),
                created_at=now,
            )
            session.add(patient)
            session.flush()
            for allergy in raw.get("allergy", []):
                session.add(
                    AllergyRow(
                        patient_id=patient.id or 0,
                        substance_code=allergy.get("substance"),
                        group_code=allergy.get("group"),
                        text=allergy.get("text", ""),
                        clinical_status=allergy.get("clinical_status", "active"),
                        verification=allergy.get("verification", "unconfirmed"),
                        criticality=allergy.get("criticality", "unable-to-assess"),
                        reactions=(
                            [
                                {
                                    "manifestation": allergy["reaction"],
                                    "severity": allergy.get("reaction_severity", ""),
                                }
                            ]
                            if allergy.get("reaction")
                            else []
                        ),
                        note=allergy.get("note", ""),
                        recorded_on=allergy.get("recorded_on"),
                    )
                )
    record(
        engine,
        services.clock,
        Entry(
            "demo.load",
            user_name="mesomix",
            reason="demo data set loaded" + (" (replacing)" if replace else ""),
        ),
    )
    lots = _receive_lots(services, now, random.Random(seed))
    batches = _history(services, now, people["patient"])
    formulas = load_demo_formulas(services.formulas, DEMO_PRACTITIONER)
    courses = _courses(services, now)
    reorder = _reorder_levels(services)
    gtins = _gtins(services)
    return {
        "users": len(people["user"]),
        "patients": len(people["patient"]),
        "lots": lots,
        "batches": batches,
        "formulas": formulas,
        "courses": courses,
        "reorder levels": reorder,
        "GTINs": gtins,
    }


def _wipe(connection: sa.Connection, now: datetime) -> None:
    """Empty the tables the demo fills, its ledger included, in the caller's transaction: the
    ledger's append-only guard is lifted for the deletes alone, and the wipe is written to the
    trail with what it removed, so `mesomix check` reconciles the ledger from there on."""
    removed = {
        table.__tablename__: connection.execute(
            sa.select(func.count()).select_from(table)
        ).scalar_one()
        for table in _CLEARED
    }
    with ledger_guard_lifted(connection):
        for table in _CLEARED:
            connection.execute(sa.delete(table))
    append(
        connection,
        now,
        Entry(
            WIPE_ACTION,
            user_name="mesomix",
            new={"removed": removed},
            reason="the demo's --replace: users, patients, stock and its ledger removed",
        ),
    )


def _reorder_levels(services: DemoServices) -> int:
    """The demo's reorder levels, set by the demo manager through the inventory service (each
    with its audit row, as a manager's would be)."""
    stock = tomllib.loads((data_dir() / "demo" / "stock.toml").read_text(encoding="utf-8"))
    for level in stock["reorder"]:
        services.inventory.set_reorder(
            DEMO_MANAGER, level["product"], level["level"], level["quantity"]
        )
    return len(stock["reorder"])


def _gtins(services: DemoServices) -> int:
    """The demo shelf's box and vial codes (GS1's prefix for examples), linked by the demo
    manager in one change, as a manager links the codes of a delivery."""
    demo = tomllib.loads((data_dir() / "demo" / "gtins.toml").read_text(encoding="utf-8"))
    links = [(g["code"], g["product"], g["packaging"]) for g in demo["gtin"]]
    services.gtins.link_many(DEMO_MANAGER, links, reason="demo data set")
    return len(links)


def _lot_number(rng: random.Random) -> str:
    shape = rng.choice(("LDDDDDD", "DLLDDDD", "LLDDDDL", "DDDDDDD-D"))
    return "".join(
        rng.choice("ABCDEFGHJKLMNPRSTUVWXZ")
        if c == "L"
        else str(rng.randint(0, 9))
        if c == "D"
        else c
        for c in shape
    )


def _receive_lots(services: DemoServices, now: datetime, rng: random.Random) -> int:
    """Per product, one lot in date and up to two more: some expired, some expiring within 30 days."""
    catalog = services.catalog.catalog()
    today = services.clock.today()
    count = 0
    for code in sorted(catalog.products):
        product = catalog.products[code]
        for index in range(rng.choice((1, 2, 2, 3))):
            roll = rng.random()
            if index == 0 or roll >= 0.45:
                expiry = today + timedelta(days=rng.randint(90, 720))
            elif roll < 0.15:
                expiry = today - timedelta(days=rng.randint(3, 60))  # expired, still on the shelf
            else:
                expiry = today + timedelta(days=rng.randint(5, 30))  # expiring soon
            received = min(
                now - timedelta(days=rng.randint(70, 200)), _noon(expiry) - timedelta(days=60)
            )
            stock = StockService(services.engine, FixedClock(received))
            stock.receive(
                DEMO_MANAGER,
                code,
                _lot_number(rng),
                expiry,
                _containers(product, rng),
                supplier=rng.choice(SUPPLIERS),
                unit_cost=f"{rng.randint(1, 45)}.{rng.randint(0, 99):02d}",
            )
            count += 1
    return count


def _containers(product: Product, rng: random.Random) -> int:
    """Whole packs where packs are big; otherwise a realistic handful, more of the diluents."""
    if product.pack_size >= 5:
        return product.pack_size * rng.randint(1, 3)
    low, high = (20, 40) if product.diluent else (5, 20)
    return rng.randint(low, high)


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def _history(services: DemoServices, now: datetime, patients: list[dict[str, object]]) -> int:
    """A few mixtures from recent days, which also leaves some multi-dose vials open."""
    recipes = [
        ("lidocaine", "20 mg", "dexpanthenol", "250 mg", "4 mL", "hair loss"),
        ("ascorbic acid", "300 mg", "cyanocobalamin", "500 mcg", "5 mL", "skin quality"),
        ("tranexamic acid", "50 mg", "lidocaine", "10 mg", "3 mL", "facial rejuvenation"),
    ]
    made = 0
    for day, (a, amount_a, b, amount_b, final, purpose) in enumerate(recipes, start=1):
        clock = FixedClock(now - timedelta(days=day * 3, hours=2))
        mixtures = MixtureService(services.engine, services.catalog, clock)
        draft = DraftMixture(
            ingredients=(DraftIngredient(a, amount_a), DraftIngredient(b, amount_b)),
            final_volume=final,
            patient=str(patients[day]["ref"]),
            purpose=purpose,
            prescriber=DEMO_PRACTITIONER,
        )
        mixtures.dispense(draft, DEMO_STAFF, acknowledge_all=True)  # as read at the time
        made += 1
    return made


# --- the demo courses ---------------------------------------------------------------------


def _courses(services: DemoServices, now: datetime) -> int:
    """Three courses for the worklist and the forecast: a hair course two sessions in (its
    third booked this afternoon, its fourth next week), a face course consented and booked
    for later today, and a cellulite course booked for tomorrow whose consent is not taken
    yet (the worklist shows it not ready). Planned and held on a clock set back, as they were."""
    zone = services.clock.zone
    today = services.clock.today()

    def at(days: int, hour: int, minute: int = 0) -> datetime:
        day = today + timedelta(days=days)
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)

    def consent(courses: CourseService, course: int) -> None:
        text = courses.consent_text(DEMO_PRACTITIONER, course)
        statement = "Explained in person; the patient read the text, asked questions and agreed."
        courses.sign_consent(DEMO_PRACTITIONER, course, text, statement)

    back = FixedClock(at(-14, 9), zone)
    earlier = CourseService(services.engine, back, services.courses.templates, services.catalog)
    hair = earlier.plan(
        DEMO_PRACTITIONER,
        "P-0003",
        "hair",
        "hair_restoration",
        (ZoneVolume("scalp", 4000),),
        back.today(),
    )
    consent(earlier, hair.id)
    for days in (-14, -7):
        then = FixedClock(at(days, 10), zone)
        held = CourseService(services.engine, then, services.courses.templates, services.catalog)
        draft = held.session_draft(DEMO_STAFF, hair.id)
        MixtureService(services.engine, services.catalog, then).dispense(
            draft, DEMO_STAFF, acknowledge_all=True
        )
    courses = services.courses
    courses.book(DEMO_STAFF, hair.id, 3, max(at(0, 14, 30), now + timedelta(minutes=5)))
    courses.book(DEMO_STAFF, hair.id, 4, at(7, 14, 30))
    face = courses.plan(
        DEMO_PRACTITIONER,
        "P-0005",
        "face",
        "facial_revitalisation",
        (ZoneVolume("face_middle", 1500), ZoneVolume("face_lower", 1000)),
        today,
    )
    consent(courses, face.id)
    courses.book(DEMO_STAFF, face.id, 1, max(at(0, 16), now + timedelta(minutes=10)))
    cellulite = courses.plan(
        DEMO_PRACTITIONER,
        "P-0006",
        "cellulite",
        "cellulite_caffeine_and_l_carnitine",
        (ZoneVolume("thighs", 4000),),
        today + timedelta(days=1),
    )
    courses.book(DEMO_STAFF, cellulite.id, 1, at(1, 10))
    return 3


# --- the demo formulas --------------------------------------------------------------------


@dataclass(frozen=True)
class FormulaRecord:
    """One formula of data/formulas.toml, ready to save."""

    name: str
    purpose: str
    description: str
    draft: DraftMixture
    note: str  # the recipe's source


def demo_formulas(path: Path | None = None) -> list[FormulaRecord]:
    """The formulas shipped in data/formulas.toml; each names where its idea comes from."""
    raw = tomllib.loads((path or data_dir() / "formulas.toml").read_text(encoding="utf-8"))
    found = []
    for entry in raw["formula"]:
        if not entry.get("source"):
            raise ValueError(f"formulas.toml [{entry.get('name', '?')}]: no source")
        draft = DraftMixture(
            ingredients=tuple(
                DraftIngredient(i["what"], i["amount"], i.get("product"))
                for i in entry["ingredient"]
            ),
            final_volume=entry.get("final_volume", ""),
            diluent=entry.get("diluent"),
            storage=entry.get("storage", "room"),
        )
        found.append(
            FormulaRecord(
                entry["name"],
                entry["purpose"],
                entry.get("description", ""),
                draft,
                f"Source: {entry['source']}",
            )
        )
    return found


def load_demo_formulas(service: FormulaService, user: str) -> int:
    """Save every demo formula as `user` (a practitioner); returns how many."""
    formulas = demo_formulas()
    for formula in formulas:
        service.save(
            user, formula.name, formula.draft, formula.purpose, formula.description, formula.note
        )
    return len(formulas)
