"""Stock sent from one site's shelves to another's: whole sealed containers of a lot, taken off
this site's lot and put on the other site's lot of the same manufacturer's lot (made there if
it has none: same number, expiry, status, supplier and cost) — two movements, one on each
site's ledger, in one transaction, on this site's audit chain."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import col, select

from mesomix.db.sites import site_of
from mesomix.db.tables import LotRow, MovementRow, SiteRow
from mesomix.domain.inventory import MAX_CONTAINERS
from mesomix.domain.ledger import listed
from mesomix.domain.permissions import Action
from mesomix.domain.text import plain_text
from mesomix.services.base import Service
from mesomix.services.errors import NotFound, ServiceError
from mesomix.services.stock.lots import MAX_NOTE, lot_and_product

OUT, IN = "transfer_out", "transfer_in"


@dataclass(frozen=True)
class Transferred:
    to_site: str
    to_lot_id: int  # the lot on the other site's shelves
    out_movement_id: int
    in_movement_id: int
    quantity_ul: int


class Transfers(Service):
    def transfer(
        self, user: str, lot_id: int, to_site: str, containers: int, note: str = ""
    ) -> Transferred:
        """Send `containers` sealed containers of a lot on this site's shelves to `to_site`.
        A recalled or expired lot is not sent (it is returned or wasted where it is); an opened
        container is not sent (it stays with the site that opened it)."""
        if not 1 <= containers <= MAX_CONTAINERS:
            raise ServiceError(f"send 1 to {MAX_CONTAINERS:,} whole containers, not {containers}")
        if not plain_text(note, MAX_NOTE):
            raise ServiceError(f"a note is at most {MAX_NOTE} printable characters")
        with self.writing(user, Action.TRANSFER_STOCK) as (session, actor):
            here = site_of(session.connection())
            there = session.exec(select(SiteRow).where(SiteRow.code == to_site)).first()
            if there is None or not there.active:
                known = ", ".join(
                    site.code for site in session.exec(select(SiteRow).order_by(col(SiteRow.id)))
                )
                raise NotFound(
                    f"there is no open site '{to_site}' to send to: the sites are {known}"
                )
            if there.id == here:
                raise ServiceError(f"lot {lot_id} is already on {there.name}'s shelves")
            lot, product = lot_and_product(session, lot_id)
            if lot.status == "recalled":
                raise ServiceError(
                    f"lot {lot.lot_number} is recalled: it is returned to the supplier, not sent on"
                )
            if lot.expiry < self._clock.today():
                raise ServiceError(
                    f"lot {lot.lot_number} expired on {lot.expiry.isoformat()}: it is wasted "
                    "where it is, not sent on"
                )
            volume = product.container_volume_ul
            sealed = (lot.on_hand_ul - lot.open_ul) // volume
            if containers > sealed:
                raise ServiceError(
                    f"lot {lot.lot_number} has {sealed} sealed container"
                    f"{'' if sealed == 1 else 's'} of {product.name}: {containers} cannot be sent"
                )
            quantity = containers * volume
            now = self._clock.now()
            target = session.exec(
                select(LotRow)
                .where(
                    LotRow.site_id == there.id,
                    LotRow.product_code == lot.product_code,
                    LotRow.lot_number == lot.lot_number,
                )
                .with_for_update()
            ).first()
            if target is None:
                target = LotRow(
                    site_id=there.id or 0,
                    product_code=lot.product_code,
                    lot_number=lot.lot_number,
                    expiry=lot.expiry,
                    status=lot.status,
                    status_reason=lot.status_reason,
                    received_at=now,
                    supplier=lot.supplier,
                    unit_cost_cents=lot.unit_cost_cents,
                )
                session.add(target)
                session.flush()
            taken = session.exec(
                sa.update(LotRow)
                .where(
                    col(LotRow.id) == lot.id,
                    col(LotRow.on_hand_ul) == lot.on_hand_ul,
                    col(LotRow.open_ul) == lot.open_ul,
                )
                .values(on_hand_ul=LotRow.on_hand_ul - quantity)
            )
            if taken.rowcount != 1:
                raise ServiceError(
                    f"lot {lot.lot_number} changed meanwhile: nothing was sent — try again"
                )
            session.exec(
                sa.update(LotRow)
                .where(col(LotRow.id) == target.id)
                .values(on_hand_ul=LotRow.on_hand_ul + quantity)
            )
            said = f"to {there.code}" + (f": {note.strip()}" if note.strip() else "")
            moved = [
                MovementRow(
                    lot_id=moved_lot,
                    kind=kind,
                    quantity_ul=signed,
                    reason="transfer",
                    note=said,
                    actor_id=actor.id or 0,
                    at=now,
                )
                for moved_lot, kind, signed in (
                    (lot.id or 0, OUT, -quantity),
                    (target.id or 0, IN, quantity),
                )
            ]
            session.add_all(moved)
            session.flush()
            self.audit(
                session,
                actor,
                "stock.transfer",
                ("lot", lot.id),
                lot_id=lot.id,
                at=now,
                old={"on_hand_ul": lot.on_hand_ul},
                new={
                    "to_site": there.code,
                    "to_lot": target.id,
                    "containers": containers,
                    "movements": [
                        listed(m.id or 0, m.lot_id, m.kind, m.quantity_ul) for m in moved
                    ],
                },
                reason=said,
            )
            return Transferred(
                there.code, target.id or 0, moved[0].id or 0, moved[1].id or 0, quantity
            )
