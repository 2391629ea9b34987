"""Checking and dispensing mixtures: the dispense is one transaction that re-checks everything."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from mesomix.clock import Clock
from mesomix.db.repositories.bench import bench_scan_key, books_of, scans_required
from mesomix.db.repositories.lots import lots_of
from mesomix.db.repositories.patients import patient_facts
from mesomix.db.sites import FIND_PERSON, elsewhere, site_of
from mesomix.db.tables import (
    FormulaVersionRow,
    MetaRow,
    PatientRow,
)
from mesomix.domain.bench import Books, scanned
from mesomix.domain.beyond_use import BeyondUse
from mesomix.domain.catalog import Catalog
from mesomix.domain.checks import PatientFacts
from mesomix.domain.dose import may_meet_a_limit
from mesomix.domain.findings import Finding, Severity
from mesomix.domain.mixture import (
    DraftMixture,
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
from mesomix.services.accounts import SignatureRefused
from mesomix.services.actors import check_permission
from mesomix.services.assessment import Assessment, Bench, assess
from mesomix.services.audit import denials_recorded
from mesomix.services.base import Service
from mesomix.services.batches import DrawnLot, prior_batches, record_batch, take
from mesomix.services.catalog import CatalogService
from mesomix.services.courses.dispensing import hold, limit_findings, session_findings
from mesomix.services.errors import NotFound, PermissionDenied, ServiceError, StockError
from mesomix.services.labels import Acknowledged, SignedOff, label_text
from mesomix.services.signing import (
    SIGNATURE,
    Attempt,
    attempts_settled,
    judge,
    said,
    settle,
    signature_context,
)
from mesomix.services.uow import transaction


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
class DispenseResult:
    batch_id: int
    plan: Plan
    drawn: tuple[DrawnLot, ...]
    at: datetime
    label: str
    beyond_use: BeyondUse
    overrides: tuple[Override, ...] = ()
    acknowledged: tuple[Finding, ...] = ()  # the warnings read by the person dispensing


_FORMULA_VERSION = FormulaVersionRow.__table__
_FIND_FORMULA_VERSION = sa.select(_FORMULA_VERSION.c.id).where(
    _FORMULA_VERSION.c.id == sa.bindparam("id")
)
# Dispenses for one patient wait for each other on PostgreSQL, so each counts the one before it
# (SQLite's BEGIN IMMEDIATE already serialises every dispense).
_PATIENT_TABLE = PatientRow.__table__
_LOCK_PATIENT = (
    sa.select(_PATIENT_TABLE.c.id)
    .where(_PATIENT_TABLE.c.id == sa.bindparam("patient"))
    .with_for_update()
)


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
            bench = _bench(connection, draft)
            if not draft.patient:
                return assess(named, catalog, lots, None, self._clock, bench).plan
            patient, facts = self._patient(connection, draft.patient)
            if may_meet_a_limit(candidates, catalog):
                received = prior_batches(
                    connection, self._clock, self._session_hours, patient.patient_pk
                )
                facts = replace(facts, received=received)
            assessed = assess(named, catalog, lots, facts, self._clock, bench)
            return self._with_course(connection, catalog, draft, assessed, patient.patient_pk)

    def _with_course(
        self,
        connection: sa.Connection,
        catalog: Catalog,
        draft: DraftMixture,
        assessed: Assessment,
        patient_pk: int,
    ) -> Plan:
        """The plan with what the course says of this session and the label's limits across
        sessions (services/courses/dispensing.py)."""
        plan = assessed.plan
        use_by = assessed.beyond_use.at if assessed.beyond_use else None
        found = [
            *session_findings(connection, draft, patient_pk, self._clock, use_by),
            *limit_findings(
                connection, catalog, draft, plan, patient_pk, self._clock.zone, self._clock.today()
            ),
        ]
        return replace(plan, findings=(*plan.findings, *found)) if found else plan

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
                facts = replace(
                    facts,
                    received=prior_batches(
                        connection, self._clock, self._session_hours, patient.patient_pk
                    ),
                )
            assessed = assess(named, catalog, lots, facts, self._clock, _bench(connection, draft))
            plan = self._with_course(connection, catalog, draft, assessed, patient.patient_pk)
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
            take(connection, catalog, picks)
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
                f"Course {draft.course}, session {draft.session}" if draft.course else "",
            )
            session_id = hold(connection, draft, now)
            batch_id = record_batch(
                connection,
                now,
                actor,
                patient.patient_pk,
                prescriber_id,
                draft,
                plan,
                picks,
                drawn,
                label,
                bud,
                [s.override() for s in signatures],
                signers,
                read,
                session_id,
                assessed.verified,
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

    def bench_scan_required(self) -> bool:
        """Whether this site requires every draw verified by scan before it is dispensed."""
        with transaction(self._engine) as connection:
            return scans_required(connection)

    def require_bench_scan(self, user: str, required: bool, reason: str = "") -> None:
        """A manager's rule for their site (every terminal there reads it in each check and
        dispense): every draw verified by scan before F9, or by scan or by eye. On the trail."""
        with self.writing(user, Action.SET_BENCH_RULE) as (session, actor):
            key = bench_scan_key(site_of(session.connection()))
            row = session.get(MetaRow, key)
            before = row.value if row is not None else "optional"
            after = "required" if required else "optional"
            if before == after:
                return
            session.merge(MetaRow(key=key, value=after))
            self.audit(
                session,
                actor,
                "bench.scan_rule",
                ("site", key),
                old={"bench_scan": before},
                new={"bench_scan": after},
                reason=reason,
            )

    @staticmethod
    def _actor(connection: sa.Connection, user: str, action: Action) -> sa.Row[Any]:
        name = user.strip()
        found = {"name": name, "site": site_of(connection)}
        actor = connection.execute(FIND_PERSON, found).first() if storable(name) else None
        if actor is None:
            raise NotFound(f"no user named '{user}'")
        check_permission(actor.name, actor.role, actor.active, action)
        if not actor.works_here:
            raise PermissionDenied(elsewhere(actor.name, actor.site_name, actor.site_code))
        return actor

    @staticmethod
    def _prescriber(connection: sa.Connection, name: str | None) -> tuple[int | None, str]:
        """The ordering practitioner's id and display name; a name that is not an active
        practitioner is refused."""
        if name is None or not name.strip():
            return None, ""
        typed = name.strip()
        found = (
            connection.execute(FIND_PERSON, {"name": typed, "site": site_of(connection)}).first()
            if storable(typed)
            else None
        )
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
                connection,
                now,
                SIGNATURE,
                name,
                password,
                needs=Action.SIGN_OVERRIDE,
                context=signature_context("dispense", dispensing, patient.ref, keys),
                patient_id=patient.patient_pk,
            )
            attempts.append(attempt)
            if not attempt.ok:
                raise SignatureRefused(
                    f"not dispensed: the signature of {attempt.typed} was refused: "
                    + said(attempt, zone, now)
                )
            settle(connection, now, zone, attempt)
            assert attempt.user is not None  # a password that opened an account names its row
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


def _bench(connection: sa.Connection, draft: DraftMixture) -> Bench:
    """The vials scanned for the draft, as the books know them, and the clinic's rule."""
    books = books_of(connection, scanned(draft.scans)) if draft.scans else Books({}, {})
    return Bench(books, scans_required(connection))


def _no_such_warning(key: str) -> str:
    return readable(f"no warning '{key}' in this mixture: it may have changed — check it again")
