"""Checking and dispensing mixtures: the dispense is one transaction that re-checks everything."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from mesomix.clock import Clock, day_start
from mesomix.db.repositories.lots import lots_of
from mesomix.db.repositories.patients import patient_facts
from mesomix.db.tables import (
    AcknowledgementRow,
    BatchLineRow,
    BatchRow,
    FormulaVersionRow,
    LotRow,
    MovementRow,
    OverrideRow,
    PatientRow,
    UserRow,
)
from mesomix.domain.allocation import LotState, LotStatus, NotEnoughStock, Pick, allocate, usable_ul
from mesomix.domain.beyond_use import BeyondUse, LotUse, beyond_use, expiry_findings
from mesomix.domain.catalog import Catalog
from mesomix.domain.checks import PatientFacts, check_mixture
from mesomix.domain.dose import PriorBatch, Received, may_meet_a_limit
from mesomix.domain.findings import Finding, Severity
from mesomix.domain.mixture import (
    PURPOSES,
    DraftMixture,
    Draw,
    Plan,
    ResolvedDraft,
    resolve_draft,
)
from mesomix.domain.overrides import (
    Override,
    OverrideError,
    read_warnings,
    stray_acknowledgements,
    unsigned_blocks,
)
from mesomix.domain.permissions import Action
from mesomix.domain.text import readable, storable
from mesomix.domain.units import CANONICAL, format_amount, unit_word
from mesomix.reference import beyond_use_rules
from mesomix.services.accounts import (
    SIGNATURE,
    Attempt,
    SignatureRefused,
    attempts_settled,
    judge,
    said,
    settle,
    signature_context,
)
from mesomix.services.actors import check_permission
from mesomix.services.audit import Entry, append_many, denials_recorded
from mesomix.services.base import Service
from mesomix.services.catalog import CatalogService
from mesomix.services.errors import NotFound, ServiceError, StockError
from mesomix.services.labels import Acknowledged, SignedOff, acknowledged_lines, overridden_lines
from mesomix.services.uow import transaction

STORAGES = ("room", "refrigerated")


class DispenseRefused(ServiceError):
    """Blocking findings no signed override covers, and warnings the person dispensing has not
    acknowledged; they travel with the refusal."""

    def __init__(
        self, plan: Plan, unsigned: Sequence[Finding] | None = None, stray: Sequence[str] = ()
    ) -> None:
        self.plan = plan
        self.unsigned = list(unsigned if unsigned is not None else plan.findings)
        self.stray = list(stray)  # keys acknowledged that name no warning of this mixture
        blocks = [f.message for f in self.unsigned if f.severity is Severity.BLOCK]
        unread = [f"{f.message} [{f.key}]" for f in self.unacknowledged]
        if unread:
            blocks.append(
                "each warning must be acknowledged by the person dispensing, and these are not: "
                + "; ".join(unread)
            )
        blocks.extend(_no_such_warning(key) for key in self.stray)
        super().__init__("not dispensed: " + "; ".join(blocks))

    @property
    def unacknowledged(self) -> list[Finding]:
        return [f for f in self.unsigned if f.severity is Severity.WARN]


@dataclass(frozen=True)
class Signature:
    """An override as typed at the counter: the practitioner signs with their password."""

    finding_key: str
    practitioner: str
    password: str
    reason_code: str
    reason_text: str

    def override(self) -> Override:
        return Override(self.finding_key, self.practitioner, self.reason_code, self.reason_text)


@dataclass(frozen=True)
class DrawnLot:
    draw: Draw
    picks: tuple[Pick, ...]


@dataclass(frozen=True)
class Assessment:
    """A plan with every finding, and — when stock allows — the lots and the beyond-use date."""

    plan: Plan
    picks: Mapping[str, list[Pick]] | None
    beyond_use: BeyondUse | None


@dataclass(frozen=True)
class DispenseResult:
    batch_id: int
    plan: Plan
    drawn: tuple[DrawnLot, ...]
    at: datetime
    label: str
    beyond_use: BeyondUse
    overrides: tuple[Override, ...] = ()
    acknowledged: tuple[Finding, ...] = ()  # the warnings read by the person dispensing


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
    }


_LOT = LotRow.__table__
_USER = UserRow.__table__
_BATCH = BatchRow.__table__
_FIND_USER = sa.select(_USER).where(_USER.c.name == sa.bindparam("name"))
_FORMULA_VERSION = FormulaVersionRow.__table__
_FIND_FORMULA_VERSION = sa.select(_FORMULA_VERSION.c.id).where(
    _FORMULA_VERSION.c.id == sa.bindparam("id")
)
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
_PATIENT_TABLE = PatientRow.__table__
# Dispenses for one patient wait for each other on PostgreSQL, so each counts the one before it
# (SQLite's BEGIN IMMEDIATE already serialises every dispense).
_LOCK_PATIENT = (
    sa.select(_PATIENT_TABLE.c.id)
    .where(_PATIENT_TABLE.c.id == sa.bindparam("patient"))
    .with_for_update()
)
_DIMENSION_OF_WORD = {unit_word(dimension): dimension for dimension in CANONICAL}


class MixtureService(Service):
    def __init__(
        self,
        engine: sa.Engine,
        catalog: CatalogService,
        clock: Clock,
        session_hours: int | None = None,
    ) -> None:
        super().__init__(engine, clock)
        self._catalog = catalog
        self._session_hours = session_hours  # None: a session is the clinic's calendar day

    def check(self, draft: DraftMixture, user: str) -> Plan:
        """The plan and every finding as the shelf is now, with the beyond-use date; writes nothing."""
        catalog = self._catalog.catalog()
        with (
            denials_recorded(self._engine, self._clock, user, Action.CHECK_MIXTURE.value),
            transaction(self._engine) as connection,
        ):
            self._actor(connection, user, Action.CHECK_MIXTURE)
            self._prescriber(connection, draft.prescriber)
            named = self._resolved(draft, catalog)
            candidates = named.candidates(catalog)
            lots = lots_of(connection, candidates)
            facts = None
            if draft.patient:
                patient, facts = self._patient(connection, draft.patient)
                if may_meet_a_limit(candidates, catalog):
                    received = self._received(connection, patient.patient_pk)
                    facts = replace(facts, received=received)
        return self._assess(named, catalog, lots, facts).plan

    def _resolved(self, draft: DraftMixture, catalog: Catalog) -> ResolvedDraft:
        """Every name typed, resolved once for the lots to read and the plan; those the
        catalogue does not know whole (typed with a strength or size) read by the one matcher,
        whose search index is only built then."""
        named = resolve_draft(draft, catalog)
        unknown = named.unknown()
        if not unknown:
            return named
        return replace(named, readings=self._catalog.matcher().readings(unknown))

    def dispense(
        self,
        draft: DraftMixture,
        user: str,
        signatures: Sequence[Signature] = (),
        acknowledged: Sequence[str] = (),
        acknowledge_all: bool = False,
    ) -> DispenseResult:
        """Re-check, allocate lots, take the stock, record the batch, any signed overrides and
        the warnings acknowledged: all of it or none of it.

        Every WARNING of the re-check must be acknowledged by the person dispensing — by its key
        as shown (`acknowledged`), or every one shown (`acknowledge_all`) — else it is refused:
        a changed mixture's warnings have other keys, so earlier acknowledgements do not cover
        them.

        Written in SQL expressions built once, not through the ORM: a dispense is the hot path
        (see benchmarks/bench_dispense.py).
        """
        catalog = self._catalog.catalog()
        with (
            denials_recorded(self._engine, self._clock, user, Action.DISPENSE.value),
            attempts_settled(self._engine, self._clock) as attempts,
            transaction(self._engine, write=True) as connection,
        ):
            actor = self._actor(connection, user, Action.DISPENSE)
            prescriber_id, prescriber = self._prescriber(connection, draft.prescriber)
            self._formula_version(connection, draft.formula_version)
            patient, facts = self._patient(connection, draft.patient)
            now = self._clock.now()
            named = self._resolved(draft, catalog)
            candidates = named.candidates(catalog)
            lots = lots_of(connection, candidates, lock=True)
            if may_meet_a_limit(candidates, catalog):
                connection.execute(_LOCK_PATIENT, {"patient": patient.patient_pk})
                facts = replace(facts, received=self._received(connection, patient.patient_pk))
            assessed = self._assess(named, catalog, lots, facts)
            plan = assessed.plan
            signed = self._signers(connection, signatures, attempts, actor.name, patient)
            signers = {name: int(row.id) for name, row in signed.items()}
            try:
                unsigned = unsigned_blocks(plan.findings, [s.override() for s in signatures])
            except OverrideError as exc:
                raise ServiceError(f"not dispensed: {exc}") from exc
            read, unread = read_warnings(plan.findings, set(acknowledged), acknowledge_all)
            stray = stray_acknowledgements(plan.findings, acknowledged)
            if unsigned or unread:
                raise DispenseRefused(plan, [*unsigned, *unread], stray)
            if stray:
                raise ServiceError(f"not dispensed: {_no_such_warning(stray[0])}")
            if assessed.picks is None or assessed.beyond_use is None:
                raise StockError("not dispensed: the lots could not cover the mixture")
            picks = assessed.picks
            self._take(connection, catalog, picks)
            drawn = [DrawnLot(draw, tuple(picks[draw.product.code])) for draw in plan.draws]
            bud = assessed.beyond_use
            by_key = {f.key: f for f in plan.findings}
            overridden = [
                SignedOff(
                    by_key[s.finding_key].message,
                    signed[s.practitioner].display_name,
                    s.reason_code,
                    s.reason_text.strip(),
                )
                for s in signatures
            ]
            label = label_text(
                patient.name,
                patient.ref,
                actor.display_name,
                plan,
                drawn,
                now,
                bud,
                self._clock,
                overridden,
                [Acknowledged(f.message, actor.display_name) for f in read],
                prescriber,
            )
            batch_id = connection.execute(
                _ADD_BATCH,
                {
                    "patient_id": patient.patient_pk,
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
                        "delivered": {
                            d.substance.code: _exact(d.value, d.dimension)
                            for d in item.draw.delivered
                        },
                    }
                    for position, item in enumerate(drawn)
                ],
            )
            connection.execute(_ADD_MOVEMENTS, _movements(picks, actor.id, batch_id, now))
            append_many(
                connection,
                now,
                _audit_entries(
                    actor, patient.patient_pk, batch_id, plan, picks, signatures, signers, bud, read
                ),
            )
            if signatures:
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
                        for s in signatures
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
            return DispenseResult(
                batch_id,
                plan,
                tuple(drawn),
                now,
                label,
                bud,
                tuple(s.override() for s in signatures),
                tuple(read),
            )

    def _received(self, connection: sa.Connection, patient_pk: int) -> Received:
        """The batches the patient received in the session window (by default the clinic's
        calendar day) and in the calendar day, for the dose limits of each period."""
        now, zone = self._clock.now(), self._clock.zone
        today = self._clock.today()
        day = day_start(today, zone)
        session = day if self._session_hours is None else now - timedelta(hours=self._session_hours)
        batches: dict[int, tuple[datetime, dict[str, tuple[Decimal, str]]]] = {}
        rows = connection.execute(_RECEIVED, {"patient": patient_pk, "since": min(day, session)})
        for batch_id, at, delivered in rows:
            _, sums = batches.setdefault(batch_id, (at, {}))
            for code, amount in delivered.items():
                value, dimension = _amount(amount, batch_id)
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
                        period
                        for period, start in (("session", session), ("day", day))
                        if at >= start
                    ),
                )
                for batch_id, (at, sums) in batches.items()
            ),
        )

    def _assess(
        self,
        named: ResolvedDraft,
        catalog: Catalog,
        lots: dict[str, list[LotState]],
        facts: PatientFacts | None,
    ) -> Assessment:
        """Every check, then a dry run of the allocation for the lots and the beyond-use date."""
        now, today, zone = self._clock.now(), self._clock.today(), self._clock.zone
        usable = usable_by_product(catalog, lots, now, today)
        plan = check_mixture(named, catalog, usable, facts)
        draft = named.draft
        categories, _ = beyond_use_rules()
        category = categories.get(draft.category)
        problems = []
        if category is None:
            problems.append(
                Finding(
                    Severity.BLOCK,
                    "beyond_use.unknown_category",
                    f"unknown compounding category '{draft.category}': use one of {', '.join(categories)}",
                )
            )
        if draft.purpose and draft.purpose not in PURPOSES:
            problems.append(
                Finding(
                    Severity.BLOCK,
                    "mixture.unknown_purpose",
                    f"unknown purpose '{draft.purpose}': use one of {', '.join(PURPOSES)}",
                )
            )
        if draft.storage not in STORAGES:
            problems.append(
                Finding(
                    Severity.BLOCK,
                    "beyond_use.unknown_storage",
                    f"unknown storage '{draft.storage}': use room or refrigerated",
                )
            )
        picks = self._allocate_all(plan, catalog, lots, now, today)
        if picks is None or category is None or draft.storage not in STORAGES:
            return Assessment(replace(plan, findings=(*plan.findings, *problems)), None, None)
        uses = _lot_uses(picks, catalog)
        bud = beyond_use(now, category, draft.storage, uses, zone)
        dated = [
            *expiry_findings(now, category, draft.storage, uses, zone),
            Finding(Severity.INFO, "beyond_use.date", f"beyond-use date: {bud.summary}"),
        ]
        return Assessment(replace(plan, findings=(*plan.findings, *problems, *dated)), picks, bud)

    @staticmethod
    def _allocate_all(
        plan: Plan, catalog: Catalog, lots: dict[str, list[LotState]], now: datetime, today: date
    ) -> dict[str, list[Pick]] | None:
        """One allocation per product (two draws of one product share the containers opened);
        None when the lots cannot cover it (the plan already says so)."""
        if any(f.code == "stock.insufficient" for f in plan.findings):
            return None
        state = dict(lots)
        picks: dict[str, list[Pick]] = {}
        try:
            for code, needed in plan.needs_by_product().items():
                picks[code], state[code] = allocate(
                    catalog.products[code], needed, state[code], now, today
                )
        except NotEnoughStock:
            return None
        return picks

    @staticmethod
    def _actor(connection: sa.Connection, user: str, action: Action) -> sa.Row[Any]:
        name = user.strip()
        actor = connection.execute(_FIND_USER, {"name": name}).first() if storable(name) else None
        if actor is None:
            raise NotFound(f"no user named '{user}'")
        check_permission(actor.name, actor.role, actor.active, action)
        return actor

    @staticmethod
    def _prescriber(connection: sa.Connection, name: str | None) -> tuple[int | None, str]:
        """The ordering practitioner's id and display name; a name that is not an active
        practitioner is refused."""
        if name is None or not name.strip():
            return None, ""
        typed = name.strip()
        found = connection.execute(_FIND_USER, {"name": typed}).first() if storable(typed) else None
        if found is None or found.role != "practitioner" or not found.active:
            raise ServiceError(f"'{name}' is not an active practitioner: choose who ordered it")
        return int(found.id), str(found.display_name)

    @staticmethod
    def _formula_version(connection: sa.Connection, version_id: int | None) -> None:
        """A draft started from a formula names a version that exists; else it is refused."""
        if version_id is not None and (
            connection.execute(_FIND_FORMULA_VERSION, {"id": version_id}).first() is None
        ):
            raise NotFound(
                f"not dispensed: the draft names formula version {version_id}, which does not exist"
            )

    def _signers(
        self,
        connection: sa.Connection,
        signatures: Sequence[Signature],
        attempts: list[Attempt],
        dispensing: str,
        patient: sa.Row[Any],
    ) -> dict[str, sa.Row[Any]]:
        """Each practitioner once per password typed, checked as a sign-in is (the role first,
        then a deactivated or locked account, then the password: accounts.judge); what each
        attempt leads to is written with the batch, or on its own when the dispense rolls back."""
        findings: dict[tuple[str, str], list[str]] = {}
        for s in signatures:
            findings.setdefault((s.practitioner, s.password), []).append(s.finding_key)
        now, zone, signed = self._clock.now(), self._clock.zone, {}
        for (name, password), keys in findings.items():
            attempt = judge(
                connection, now, SIGNATURE, name, password, needs=Action.SIGN_OVERRIDE,
                context=signature_context("dispense", dispensing, patient.ref, keys),
                patient_id=patient.patient_pk,
            )  # fmt: skip
            attempts.append(attempt)
            if not attempt.ok:
                raise SignatureRefused(
                    f"not dispensed: the signature of {attempt.typed} was refused: "
                    + said(attempt, zone, now)
                )
            settle(connection, now, zone, attempt)
            signed[name] = attempt.user
        return signed

    @staticmethod
    def _patient(connection: sa.Connection, ref: str | None) -> tuple[sa.Row[Any], PatientFacts]:
        if not ref:
            raise ServiceError("a mixture is made for one patient: choose the patient first")
        found = patient_facts(connection, ref)
        if found is None:
            raise NotFound(f"no patient with reference '{ref}'")
        return found

    @staticmethod
    def _take(connection: sa.Connection, catalog: Catalog, picks: Mapping[str, list[Pick]]) -> None:
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


def _audit_entries(
    actor: sa.Row[Any],
    patient_id: int,
    batch_id: int,
    plan: Plan,
    picks: Mapping[str, list[Pick]],
    signatures: Sequence[Signature],
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
    for signature in signatures:
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


def _lot_uses(picks: Mapping[str, list[Pick]], catalog: Catalog) -> list[LotUse]:
    uses = []
    for code, product_picks in picks.items():
        product = catalog.products[code]
        for pick in product_picks:
            uses.append(
                LotUse(
                    product.name,
                    pick.lot_number,
                    pick.expiry,
                    product.is_multi_dose,
                    pick.vial_opened_at,
                    product.in_use_days or 0,
                )
            )
    return uses


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
                            "note": "",
                            "at": now,
                        }
                    )
    return rows


def usable_by_product(
    catalog: Catalog, lots: Mapping[str, list[LotState]], now: datetime, today: date
) -> dict[str, int]:
    """Microlitres each product can still give: whole sealed containers and live open vials."""
    return {
        code: usable_ul(catalog.products[code], states, now, today)
        for code, states in lots.items()
        if code in catalog.products
    }


def _exact(value: Decimal, dimension: str) -> str:
    """An amount as exact text (every digit kept) in its canonical unit: '30 mg', '0.5 mg'."""
    return f"{format(value.normalize(), 'f')} {unit_word(dimension)}"


def _no_such_warning(key: str) -> str:
    return readable(f"no warning '{key}' in this mixture: it may have changed — check it again")


def _amount(text: str, batch_id: int) -> tuple[Decimal, str]:
    """An amount a batch line keeps ('30 mg', as `_exact` wrote it) as (value, dimension)."""
    value, _, word = text.partition(" ")
    try:
        return Decimal(value), _DIMENSION_OF_WORD[word]
    except (ArithmeticError, KeyError):
        raise ServiceError(
            f"batch {batch_id} holds an amount that cannot be read ({text!r}): the dose limits "
            "cannot count what the patient received — run `mesomix check`"
        ) from None


def _ml(microlitres: int) -> str:
    return format_amount(Decimal(microlitres) / 1000, "volume")


def label_text(
    patient_name: str,
    patient_ref: str,
    maker: str,
    plan: Plan,
    drawn: list[DrawnLot],
    now: datetime,
    bud: BeyondUse,
    clock: Clock,
    overridden: Sequence[SignedOff] = (),
    acknowledged: Sequence[Acknowledged] = (),
    prescriber: str = "",
) -> str:
    """The label that goes on the syringe: patient, contents, lots, any block signed off (and
    by whom, why), any warning acknowledged, beyond-use date, who ordered it, who made it and
    when."""
    zone = clock.zone
    lines = [f"{patient_name} ({patient_ref})", f"Final volume {_ml(plan.final_volume_ul)}"]
    for item in drawn:
        draw = item.draw
        lots = ", ".join(f"{p.lot_number} exp {p.expiry.isoformat()}" for p in item.picks)
        contents = ", ".join(
            f"{d.substance.short_name} {format_amount(d.value, d.dimension)}"
            for d in draw.delivered
        )
        head = contents or f"{draw.product.name} q.s."
        lines.append(f"  {head}: {_ml(draw.volume_ul)} of {draw.product.name} [lot {lots}]")
    lines.extend(overridden_lines(overridden))
    lines.extend(acknowledged_lines(acknowledged))
    lines.append(f"USE BY {bud.at.astimezone(zone):%Y-%m-%d %H:%M} ({bud.binding().reason})")
    if prescriber:
        lines.append(f"Ordered by {prescriber}")
    lines.append(f"Made by {maker} on {now.astimezone(zone):%Y-%m-%d %H:%M}")
    return "\n".join(lines)
