"""The reports' SQL: every total is computed by the database, never by loading the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

import sqlalchemy as sa

from mesomix.db.repositories.reactions import REACTION, VERSION, as_they_stand
from mesomix.db.tables import (
    BatchRow,
    CourseRow,
    CourseSessionRow,
    LotRow,
    MovementRow,
    ProductRow,
    UserRow,
)
from mesomix.domain.allocation import LotStatus

LOT = LotRow.__table__
PRODUCT = ProductRow.__table__
MOVEMENT = MovementRow.__table__
BATCH = BatchRow.__table__
USER = UserRow.__table__
PERIODS = ("week", "month")


def _value_cents(on_hand: sa.ColumnElement[int]) -> sa.ColumnElement[int]:
    """Value at cost: containers (possibly part-used) × the lot's unit cost."""
    return sa.func.coalesce(on_hand * LOT.c.unit_cost_cents / PRODUCT.c.container_volume_ul, 0)


def _lots(site: int) -> sa.Select[tuple[object, ...]]:
    """Lots with stock on a site's shelves, with their product and value at cost: the rows both
    lot reports list."""
    return (
        sa.select(
            PRODUCT.c.code.label("product"),
            PRODUCT.c.name.label("product_name"),
            LOT.c.id.label("lot_id"),
            LOT.c.lot_number,
            LOT.c.expiry,
            LOT.c.status,
            LOT.c.on_hand_ul,
            PRODUCT.c.container_volume_ul,
            _value_cents(LOT.c.on_hand_ul).label("value_cents"),
        )
        .join(PRODUCT, PRODUCT.c.code == LOT.c.product_code)
        .where(LOT.c.site_id == site, LOT.c.on_hand_ul > 0)
    )


def stock_by_lot(site: int) -> sa.Select[tuple[object, ...]]:
    return _lots(site).add_columns(LOT.c.open_ul).order_by(PRODUCT.c.name, LOT.c.expiry, LOT.c.id)


def stock_by_product(today: date, site: int) -> sa.Select[tuple[object, ...]]:
    """Stock per product counted as the low-stock list counts it: only usable lots (available,
    expiry on or after the clinic's today) give containers, mL, value and the reorder figures;
    stock in recalled, quarantined or expired lots is summed apart, to be seen but never ordered
    against. Products with a reorder level are listed with no stock too: they are the ones to
    order first."""
    usable = sa.and_(LOT.c.status == LotStatus.AVAILABLE, LOT.c.expiry >= today)

    def total(
        of: sa.ColumnElement[int], usable_or_not: sa.ColumnElement[bool]
    ) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((usable_or_not, of), else_=0)), 0)

    lot_in_stock = sa.and_(
        LOT.c.product_code == PRODUCT.c.code, LOT.c.site_id == site, LOT.c.on_hand_ul > 0
    )
    return (
        sa.select(
            PRODUCT.c.code.label("product"),
            PRODUCT.c.name.label("product_name"),
            sa.func.count(sa.case((usable, LOT.c.id))).label("lots"),
            total(LOT.c.on_hand_ul, usable).label("on_hand_ul"),
            total(LOT.c.on_hand_ul - LOT.c.open_ul, usable).label("sealed_ul"),
            PRODUCT.c.container_volume_ul,
            total(_value_cents(LOT.c.on_hand_ul), usable).label("value_cents"),
            total(LOT.c.on_hand_ul, sa.not_(usable)).label("unusable_ul"),
            total(_value_cents(LOT.c.on_hand_ul), sa.not_(usable)).label("unusable_value_cents"),
            PRODUCT.c.reorder_level,
            PRODUCT.c.reorder_quantity,
        )
        .select_from(PRODUCT)
        .outerjoin(LOT, lot_in_stock)
        .where(sa.or_(LOT.c.id.is_not(None), PRODUCT.c.reorder_level.is_not(None)))
        .group_by(
            PRODUCT.c.code,
            PRODUCT.c.name,
            PRODUCT.c.container_volume_ul,
            PRODUCT.c.reorder_level,
            PRODUCT.c.reorder_quantity,
        )
        .order_by(PRODUCT.c.name)
    )


def expiring(today: date, windows: tuple[int, ...], site: int) -> sa.Select[tuple[object, ...]]:
    """Lots with stock expiring from today, each in the first window (days) that holds it."""
    window = sa.case(
        *((LOT.c.expiry <= today + timedelta(days=days), days) for days in windows[:-1]),
        else_=windows[-1],
    )
    return (
        _lots(site)
        .add_columns(window.label("within_days"))
        .where(LOT.c.expiry >= today, LOT.c.expiry <= today + timedelta(days=windows[-1]))
        .order_by(LOT.c.expiry, PRODUCT.c.name)
    )


@dataclass(frozen=True)
class Period:
    """One column of the usage report: a week (ISO, Monday first) or a month of the clinic's
    calendar, with its bounds in UTC as the ledger stores time."""

    label: str
    start: datetime
    end: datetime


def last_periods(period: str, today: date, zone: tzinfo, count: int) -> list[Period]:
    """The `count` weeks or months ending with the one that holds `today`, oldest first."""
    if period == "week":
        first = today - timedelta(days=today.weekday())
        starts = [first - timedelta(weeks=n) for n in range(count - 1, -2, -1)]
    else:
        month = today.year * 12 + today.month - 1
        starts = [date(m // 12, m % 12 + 1, 1) for m in range(month - count + 1, month + 2)]
    bounds = [datetime.combine(day, time(), zone).astimezone(UTC) for day in starts]
    labels = [
        f"{day.isocalendar().year}-W{day.isocalendar().week:02d}"
        if period == "week"
        else f"{day:%Y-%m}"
        for day in starts
    ]
    return [Period(labels[n], bounds[n], bounds[n + 1]) for n in range(count)]


def usage(periods: list[Period], site: int) -> sa.Select[tuple[object, ...]]:
    """Used per product at a site, one column per period: what a manager reads across, most
    used first."""
    used = -MOVEMENT.c.quantity_ul
    when = [
        sa.func.sum(
            sa.case(
                (sa.and_(MOVEMENT.c.at >= _at(p.start), MOVEMENT.c.at < _at(p.end)), used), else_=0
            )
        ).label(p.label)
        for p in periods
    ]
    return (
        sa.select(
            PRODUCT.c.code.label("product"),
            PRODUCT.c.name.label("product_name"),
            *when,
            sa.func.sum(used).label("total_ul"),
            sa.func.count(sa.distinct(MOVEMENT.c.batch_id)).label("batches"),
        )
        .join(LOT, LOT.c.id == MOVEMENT.c.lot_id)
        .join(PRODUCT, PRODUCT.c.code == LOT.c.product_code)
        .where(
            LOT.c.site_id == site,
            MOVEMENT.c.kind == "dispense",
            MOVEMENT.c.at >= _at(periods[0].start),
            MOVEMENT.c.at < _at(periods[-1].end),
        )
        .group_by(PRODUCT.c.code, PRODUCT.c.name)
        .order_by(sa.desc("total_ul"), PRODUCT.c.name)
    )


def _at(moment: datetime) -> sa.ColumnElement[datetime]:
    """A time as the ledger's own column type, so it renders as the ledger stores it."""
    return sa.literal(moment, MOVEMENT.c.at.type)


def waste(site: int) -> sa.Select[tuple[object, ...]]:
    """Everything that left a site's stock other than into a patient: waste, and removing
    adjustments."""
    return (
        sa.select(
            MOVEMENT.c.kind,
            MOVEMENT.c.reason,
            sa.func.count().label("movements"),
            sa.func.sum(-MOVEMENT.c.quantity_ul).label("wasted_ul"),
            sa.func.sum(
                -MOVEMENT.c.quantity_ul * LOT.c.unit_cost_cents / PRODUCT.c.container_volume_ul
            ).label("value_cents"),
        )
        .join(LOT, LOT.c.id == MOVEMENT.c.lot_id)
        .join(PRODUCT, PRODUCT.c.code == LOT.c.product_code)
        .where(
            LOT.c.site_id == site,
            sa.or_(
                MOVEMENT.c.kind == "waste",
                sa.and_(MOVEMENT.c.kind.in_(("adjust", "count")), MOVEMENT.c.quantity_ul < 0),
            ),
        )
        .group_by(MOVEMENT.c.kind, MOVEMENT.c.reason)
        .order_by(sa.desc("wasted_ul"))
    )


def mixtures_by_practitioner_and_purpose(site: int) -> sa.Select[tuple[object, ...]]:
    """Mixtures made at a site and their volume per ordering practitioner and purpose (empty
    when not said)."""
    return (
        sa.select(
            sa.func.coalesce(USER.c.display_name, "").label("practitioner"),
            BATCH.c.purpose,
            sa.func.count(BATCH.c.id).label("mixtures"),
            sa.func.sum(BATCH.c.final_volume_ul).label("volume_ul"),
        )
        .outerjoin(USER, USER.c.id == BATCH.c.prescriber_id)
        .where(BATCH.c.site_id == site)
        .group_by(USER.c.display_name, BATCH.c.purpose)
        .order_by(sa.desc("mixtures"), "practitioner", BATCH.c.purpose)
    )


def mixtures_by_maker(site: int) -> sa.Select[tuple[object, ...]]:
    """Mixtures made at a site and their volume per person who made them."""
    return (
        sa.select(
            USER.c.name.label("user"),
            USER.c.display_name,
            USER.c.role,
            sa.func.count(BATCH.c.id).label("mixtures"),
            sa.func.sum(BATCH.c.final_volume_ul).label("volume_ul"),
        )
        .join(USER, USER.c.id == BATCH.c.actor_id)
        .where(BATCH.c.site_id == site)
        .group_by(USER.c.name, USER.c.display_name, USER.c.role)
        .order_by(sa.desc("mixtures"))
    )


def reactions(since: datetime) -> sa.Select[tuple[object, ...]]:
    """Reactions with an onset since `since`, as they stand, counted by kind, severity, the
    product and lot each batch drew (a reaction counts once for each lot it traces to), the
    ordering practitioner and the indication (the course's, else the mixture's purpose)."""
    session_row, course = CourseSessionRow.__table__, CourseRow.__table__
    drawn = (
        sa.select(MOVEMENT.c.batch_id, MOVEMENT.c.lot_id)
        .where(MOVEMENT.c.kind == "dispense", MOVEMENT.c.batch_id.is_not(None))
        .distinct()
        .subquery()
    )
    indication = sa.func.coalesce(
        sa.func.nullif(BATCH.c.purpose, ""), course.c.indication, ""
    ).label("indication")
    practitioner = sa.func.coalesce(USER.c.display_name, "").label("practitioner")
    return (
        as_they_stand(
            VERSION.c.kind,
            VERSION.c.severity,
            PRODUCT.c.code.label("product"),
            PRODUCT.c.name.label("product_name"),
            LOT.c.lot_number,
            practitioner,
            indication,
            sa.func.count(sa.distinct(REACTION.c.id)).label("reactions"),
            sa.func.sum(sa.case((VERSION.c.serious != "", 1), else_=0)).label("serious"),
            sa.func.sum(sa.case((VERSION.c.confirmed_by.is_(None), 1), else_=0)).label(
                "not_confirmed"
            ),
        )
        .join(BATCH, BATCH.c.id == REACTION.c.batch_id)
        .join(drawn, drawn.c.batch_id == BATCH.c.id)
        .join(LOT, LOT.c.id == drawn.c.lot_id)
        .join(PRODUCT, PRODUCT.c.code == LOT.c.product_code)
        .outerjoin(USER, USER.c.id == BATCH.c.prescriber_id)
        .outerjoin(session_row, session_row.c.id == BATCH.c.course_session_id)
        .outerjoin(course, course.c.id == session_row.c.course_id)
        .where(VERSION.c.onset_at >= _at(since))
        .group_by(
            VERSION.c.kind,
            VERSION.c.severity,
            PRODUCT.c.code,
            PRODUCT.c.name,
            LOT.c.lot_number,
            practitioner,
            indication,
        )
        .order_by(sa.desc("reactions"), VERSION.c.kind, PRODUCT.c.code, LOT.c.lot_number)
    )


def sessions_per_lot() -> sa.Select[tuple[object, ...]]:
    """Each lot that went into a batch: how many batches (sessions) it went into."""
    return (
        sa.select(
            MOVEMENT.c.lot_id,
            LOT.c.lot_number,
            LOT.c.product_code.label("product"),
            PRODUCT.c.name.label("product_name"),
            sa.func.count(sa.distinct(MOVEMENT.c.batch_id)).label("sessions"),
        )
        .join(LOT, LOT.c.id == MOVEMENT.c.lot_id)
        .join(PRODUCT, PRODUCT.c.code == LOT.c.product_code)
        .where(MOVEMENT.c.kind == "dispense", MOVEMENT.c.batch_id.is_not(None))
        .group_by(MOVEMENT.c.lot_id, LOT.c.lot_number, LOT.c.product_code, PRODUCT.c.name)
    )


def reactions_per_lot() -> sa.Select[tuple[object, ...]]:
    """The reactions as they stand traced to each lot, by kind."""
    drawn = (
        sa.select(MOVEMENT.c.batch_id, MOVEMENT.c.lot_id)
        .where(MOVEMENT.c.kind == "dispense", MOVEMENT.c.batch_id.is_not(None))
        .distinct()
        .subquery()
    )
    return (
        as_they_stand(
            drawn.c.lot_id, VERSION.c.kind, sa.func.count(sa.distinct(REACTION.c.id)).label("n")
        )
        .join(drawn, drawn.c.batch_id == REACTION.c.batch_id)
        .group_by(drawn.c.lot_id, VERSION.c.kind)
    )
