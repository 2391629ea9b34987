"""The forms a patient's record is changed through on the Patients screen: a new patient, a
weight, an allergy recorded, coded, confirmed or refuted, a reaction after a batch. Each form only gathers text; its submit
calls a service, which checks the role and writes the audit row, or refuses and writes nothing.
The screen chooses the patient and the allergy a form is for."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from mesomix.domain.allergy import CRITICALITIES, VERIFICATIONS, Allergy
from mesomix.domain.reactions import Outcome, ReactionKind, ReactionWords, Seriousness, Severity
from mesomix.services.errors import ServiceError
from mesomix.services.people import PatientSummary, WeightToConfirm
from mesomix.services.reactions import ReactionView
from mesomix.tui.screens.patient_words import AllergyWords, weight_text
from mesomix.tui.widgets.form import Form, FormField, Values

if TYPE_CHECKING:  # a type hint only: the screens never import the wiring at run time
    from mesomix.bootstrap import Services

_SEVERITIES = (("not said", ""), ("mild", "mild"), ("moderate", "moderate"), ("severe", "severe"))


def new_patient_form(services: Services, user: str) -> Form:
    people = services.people

    def submit(values: Values) -> str:
        people.add_patient(user, values["ref"], values["name"], values["born"], values["weight"])
        return f"Patient {values['ref'].strip()} added."

    return Form(
        "New patient",
        [
            FormField("ref", "Reference", "e.g. P-1042"),
            FormField("name", "Name"),
            FormField("born", "Born", "YYYY-MM-DD"),
            FormField("weight", "Weight", "e.g. 70 kg"),
        ],
        submit,
        # Problems said as the fields are typed; a refusal goes as the person types on.
        check=lambda values: (
            people.check_born(values["born"]) + people.check_weight(values["weight"], None)
        ),
        go="Add",
    )


def weight_form(services: Services, user: str, patient: PatientSummary) -> Form:
    people = services.people
    asked: list[str] = []  # the weight questioned: saving it again as typed confirms it

    def submit(values: Values) -> str:
        typed = values["weight"].strip()
        try:
            people.set_weight(user, patient.ref, typed, confirmed=asked == [typed])
        except WeightToConfirm as exc:
            asked[:] = [typed]  # only this weight: another one submitted is asked afresh
            raise ServiceError(
                f"{exc}. Is it right? Save again to record it, or correct it "
                "(Escape writes nothing)."
            ) from None
        return f"Weight of {patient.name} recorded."

    return Form(
        f"Weight of {patient.name}",
        [FormField("weight", "Weight", "e.g. 70 kg", value="")],
        submit,
        check=lambda values: people.check_weight(values["weight"], patient.weight_kg),
        intro=f"Now: {weight_text(patient)}",
    )


def allergy_form(services: Services, user: str, patient: PatientSummary) -> Form:
    allergies = services.allergies

    def submit(values: Values) -> str:
        allergies.record_typed(
            patient.ref,
            user,
            values["allergen"],
            values["verification"],
            values["criticality"],
            values["reaction"],
            values["severity"],
            values["note"],
        )
        return f"Allergy recorded for {patient.name}."

    return Form(
        f"Allergy of {patient.name}",
        [
            FormField("allergen", "Allergic to", "substance, group, or as told"),
            FormField("verification", "Verification", choices=_choices(VERIFICATIONS)),
            FormField(
                "criticality",
                "Criticality",
                choices=_choices(CRITICALITIES),
                value="unable-to-assess",
            ),
            FormField("reaction", "Reaction", "e.g. urticaria"),
            FormField("severity", "Severity", choices=_SEVERITIES),
            FormField("note", "Note"),
        ],
        submit,
        go="Record",
        intro="A name that matches nothing is kept as typed, shown 'not coded', "
        "and raises a finding until coded.",
        check=_nothing_to_say,  # a refusal goes once the allergen is typed again
        hint=lambda values: allergies.meaning(values["allergen"]),
    )


def code_form(
    services: Services, user: str, patient: PatientSummary, allergy_id: int, recorded: str
) -> Form:
    """What an allergy kept as free text (`recorded`, in words) means: then it is checked in full."""
    allergies = services.allergies

    def submit(values: Values) -> str:
        allergies.code_typed(allergy_id, user, values["allergen"])
        return "Allergy coded: it is checked against every mixture from now on."

    return Form(
        "Code an allergy",
        [FormField("allergen", "Means", "substance or allergen group")],
        submit,
        go="Code",
        intro=f"As recorded for {patient.name} ({patient.ref}): {recorded}",
        check=_nothing_to_say,  # "'prilocaine' is not one substance…" goes as one types
        hint=lambda values: allergies.meaning(values["allergen"]),
    )


def verify_form(
    services: Services,
    user: str,
    words: AllergyWords,
    patient: PatientSummary,
    allergy: Allergy,
    allergy_id: int,
    verification: str,
) -> Form:
    """Confirm or refute an allergy, naming it and the patient: refuting takes it out of every
    future check, so it asks why; confirming says what the allergy will do."""
    allergies = services.allergies
    allergen = words.allergen(allergy)
    whose = f"{allergen}: allergy of {patient.name} ({patient.ref}), now {allergy.verification}."

    def submit(values: Values) -> str:
        allergies.set_verification(allergy_id, user, verification, values["reason"])
        return f"{allergen} of {patient.name} marked {verification}."

    if verification == "refuted":
        return Form(
            "Refute an allergy",
            [FormField("reason", "Reason", "needed: e.g. tolerated it in 2026, test negative")],
            submit,
            go="Refute",
            intro=f"{whose}\nRefuted, it no longer blocks or warns on any mixture for them. "
            "The reason is kept in the allergy's note and the audit trail.",
        )
    if words.statement(allergy):
        effect = "A statement that no allergy of this kind is known: it never blocks or warns."
    elif not allergy.coded:
        effect = (
            "Not coded: it is checked only where its words clearly name a substance or "
            "group — code it (c) to check it in full."
        )
    elif allergy.criticality in ("high", "unable-to-assess"):
        effect = f"Confirmed, criticality {allergy.criticality}: it blocks every mixture with it."
    else:
        effect = f"Confirmed, criticality {allergy.criticality}: it warns on every mixture with it."
    return Form(
        "Confirm an allergy",
        [FormField("reason", "Reason", "optional: how it was confirmed")],
        submit,
        go="Confirm",
        intro=f"{whose}\n{effect}",
    )


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(value, value) for value in values]


def _nothing_to_say(values: Values) -> list[str]:
    """The check of a form whose fields are judged only on submit: typing clears a refusal
    (the hint already says what the typed text will be taken to mean)."""
    return []


def reaction_form(services: Services, user: str, patient: PatientSummary, batch: int) -> Form:
    """A reaction after one of the patient's batches, as the patient tells it; the service
    refuses what cannot be read (an onset before the batch, say) and writes nothing."""
    reactions = services.reactions

    def submit(values: Values) -> str:
        view = reactions.record(user, patient.ref, batch, ReactionWords(**values))
        said = f"Reaction {view.id} recorded after batch {batch}"
        if view.proposed:
            said += f"; it proposes an allergy to {', '.join(view.proposed)} (E to decide)"
        if view.signals:
            count = len(view.signals)
            said += f"; it completes {count} lot signal{'s' if count != 1 else ''} (Inventory, G)"
        if view.course.endswith("(paused)"):
            said += f"; {view.course.split(',')[0]} is paused until a practitioner decides"
        return said + "."

    named = sorted((name, code) for code, name in services.courses.zone_names().items())
    zones = [("not at an injection site", ""), *named]
    return Form(
        f"Reaction of {patient.name} after batch {batch}",
        [
            FormField("kind", "What", choices=_listed(ReactionKind)),
            FormField("what", "Seen", "in your words: red nodule, 5 mm"),
            FormField("onset", "Onset", "2 days after, or YYYY-MM-DD HH:MM"),
            FormField("zone", "Zone", choices=zones),
            FormField("severity", "Severity", choices=_listed(Severity)),
            FormField("serious", "Serious", choices=[("no", ""), *_listed(Seriousness)]),
            FormField("treatment", "Treatment", "what was done for it"),
            FormField("outcome", "Outcome", choices=_listed(Outcome)),
        ],
        submit,
        go="Record",
        intro="An allergic reaction proposes an allergy; a severe one pauses the course.",
    )


def _listed(kind: type[Enum]) -> list[tuple[str, str]]:
    return [(str(member.value), str(member.value)) for member in kind]


def decide_form(
    services: Services, user: str, patient: PatientSummary, waiting: list[ReactionView]
) -> Form:
    """A practitioner's decision on one of the patient's reactions: confirm it as recorded, or
    decide the allergy an allergic one proposes — to every substance of its batch, to one, or
    none, with the reason."""
    substances = sorted({code for view in waiting for code in view.proposed})

    def submit(values: Values) -> str:
        chosen, decision = int(values["reaction"]), values["decision"]
        if decision == "confirm":
            return services.reactions.confirm(user, chosen).said + "."
        if decision == "decline":
            if not values["reason"].strip():
                raise ServiceError("declining the allergy needs the reason, in words")
            services.allergies.decide_reaction(user, chosen, decline=values["reason"])
            return f"Reaction {chosen}: no allergy recorded."
        only = decision.removeprefix("only:") if decision.startswith("only:") else None
        ids = services.allergies.decide_reaction(user, chosen, only)
        return f"Reaction {chosen}: allergy recorded, confirmed ({len(ids)}): it blocks from now."

    decisions = [("confirm the reaction as recorded", "confirm")]
    if substances:
        decisions += [("allergy to every substance of its batch", "allergy")]
        decisions += [(f"allergy to {code} only", f"only:{code}") for code in substances]
        decisions += [("no allergy: decline, with the reason", "decline")]
    return Form(
        f"Reactions of {patient.name} to decide",
        [
            FormField("reaction", "Reaction", choices=[(_waiting(v), str(v.id)) for v in waiting]),
            FormField("decision", "Decision", choices=decisions),
            FormField("reason", "Reason", "why no allergy (to decline)"),
        ],
        submit,
        go="Decide",
    )


def _waiting(view: ReactionView) -> str:
    said = f"{view.id}: {view.reaction.said}"
    if not view.confirmed_by:
        said += ", not confirmed"
    if view.proposed:
        said += f"; allergy to {', '.join(view.proposed)}?"
    return said
