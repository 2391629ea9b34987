"""The reports' SQL: every total is computed by the database, never by loading the ledger."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from mesomix.db.tables import BatchRow, LotRow, MovementRow, ProductRow, UserRow

LOT = LotRow.__table__
PRODUCT = ProductRow.__table__
MOVEMENT = MovementRow.__table__
BATCH = BatchRow.__table__
USER = UserRow.__table__
PERIODS = ("week", "month")


def _value_cents(on_hand: sa.ColumnElement[int]) -> sa.ColumnElement[int]:
    """Value at cost: containers (possibly part-used) × the lot's unit cost."""
    return sa.func.coalesce(on_hand * LOT.c.unit_cost_cents / PRODUCT.c.container_volume_ul, 0)


def _lots() -> sa.Select[tuple[object, ...]]:
    """Lots with stock, with their product and value at cost: the rows both lot reports list."""
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
        .where(LOT.c.on_hand_ul > 0)
    )


def stock_by_lot() -> sa.Select[tuple[object, ...]]:
    return _lots().add_columns(LOT.c.open_ul).order_by(PRODUCT.c.name, LOT.c.expiry, LOT.c.id)


def stock_by_product() -> sa.Select[tuple[object, ...]]:
    return (
        sa.select(
            PRODUCT.c.code.label("product"),
            PRODUCT.c.name.label("product_name"),
            sa.func.count(LOT.c.id).label("lots"),
            sa.func.sum(LOT.c.on_hand_ul).label("on_hand_ul"),
            PRODUCT.c.container_volume_ul,
            sa.func.sum(_value_cents(LOT.c.on_hand_ul)).label("value_cents"),
            PRODUCT.c.reorder_level,
            PRODUCT.c.reorder_quantity,
        )
        .join(PRODUCT, PRODUCT.c.code == LOT.c.product_code)
        .where(LOT.c.on_hand_ul > 0)
        .group_by(PRODUCT.c.code, PRODUCT.c.name, PRODUCT.c.container_volume_ul, PRODUCT.c.reorder_level, PRODUCT.c.reorder_quantity)
        .order_by(PRODUCT.c.name)
    )  # fmt: skip


def expiring(today: date, days: int) -> sa.Select[tuple[object, ...]]:
    return (
        _lots()
        .where(LOT.c.expiry >= today, LOT.c.expiry <= today + timedelta(days=days))
        .order_by(LOT.c.expiry, PRODUCT.c.name)
    )


def _period(column: sa.ColumnElement[object], period: str, dialect: str) -> sa.ColumnElement[str]:
    """The week (ISO, Monday first) or month of a time, as text, in the database's own dialect."""
    if dialect == "postgresql":
        pattern = 'IYYY-"W"IW' if period == "week" else "YYYY-MM"
        return sa.func.to_char(column, pattern)
    return sa.func.strftime("%Y-W%W" if period == "week" else "%Y-%m", column)


def usage(period: str, dialect: str, since: date | None = None) -> sa.Select[tuple[object, ...]]:
    bucket = _period(MOVEMENT.c.at, period, dialect).label("period")
    query = (
        sa.select(
            bucket,
            PRODUCT.c.code.label("product"),
            PRODUCT.c.name.label("product_name"),
            sa.func.sum(-MOVEMENT.c.quantity_ul).label("used_ul"),
            sa.func.count(sa.distinct(MOVEMENT.c.batch_id)).label("batches"),
        )
        .join(LOT, LOT.c.id == MOVEMENT.c.lot_id)
        .join(PRODUCT, PRODUCT.c.code == LOT.c.product_code)
        .where(MOVEMENT.c.kind == "dispense")
        .group_by(bucket, PRODUCT.c.code, PRODUCT.c.name)
        .order_by(bucket, PRODUCT.c.name)
    )
    return query.where(MOVEMENT.c.at >= since) if since else query


def waste() -> sa.Select[tuple[object, ...]]:
    """Everything that left stock other than into a patient: waste, and removing adjustments."""
    return (
        sa.select(
            MOVEMENT.c.kind,
            MOVEMENT.c.reason,
            sa.func.count().label("movements"),
            sa.func.sum(-MOVEMENT.c.quantity_ul).label("wasted_ul"),
            sa.func.sum(-MOVEMENT.c.quantity_ul * LOT.c.unit_cost_cents / PRODUCT.c.container_volume_ul).label("value_cents"),
        )
        .join(LOT, LOT.c.id == MOVEMENT.c.lot_id)
        .join(PRODUCT, PRODUCT.c.code == LOT.c.product_code)
        .where(sa.or_(MOVEMENT.c.kind == "waste", sa.and_(MOVEMENT.c.kind.in_(("adjust", "count")), MOVEMENT.c.quantity_ul < 0)))
        .group_by(MOVEMENT.c.kind, MOVEMENT.c.reason)
        .order_by(sa.desc("wasted_ul"))
    )  # fmt: skip


def mixtures_by_maker() -> sa.Select[tuple[object, ...]]:
    return (
        sa.select(
            USER.c.name.label("user"),
            USER.c.display_name,
            USER.c.role,
            sa.func.count(BATCH.c.id).label("mixtures"),
            sa.func.sum(BATCH.c.final_volume_ul).label("volume_ul"),
        )
        .join(USER, USER.c.id == BATCH.c.actor_id)
        .group_by(USER.c.name, USER.c.display_name, USER.c.role)
        .order_by(sa.desc("mixtures"))
    )
