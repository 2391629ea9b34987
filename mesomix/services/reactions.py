"""Reactions after a batch, and the lots they trace to.

Staff record what a patient reports, for a practitioner to confirm; a practitioner's own record
is confirmed as it is made. A correction is a new version with its reason, and a confirmation
too (staff correcting a confirmed reaction leave it to be confirmed again); nothing is deleted.
Each reaction is traced through its batch to the lots the batch drew (the ledger's dispense
movements), and `signals` runs the clinic's rules (data/vigilance.toml) over every reaction as
it stands against the sessions each lot went into.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from mesomix.clock import Clock
from mesomix.db.repositories.lots import RecallLine, received
from mesomix.db.repositories.patients import patient_by_ref
from mesomix.db.repositories.reactions import REACTION, VERSION, as_they_stand, reaction_proposal
from mesomix.db.tables import (
    BatchRow,
    CourseRow,
    CourseSessionRow,
    LotRow,
    MovementRow,
    PatientRow,
    ProductRow,
    ReactionRow,
    ReactionVersionRow,
    UserRow,
)
from mesomix.domain.permissions import Action, Role, allowed
from mesomix.domain.reactions import (
    Outcome,
    Reaction,
    ReactionKind,
    ReactionWords,
    Seriousness,
    Severity,
    read_reaction,
)
from mesomix.domain.text import plain_text
from mesomix.domain.vigilance import LotReaction, Signal, count_signals, rate_signals
from mesomix.reference import SignalRules
from mesomix.services.base import Service
from mesomix.services.errors import NotFound, ServiceError

LONGEST_REASON = 300
_MOVEMENT = MovementRow.__table__
_LOT = LotRow.__table__
_PATIENT = PatientRow.__table__
_PRODUCT = ProductRow.__table__
_USER = UserRow.__table__
# Each batch and the lots it drew (a dispense movement a lot), with the lot's product.


def _drawn(lots: list[int] | None = None) -> sa.Subquery:
    """Each batch and the lots it drew, with their product: of every lot, or of these."""
    query = (
        sa.select(_MOVEMENT.c.batch_id, _MOVEMENT.c.lot_id, _LOT.c.product_code)
        .join(_LOT, _LOT.c.id == _MOVEMENT.c.lot_id)
        .where(_MOVEMENT.c.kind == "dispense", _MOVEMENT.c.batch_id.is_not(None))
    )
    if lots is not None:
        query = query.where(_MOVEMENT.c.lot_id.in_(lots))
    return query.distinct().subquery()


class ReactionRefused(ServiceError):
    """A reaction that cannot be recorded, corrected or confirmed as asked."""


@dataclass(frozen=True)
class ReactionView:
    id: int
    version: int
    batch_id: int
    patient_ref: str
    reaction: Reaction
    confirmed_by: str  # the practitioner's display name; "" while unconfirmed
    recorded_by: str  # who recorded this version
    reason: str
    lots: tuple[str, ...]  # "product lot-number" of each lot the batch drew
    proposed: tuple[str, ...]  # an allergic reaction's substances, while undecided
    allergy: str  # the decision on it: "confirmed: lidocaine_hcl", "declined: why", or ""
    course: str  # "course 3, session 2 (paused)" for a session's batch; "" otherwise
    signals: tuple[str, ...] = ()  # the signals this reaction is counted in, once recorded

    @property
    def said(self) -> str:
        state = f"confirmed by {self.confirmed_by}" if self.confirmed_by else "NOT CONFIRMED"
        return f"reaction {self.id} (v{self.version}): {self.reaction.said}; {state}"


@dataclass(frozen=True)
class SignalView:
    """A signal, the lot's status, and every patient who received the lot (to call)."""

    signal: Signal
    lot_number: str
    lot_status: str
    received: tuple[RecallLine, ...]

    @property
    def proposal(self) -> str:
        if self.lot_status != "available":
            return f"lot {self.lot_number} is {self.lot_status} already"
        return f"quarantine lot {self.lot_number} and call its {len(self.patients)} patient(s)"

    @property
    def patients(self) -> tuple[str, ...]:
        """Each patient once, as the trace first lists them."""
        return tuple(dict.fromkeys(f"{r.patient_name} ({r.patient_ref})" for r in self.received))


class ReactionService(Service):
    def __init__(
        self, engine: sa.Engine, clock: Clock, zones: set[str], rules: SignalRules
    ) -> None:
        super().__init__(engine, clock)
        self._zones = zones
        self._rules = rules

    def record(self, user: str, patient: str, batch_id: int, words: ReactionWords) -> ReactionView:
        """A reaction of `patient` after batch `batch_id`. Refused: an unknown patient or
        batch, another patient's batch, and whatever the words cannot say (domain/reactions)."""
        with self.writing(user, Action.RECORD_REACTION) as (session, actor):
            batch = self._batch(session, batch_id)
            person = patient_by_ref(session, patient)
            if person is None:
                raise NotFound(f"no patient with reference '{patient.strip()}'")
            if batch.patient_id != person.id:
                raise ReactionRefused(
                    f"batch {batch_id} was not made for {person.ref}: a reaction is recorded "
                    "against the patient's own batch"
                )
            reaction = self._read(batch, words)
            now = self._clock.now()
            row = ReactionRow(
                batch_id=batch_id,
                patient_id=person.id or 0,
                recorded_at=now,
                recorded_by=actor.id or 0,
            )
            session.add(row)
            session.flush()
            assert row.id is not None
            self._version(session, actor, row.id, 1, reaction, _confirmer(actor), "", None)
            return self._with_signals(session, self._view(session, row.id))

    def correct(
        self, user: str, reaction_id: int, words: ReactionWords, reason: str
    ) -> ReactionView:
        """A new version of the reaction, with why; a staff correction is to be confirmed."""
        reason = _reason(reason)
        with self.writing(user, Action.RECORD_REACTION) as (session, actor):
            row, latest = self._latest(session, reaction_id)
            reaction = self._read(self._batch(session, row.batch_id), words)
            self._version(
                session,
                actor,
                reaction_id,
                latest.version + 1,
                reaction,
                _confirmer(actor),
                reason,
                _reaction(latest),
            )
            return self._with_signals(session, self._view(session, reaction_id))

    def confirm(self, user: str, reaction_id: int) -> ReactionView:
        """The practitioner confirms the reaction as it stands (a new version, the same words)."""
        with self.writing(user, Action.CONFIRM_REACTION) as (session, actor):
            _, latest = self._latest(session, reaction_id)
            if latest.confirmed_by is not None:
                raise ReactionRefused(f"reaction {reaction_id} is confirmed already")
            self._version(
                session,
                actor,
                reaction_id,
                latest.version + 1,
                _reaction(latest),
                actor.id,
                "confirmed",
                _reaction(latest),
            )
            return self._view(session, reaction_id)

    def reactions(self, user: str, patient: str) -> list[ReactionView]:
        """A patient's reactions as they stand, the latest first."""
        with self.reading(user, Action.RECORD_REACTION, denied_as="see reactions") as (
            session,
            _,
        ):
            person = patient_by_ref(session, patient)
            if person is None:
                raise NotFound(f"no patient with reference '{patient.strip()}'")
            ids = (
                session.connection()
                .execute(
                    sa.select(REACTION.c.id)
                    .where(REACTION.c.patient_id == person.id)
                    .order_by(REACTION.c.id.desc())
                )
                .scalars()
                .all()
            )
            return [self._view(session, i) for i in ids]

    def export_fhir(self, user: str, patient: str) -> dict[str, Any]:
        """A patient's reactions as FHIR R4 AdverseEvent resources in a collection Bundle, each
        suspecting the lots its batch drew (contained Medication resources with their batch's
        lot number and expiry)."""
        with self.reading(user, Action.RECORD_REACTION, denied_as="see reactions") as (
            session,
            _,
        ):
            person = patient_by_ref(session, patient)
            if person is None:
                raise NotFound(f"no patient with reference '{patient.strip()}'")
            connection = session.connection()
            ids = (
                connection.execute(
                    sa.select(REACTION.c.id)
                    .where(REACTION.c.patient_id == person.id)
                    .order_by(REACTION.c.id)
                )
                .scalars()
                .all()
            )
            views = [self._view(session, i) for i in ids]
            drawn = {
                view.id: connection.execute(
                    sa.select(_LOT.c.id, _PRODUCT.c.name, _LOT.c.lot_number, _LOT.c.expiry)
                    .join(_PRODUCT, _PRODUCT.c.code == _LOT.c.product_code)
                    .join(_MOVEMENT, _MOVEMENT.c.lot_id == _LOT.c.id)
                    .where(_MOVEMENT.c.batch_id == view.batch_id, _MOVEMENT.c.kind == "dispense")
                    .distinct()
                    .order_by(_LOT.c.id)
                ).all()
                for view in views
            }
            return adverse_event_bundle(person.ref, person.name, views, drawn)

    def signals(self, user: str) -> list[SignalView]:
        """Every lot the rules flag, from every reaction as it stands, with whom to call."""
        with self.reading(user, Action.VIEW_VIGILANCE) as (session, _):
            return self._signals(session)

    def _signals(self, session: Session, lots: list[int] | None = None) -> list[SignalView]:
        """The signals over every lot, or over these lots (each rule reads a lot and its
        product's other lots, so these are a product's lots whole)."""
        connection = session.connection()
        drawn = _drawn(lots)
        sessions = {
            lot: (product, int(count))
            for lot, product, count in connection.execute(
                sa.select(drawn.c.lot_id, drawn.c.product_code, sa.func.count()).group_by(
                    drawn.c.lot_id, drawn.c.product_code
                )
            )
        }
        rows = connection.execute(
            as_they_stand(
                REACTION.c.id,
                drawn.c.lot_id,
                drawn.c.product_code,
                VERSION.c.kind,
                VERSION.c.onset_at,
                _PATIENT.c.ref,
                _LOT.c.lot_number,
            )
            .join(drawn, drawn.c.batch_id == REACTION.c.batch_id)
            .join(_LOT, _LOT.c.id == drawn.c.lot_id)
            .join(_PATIENT, _PATIENT.c.id == REACTION.c.patient_id)
        ).all()
        traced = [
            LotReaction(rid, lot, product, ReactionKind(kind), _aware(onset), ref, number)
            for rid, lot, product, kind, onset, ref, number in rows
        ]
        found = count_signals(traced, self._rules.counts) + rate_signals(
            traced, sessions, self._rules.rates
        )
        views = []
        for signal in found:
            lot = session.get(LotRow, signal.lot_id)
            assert lot is not None
            views.append(
                SignalView(
                    signal, lot.lot_number, lot.status, tuple(received(session, lot.id or 0))
                )
            )
        return views

    def _with_signals(self, session: Session, view: ReactionView) -> ReactionView:
        """The view with the signals it is counted in: said to whoever records it, so a lot is
        looked at the moment its second infection is written, not at the next stock check."""
        connection = session.connection()
        products = (
            sa.select(_LOT.c.product_code)
            .join(_MOVEMENT, _MOVEMENT.c.lot_id == _LOT.c.id)
            .where(_MOVEMENT.c.batch_id == view.batch_id, _MOVEMENT.c.kind == "dispense")
        )
        # The lots of the products the batch drew, not the whole ledger: this runs inside the
        # reaction's write, which other terminals' dispenses wait for.
        lots = list(
            connection.execute(
                sa.select(_LOT.c.id).where(_LOT.c.product_code.in_(products))
            ).scalars()
        )
        counted = [
            f"SIGNAL {s.signal.rule}: {s.signal.said} — {s.proposal}"
            for s in self._signals(session, lots)
            if any(r.reaction_id == view.id for r in s.signal.reactions)
        ]
        return replace(view, signals=tuple(counted))

    def _read(self, batch: BatchRow, words: ReactionWords) -> Reaction:
        zone = self._clock.zone
        return read_reaction(
            words,
            batch.created_at.astimezone(zone),
            self._clock.now().astimezone(zone),
            self._zones,
        )

    @staticmethod
    def _batch(session: Session, batch_id: int) -> BatchRow:
        batch = session.get(BatchRow, batch_id)
        if batch is None or batch.patient_id is None:
            raise NotFound(
                f"batch {batch_id} does not exist"
                if batch is None
                else f"batch {batch_id} was made for no patient"
            )
        return batch

    @staticmethod
    def _latest(session: Session, reaction_id: int) -> tuple[ReactionRow, ReactionVersionRow]:
        row = session.get(ReactionRow, reaction_id)
        latest = session.exec(
            select(ReactionVersionRow)
            .where(VERSION.c.reaction_id == reaction_id)
            .order_by(VERSION.c.version.desc())
        ).first()
        if row is None or latest is None:
            raise NotFound(f"reaction {reaction_id} does not exist")
        return row, latest

    def _version(
        self,
        session: Session,
        actor: UserRow,
        reaction_id: int,
        version: int,
        reaction: Reaction,
        confirmed_by: int | None,
        reason: str,
        before: Reaction | None,
    ) -> None:
        """A version written and audited; the course paused when the reaction becomes severe
        or serious with it (not again when a grave one is confirmed or reworded: the
        practitioner may have resumed the course since)."""
        row = session.get(ReactionRow, reaction_id)
        assert row is not None
        fields: dict[str, str] = {
            "kind": reaction.kind.value,
            "what": reaction.what,
            "zone": reaction.zone,
            "severity": reaction.severity.value,
            "serious": reaction.serious.value if reaction.serious else "",
            "treatment": reaction.treatment,
            "outcome": reaction.outcome.value,
        }
        session.add(
            ReactionVersionRow(
                reaction_id=reaction_id,
                version=version,
                kind=fields["kind"],
                what=fields["what"],
                onset_at=reaction.onset,
                zone=fields["zone"],
                severity=fields["severity"],
                serious=fields["serious"],
                treatment=fields["treatment"],
                outcome=fields["outcome"],
                confirmed_by=confirmed_by,
                reason=reason,
                recorded_at=self._clock.now(),
                recorded_by=actor.id or 0,
            )
        )
        self.audit(
            session,
            actor,
            "reaction.record" if version == 1 else "reaction.version",
            ("reaction", reaction_id),
            patient_id=row.patient_id,
            new={
                **fields,
                "onset_at": reaction.onset.isoformat(),
                "batch": row.batch_id,
                "version": version,
                "confirmed": confirmed_by is not None,
            },
            reason=reason,
        )
        if _grave(reaction) and (before is None or not _grave(before)):
            self._pause_course(session, actor, row, reaction_id, reaction)

    def _pause_course(
        self,
        session: Session,
        actor: UserRow,
        row: ReactionRow,
        reaction_id: int,
        reaction: Reaction,
    ) -> None:
        """A severe or serious reaction after a session pauses its course, in the same
        transaction, until a practitioner decides to resume or end it."""
        course = _course_of(session, row.batch_id)
        if course is None or course.status != "active":
            return
        why = (
            f"paused by reaction {reaction_id} ({reaction.said}): a practitioner decides "
            "whether to resume or end it"
        )
        course.status, course.status_reason = "paused", why
        session.add(course)
        self.audit(
            session,
            actor,
            "course.paused",
            ("course", course.id),
            patient_id=course.patient_id,
            old={"status": "active"},
            new={"status": "paused"},
            reason=why,
        )

    def _view(self, session: Session, reaction_id: int) -> ReactionView:
        session.flush()
        row, latest = self._latest(session, reaction_id)
        patient = session.get(PatientRow, row.patient_id)
        connection = session.connection()
        names = dict(
            connection.execute(
                sa.select(_USER.c.id, _USER.c.display_name).where(
                    _USER.c.id.in_([latest.recorded_by, latest.confirmed_by or 0])
                )
            ).all()
        )
        lots = connection.execute(
            sa.select(_LOT.c.product_code, _LOT.c.lot_number)
            .join(_MOVEMENT, _MOVEMENT.c.lot_id == _LOT.c.id)
            .where(_MOVEMENT.c.batch_id == row.batch_id, _MOVEMENT.c.kind == "dispense")
            .distinct()
            .order_by(_LOT.c.product_code, _LOT.c.lot_number)
        ).all()
        proposal = reaction_proposal(session, reaction_id)
        course = _course_of(session, row.batch_id)
        batch = session.get(BatchRow, row.batch_id)
        held = batch.course_session_id if batch else None
        number = session.get(CourseSessionRow, held) if held is not None else None
        return ReactionView(
            reaction_id,
            latest.version,
            row.batch_id,
            patient.ref if patient else "",
            _reaction(latest),
            names.get(latest.confirmed_by, "") if latest.confirmed_by else "",
            names.get(latest.recorded_by, ""),
            latest.reason,
            tuple(f"{product} {lot}" for product, lot in lots),
            () if proposal is None or proposal.decided else proposal.substances,
            proposal.decided if proposal else "",
            f"course {course.id}, session {number.number if number else '?'} ({course.status})"
            if course
            else "",
        )


_SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
_OUTCOMES = {
    Outcome.RECOVERING: "recovering",
    Outcome.RESOLVED: "resolved",
    Outcome.SEQUELAE: "resolvedWithSequelae",
    Outcome.NOT_RESOLVED: "ongoing",
}


def adverse_event_bundle(
    ref: str, name: str, views: list[ReactionView], drawn: Mapping[int, Sequence[Any]]
) -> dict[str, Any]:
    """FHIR R4 AdverseEvent a reaction: actual, its kind and words as the event, onset as its
    date, seriousness (Serious or Non-serious, the ICH reason as text), severity and outcome
    from their code systems, and suspectEntity each lot drawn, contained as a Medication with
    its batch's lot number and expiry."""
    patient = {"reference": f"Patient/{ref}", "display": name}
    events = []
    for view in views:
        reaction = view.reaction
        lots = drawn.get(view.id, [])
        serious = reaction.serious
        events.append(
            {
                "resourceType": "AdverseEvent",
                "id": f"mesomix-reaction-{view.id}",
                "actuality": "actual",
                "event": {
                    "text": reaction.kind.value + (f": {reaction.what}" if reaction.what else "")
                },
                "subject": patient,
                "date": reaction.onset.isoformat(),
                "seriousness": {
                    "coding": [
                        {"system": _SERIOUSNESS, "code": "Serious" if serious else "Non-serious"}
                    ],
                    **({"text": serious.value} if serious else {}),
                },
                "severity": {"coding": [{"system": _SEVERITY, "code": reaction.severity.value}]},
                "outcome": {"coding": [{"system": _OUTCOME, "code": _OUTCOMES[reaction.outcome]}]},
                **({"location": {"display": reaction.zone}} if reaction.zone else {}),
                "contained": [
                    {
                        "resourceType": "Medication",
                        "id": f"lot-{lot_id}",
                        "code": {"text": product},
                        "batch": {"lotNumber": number, "expirationDate": str(expiry)},
                    }
                    for lot_id, product, number, expiry in lots
                ],
                "suspectEntity": [
                    {"instance": {"reference": f"#lot-{lot_id}"}} for lot_id, *_ in lots
                ],
                "note": [
                    {
                        "text": f"batch {view.batch_id}; treated: {reaction.treatment or 'not said'}; "
                        + (
                            f"confirmed by {view.confirmed_by}"
                            if view.confirmed_by
                            else "not confirmed"
                        )
                    }
                ],
            }
        )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": e} for e in events],
    }


def _grave(reaction: Reaction) -> bool:
    return reaction.severity is Severity.SEVERE or reaction.serious is not None


def _course_of(session: Session, batch_id: int) -> CourseRow | None:
    """The course whose session a batch was made for, if any."""
    batch = session.get(BatchRow, batch_id)
    if batch is None or batch.course_session_id is None:
        return None
    held = session.get(CourseSessionRow, batch.course_session_id)
    return session.get(CourseRow, held.course_id) if held else None


def _reaction(row: ReactionVersionRow) -> Reaction:
    return Reaction(
        ReactionKind(row.kind),
        row.what,
        _aware(row.onset_at),
        row.zone,
        Severity(row.severity),
        Seriousness(row.serious) if row.serious else None,
        row.treatment,
        Outcome(row.outcome),
    )


def _aware(at: datetime) -> datetime:
    """Read back as UTC, whatever the database handed over."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def _confirmer(actor: UserRow) -> int | None:
    """A practitioner's own record is confirmed as it is made."""
    return actor.id if allowed(Role(actor.role), Action.CONFIRM_REACTION) else None


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReactionRefused("a correction needs its reason")
    if not plain_text(reason, LONGEST_REASON):
        raise ReactionRefused(f"the reason is over {LONGEST_REASON} characters or unprintable")
    return reason
