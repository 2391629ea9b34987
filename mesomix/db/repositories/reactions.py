"""What an allergic reaction proposes, read for the services that show and decide it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from mesomix.db.tables import BatchLineRow, ReactionAllergyRow, ReactionRow, ReactionVersionRow
from mesomix.domain.reactions import ReactionKind

REACTION = ReactionRow.__table__
VERSION = ReactionVersionRow.__table__
_LATEST = (
    sa.select(VERSION.c.reaction_id, sa.func.max(VERSION.c.version).label("version"))
    .group_by(VERSION.c.reaction_id)
    .subquery()
)
_LINE = BatchLineRow.__table__
_DECISION = ReactionAllergyRow.__table__


def as_they_stand(*columns: Any) -> sa.Select[Any]:
    """A select of `columns` from every reaction (REACTION) joined to its latest version
    (VERSION): the reactions as they stand; the caller adds its joins and conditions."""
    return (
        sa.select(*columns)
        .select_from(REACTION)
        .join(_LATEST, _LATEST.c.reaction_id == REACTION.c.id)
        .join(
            VERSION,
            sa.and_(VERSION.c.reaction_id == REACTION.c.id, VERSION.c.version == _LATEST.c.version),
        )
    )


@dataclass(frozen=True)
class After:
    """A reaction after a batch, as it stands."""

    reaction_id: int
    kind: str
    severity: str
    outcome: str
    confirmed: bool

    @property
    def said(self) -> str:
        return f"{self.severity} {self.kind}"


def after_batches(connection: sa.Connection, batch_ids: list[int]) -> dict[int, list[After]]:
    """The reactions after each of these batches, as they stand, in the order recorded."""
    found: dict[int, list[After]] = {}
    if not batch_ids:
        return found
    rows = connection.execute(
        as_they_stand(
            REACTION.c.batch_id,
            REACTION.c.id,
            VERSION.c.kind,
            VERSION.c.severity,
            VERSION.c.outcome,
            VERSION.c.confirmed_by,
        )
        .where(REACTION.c.batch_id.in_(batch_ids))
        .order_by(REACTION.c.id)
    )
    for batch, rid, kind, severity, outcome, confirmed in rows:
        found.setdefault(batch, []).append(
            After(rid, kind, severity, outcome, confirmed is not None)
        )
    return found


@dataclass(frozen=True)
class Proposal:
    """The allergy a reaction proposes: to the substances of its batch when it is (as it now
    stands) an allergic reaction; none otherwise."""

    batch_id: int
    patient_id: int
    substances: tuple[str, ...]  # substance codes, empty: no allergy proposed
    manifestation: str
    severity: str
    decided: str  # "" undecided; "confirmed: lidocaine_hcl" or "declined: why"


def reaction_proposal(session: Session, reaction_id: int) -> Proposal | None:
    row = session.get(ReactionRow, reaction_id)
    if row is None:
        return None
    connection = session.connection()
    kind, what, severity = connection.execute(
        sa.select(VERSION.c.kind, VERSION.c.what, VERSION.c.severity)
        .where(VERSION.c.reaction_id == reaction_id)
        .order_by(VERSION.c.version.desc())
        .limit(1)
    ).one()
    substances: tuple[str, ...] = ()
    if kind == ReactionKind.ALLERGIC.value:
        lines = connection.execute(
            sa.select(_LINE.c.delivered).where(_LINE.c.batch_id == row.batch_id)
        ).scalars()
        substances = tuple(sorted({code for delivered in lines for code in delivered or {}}))
    decision = connection.execute(
        sa.select(_DECISION.c.decision, _DECISION.c.substances, _DECISION.c.reason).where(
            _DECISION.c.reaction_id == reaction_id
        )
    ).first()
    decided = ""
    if decision is not None:
        said, codes, reason = decision
        decided = f"{said}: {reason if said == 'declined' else ', '.join(codes)}"
    return Proposal(
        row.batch_id, row.patient_id, substances, what or "allergic reaction", severity, decided
    )
