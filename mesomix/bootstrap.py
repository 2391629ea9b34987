"""Wiring: settings → engine → migrations → services. The one place that knows every layer,
so tests build the whole program on a temporary database with one call.

A database that cannot be used as it is — damaged, on a network file system, unreachable, full,
locked — is refused here with a DatabaseFault that says why and where (services/errors.py)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from mesomix.clock import Clock
from mesomix.db.append_only import trigger_problems
from mesomix.db.engine import database_info, make_engine
from mesomix.db.faults import DatabaseRefused, Fault, classify
from mesomix.db.health import damaged_message, foreign_key_problems, page_problems
from mesomix.db.migrate import current_revision, head_revision, migrate
from mesomix.db.sites import at_site
from mesomix.db.tables import MetaRow
from mesomix.options import BadInput
from mesomix.reference import course_templates, data_dir, signal_rules
from mesomix.services.accounts import AccountService
from mesomix.services.allergies import AllergyService
from mesomix.services.audit import verify
from mesomix.services.audit_trail import AuditTrailService
from mesomix.services.catalog import CatalogService, sync_reference
from mesomix.services.courses import CourseService
from mesomix.services.demo import holds_data, load_demo
from mesomix.services.errors import (
    DatabaseDamaged,
    DatabaseFault,
    DatabaseUnusable,
    ServiceError,
)
from mesomix.services.formulas import FormulaService
from mesomix.services.gtins import GtinService
from mesomix.services.imports import ImportService
from mesomix.services.labels import LabelService
from mesomix.services.ledger import discrepancies, reconcile_ledger
from mesomix.services.mixtures import MixtureService
from mesomix.services.people import PeopleService
from mesomix.services.reactions import ReactionService
from mesomix.services.signing import Attempt, said
from mesomix.services.sites import SiteService, site_id
from mesomix.services.stock import StockService
from mesomix.services.uow import database_faults, unit_of_work, with_clock
from mesomix.settings import Settings, default_labels_folder

if TYPE_CHECKING:  # built on first use (Services.reports)
    from mesomix.reports.service import ReportService

REFERENCE_FILES = ("allergen_groups.toml", "substances.toml", "products.toml")


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
    inventory: StockService  # the same service as `stock`, by the name the screens use
    imports: ImportService
    formulas: FormulaService
    labels: LabelService
    audit: AuditTrailService
    courses: CourseService
    reactions: ReactionService
    gtins: GtinService
    sites: SiteService

    @property
    def clock(self) -> Clock:
        return self.settings.clock

    @functools.cached_property
    def reports(self) -> ReportService:
        """Built when first asked for: the reports bring pandas, half a second to import, which
        a command that makes no report (most of them) should not wait for."""
        from mesomix.reports.service import ReportService

        return ReportService(self.engine, self.clock, self.stock, self.courses)

    @property
    def read_only(self) -> str:
        """Why the database is open read-only ("opened with --read-only", "the file … is not
        writable"); "" when it may be written."""
        return database_info(self.engine).read_only

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


class ReadOnlyAccounts(AccountService):
    """Signing in to a database open read-only: the password is checked as always, but nothing
    can be written, so the sign-in is neither audited nor counted towards a lockout."""

    _writes = False

    def _settle(self, connection: sa.Connection, now: datetime, attempt: Attempt) -> str:
        return said(attempt, self._clock.zone, now)


def refusal(refused: DatabaseRefused) -> DatabaseFault:
    damaged = refused.fault is Fault.DAMAGED
    return (DatabaseDamaged if damaged else DatabaseUnusable)(str(refused))


def open_database(settings: Settings) -> sa.Engine:
    """The engine of a database fit for use: its file sound (SQLite's quick_check reads every
    page: about 0.4 s per 100 MB), its schema current, its catalogue loaded — or a refusal.
    Opened read-only, it is neither migrated nor re-seeded, so it must already be current."""
    try:
        engine = make_engine(
            settings.database_url,
            busy_timeout_ms=settings.busy_timeout_ms,
            read_only=settings.read_only,
        )
    except DatabaseRefused as refused:
        raise refusal(refused) from None
    info = database_info(engine)
    with database_faults(engine):
        if info.path is not None:
            with engine.connect() as connection:
                problems = page_problems(connection, quick=True)
            if problems:
                more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                raise DatabaseDamaged(damaged_message(info.path, problems[0] + more))
        if info.read_only:
            current, head = current_revision(engine), head_revision()
            if current != head:
                raise DatabaseUnusable(
                    f"{info.where} is open read-only ({info.read_only}) but its tables are not "
                    f"those of this mesomix (revision {current or 'none'}, needs {head}): open it "
                    "once where it may be written, to bring it up to date"
                )
        else:
            migrate(engine)
            ensure_reference(engine)
    return with_clock(engine, settings.clock)


def build(settings: Settings) -> Services:
    """The whole program on one database: checked, migrated, seeded with the catalogue, ready;
    its writes at the site the terminal works at (in that site's audit chain)."""
    engine = open_database(settings)
    try:
        engine = at_site(engine, site_id(engine, settings.site))
    except ServiceError:
        engine.dispose()
        raise
    catalog = CatalogService(engine)
    stock = StockService(engine, settings.clock, catalog)
    accounts = (ReadOnlyAccounts if database_info(engine).read_only else AccountService)(
        engine, settings.clock
    )
    people = PeopleService(engine, settings.clock)
    templates = course_templates()
    courses = CourseService(engine, settings.clock, templates, catalog)
    return Services(
        settings=settings,
        engine=engine,
        catalog=catalog,
        mixtures=MixtureService(engine, catalog, settings.clock, settings.session_hours),
        stock=stock,
        people=people,
        allergies=AllergyService(engine, catalog, settings.clock),
        accounts=accounts,
        inventory=stock,
        imports=ImportService(engine, catalog, settings.clock),
        formulas=FormulaService(engine, catalog, settings.clock),
        labels=LabelService(
            engine,
            settings.clock,
            settings.labels_folder or default_labels_folder(),
            settings.printer,
        ),
        audit=AuditTrailService(engine, settings.clock, accounts, people),
        courses=courses,
        reactions=ReactionService(engine, settings.clock, set(templates.zones), signal_rules()),
        gtins=GtinService(engine, settings.clock),
        sites=SiteService(engine, settings.clock),
    )


def build_services(
    settings: Settings, *, demo: bool = False, build: Callable[[Settings], Services] = build
) -> Services:
    """The program as a person starts it, the application (in its worker) or a command: a URL
    that cannot be used is bad input, and `--demo` fills the demo database on first use, so
    that every command of the README runs as written on it."""
    try:
        services = build(settings)
    except (ValueError, ImportError) as exc:  # an in-memory URL, a driver that is not installed
        raise BadInput(f"the database {settings.database_url!r} cannot be used: {exc}") from None
    if demo and not holds_data(services.engine):
        load_demo(services)
    return services


@dataclass(frozen=True)
class CheckLine:
    """One line of `mesomix check`: what was checked, whether it is sound, what was found."""

    what: str
    ok: bool
    detail: str


def check(settings: Settings) -> list[CheckLine]:
    """`mesomix check`: the database opened read-only; on SQLite its header, SQLite's own
    `integrity_check` and `foreign_key_check`; then, when its tables are this mesomix's, the
    append-only triggers, the ledger (stock on hand equals the sum of movements, and each
    movement is what its audit row recorded) and the audit chain. Writes nothing and
    needs no sign-in: it shows no one's data. A database that cannot be opened or reached at
    all raises a DatabaseFault (the command line's exit status 2)."""
    try:
        engine = make_engine(settings.database_url, read_only=True)
    except DatabaseRefused as refused:
        if refused.fault is Fault.DAMAGED:
            where = sa.make_url(settings.database_url).database
            return [
                CheckLine("database", True, str(where)),
                CheckLine("header", False, refused.detail),
            ]
        raise refusal(refused) from None
    info = database_info(engine)
    lines = [CheckLine("database", True, info.where)]
    try:
        with database_faults(engine):
            with engine.connect() as connection:
                if info.path is None:
                    version = connection.exec_driver_sql("SHOW server_version").scalar()
                    lines.append(CheckLine("connection", True, f"ok (PostgreSQL {version})"))
                else:
                    for name, run in (
                        ("integrity_check", page_problems),
                        ("foreign_key_check", foreign_key_problems),
                    ):
                        problems = _unreadable(run, connection)
                        lines.append(_line(name, problems))
                        if problems:
                            return lines
            lines += _contents(engine)
    except DatabaseDamaged as damaged:
        lines.append(CheckLine("read", False, str(damaged)))
    finally:
        engine.dispose()
    return lines


def _unreadable(run: Callable[[sa.Connection], list[str]], connection: sa.Connection) -> list[str]:
    """A check's problems, SQLite giving up on a page it cannot read included."""
    try:
        return run(connection)
    except sa.exc.DBAPIError as exc:
        if classify(exc) is not Fault.DAMAGED:
            raise
        return [f"SQLite stopped at a page it cannot read ({exc.orig})"]


def _line(what: str, problems: list[str]) -> CheckLine:
    shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
    if not problems:
        return CheckLine(what, True, "ok")
    counted = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}:"
    return CheckLine(what, False, "\n  ".join([counted, *shown]))


def _contents(engine: sa.Engine) -> list[CheckLine]:
    """The ledger and the audit chain, when the tables are this mesomix's."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        words = "no mesomix tables yet" if current is None else f"revision {current}"
        return [
            CheckLine(
                "tables",
                True,
                f"{words}; this mesomix brings them to {head} when it opens the database",
            )
        ]
    wrong = discrepancies(engine)
    ledger = _line(
        "ledger",
        [
            f"lot {lot}: {on_hand} µL on hand, its movements sum to {total} µL"
            for lot, on_hand, total in wrong
        ],
    )
    if ledger.ok:
        ledger = CheckLine(
            "ledger", True, "ok (stock on hand equals the sum of movements for every lot)"
        )
    with engine.connect() as connection:
        guards = _line("append-only triggers", trigger_problems(connection))
    if guards.ok:
        guards = CheckLine("append-only triggers", True, "ok (audit and movement refuse changes)")
    reconciled = reconcile_ledger(engine)
    trail = _line("ledger against the trail", reconciled.problems)
    if trail.ok:
        older = f"; {reconciled.older} older than the trail" if reconciled.older else ""
        trail = CheckLine(
            "ledger against the trail",
            True,
            f"ok ({reconciled.reconciled} movements as their audit rows recorded them{older})",
        )
    verdict = verify(engine)
    chain = (
        f"ok ({verdict.rows} row{'' if verdict.rows == 1 else 's'})"
        if verdict.intact
        else f"broken after {verdict.rows} good rows: {verdict.problem}"
    )
    return [
        CheckLine("tables", True, f"ok (revision {head})"),
        guards,
        ledger,
        trail,
        CheckLine("audit chain", verdict.intact, chain),
    ]
