"""Patients' allergies: recorded by practitioners, exchanged as FHIR R4 AllergyIntolerance."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mesomix.clock import Clock
from mesomix.db.repositories.patients import allergy_from_row, patient_by_ref
from mesomix.db.repositories.reactions import reaction_proposal
from mesomix.db.tables import AllergyRow, PatientRow, ReactionAllergyRow, UserRow
from mesomix.domain.allergy import (
    CLINICAL_STATUSES,
    CRITICALITIES,
    REACTION_SEVERITIES,
    VERIFICATIONS,
    Allergy,
    Reaction,
    allergen_guesses,
    code_typed,
    no_known_typed,
    sets_aside,
)
from mesomix.domain.catalog import fold
from mesomix.domain.fhir import FhirError, from_json, to_bundle
from mesomix.domain.permissions import Action
from mesomix.domain.text import fits_bigint, plain_text
from mesomix.services.base import Service
from mesomix.services.catalog import CatalogService
from mesomix.services.errors import NotFound, ServiceError

MIN_REASON = 3  # "a few words", as an override's why: more than a shrug
MAX_REASON = 500
MAX_NOTE = 2000


class AllergyService(Service):
    def __init__(self, engine: sa.Engine, catalog: CatalogService, clock: Clock) -> None:
        super().__init__(engine, clock)
        self._catalog = catalog

    def record(self, patient_ref: str, user: str, allergy: Allergy) -> int:
        """Record one allergy for a patient; returns its id."""
        return self._record_all(patient_ref, user, [allergy], "")[0]

    def record_typed(
        self,
        patient_ref: str,
        user: str,
        allergen: str,
        verification: str = "unconfirmed",
        criticality: str = "unable-to-assess",
        reaction: str = "",
        severity: str = "",
        note: str = "",
    ) -> int:
        """An allergy as a person types it: coded when the name is unambiguous, else kept as
        free text that shows as 'not coded' and raises a finding until it is coded."""
        if not allergen.strip():
            raise ServiceError("what is the patient allergic to? type a substance or group name")
        catalog = self._catalog.catalog()
        statement = no_known_typed(allergen, catalog)
        if statement is not None:
            if reaction.strip():
                raise ServiceError(
                    f"'{statement.name}' says no allergy is known: it has no reaction to record"
                )
            return self.record(
                patient_ref,
                user,
                Allergy(
                    text=statement.name,
                    codings=(statement.coding,),
                    verification=verification,
                    criticality=criticality,
                    note=note.strip(),
                ),
            )
        substance, group, text = code_typed(allergen, catalog)
        reactions = (Reaction(reaction.strip(), severity),) if reaction.strip() else ()
        allergy = Allergy(
            substance=substance,
            group=group,
            text=text,
            verification=verification,
            criticality=criticality,
            reactions=reactions,
            note=note.strip(),
        )
        return self.record(patient_ref, user, allergy)

    def code_typed(self, allergy_id: int, user: str, typed: str) -> None:
        """Code an allergy by a typed substance or group name (or code); refused if it means
        nothing or several things."""
        substance, group, _ = code_typed(typed, self._catalog.catalog())
        if substance is None and group is None:
            raise ServiceError(
                f"'{typed.strip()}' is not one substance or allergen group: type its name or code"
            )
        self.code(allergy_id, user, substance=substance, group=group)

    def meaning(self, typed: str) -> str:
        """What a typed allergen will be coded as, or what it may mean when it is misspelt:
        shown while the practitioner types, so a typo is caught before it is saved as text."""
        if not typed.strip():
            return ""
        catalog = self._catalog.catalog()
        statement = no_known_typed(typed, catalog)
        if statement is not None:
            return f"means the statement '{statement.name}' (not an allergen)"
        substance, group, _ = code_typed(typed, catalog)
        if substance is not None:
            return f"means the substance {catalog.substances[substance].name}"
        if group is not None:
            return f"means the allergen group {catalog.groups[group].name}"
        found = [hit.code for hit in self._catalog.search(typed, 12) if hit.kind == "substance"]
        guesses = allergen_guesses(typed, catalog, found[:3])
        listed = [
            each.name
            for each in catalog.groups.values()
            if fold(typed) in (fold(trigger) for trigger in each.triggers)
        ]
        if listed and not (guesses and guesses[0].startswith(listed[0])):
            # "prilocaine", a drug mesomix does not keep: never "did you mean procaine"
            return (
                f"not a substance mesomix keeps; its data lists it with the allergen group "
                f"{listed[0]}: code it there if that is what is meant"
            )
        if not guesses:
            return "no substance or allergen group by that name"
        return "did you mean: " + " · ".join(guesses)

    def code(
        self, allergy_id: int, user: str, substance: str | None = None, group: str | None = None
    ) -> None:
        """Code a free-text allergy against a substance or group, so it is checked from now on."""
        catalog = self._catalog.catalog()
        if (substance is None) == (group is None):
            raise ServiceError("code an allergy against one substance or one allergen group")
        if substance is not None and substance not in catalog.substances:
            raise ServiceError(f"unknown substance '{substance}'")
        if group is not None and group not in catalog.groups:
            raise ServiceError(f"unknown allergen group '{group}'")
        work = self.writing(user, Action.RECORD_ALLERGY, denied_as="code an allergy")
        with work as (session, actor):
            row = self._allergy(session, allergy_id)
            if allergy_from_row(row).no_known(catalog) is not None:
                raise ServiceError(
                    "this allergy says no allergy is known: it is not coded to an allergen; "
                    "record the allergy itself instead"
                )
            old = {"substance": row.substance_code, "group": row.group_code, "text": row.text}
            note = f"coded from free text '{row.text}'" if row.text else ""
            row.substance_code, row.group_code, row.text = substance, group, ""
            row.note = "\n".join(part for part in (row.note, note) if part)
            session.add(row)
            self._audit(
                session,
                actor,
                "allergy.code",
                row,
                old,
                {"substance": substance, "group": group, "text": ""},
            )
            self._set_aside(session, actor, row.patient_id, {row.id or 0})

    def set_verification(
        self, allergy_id: int, user: str, verification: str, reason: str = ""
    ) -> None:
        """Confirm, refute or mark entered-in-error (FHIR verificationStatus). Refuting takes the
        allergy out of every future check, so it needs a reason; any reason given is added to
        the allergy's note (dated and signed) and to the audit row, in one transaction."""
        if verification not in VERIFICATIONS:
            raise ServiceError(
                f"verification '{verification}' is not one of {', '.join(VERIFICATIONS)}"
            )
        reason = reason.strip()
        if verification == "refuted" and len(reason) < MIN_REASON:
            raise ServiceError(
                "reason: refuting an allergy needs a few words saying why "
                "(it will no longer block or warn on any mixture)"
            )
        if not plain_text(reason, MAX_REASON):
            raise ServiceError(f"reason: at most {MAX_REASON} printable characters on one line")
        work = self.writing(user, Action.RECORD_ALLERGY, denied_as="verify an allergy")
        with work as (session, actor):
            row = self._allergy(session, allergy_id)
            if row.verification == verification:
                raise ServiceError(f"this allergy is already {verification}: nothing changed")
            old = {"verification": row.verification}
            said = f"{verification} on {self._clock.today():%Y-%m-%d} by {actor.display_name}"
            row.verification = verification
            if reason:
                row.note = "\n".join(part for part in (row.note, f"{said}: {reason}") if part)
                if not plain_text(row.note, MAX_NOTE, lines=True):
                    raise ServiceError(
                        f"reason: the allergy's note would pass {MAX_NOTE} characters; "
                        "write a shorter reason"
                    )
            session.add(row)
            self._audit(
                session,
                actor,
                "allergy.verify",
                row,
                old,
                {"verification": verification},
                reason,
            )

    def import_fhir(self, patient_ref: str, user: str, data: Any) -> list[int]:
        """Every allergy of a resource or bundle, or none of them with every problem named."""
        try:
            imported = from_json(data, patient_ref, self._catalog.catalog())
        except FhirError as exc:
            raise ServiceError("not imported: " + "; ".join(exc.problems)) from exc
        return self._record_all(
            patient_ref, user, [item.allergy for item in imported], "FHIR import"
        )

    def export_fhir(self, patient_ref: str, user: str) -> dict[str, Any]:
        """The patient's allergies as a FHIR R4 Bundle of AllergyIntolerance resources."""
        with self.reading(user, Action.VIEW_PATIENTS) as (session, _):
            patient = self._patient(session, patient_ref)
            rows = session.exec(
                select(AllergyRow)
                .where(AllergyRow.patient_id == patient.id)
                .order_by(col(AllergyRow.id))
            )
            allergies = [allergy_from_row(row) for row in rows]
        return to_bundle(allergies, patient_ref, self._catalog.catalog())

    def decide_reaction(
        self, user: str, reaction_id: int, substance: str | None = None, decline: str = ""
    ) -> list[int]:
        """The practitioner's decision on the allergy an allergic reaction proposes: confirmed
        to every substance of its batch, or narrowed to one (a code of the batch's), each a
        confirmed allergy of high criticality with the reaction as its manifestation — so the
        next check of any mixture holding it blocks; or declined with a reason. Once, in one
        transaction with the decision. Returns the allergies recorded."""
        decline = decline.strip()
        if decline and substance:
            raise ServiceError("confirm an allergy or decline it, not both")
        if decline and not plain_text(decline, MAX_REASON):
            raise ServiceError(f"the reason is over {MAX_REASON} characters or unprintable")
        work = self.writing(user, Action.RECORD_ALLERGY, denied_as="record allergies")
        with work as (session, actor):
            proposal = reaction_proposal(session, reaction_id)
            if proposal is None:
                raise NotFound(f"reaction {reaction_id} does not exist")
            if not proposal.substances:
                raise ServiceError(
                    f"reaction {reaction_id} is not an allergic reaction to a batch's substances: "
                    "it proposes no allergy"
                )
            if proposal.decided:
                raise ServiceError(f"reaction {reaction_id}'s allergy is decided already")
            chosen = list(proposal.substances)
            if substance is not None:
                if substance.strip() not in proposal.substances:
                    raise ServiceError(
                        f"'{substance.strip()}' is not in the batch: narrow to one of "
                        + ", ".join(proposal.substances)
                    )
                chosen = [substance.strip()]
            ids: list[int] = []
            if not decline:
                allergies = [
                    Allergy(
                        substance=code,
                        verification="confirmed",
                        criticality="high",
                        reactions=(Reaction(proposal.manifestation, proposal.severity),),
                        note=f"from reaction {reaction_id} after batch {proposal.batch_id}",
                    )
                    for code in chosen
                ]
                patient = session.get(PatientRow, proposal.patient_id)
                assert patient is not None
                ids = self._add(session, actor, patient, allergies, f"reaction {reaction_id}")
            session.add(
                ReactionAllergyRow(
                    reaction_id=reaction_id,
                    decision="declined" if decline else "confirmed",
                    substances=[] if decline else chosen,
                    reason=decline,
                    decided_at=self._clock.now(),
                    decided_by=actor.id or 0,
                )
            )
            self.audit(
                session,
                actor,
                "reaction.allergy",
                ("reaction", reaction_id),
                patient_id=proposal.patient_id,
                new={"decision": "declined" if decline else "confirmed", "substances": chosen},
                reason=decline,
            )
            return ids

    def _record_all(
        self, patient_ref: str, user: str, allergies: list[Allergy], reason: str
    ) -> list[int]:
        catalog = self._catalog.catalog()
        for allergy in allergies:
            _validate(allergy, catalog.substances, catalog.groups)
        work = self.writing(user, Action.RECORD_ALLERGY, denied_as="record allergies")
        with work as (session, actor):
            return self._add(session, actor, self._patient(session, patient_ref), allergies, reason)

    def _add(
        self,
        session: Session,
        actor: UserRow,
        patient: PatientRow,
        allergies: list[Allergy],
        reason: str,
    ) -> list[int]:
        """The allergies written, audited, and the statements they contradict set aside."""
        rows = [
            AllergyRow(
                patient_id=patient.id or 0,
                substance_code=a.substance,
                group_code=a.group,
                text=a.text.strip(),
                clinical_status=a.clinical_status,
                verification=a.verification,
                criticality=a.criticality,
                reactions=[
                    {"manifestation": r.manifestation, "severity": r.severity} for r in a.reactions
                ],
                tolerated=list(a.tolerated),
                note=a.note,
                recorded_on=a.recorded_on or self._clock.today(),
                recorded_by=actor.id,
                codings=[
                    {"system": c.system, "code": c.code, "display": c.display} for c in a.codings
                ],
                fhir_origin=dict(a.origin) if a.origin is not None else None,
            )
            for a in allergies
        ]
        session.add_all(rows)
        session.flush()
        for row in rows:
            self._audit(session, actor, "allergy.record", row, None, _facts(row), reason)
        self._set_aside(session, actor, patient.id or 0, {row.id or 0 for row in rows})
        return [row.id or 0 for row in rows]

    def _set_aside(
        self, session: Session, actor: UserRow, patient_id: int, changed: set[int]
    ) -> None:
        """Set aside every current "no known allergy" statement of the patient that a recorded
        allergy contradicts: kept, with a dated note saying why, no longer current. Only what
        `changed` (just recorded or coded) can newly contradict a statement, or be a statement
        others contradict: the rest was weighed when it was recorded."""
        catalog = self._catalog.catalog()
        # Only the codes and states first: most patients have no such statement, and their
        # allergies are then not read whole at all.
        coded = session.exec(
            select(AllergyRow.id, AllergyRow.clinical_status, AllergyRow.codings).where(
                AllergyRow.patient_id == patient_id
            )
        ).all()
        said = {
            key
            for key, status, codings in coded
            if status == "active"
            and any((c.get("system"), c.get("code")) in catalog.no_known for c in codings)
        }
        if not said:
            return
        # a statement just recorded is weighed against every allergy; one recorded before,
        # only against those just recorded or coded
        wanted = {key for key, _, _ in coded} if said & changed else said | changed
        weighed = list(session.exec(select(AllergyRow).where(col(AllergyRow.id).in_(wanted))))
        statements = [row for row in weighed if row.id in said]
        allergies = {row.id: allergy_from_row(row) for row in weighed}
        fresh = {key: a for key, a in allergies.items() if key in changed}
        for row in statements:
            statement = allergies[row.id].no_known(catalog)
            if statement is None:
                continue
            against = allergies if row.id in changed else fresh
            real = [
                a
                for key, a in against.items()
                if key != row.id and sets_aside(statement, a, catalog)
            ]
            if not real:
                continue
            why = (
                f"set aside on {self._clock.today():%Y-%m-%d}: allergy to "
                f"{', '.join(a.label(catalog) for a in real)} recorded"
            )
            row.clinical_status = "inactive"
            row.note = "\n".join(part for part in (row.note, why) if part)
            session.add(row)
            self._audit(
                session,
                actor,
                "allergy.set_aside",
                row,
                {"clinical_status": "active"},
                {"clinical_status": "inactive"},
                why,
            )

    def _audit(
        self,
        session: Session,
        actor: UserRow,
        action: str,
        row: AllergyRow,
        old: dict[str, Any] | None,
        new: dict[str, Any],
        reason: str = "",
    ) -> None:
        self.audit(
            session,
            actor,
            action,
            ("allergy", row.id),
            patient_id=row.patient_id,
            old=old,
            new=new,
            reason=reason,
        )

    @staticmethod
    def _allergy(session: Session, allergy_id: int) -> AllergyRow:
        row = session.get(AllergyRow, allergy_id) if fits_bigint(allergy_id) else None
        if row is None:
            raise NotFound(f"no allergy with id {allergy_id}")
        return row

    @staticmethod
    def _patient(session: Session, ref: str) -> PatientRow:
        patient = patient_by_ref(session, ref)
        if patient is None:
            raise NotFound(f"no patient with reference '{ref}'")
        return patient


def _validate(allergy: Allergy, substances: Any, groups: Any) -> None:
    """Refuse an allergy that could not be checked or read back."""
    if sum(bool(x) for x in (allergy.substance, allergy.group, allergy.text.strip())) != 1:
        raise ServiceError(
            "an allergy is against exactly one substance, one allergen group, or one free text"
        )
    if allergy.substance and allergy.substance not in substances:
        raise ServiceError(f"unknown substance '{allergy.substance}'")
    if allergy.group and allergy.group not in groups:
        raise ServiceError(f"unknown allergen group '{allergy.group}'")
    if allergy.text and (len(allergy.text) > 200 or not allergy.text.isprintable()):
        raise ServiceError("free-text allergy: at most 200 printable characters")
    if not plain_text(allergy.note, MAX_NOTE, lines=True):
        raise ServiceError("an allergy's note is at most 2000 printable characters (and new lines)")
    for reaction in allergy.reactions:
        if not plain_text(reaction.manifestation, 200):
            raise ServiceError("a reaction is described in at most 200 printable characters")
        if reaction.severity and reaction.severity not in REACTION_SEVERITIES:
            raise ServiceError(
                f"reaction severity '{reaction.severity}' is not one of {', '.join(REACTION_SEVERITIES)}"
            )
    for value, allowed, what in (
        (allergy.clinical_status, CLINICAL_STATUSES, "clinical status"),
        (allergy.verification, VERIFICATIONS, "verification"),
        (allergy.criticality, CRITICALITIES, "criticality"),
    ):
        if value not in allowed:
            raise ServiceError(f"{what} '{value}' is not one of {', '.join(allowed)}")
    unknown = [code for code in allergy.tolerated if code not in substances]
    if unknown:
        raise ServiceError(f"unknown tolerated substance(s): {', '.join(unknown)}")


def _facts(row: AllergyRow) -> dict[str, Any]:
    return {
        "substance": row.substance_code,
        "group": row.group_code,
        "text": row.text,
        "clinical_status": row.clinical_status,
        "verification": row.verification,
        "criticality": row.criticality,
        "reactions": row.reactions,
        "tolerated": row.tolerated,
        "codings": row.codings,
    }
