"""Wiring: settings → engine → migrations → services. The one place that knows every layer,
so tests build the whole program on a temporary database with one call."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import sqlalchemy as sa

from mesomix.clock import Clock, SystemClock
from mesomix.db.engine import BUSY_TIMEOUT_MS, make_engine
from mesomix.db.migrate import migrate
from mesomix.db.tables import MetaRow
from mesomix.domain.units import data_dir
from mesomix.reports.service import ReportService
from mesomix.services.accounts import AccountService
from mesomix.services.allergies import AllergyService
from mesomix.services.catalog import CatalogService, sync_reference
from mesomix.services.formulas import FormulaService
from mesomix.services.imports import ImportService
from mesomix.services.inventory import InventoryService
from mesomix.services.mixtures import MixtureService
from mesomix.services.people import PeopleService
from mesomix.services.stock import StockService
from mesomix.services.uow import unit_of_work

REFERENCE_FILES = ("allergen_groups.toml", "substances.toml", "products.toml")


@dataclass(frozen=True)
class Settings:
    database_url: str
    clock: Clock = field(default_factory=SystemClock)
    busy_timeout_ms: int = BUSY_TIMEOUT_MS
    user: str | None = None  # the name the sign-in screen starts with
    idle_minutes: int = 5  # a signed-in session locks after this long without a key or a click


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: sa.Engine
    catalog: CatalogService
    mixtures: MixtureService
    stock: StockService
    people: PeopleService
    allergies: AllergyService
    accounts: AccountService
    inventory: InventoryService
    reports: ReportService
    imports: ImportService
    formulas: FormulaService

    @property
    def clock(self) -> Clock:
        return self.settings.clock

    def close(self) -> None:
        self.engine.dispose()


def reference_fingerprint() -> str:
    """A hash of the shipped reference files: the database is re-seeded when it changes."""
    digest = hashlib.sha256()
    for name in REFERENCE_FILES:
        digest.update((data_dir() / name).read_bytes())
    return digest.hexdigest()


def ensure_reference(engine: sa.Engine) -> bool:
    """Seed or update the catalogue from data/ when the shipped files changed; True if it did."""
    fingerprint = reference_fingerprint()
    with unit_of_work(engine) as session:
        row = session.get(MetaRow, "reference_fingerprint")
        if row is not None and row.value == fingerprint:
            return False
    sync_reference(engine)
    with unit_of_work(engine, write=True) as session:
        row = session.get(MetaRow, "reference_fingerprint") or MetaRow(
            key="reference_fingerprint", value=""
        )
        row.value = fingerprint
        session.add(row)
    return True


def build(settings: Settings) -> Services:
    """The whole program on one database: migrated, seeded with the catalogue, ready."""
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.busy_timeout_ms)
    migrate(engine)
    ensure_reference(engine)
    catalog = CatalogService(engine)
    inventory = InventoryService(engine, settings.clock)
    return Services(
        settings=settings,
        engine=engine,
        catalog=catalog,
        mixtures=MixtureService(engine, catalog, settings.clock),
        stock=StockService(engine, settings.clock),
        people=PeopleService(engine, settings.clock),
        allergies=AllergyService(engine, catalog, settings.clock),
        accounts=AccountService(engine, settings.clock),
        inventory=inventory,
        reports=ReportService(engine, settings.clock, inventory),
        imports=ImportService(engine, catalog, settings.clock),
        formulas=FormulaService(engine, catalog, settings.clock),
    )
