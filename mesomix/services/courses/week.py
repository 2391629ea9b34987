"""The pharmacy's week: the sessions to prepare (the worklist) and what the booked sessions
will need of the shelf (the forecast).

Both read every active course in a handful of queries (not one course at a time), so a clinic
with hundreds of sessions a week opens its worklist at once; each formula version is planned
once, however many sessions use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from mesomix.clock import Clock, day_start
from mesomix.db.repositories.formulas import formula_version
from mesomix.db.sites import site_of
from mesomix.db.tables import (
    ConsentRow,
    CourseRow,
    CourseSessionRow,
    CourseVersionRow,
    FormulaRow,
    FormulaVersionRow,
    LotRow,
    PatientRow,
    ProductRow,
)
from mesomix.domain.allocation import LotStatus
from mesomix.domain.catalog import Catalog, ContainerKind
from mesomix.domain.course import Schedule, Standing, standing
from mesomix.domain.course.forecast import (
    Need,
    ProductForecast,
    Shelf,
    StockLot,
    forecast,
    per_session_ul,
)
from mesomix.domain.formulas import to_draft
from mesomix.domain.mixture import plan_mixture
from mesomix.domain.permissions import Action
from mesomix.reference import CourseTemplates
from mesomix.services.catalog import CatalogService
from mesomix.services.courses.base import CourseBase
from mesomix.services.courses.reading import CourseRefused

# A session's mixture is made this long before the patient is booked: its beyond-use date is
# hours, so it is not made the day before.
PREPARE_BEFORE = timedelta(minutes=60)
FORECAST_DAYS = (7, 30, 90)
LONGEST_WORKLIST = 31  # days

_COURSE = CourseRow.__table__
_VERSION = CourseVersionRow.__table__
_SESSION = CourseSessionRow.__table__
_CONSENT = ConsentRow.__table__
_PATIENT = PatientRow.__table__
_FORMULA = FormulaRow.__table__
_FORMULA_VERSION = FormulaVersionRow.__table__
_LOT = LotRow.__table__
_PRODUCT = ProductRow.__table__

_LATEST = (
    sa.select(_VERSION.c.course_id, sa.func.max(_VERSION.c.version).label("version"))
    .group_by(_VERSION.c.course_id)
    .subquery()
)
# Every active course with its patient, its current plan and the formula that plan uses.
_ACTIVE = (
    sa.select(
        _COURSE.c.id,
        _COURSE.c.starts_on,
        _PATIENT.c.ref,
        _PATIENT.c.name,
        _VERSION.c.schedule,
        _VERSION.c.zones,
        _VERSION.c.formula_version_id,
        _FORMULA.c.name.label("formula"),
        _FORMULA_VERSION.c.version.label("formula_version"),
    )
    .select_from(
        _COURSE.join(_PATIENT, _PATIENT.c.id == _COURSE.c.patient_id)
        .join(_LATEST, _LATEST.c.course_id == _COURSE.c.id)
        .join(
            _VERSION,
            sa.and_(_VERSION.c.course_id == _COURSE.c.id, _VERSION.c.version == _LATEST.c.version),
        )
        .join(_FORMULA_VERSION, _FORMULA_VERSION.c.id == _VERSION.c.formula_version_id)
        .join(_FORMULA, _FORMULA.c.id == _FORMULA_VERSION.c.formula_id)
    )
    .where(_COURSE.c.status == "active")
    .order_by(_COURSE.c.id)
)
# Sessions are held in order, so a course's next session is the one after those held. A course
# has work in a window when that session is not booked (then it falls due by its schedule) or
# is booked before the window ends; one whose next session is booked later has none, and is
# left in the database, not read and reckoned in Python.
_HELD = (
    sa.select(_SESSION.c.course_id, sa.func.count(_SESSION.c.held_at).label("held"))
    .group_by(_SESSION.c.course_id)
    .subquery()
)
_NEXT = _SESSION.alias("next_session")
_WITH_WORK = (
    sa.select(_COURSE.c.id)
    .select_from(
        _COURSE.outerjoin(_HELD, _HELD.c.course_id == _COURSE.c.id).outerjoin(
            _NEXT,
            sa.and_(
                _NEXT.c.course_id == _COURSE.c.id,
                _NEXT.c.number == sa.func.coalesce(_HELD.c.held, 0) + 1,
            ),
        )
    )
    .where(
        _COURSE.c.status == "active",
        sa.or_(_NEXT.c.booked_for.is_(None), _NEXT.c.booked_for < sa.bindparam("end")),
    )
)
_ACTIVE_WITH_WORK = _ACTIVE.where(_COURSE.c.id.in_(_WITH_WORK))
# What the forecast counts: each session booked in the window, not held, of an active course,
# with the formula version its course plans now.
_BOOKED = (
    sa.select(_SESSION.c.booked_for, _VERSION.c.formula_version_id, sa.func.count())
    .select_from(
        _SESSION.join(_COURSE, _COURSE.c.id == _SESSION.c.course_id)
        .join(_LATEST, _LATEST.c.course_id == _COURSE.c.id)
        .join(
            _VERSION,
            sa.and_(_VERSION.c.course_id == _COURSE.c.id, _VERSION.c.version == _LATEST.c.version),
        )
    )
    .where(
        _COURSE.c.status == "active",
        _SESSION.c.held_at.is_(None),
        _SESSION.c.booked_for >= sa.bindparam("start"),
        _SESSION.c.booked_for < sa.bindparam("end"),
    )
    .group_by(_SESSION.c.booked_for, _VERSION.c.formula_version_id)
)
# The stock a dispense at this site could draw from on a day: available lots' sealed
# containers on its shelves by product and expiry (a lot counts up to its expiry date).
_IN_DATE = (
    sa.select(
        _LOT.c.product_code,
        _LOT.c.expiry,
        sa.func.sum(_LOT.c.on_hand_ul - _LOT.c.open_ul).label("sealed"),
    )
    .where(
        _LOT.c.site_id == sa.bindparam("site"),
        _LOT.c.status == LotStatus.AVAILABLE,
        _LOT.c.on_hand_ul > _LOT.c.open_ul,
        _LOT.c.expiry >= sa.bindparam("today"),
    )
    .group_by(_LOT.c.product_code, _LOT.c.expiry)
)
_IN_DATE_OF = _IN_DATE.where(_LOT.c.product_code.in_(sa.bindparam("products", expanding=True)))
# The same for a worklist's few days: a lot in date past the window's last day counts as one
# expiring on it (it is usable every day of the window all the same), so a product's lots are
# a handful of rows, not one per expiry date on the shelf.
_TILL_LAST = sa.case(
    (_LOT.c.expiry > sa.bindparam("last"), sa.bindparam("last")), else_=_LOT.c.expiry
)
_IN_WINDOW_OF = (
    sa.select(
        _LOT.c.product_code,
        _TILL_LAST.label("expiry"),
        sa.func.sum(_LOT.c.on_hand_ul - _LOT.c.open_ul).label("sealed"),
    )
    .where(
        _LOT.c.site_id == sa.bindparam("site"),
        _LOT.c.status == LotStatus.AVAILABLE,
        _LOT.c.on_hand_ul > _LOT.c.open_ul,
        _LOT.c.expiry >= sa.bindparam("today"),
        _LOT.c.product_code.in_(sa.bindparam("products", expanding=True)),
    )
    .group_by(_LOT.c.product_code, _TILL_LAST)
)
# The same by product alone: what the planner weighs to choose products as a dispense would.
_STOCK = (
    sa.select(_LOT.c.product_code, sa.func.sum(_LOT.c.on_hand_ul - _LOT.c.open_ul))
    .where(
        _LOT.c.site_id == sa.bindparam("site"),
        _LOT.c.status == LotStatus.AVAILABLE,
        _LOT.c.on_hand_ul > _LOT.c.open_ul,
        _LOT.c.expiry >= sa.bindparam("today"),
    )
    .group_by(_LOT.c.product_code)
)


@dataclass(frozen=True)
class WorkItem:
    """One session to prepare: whose, which, from what, into where, when, and whether it can."""

    course_id: int
    patient_ref: str
    patient_name: str
    number: int
    total: int
    standing: Standing
    due: date
    booked_for: datetime | None  # in the clinic's time
    formula: str  # "Hair B12 (version 2)"
    zones: str  # "scalp 2 mL"
    consent_ready: bool
    stock_ready: bool

    @property
    def prepare_at(self) -> datetime | None:
        return self.booked_for - PREPARE_BEFORE if self.booked_for else None

    @property
    def not_ready(self) -> str:
        """Why it cannot be made yet, in words; empty when it can."""
        reasons = []
        if not self.consent_ready:
            reasons.append("no consent")
        if not self.stock_ready:
            reasons.append("short of stock")
        return ", ".join(reasons)


@dataclass(frozen=True)
class Forecast:
    start: date
    days: int
    sessions: int
    products: tuple[ProductForecast, ...]
    names: dict[str, str]  # product code -> name

    @property
    def short(self) -> tuple[ProductForecast, ...]:
        return tuple(p for p in self.products if p.short_ul)


class Week(CourseBase):
    def __init__(
        self,
        engine: sa.Engine,
        clock: Clock,
        templates: CourseTemplates,
        catalog: CatalogService,
    ) -> None:
        super().__init__(engine, clock, templates)
        self._catalog = catalog

    def worklist(self, user: str, start: date | None = None, days: int = 1) -> list[WorkItem]:
        """Sessions to prepare from `start` (today) for `days` days: those booked then, and
        those due or overdue and not yet booked; soonest first, stock counted in that order."""
        if not 1 <= days <= LONGEST_WORKLIST:
            raise CourseRefused(f"a worklist covers 1 to {LONGEST_WORKLIST} days, not {days}")
        today = self._clock.today()
        first = start or today
        last = first + timedelta(days=days - 1)
        catalog = self._catalog.catalog()
        zone = self._clock.zone
        with self.reading(user, Action.VIEW_COURSES) as (session, _):
            connection = session.connection()
            end = day_start(last + timedelta(days=1), zone)
            courses = connection.execute(_ACTIVE_WITH_WORK, {"end": end}).all()
            ids = [c.id for c in courses]
            sessions = _sessions_of(connection, ids)
            consented = _consented(connection, ids)
            items = [
                item
                for course in courses
                for item in self._items(course, sessions.get(course.id, {}), consented, today)
                if (
                    first <= item.booked_for.date() <= last
                    if item.booked_for is not None
                    else item.due <= last
                )
            ]
            versions = {c.id: c.formula_version_id for c in courses}
            needs = _needs(session, catalog, set(versions.values()), _stock(connection, today))
            lots = _in_date(connection, today, {p for need in needs.values() for p in need}, last)
        shelf = Shelf(lots)
        items.sort(key=lambda i: (i.booked_for or day_start(i.due, zone), i.patient_name))
        return [_with_stock(item, versions[item.course_id], needs, shelf, first) for item in items]

    def forecast(self, user: str, days: int = 30) -> Forecast:
        """What the sessions booked from today for `days` days need of each product, against
        the stock usable on each day; the products short first."""
        if days not in FORECAST_DAYS:
            raise CourseRefused(
                f"a forecast covers {', '.join(map(str, FORECAST_DAYS))} days, not {days}"
            )
        catalog = self._catalog.catalog()
        zone = self._clock.zone
        start = self._clock.today()
        with self.reading(user, Action.VIEW_REPORTS, denied_as="see the forecast") as (
            session,
            _,
        ):
            connection = session.connection()
            window = {
                "start": day_start(start, zone),
                "end": day_start(start + timedelta(days=days), zone),
            }
            counted: dict[tuple[date, int], int] = {}
            for booked_for, version, count in connection.execute(_BOOKED, window):
                key = (booked_for.astimezone(zone).date(), version)
                counted[key] = counted.get(key, 0) + count
            versions = {version for _, version in counted}
            per_version = _needs(session, catalog, versions, _stock(connection, start))
            needs = [
                Need(day, product, ul * count, count)
                for (day, version), count in counted.items()
                for product, ul in per_version[version].items()
            ]
            products = {n.product for n in needs}
            lots = _in_date(connection, start, products)
            reorder = dict(
                connection.execute(
                    sa.select(_PRODUCT.c.code, _PRODUCT.c.reorder_quantity).where(
                        _PRODUCT.c.code.in_(sorted(products))
                    )
                ).all()
            )
        sizes = {code: catalog.products[code].container_volume_ul for code in products}
        return Forecast(
            start,
            days,
            sum(counted.values()),
            tuple(forecast(needs, lots, sizes, reorder)),
            {code: catalog.products[code].name for code in products},
        )

    def _items(
        self,
        course: Any,
        rows: dict[int, Any],
        consented: set[int],
        today: date,
    ) -> Iterable[WorkItem]:
        zone = self._clock.zone
        schedule = Schedule.parse(course.schedule)
        held = [
            r.held_at.astimezone(zone).date()
            for _, r in sorted(rows.items())
            if r.held_at is not None
        ]
        booked = {
            n: r.booked_for.astimezone(zone).date()
            for n, r in rows.items()
            if r.booked_for is not None and r.held_at is None
        }
        lines = standing(schedule, course.starts_on, held, booked, today)
        zones = ", ".join(
            f"{self._zone(z['zone']).name} {z['volume_ul'] / 1000:g} mL" for z in course.zones
        )
        for line in lines:
            if line.standing is Standing.HELD:
                continue
            row = rows.get(line.number)
            at = row.booked_for.astimezone(zone) if row and row.booked_for else None
            yield WorkItem(
                course.id,
                course.ref,
                course.name,
                line.number,
                len(lines),
                line.standing,
                line.due,
                at,
                f"{course.formula} (version {course.formula_version})",
                zones,
                course.id in consented,
                True,
            )
            if line.standing is not Standing.BOOKED:
                break  # only the next session not booked is due; those after it follow it


def _sessions_of(connection: sa.Connection, ids: Sequence[int]) -> dict[int, dict[int, Any]]:
    found: dict[int, dict[int, Any]] = {}
    if not ids:
        return found
    for row in connection.execute(sa.select(_SESSION).where(_SESSION.c.course_id.in_(ids))):
        found.setdefault(row.course_id, {})[row.number] = row
    return found


def _consented(connection: sa.Connection, ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    return set(
        connection.execute(
            sa.select(_CONSENT.c.course_id).where(
                _CONSENT.c.course_id.in_(ids), _CONSENT.c.withdrawn_at.is_(None)
            )
        ).scalars()
    )


def _needs(
    session: Session, catalog: Catalog, versions: set[int], stock: dict[str, int]
) -> dict[int, dict[str, int]]:
    """What one session of each formula version takes of each product, planned once each with
    the shelf as it is (the products a dispense would choose now)."""
    needs: dict[int, dict[str, int]] = {}
    for version_id in versions:
        row = session.get(FormulaVersionRow, version_id)
        if row is None:
            continue
        plan = plan_mixture(to_draft(formula_version(row), None), catalog, stock)
        needs[version_id] = {
            code: per_session_ul(
                ul,
                catalog.products[code].container_volume_ul,
                catalog.products[code].container is ContainerKind.SINGLE_DOSE,
            )
            for code, ul in plan.needs_by_product().items()
        }
    return needs


def _stock(connection: sa.Connection, today: date) -> dict[str, int]:
    given = {"today": today, "site": site_of(connection)}
    return {code: int(ul) for code, ul in connection.execute(_STOCK, given)}


def _in_date(
    connection: sa.Connection, today: date, products: set[str], last: date | None = None
) -> list[StockLot]:
    """The lots of these products a dispense could draw from today, as sealed microlitres by
    product and expiry (up to `last`, the last day that matters, if given)."""
    if not products:
        return []
    window = {"today": today, "products": sorted(products), "site": site_of(connection)}
    rows = connection.execute(
        _IN_DATE_OF if last is None else _IN_WINDOW_OF,
        window if last is None else {**window, "last": last},
    )
    return [StockLot(product, expiry, int(sealed)) for product, expiry, sealed in rows]


def _with_stock(
    item: WorkItem, version: int, needs: dict[int, dict[str, int]], shelf: Shelf, first: date
) -> WorkItem:
    """The item, its stock drawn from the shelf in the worklist's order."""
    day = max(item.booked_for.date() if item.booked_for else item.due, first)
    short = sum(shelf.draw(product, day, ul) for product, ul in needs.get(version, {}).items())
    if short or version not in needs:
        return replace(item, stock_ready=False)
    return item
