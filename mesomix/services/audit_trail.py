"""The audit trail as a manager reads, verifies and anchors it: each call first checks the person
may (VIEW_AUDIT), a refusal itself audited. The chain's own work is in services/audit.py."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from mesomix.clock import Clock
from mesomix.domain.anchors import Anchor
from mesomix.domain.permissions import Action
from mesomix.services.accounts import AccountService
from mesomix.services.audit import AuditLine, Verdict, anchor, show, verify
from mesomix.services.errors import NotFound, ServiceError
from mesomix.services.people import PeopleService


class AuditTrailService:
    def __init__(
        self, engine: sa.Engine, clock: Clock, accounts: AccountService, people: PeopleService
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._accounts = accounts
        self._people = people

    def verify(self, user: str, anchors: Sequence[Anchor] = ()) -> Verdict:
        """The chain walked, and each anchor given proved still in it."""
        self._accounts.require(user, Action.VIEW_AUDIT)
        return verify(self._engine, anchors)

    def anchor(self, user: str, kept_in: Path | None = None) -> Anchor:
        """The chain's head anchored, to be kept outside the database (in `kept_in`, a file the
        caller appends to: one that cannot be written is refused before anything is anchored)."""
        self._accounts.require(user, Action.VIEW_AUDIT)
        if kept_in is not None and not os.access(
            kept_in if kept_in.exists() else kept_in.parent, os.W_OK
        ):
            raise ServiceError(f"cannot write the anchor file {kept_in}: permission denied")
        return anchor(self._engine, self._clock, user, str(kept_in or ""))

    def show(
        self,
        user: str,
        *,
        by: str | None = None,
        patient_ref: str | None = None,
        lot_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 500,
    ) -> list[AuditLine]:
        """Rows filtered by who wrote them, patient (by reference), lot and time, newest first."""
        self._accounts.require(user, Action.VIEW_AUDIT)
        patient_id = None
        if patient_ref:
            patient_id = self._people.patient_id(patient_ref)
            if patient_id is None:
                raise NotFound(f"no patient with reference '{patient_ref}'")
        return show(
            self._engine,
            user=by,
            patient_id=patient_id,
            lot_id=lot_id,
            since=since,
            until=until,
            limit=limit,
        )
