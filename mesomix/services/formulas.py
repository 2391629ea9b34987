"""Formulas: save a composed mixture as a named, versioned recipe; start a mixture from one,
scaled to another final volume if asked; retire one that is no longer used.

Who may do what: staff and practitioners read formulas and start mixtures from them (the
mixture is then checked and dispensed like any other). Only practitioners save and retire them
(`Action.EDIT_FORMULAS`): a formula is a standing order that others will make for other
patients, and choosing its substances and doses is a prescribing decision — staff compose for
the one patient in front of them, and a practitioner turns that into a recipe. Managers and
admins do not see formulas: they do not make mixtures.

Each save or retirement is one transaction with its audit row; a refusal writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mesomix.clock import Clock
from mesomix.db.repositories.formulas import formula_version
from mesomix.db.tables import FormulaRow, FormulaVersionRow, PatientRow, UserRow
from mesomix.domain.catalog import Catalog, fold
from mesomix.domain.findings import Severity
from mesomix.domain.formulas import (
    Formula,
    FormulaError,
    FormulaVersion,
    Rounded,
    ScaleError,
    Scaling,
    Unchanged,
    check_name,
    check_purpose,
    check_text,
    formula_code,
    ingredients_to_records,
    scaling,
    to_draft,
)
from mesomix.domain.mixture import DraftMixture, plan_mixture
from mesomix.domain.permissions import Action
from mesomix.services.assessment import STORAGES
from mesomix.services.audit import Entry, append
from mesomix.services.base import Service
from mesomix.services.catalog import CatalogService
from mesomix.services.errors import NotFound, ServiceError

__all__ = [
    "FormulaNotFound",
    "FormulaRefused",
    "FormulaService",
    "FormulaSummary",
    "Rounded",
    "ScaleRefused",
    "Scaling",
    "VersionUnchanged",
]


class FormulaRefused(ServiceError):
    """A formula, a version or a scaling refused; nothing was written."""


class ScaleRefused(FormulaRefused):
    """The formula cannot be scaled to that final volume."""


class VersionUnchanged(FormulaRefused):
    """The recipe is the latest version's already: no new version."""


class FormulaNotFound(NotFound):
    pass


@dataclass(frozen=True)
class FormulaSummary:
    """One line of the list of formulas."""

    code: str
    name: str
    purpose: str
    description: str
    active: bool
    latest_version: int
    latest_at: datetime
    final_volume: str  # of the latest version
    ingredients: int  # in the latest version


@contextmanager
def _refusals() -> Iterator[None]:
    """The domain's refusals as the service's, each kind as its own class."""
    try:
        yield
    except Unchanged as exc:
        raise VersionUnchanged(str(exc)) from None
    except ScaleError as exc:
        raise ScaleRefused(str(exc)) from None
    except FormulaError as exc:
        raise FormulaRefused(str(exc)) from None


class FormulaService(Service):
    def __init__(self, engine: sa.Engine, catalog: CatalogService, clock: Clock) -> None:
        super().__init__(engine, clock)
        self._catalog = catalog

    # --- reading ----------------------------------------------------------------------------

    def formulas(self, user: str, include_retired: bool = False) -> list[FormulaSummary]:
        """Every formula in use (and the retired ones if asked), by name, with its latest version."""
        latest = (
            select(FormulaVersionRow.formula_id, sa.func.max(FormulaVersionRow.version).label("n"))
            .group_by(col(FormulaVersionRow.formula_id))
            .subquery()
        )
        query = (
            select(FormulaRow, FormulaVersionRow)
            .join(latest, latest.c.formula_id == FormulaRow.id)
            .join(
                FormulaVersionRow,
                sa.and_(
                    col(FormulaVersionRow.formula_id) == FormulaRow.id,
                    col(FormulaVersionRow.version) == latest.c.n,
                ),
            )
        )
        if not include_retired:
            query = query.where(FormulaRow.active == sa.true())
        with self.reading(user, Action.CHECK_MIXTURE) as (session, _), _refusals():
            rows = session.exec(query).all()
        found = [
            FormulaSummary(
                formula.code,
                formula.name,
                formula.purpose,
                formula.description,
                formula.active,
                version.version,
                version.created_at,
                version.final_volume,
                len(version.ingredients),
            )
            for formula, version in rows
        ]
        return sorted(found, key=lambda s: (fold(s.name), s.code))

    def formula(self, user: str, code: str) -> Formula:
        """The formula with every version, oldest first."""
        with self.reading(user, Action.CHECK_MIXTURE) as (session, _), _refusals():
            return self._load(session, code)[1]

    def name_of_version(self, user: str, version_id: int) -> str:
        """The name of the formula a stored version belongs to: a mixture started from it is
        saved again under that name (a new version), not retyped where a typo makes another."""
        with self.reading(user, Action.CHECK_MIXTURE) as (session, _), _refusals():
            row = session.exec(
                select(FormulaRow)
                .join(FormulaVersionRow, col(FormulaVersionRow.formula_id) == FormulaRow.id)
                .where(FormulaVersionRow.id == version_id)
            ).first()
        if row is None:
            raise NotFound(f"no formula version {version_id}")
        return row.name

    def versions(self, user: str, code: str) -> list[FormulaVersion]:
        return list(self.formula(user, code).versions)

    def version(self, user: str, code: str, number: int | None = None) -> FormulaVersion:
        """One version of a formula; the latest when no number is given."""
        with _refusals():
            return self.formula(user, code).version(number)

    # --- starting a mixture -----------------------------------------------------------------

    def start(
        self,
        user: str,
        code: str,
        patient_ref: str,
        final_volume: str | None = None,
        version: int | None = None,
    ) -> DraftMixture:
        """A draft for the patient from the formula (its latest version unless one is named),
        scaled to `final_volume` when one is given; the draft records the version it came from.
        Nothing is written: the draft is checked and dispensed like any other."""
        return self.scaling(user, code, patient_ref, final_volume, version).draft

    def scaling(
        self,
        user: str,
        code: str,
        patient_ref: str,
        final_volume: str | None = None,
        version: int | None = None,
    ) -> Scaling:
        """`start` with the details: the factor and each amount rounded (when its exact value has
        no short decimal) — for a screen that wants to show them."""
        with self.reading(user, Action.CHECK_MIXTURE) as (session, _), _refusals():
            _, formula = self._load(session, code)
            if not formula.active:
                raise FormulaRefused(
                    f"formula '{formula.name}' is retired: it can no longer be started"
                )
            ref = (patient_ref or "").strip()
            if not ref:
                raise FormulaRefused("a mixture is made for one patient: choose the patient first")
            if session.exec(select(PatientRow.id).where(PatientRow.ref == ref)).first() is None:
                raise NotFound(f"no patient with reference '{ref}'")
            chosen = formula.version(version)
            if final_volume is None or not final_volume.strip():
                return Scaling(to_draft(chosen, ref, formula.purpose), Fraction(1))
            return scaling(chosen, final_volume, ref, formula.purpose)

    # --- writing ----------------------------------------------------------------------------

    def save(
        self,
        user: str,
        name: str,
        draft: DraftMixture,
        purpose: str,
        description: str = "",
        note: str = "",
    ) -> tuple[str, int]:
        """Save the draft's recipe (ingredients, final volume, diluent, storage — not its patient)
        as a new formula, or as the next version of the formula of that name (names compare
        without case or accents). Returns (code, version number).

        Refused, writing nothing: an empty mixture, one the planner cannot make (an unknown
        ingredient, an amount it cannot supply, more than the final volume...), the latest
        version's recipe again, a name that is empty, longer than 80 characters or holds an
        invisible character, an unknown purpose, a retired formula's name. For an existing
        formula, a changed purpose and a non-empty description replace the formula's own."""
        catalog = self._catalog.catalog()
        with self.writing(user, Action.EDIT_FORMULAS) as (session, actor), _refusals():
            name = check_name(name)
            purpose = check_purpose(purpose)
            description = check_text(description, "description")
            if draft.storage not in STORAGES:
                raise FormulaRefused(f"unknown storage '{draft.storage}': use room or refrigerated")
            now = self._clock.now()
            row = self._by_name(session, name)
            if row is None:
                taken = session.exec(select(FormulaRow.code)).all()
                row = FormulaRow(
                    code=formula_code(name, taken),
                    name=name,
                    purpose=purpose,
                    description=description,
                    created_at=now,
                    created_by=actor.id or 0,
                )
                formula = Formula(row.code, name, purpose, description)
                old: dict[str, Any] | None = None
            else:  # the next version of a formula of that name
                _, formula = self._load(session, row.code, lock=True)
                if not row.active:
                    raise FormulaRefused(
                        f"formula '{row.name}' is retired: save the recipe under another name"
                    )
                old = {"version": formula.version().number}
                for key, value in (("purpose", purpose), ("description", description)):
                    if value and value != getattr(row, key):
                        old[key] = getattr(row, key)
                        setattr(row, key, value)
            version = formula.next_version(draft, note)
            _can_be_made(version, catalog)
            session.add(row)
            self._flush(session)
            stored = FormulaVersionRow(
                formula_id=row.id or 0,
                version=version.number,
                ingredients=ingredients_to_records(version.ingredients),
                final_volume=version.final_volume,
                diluent=version.diluent,
                storage=version.storage,
                note=version.note,
                created_at=now,
                created_by=actor.id or 0,
            )
            session.add(stored)
            self._flush(session)
            new: dict[str, object] = {"version": version.number, "version_id": stored.id}
            if old is None:
                new |= {"name": name, "purpose": purpose}
            else:
                new |= {key: getattr(row, key) for key in old if key != "version"}
            append(
                session.connection(),
                now,
                Entry(
                    "formula.create" if old is None else "formula.version",
                    record_type="formula",
                    record_id=row.code,
                    user_id=actor.id,
                    user_name=actor.name,
                    old=old,
                    new=new,
                    reason=version.note,
                ),
            )
            return row.code, version.number

    def retire(self, user: str, code: str, reason: str = "") -> None:
        """Take a formula out of use: it is no longer listed or started; its versions stay, for
        the batches made from them."""
        with self.writing(user, Action.EDIT_FORMULAS) as (session, actor), _refusals():
            reason = check_text(reason, "reason")
            row, formula = self._load(session, code, lock=True)
            if not row.active:
                raise FormulaRefused(f"formula '{row.name}' is retired already")
            row.active = False
            session.add(row)
            append(
                session.connection(),
                self._clock.now(),
                Entry(
                    "formula.retire",
                    record_type="formula",
                    record_id=row.code,
                    user_id=actor.id,
                    user_name=actor.name,
                    old={"active": True, "version": formula.version().number},
                    new={"active": False},
                    reason=reason,
                ),
            )

    # --- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _flush(session: Session) -> None:
        try:
            session.flush()
        except sa.exc.IntegrityError:
            raise FormulaRefused(
                "a formula of that name or version was saved meanwhile: nothing was written — "
                "try again"
            ) from None

    @staticmethod
    def _by_name(session: Session, name: str) -> FormulaRow | None:
        wanted = fold(name)
        for row in session.exec(select(FormulaRow)).all():
            if fold(row.name) == wanted:
                return row
        return None

    @staticmethod
    def _load(session: Session, code: str, lock: bool = False) -> tuple[FormulaRow, Formula]:
        query = select(FormulaRow).where(FormulaRow.code == (code or "").strip())
        row = session.exec(query.with_for_update() if lock else query).first()
        if row is None:
            raise FormulaNotFound(f"no formula '{code}'")
        versions = session.exec(
            select(FormulaVersionRow, UserRow.name)
            .join(UserRow, col(UserRow.id) == col(FormulaVersionRow.created_by))
            .where(FormulaVersionRow.formula_id == row.id)
            .order_by(col(FormulaVersionRow.version))
        ).all()
        formula = Formula(
            code=row.code,
            name=row.name,
            purpose=row.purpose,
            description=row.description,
            active=row.active,
            versions=tuple(formula_version(stored, by) for stored, by in versions),
        )
        return row, formula


def _can_be_made(version: FormulaVersion, catalog: Catalog) -> None:
    """The recipe as the planner sees it, without a patient or a shelf: what blocks it then (an
    unknown ingredient, an amount no product supplies, more than the final volume, an unknown
    diluent...) would block every mixture made from it."""
    plan = plan_mixture(to_draft(version, None), catalog)
    blocks = [f.message for f in plan.findings if f.severity is Severity.BLOCK]
    if blocks:
        raise FormulaRefused("not saved: " + "; ".join(blocks))
