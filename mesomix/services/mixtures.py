"""Checking and dispensing mixtures: the dispense is one transaction that re-checks everything."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, select

from mesomix.clock import Clock
from mesomix.db.tables import BatchLineRow, BatchRow, LotRow, MovementRow, PatientRow, UserRow
from mesomix.domain.allocation import LotState, NotEnoughStock, Pick, allocate
from mesomix.domain.mixture import DraftIngredient, DraftMixture, Draw, Plan, plan_mixture
from mesomix.domain.permissions import Action
from mesomix.domain.units import Q, format_quantity
from mesomix.services.actors import require
from mesomix.services.catalog import CatalogService
from mesomix.services.errors import NotFound, ServiceError, StockError
from mesomix.services.stock import lot_state, usable_stock_hint
from mesomix.services.uow import unit_of_work


class DispenseRefused(ServiceError):
    """The re-check found blocking findings; they travel with the refusal."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        blocks = [f.message for f in plan.findings if f.severity.value == "block"]
        super().__init__("not dispensed: " + "; ".join(blocks))


@dataclass(frozen=True)
class DrawnLot:
    draw: Draw
    picks: tuple[Pick, ...]


@dataclass(frozen=True)
class DispenseResult:
    batch_id: int
    plan: Plan
    drawn: tuple[DrawnLot, ...]
    at: datetime
    label: str


def draft_to_dict(draft: DraftMixture) -> dict[str, object]:
    return asdict(draft)


def draft_from_dict(data: dict[str, object]) -> DraftMixture:
    ingredients = tuple(DraftIngredient(**item) for item in data.get("ingredients", ()))  # type: ignore[union-attr]
    return DraftMixture(
        ingredients=ingredients,
        final_volume=str(data.get("final_volume") or ""),
        diluent=data.get("diluent") or None,  # type: ignore[arg-type]
        patient=data.get("patient") or None,  # type: ignore[arg-type]
    )


class MixtureService:
    def __init__(self, engine: sa.Engine, catalog: CatalogService, clock: Clock) -> None:
        self._engine = engine
        self._catalog = catalog
        self._clock = clock

    def check(self, draft: DraftMixture) -> Plan:
        """The plan and findings as the shelf is now; writes nothing."""
        with unit_of_work(self._engine) as session:
            stock = usable_stock_hint(session, self._clock.now().date())
        return plan_mixture(draft, self._catalog.catalog(), stock)

    def dispense(self, draft: DraftMixture, user: str) -> DispenseResult:
        """Re-check, allocate lots, take the stock, record the batch: all of it or none of it."""
        catalog = self._catalog.catalog()
        with unit_of_work(self._engine, write=True) as session:
            actor = require(session, user, Action.DISPENSE)
            patient = self._patient(session, draft.patient)
            now = self._clock.now()
            plan = plan_mixture(draft, catalog, usable_stock_hint(session, now.date()))
            if plan.blocked:
                raise DispenseRefused(plan)
            lots = self._lock_lots(session, sorted(plan.needs_by_product()))
            batch = BatchRow(
                patient_id=patient.id,
                actor_id=actor.id or 0,
                created_at=now,
                final_volume_ul=plan.final_volume_ul,
                draft=draft_to_dict(draft),
                findings=[f.as_dict() for f in plan.findings],
            )
            session.add(batch)
            session.flush()
            drawn = []
            for position, draw in enumerate(plan.draws):
                picks = self._take(session, draw, lots, now, actor.id or 0, batch.id or 0)
                drawn.append(DrawnLot(draw, tuple(picks)))
                session.add(
                    BatchLineRow(
                        batch_id=batch.id or 0,
                        position=position,
                        ingredient=draw.ingredient,
                        product_code=draw.product.code,
                        volume_ul=draw.volume_ul,
                        delivered={d.substance.code: _exact(d.amount) for d in draw.delivered},
                    )
                )
            batch.label = label_text(patient, actor, plan, drawn, now)
            session.add(batch)
            return DispenseResult(batch.id or 0, plan, tuple(drawn), now, batch.label)

    def _patient(self, session: Session, ref: str | None) -> PatientRow:
        if not ref:
            raise ServiceError("a mixture is made for one patient: choose the patient first")
        patient = session.exec(select(PatientRow).where(PatientRow.ref == ref)).first()
        if patient is None:
            raise NotFound(f"no patient with reference '{ref}'")
        return patient

    def _lock_lots(self, session: Session, codes: list[str]) -> dict[str, list[LotState]]:
        """The lots of these products, locked for this transaction (row locks on PostgreSQL)."""
        query = (
            select(LotRow)
            .where(LotRow.product_code.in_(codes), LotRow.on_hand_ul > 0)  # type: ignore[attr-defined]
            .order_by(LotRow.id)
            .with_for_update()
        )
        lots: dict[str, list[LotState]] = {code: [] for code in codes}
        for row in session.exec(query):
            lots[row.product_code].append(lot_state(row))
        return lots

    def _take(
        self,
        session: Session,
        draw: Draw,
        lots: dict[str, list[LotState]],
        now: datetime,
        actor_id: int,
        batch_id: int,
    ) -> list[Pick]:
        code = draw.product.code
        try:
            picks, lots[code] = allocate(draw.product, draw.volume_ul, lots[code], now)
        except NotEnoughStock as exc:
            raise StockError(f"not dispensed: {exc}") from exc
        for pick in picks:
            guarded = (
                sa.update(LotRow)
                .where(
                    LotRow.id == pick.lot_id,
                    LotRow.on_hand_ul >= pick.taken_ul,
                    LotRow.open_ul == pick.open_ul_before,
                    LotRow.status == "available",
                )
                .values(
                    on_hand_ul=LotRow.on_hand_ul - pick.taken_ul,
                    open_ul=pick.open_ul_after,
                    opened_at=pick.opened_at_after,
                )
            )
            if session.execute(guarded).rowcount != 1:
                raise StockError(
                    f"not dispensed: lot {pick.lot_number} of {draw.product.name} changed while "
                    "dispensing; nothing was taken — check again"
                )
            self._movement(session, pick, "dispense", -pick.drawn_ul, "", actor_id, batch_id, now)
            if pick.wasted_ul:
                self._movement(
                    session,
                    pick,
                    "waste",
                    -pick.wasted_ul,
                    pick.waste_reason,
                    actor_id,
                    batch_id,
                    now,
                )
        return picks

    @staticmethod
    def _movement(
        session: Session,
        pick: Pick,
        kind: str,
        quantity_ul: int,
        reason: str,
        actor_id: int,
        batch_id: int,
        now: datetime,
    ) -> None:
        if quantity_ul == 0:
            return
        session.add(
            MovementRow(
                lot_id=pick.lot_id,
                kind=kind,
                quantity_ul=quantity_ul,
                reason=reason,
                actor_id=actor_id,
                batch_id=batch_id,
                at=now,
            )
        )


def _exact(quantity: object) -> str:
    """An amount as exact text: magnitude and unit, no float on the way."""
    magnitude = Decimal(quantity.magnitude).normalize()  # type: ignore[attr-defined]
    return f"{format(magnitude, 'f')} {quantity.units:~}"  # type: ignore[attr-defined]


def _ml(microlitres: int) -> str:
    return format_quantity(Q(Decimal(microlitres) / 1000, "milliliter"))


def label_text(
    patient: PatientRow, actor: UserRow, plan: Plan, drawn: list[DrawnLot], now: datetime
) -> str:
    """The label that goes on the syringe: patient, contents, lots, who made it and when."""
    lines = [f"{patient.name} ({patient.ref})", f"Final volume {_ml(plan.final_volume_ul)}"]
    for item in drawn:
        draw = item.draw
        lots = ", ".join(f"{p.lot_number} exp {p.expiry.isoformat()}" for p in item.picks)
        contents = ", ".join(
            f"{d.substance.name} {format_quantity(d.amount)}" for d in draw.delivered
        )
        head = contents or f"{draw.product.name} q.s."
        lines.append(f"  {head}: {_ml(draw.volume_ul)} of {draw.product.name} [lot {lots}]")
    lines.append(f"Made by {actor.display_name} on {now.strftime('%Y-%m-%d %H:%M')} UTC")
    return "\n".join(lines)
