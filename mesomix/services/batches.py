"""What a dispense writes and what it reads back: the stock taken under its guard, the batch
with its lines (the draft as typed, each amount delivered as exact text), the ledger movements,
the audit rows, the overrides and acknowledgements; and what a patient received earlier, for
the dose limits. Written in SQL expressions built once: the dispense is the hot path
(benchmarks/bench_dispense.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from mesomix.clock import Clock, day_start
from mesomix.db.sites import site_of
from mesomix.db.tables import (
    AcknowledgementRow,
    BatchLineRow,
    BatchRow,
    LotRow,
    MovementRow,
    OverrideRow,
)
from mesomix.domain.allocation import LotStatus, Pick
from mesomix.domain.bench import BY_EYE
from mesomix.domain.beyond_use import BeyondUse
from mesomix.domain.catalog import Catalog
from mesomix.domain.dose import PriorBatch, Received
from mesomix.domain.findings import Finding, Severity
from mesomix.domain.mixture import DraftMixture, Draw, Plan
from mesomix.domain.overrides import Override
from mesomix.domain.units import CANONICAL, unit_word
from mesomix.services.audit import Entry, append_many
from mesomix.services.errors import ServiceError, StockError

_LOT = LotRow.__table__
_BATCH = BatchRow.__table__
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
_ADD_OVERRIDES = sa.insert(OverrideRow.__table__)
_ADD_ACKNOWLEDGEMENTS = sa.insert(AcknowledgementRow.__table__)
_LINE = BatchLineRow.__table__
# What the patient received since a moment: every line of their batches, oldest first.
_RECEIVED = (
    sa.select(_BATCH.c.id, _BATCH.c.created_at, _LINE.c.delivered)
    .select_from(_BATCH.join(_LINE, _LINE.c.batch_id == _BATCH.c.id))
    .where(
        _BATCH.c.patient_id == sa.bindparam("patient"),
        _BATCH.c.created_at >= sa.bindparam("since"),
    )
    .order_by(_BATCH.c.created_at, _BATCH.c.id, _LINE.c.position)
)
_DIMENSION_OF_WORD = {unit_word(dimension): dimension for dimension in CANONICAL}


@dataclass(frozen=True)
class DrawnLot:
    draw: Draw
    picks: tuple[Pick, ...]


def draft_to_dict(draft: DraftMixture) -> dict[str, object]:
    """The draft as typed, for the batch record."""
    return {
        "ingredients": [
            {"what": i.what, "amount": i.amount, "product": i.product} for i in draft.ingredients
        ],
        "final_volume": draft.final_volume,
        "diluent": draft.diluent,
        "patient": draft.patient,
        "storage": draft.storage,
        "category": draft.category,
        "purpose": draft.purpose,
        "prescriber": draft.prescriber,
        "course": draft.course,
        "session": draft.session,
        "scans": list(draft.scans),
    }


def prior_batches(
    connection: sa.Connection, clock: Clock, session_hours: int | None, patient_pk: int
) -> Received:
    """The batches the patient received in the session window (by default the clinic's
    calendar day) and in the calendar day, for the dose limits of each period."""
    now, zone = clock.now(), clock.zone
    today = clock.today()
    day = day_start(today, zone)
    session = day if session_hours is None else now - timedelta(hours=session_hours)
    batches: dict[int, tuple[datetime, dict[str, tuple[Decimal, str]]]] = {}
    rows = connection.execute(_RECEIVED, {"patient": patient_pk, "since": min(day, session)})
    for batch_id, at, delivered in rows:
        _, sums = batches.setdefault(batch_id, (at, {}))
        for code, amount in delivered.items():
            value, dimension = amount_of(amount, batch_id)
            before = sums.get(code, (Decimal(0), dimension))[0]
            sums[code] = (before + value, dimension)
    return Received(
        today,
        tuple(
            PriorBatch(
                batch_id,
                at.astimezone(zone),
                sums,
                frozenset(
                    period for period, start in (("session", session), ("day", day)) if at >= start
                ),
            )
            for batch_id, (at, sums) in batches.items()
        ),
    )


def take(connection: sa.Connection, catalog: Catalog, picks: Mapping[str, list[Pick]]) -> None:
    """The guarded decrements, in one round trip: none may go below zero nor touch a lot that
    changed meanwhile, so fewer rows changed than picks means someone raced us."""
    rows = [
        {
            "lot": pick.lot_id,
            "taken": pick.taken_ul,
            "open_before": pick.open_ul_before,
            "open_after": pick.open_ul_after,
            "opened_after": pick.opened_at_after,
        }
        for product_picks in picks.values()
        for pick in product_picks
    ]
    if connection.dialect.supports_sane_multi_rowcount:
        if connection.execute(_TAKE, rows).rowcount == len(rows):
            return
    elif all(connection.execute(_TAKE, row).rowcount == 1 for row in rows):
        return
    names = ", ".join(catalog.products[code].name for code in picks)
    raise StockError(
        f"not dispensed: a lot of {names} changed while dispensing; nothing was taken — check again"
    )


def record_batch(
    connection: sa.Connection,
    now: datetime,
    actor: sa.Row[Any],
    patient_pk: int,
    prescriber_id: int | None,
    draft: DraftMixture,
    plan: Plan,
    picks: Mapping[str, list[Pick]],
    drawn: Sequence[DrawnLot],
    label: str,
    bud: BeyondUse,
    overrides: Sequence[Override] = (),
    signers: Mapping[str, int] | None = None,
    read: Sequence[Finding] = (),
    course_session_id: int | None = None,
    verified: Mapping[str, str] | None = None,
) -> int:
    """The batch, its lines, the ledger movements, the audit rows, the overrides signed (by
    the practitioners' ids in `signers`) and the warnings read: in the dispense's transaction,
    after the stock was taken; each line says whether its vials were verified at the bench by
    scan or by eye (`verified`, by product). Returns the batch's id."""
    signers = signers or {}
    verified = verified or {}
    by_key = {f.key: f for f in plan.findings}
    batch_id: int = connection.execute(
        _ADD_BATCH,
        {
            "site_id": site_of(connection),
            "patient_id": patient_pk,
            "actor_id": actor.id,
            "created_at": now,
            "final_volume_ul": plan.final_volume_ul,
            "draft": draft_to_dict(draft),
            "findings": [f.as_dict() for f in plan.findings],
            "label": label,
            "storage": draft.storage,
            "purpose": draft.purpose,
            "prescriber_id": prescriber_id,
            "formula_version_id": draft.formula_version,
            "course_session_id": course_session_id,
            "beyond_use_at": bud.at,
            "beyond_use_rule": bud.rule,
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
                "verified": verified.get(item.draw.product.code, BY_EYE),
                "delivered": {
                    d.substance.code: _exact(d.value, d.dimension) for d in item.draw.delivered
                },
            }
            for position, item in enumerate(drawn)
        ],
    )
    connection.execute(_ADD_MOVEMENTS, _movements(picks, actor.id, batch_id, now))
    append_many(
        connection,
        now,
        _audit_entries(actor, patient_pk, batch_id, plan, picks, overrides, signers, bud, read),
    )
    if overrides:
        connection.execute(
            _ADD_OVERRIDES,
            [
                {
                    "batch_id": batch_id,
                    "finding_key": s.finding_key,
                    "finding_code": by_key[s.finding_key].code,
                    "finding_message": by_key[s.finding_key].message,
                    "practitioner_id": signers[s.practitioner],
                    "reason_code": s.reason_code,
                    "reason_text": s.reason_text.strip(),
                    "at": now,
                }
                for s in overrides
            ],
        )
    if read:
        connection.execute(
            _ADD_ACKNOWLEDGEMENTS,
            [
                {
                    "batch_id": batch_id,
                    "finding_key": f.key,
                    "finding_code": f.code,
                    "finding_message": f.message,
                    "user_id": actor.id,
                    "at": now,
                }
                for f in read
            ],
        )
    return batch_id


def _audit_entries(
    actor: sa.Row[Any],
    patient_id: int,
    batch_id: int,
    plan: Plan,
    picks: Mapping[str, list[Pick]],
    overrides: Sequence[Override],
    signers: Mapping[str, int],
    bud: BeyondUse,
    read: Sequence[Finding] = (),
) -> list[Entry]:
    """The dispense, each lot it took from (old and new on hand), each signed override, each
    warning acknowledged."""
    who = {"user_id": actor.id, "user_name": actor.name, "patient_id": patient_id}
    entries = [
        Entry(
            "dispense",
            record_type="batch",
            record_id=str(batch_id),
            new={
                "final_volume_ul": plan.final_volume_ul,
                "products": sorted(picks),
                "beyond_use_at": bud.at.isoformat(),
                "warnings": [f.code for f in plan.findings if f.severity is Severity.WARN],
            },
            **who,
        )
    ]
    for product_picks in picks.values():
        for pick in product_picks:
            entries.append(
                Entry(
                    "stock.take",
                    record_type="lot",
                    record_id=str(pick.lot_id),
                    lot_id=pick.lot_id,
                    old={"open_ul": pick.open_ul_before},
                    new={
                        "taken_ul": pick.taken_ul,
                        "wasted_ul": pick.wasted_ul,
                        "open_ul": pick.open_ul_after,
                    },
                    reason=f"batch {batch_id}",
                    **who,
                )
            )
    for signature in overrides:
        entries.append(
            Entry(
                "override.signed",
                user_id=signers[signature.practitioner],
                user_name=signature.practitioner,
                record_type="batch",
                record_id=str(batch_id),
                patient_id=patient_id,
                new={"finding": signature.finding_key, "reason_code": signature.reason_code},
                reason=signature.reason_text.strip(),
            )
        )
    for finding in read:
        entries.append(
            Entry(
                "warning.acknowledged",
                record_type="batch",
                record_id=str(batch_id),
                new={"finding": finding.key, "message": finding.message},
                **who,
            )
        )
    return entries


def _movements(
    picks: Mapping[str, list[Pick]], actor_id: int, batch_id: int, now: datetime
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
                            "note": "",
                            "at": now,
                        }
                    )
    return rows


def _exact(value: Decimal, dimension: str) -> str:
    """An amount as exact text (every digit kept) in its canonical unit: '30 mg', '0.5 mg'."""
    return f"{format(value.normalize(), 'f')} {unit_word(dimension)}"


def amount_of(text: str, batch_id: int) -> tuple[Decimal, str]:
    """An amount a batch line keeps ('30 mg', as `_exact` wrote it) as (value, dimension)."""
    value, _, word = text.partition(" ")
    try:
        return Decimal(value), _DIMENSION_OF_WORD[word]
    except (ArithmeticError, KeyError):
        raise ServiceError(
            f"batch {batch_id} holds an amount that cannot be read ({text!r}): the dose limits "
            "cannot count what the patient received — run `mesomix check`"
        ) from None
