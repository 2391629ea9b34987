"""The ledger checked for `mesomix check`: each lot's on-hand against the sum of its movements,
and every movement against the audit trail (the rules: domain/ledger.py)."""

from __future__ import annotations

import sqlalchemy as sa

from mesomix.db.tables import AuditRow, LotRow, MovementRow
from mesomix.domain.ledger import WIPE_ACTION, Movement, Reconciliation, TrailRow, reconcile
from mesomix.services.uow import transaction

_AUDIT, _MOVEMENT = AuditRow.__table__, MovementRow.__table__
_TRAIL = (
    sa.select(
        _AUDIT.c.id,
        _AUDIT.c.at,
        _AUDIT.c.action,
        _AUDIT.c.lot_id,
        _AUDIT.c.new,
        _AUDIT.c.reason,
    )
    .where(sa.or_(_AUDIT.c.action.like("stock.%"), _AUDIT.c.action == WIPE_ACTION))
    .order_by(_AUDIT.c.id)
)
_MOVEMENTS = sa.select(
    _MOVEMENT.c.id,
    _MOVEMENT.c.lot_id,
    _MOVEMENT.c.kind,
    _MOVEMENT.c.quantity_ul,
    _MOVEMENT.c.batch_id,
    _MOVEMENT.c.at,
)
_TRAIL_BEGAN = sa.select(_AUDIT.c.at).order_by(_AUDIT.c.id).limit(1)


def reconcile_ledger(engine: sa.Engine) -> Reconciliation:
    """Every movement against the audit row that recorded it, in one read transaction."""
    with transaction(engine) as connection:
        began = connection.execute(_TRAIL_BEGAN).scalar()
        trail = [TrailRow(*row) for row in connection.execute(_TRAIL)]
        movements = [Movement(*row) for row in connection.execute(_MOVEMENTS)]
    return reconcile(trail, movements, began)


def discrepancies(engine: sa.Engine) -> list[tuple[int, int, int]]:
    """Lots whose on-hand differs from the sum of their movements: (lot id, on hand, ledger)."""
    lot = LotRow.__table__
    ledger = (
        sa.select(_MOVEMENT.c.lot_id, sa.func.sum(_MOVEMENT.c.quantity_ul).label("total"))
        .group_by(_MOVEMENT.c.lot_id)
        .subquery()
    )
    query = sa.select(lot.c.id, lot.c.on_hand_ul, sa.func.coalesce(ledger.c.total, 0)).outerjoin(
        ledger, ledger.c.lot_id == lot.c.id
    )
    with transaction(engine) as connection:
        return [
            (lot_id, on_hand, int(total))
            for lot_id, on_hand, total in connection.execute(query)
            if on_hand != int(total)
        ]
