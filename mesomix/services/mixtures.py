"""Checking and dispensing mixtures: the dispense is one transaction that re-checks everything."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from mesomix.clock import Clock
from mesomix.db.tables import BatchLineRow, BatchRow, LotRow, MovementRow, UserRow
from mesomix.domain.allocation import LotState, LotStatus, NotEnoughStock, Pick, allocate
from mesomix.domain.catalog import Product
from mesomix.domain.checks import PatientFacts, check_mixture
from mesomix.domain.mixture import DraftMixture, Draw, Plan, candidate_products
from mesomix.domain.permissions import Action
from mesomix.domain.units import Q, format_quantity
from mesomix.services.actors import check_permission
from mesomix.services.catalog import CatalogService
from mesomix.services.errors import NotFound, ServiceError, StockError
from mesomix.services.people import patient_facts
from mesomix.services.stock import lots_of, usable_by_product
from mesomix.services.uow import transaction


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


_LOT = LotRow.__table__
_USER = UserRow.__table__
_BATCH = BatchRow.__table__
_FIND_USER = sa.select(_USER).where(_USER.c.name == sa.bindparam("name"))
_TAKE = (
    sa.update(_LOT)
    .where(
        _LOT.c.id == sa.bindparam("lot"),
        _LOT.c.on_hand_ul >= sa.bindparam("taken"),
        _LOT.c.open_ul == sa.bindparam("open_before"),
        _LOT.c.status == LotStatus.AVAILABLE,
    )
    .values(
        on_hand_ul=_LOT.c.on_hand_ul - sa.bindparam("taken"),
        open_ul=sa.bindparam("open_after"),
        opened_at=sa.bindparam("opened_after"),
    )
)
_ADD_BATCH = sa.insert(_BATCH).returning(_BATCH.c.id)
_ADD_LINES = sa.insert(BatchLineRow.__table__)
_ADD_MOVEMENTS = sa.insert(MovementRow.__table__)


class MixtureService:
    def __init__(self, engine: sa.Engine, catalog: CatalogService, clock: Clock) -> None:
        self._engine = engine
        self._catalog = catalog
        self._clock = clock

    def check(self, draft: DraftMixture) -> Plan:
        """The plan and findings as the shelf is now; writes nothing."""
        catalog = self._catalog.catalog()
        with transaction(self._engine) as connection:
            lots = lots_of(connection, candidate_products(draft, catalog))
            facts = self._patient(connection, draft.patient)[1] if draft.patient else None
        stock = usable_by_product(catalog, lots, self._clock.now(), self._clock.today())
        return check_mixture(draft, catalog, stock, facts)

    def dispense(self, draft: DraftMixture, user: str) -> DispenseResult:
        """Re-check, allocate lots, take the stock, record the batch: all of it or none of it.

        Written in SQL expressions built once, not through the ORM: a dispense is the hot path
        (see benchmarks/bench_dispense.py).
        """
        catalog = self._catalog.catalog()
        with transaction(self._engine, write=True) as connection:
            actor = self._actor(connection, user)
            patient, facts = self._patient(connection, draft.patient)
            now = self._clock.now()
            today = self._clock.today()
            lots = lots_of(connection, candidate_products(draft, catalog), lock=True)
            plan = check_mixture(
                draft, catalog, usable_by_product(catalog, lots, now, today), facts
            )
            if plan.blocked:
                raise DispenseRefused(plan)
            # One allocation per product, so two draws of one product share opened containers.
            picks = {
                code: self._allocate(catalog.products[code], needed, lots, now, today)
                for code, needed in plan.needs_by_product().items()
            }
            for code, product_picks in picks.items():
                for pick in product_picks:
                    self._take(connection, catalog.products[code], pick)
            drawn = [DrawnLot(draw, tuple(picks[draw.product.code])) for draw in plan.draws]
            label = label_text(patient.name, patient.ref, actor.display_name, plan, drawn, now)
            batch_id = connection.execute(
                _ADD_BATCH,
                {
                    "patient_id": patient.id,
                    "actor_id": actor.id,
                    "created_at": now,
                    "final_volume_ul": plan.final_volume_ul,
                    "draft": draft_to_dict(draft),
                    "findings": [f.as_dict() for f in plan.findings],
                    "label": label,
                },
            ).scalar_one()
            connection.execute(
                _ADD_LINES,
                [
                    {
                        "batch_id": batch_id,
                        "position": position,
                        "ingredient": item.draw.ingredient,
                        "product_code": item.draw.product.code,
                        "volume_ul": item.draw.volume_ul,
                        "delivered": {
                            d.substance.code: _exact(d.amount) for d in item.draw.delivered
                        },
                    }
                    for position, item in enumerate(drawn)
                ],
            )
            connection.execute(_ADD_MOVEMENTS, _movements(picks, actor.id, batch_id, now))
            return DispenseResult(batch_id, plan, tuple(drawn), now, label)

    @staticmethod
    def _actor(connection: sa.Connection, user: str) -> sa.Row[Any]:
        actor = connection.execute(_FIND_USER, {"name": user.strip()}).first()
        if actor is None:
            raise NotFound(f"no user named '{user}'")
        check_permission(actor.name, actor.role, actor.active, Action.DISPENSE)
        return actor

    @staticmethod
    def _patient(connection: sa.Connection, ref: str | None) -> tuple[sa.Row[Any], PatientFacts]:
        if not ref:
            raise ServiceError("a mixture is made for one patient: choose the patient first")
        found = patient_facts(connection, ref)
        if found is None:
            raise NotFound(f"no patient with reference '{ref}'")
        return found

    @staticmethod
    def _allocate(
        product: Product,
        needed_ul: int,
        lots: dict[str, list[LotState]],
        now: datetime,
        today: date,
    ) -> list[Pick]:
        try:
            picks, lots[product.code] = allocate(product, needed_ul, lots[product.code], now, today)
        except NotEnoughStock as exc:
            raise StockError(f"not dispensed: {exc}") from exc
        return picks

    @staticmethod
    def _take(connection: sa.Connection, product: Product, pick: Pick) -> None:
        """The guarded decrement: it cannot go below zero nor act on a lot changed meanwhile."""
        taken = connection.execute(
            _TAKE,
            {
                "lot": pick.lot_id,
                "taken": pick.taken_ul,
                "open_before": pick.open_ul_before,
                "open_after": pick.open_ul_after,
                "opened_after": pick.opened_at_after,
            },
        )
        if taken.rowcount != 1:
            raise StockError(
                f"not dispensed: lot {pick.lot_number} of {product.name} changed while "
                "dispensing; nothing was taken — check again"
            )


def _movements(
    picks: dict[str, list[Pick]], actor_id: int, batch_id: int, now: datetime
) -> list[dict[str, object]]:
    """Ledger rows: what each lot gave, and what was wasted with the reason."""
    rows: list[dict[str, object]] = []
    for product_picks in picks.values():
        for pick in product_picks:
            for kind, quantity, reason in (
                ("dispense", -pick.drawn_ul, ""),
                ("waste", -pick.wasted_ul, pick.waste_reason),
            ):
                if quantity:
                    rows.append(
                        {
                            "lot_id": pick.lot_id,
                            "kind": kind,
                            "quantity_ul": quantity,
                            "reason": reason,
                            "actor_id": actor_id,
                            "batch_id": batch_id,
                            "corrects_id": None,
                            "at": now,
                        }
                    )
    return rows


def _exact(quantity: object) -> str:
    """An amount as exact text: magnitude and unit, no float on the way."""
    magnitude = Decimal(quantity.magnitude).normalize()  # type: ignore[attr-defined]
    return f"{format(magnitude, 'f')} {quantity.units:~}"  # type: ignore[attr-defined]


def _ml(microlitres: int) -> str:
    return format_quantity(Q(Decimal(microlitres) / 1000, "milliliter"))


def label_text(
    patient_name: str,
    patient_ref: str,
    maker: str,
    plan: Plan,
    drawn: list[DrawnLot],
    now: datetime,
) -> str:
    """The label that goes on the syringe: patient, contents, lots, who made it and when."""
    lines = [f"{patient_name} ({patient_ref})", f"Final volume {_ml(plan.final_volume_ul)}"]
    for item in drawn:
        draw = item.draw
        lots = ", ".join(f"{p.lot_number} exp {p.expiry.isoformat()}" for p in item.picks)
        contents = ", ".join(
            f"{d.substance.short_name} {format_quantity(d.amount)}" for d in draw.delivered
        )
        head = contents or f"{draw.product.name} q.s."
        lines.append(f"  {head}: {_ml(draw.volume_ul)} of {draw.product.name} [lot {lots}]")
    lines.append(f"Made by {maker} on {now.strftime('%Y-%m-%d %H:%M')} UTC")
    return "\n".join(lines)
