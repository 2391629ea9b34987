"""Sites: the clinics of a chain that share one database (on PostgreSQL).

A terminal works at one site (`--site CODE`, MESOMIX_SITE; the first site, `main`, without
either). Each site has its own audit chain: what its terminals write is appended to it, so the
writers of one site never wait for another site's chain (services/audit.py). A site is added by
an admin, with its chain's head, in one transaction, on the trail.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mesomix.db.sites import FIRST_SITE_ID, SITE_OPTION
from mesomix.db.tables import AuditHeadRow, SiteRow, UserRow, UserSiteRow
from mesomix.domain.permissions import Action, Role
from mesomix.domain.text import storable
from mesomix.services.audit import GENESIS
from mesomix.services.base import Service
from mesomix.services.errors import NotFound, ServiceError
from mesomix.services.uow import transaction, unit_of_work

FIRST_SITE = "main"
_CODE = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
_SITE = SiteRow.__table__


@dataclass(frozen=True)
class Site:
    id: int
    code: str  # what a terminal is started at
    name: str
    active: bool


def site_code_problem(code: str) -> str:
    """Why a site code cannot be one, or "": lower-case letters, digits and dashes, 1 to 32."""
    if _CODE.fullmatch(code):
        return ""
    shown = code if len(code) <= 40 and code.isprintable() else repr(code[:40])
    return (
        f"'{shown}' is not a site code: 1 to 32 lower-case letters, digits and dashes, "
        "starting with a letter or a digit"
    )


def site_id(engine: sa.Engine, code: str) -> int:
    """The id of the site a terminal is started at; NotFound naming the sites there are."""
    with transaction(engine) as connection:
        sites = connection.execute(sa.select(_SITE.c.id, _SITE.c.code, _SITE.c.active)).all()
    for found in sites:
        if found.code == code:
            if not found.active:
                raise ServiceError(f"the site '{code}' is closed: no terminal works at it")
            return int(found.id)
    known = ", ".join(sorted(found.code for found in sites if found.active))
    raise NotFound(f"there is no site '{code}' in this database: its sites are {known}")


class SiteService(Service):
    def sites(self) -> list[Site]:
        """Every site, the first first (everyone may see where the chain's clinics are)."""
        with unit_of_work(self._engine) as session:
            rows = session.exec(select(SiteRow).order_by(col(SiteRow.id))).all()
            return [Site(row.id or 0, row.code, row.name, row.active) for row in rows]

    def here(self) -> Site | None:
        """The site this terminal works at, when the database has more than one (a clinic of
        one site need not be told where it is)."""
        sites = self.sites()
        at = self._engine.get_execution_options().get(SITE_OPTION, FIRST_SITE_ID)
        if len(sites) < 2:
            return None
        return next((site for site in sites if site.id == at), None)

    def of_person(self, admin: str, name: str) -> tuple[bool, list[Site]]:
        """Where a person works: (at every site, the sites listed for them)."""
        with self.reading(admin, Action.MANAGE_USERS, denied_as="user.sites") as (session, _):
            person = _person(session, name)
            return _everywhere(person), _listed(session, person)

    def assign(
        self,
        admin: str,
        name: str,
        add: Sequence[str] = (),
        remove: Sequence[str] = (),
        everywhere: bool | None = None,
    ) -> tuple[bool, list[Site]]:
        """Sites added to or taken from where a person works, or every site (a chain's
        manager); an admin's change, on the trail. Where they then work."""
        with self.writing(admin, Action.MANAGE_USERS, denied_as="user.sites") as (
            session,
            actor,
        ):
            person = _person(session, name)
            before = (_everywhere(person), [site.code for site in _listed(session, person)])
            codes = {site.code: site for site in session.exec(select(SiteRow))}
            for code in (*add, *remove):
                if code not in codes:
                    raise NotFound(
                        f"there is no site '{code}': the sites are {', '.join(sorted(codes))}"
                    )
            for code in add:
                if session.get(UserSiteRow, (person.id, codes[code].id)) is None:
                    session.add(UserSiteRow(user_id=person.id or 0, site_id=codes[code].id or 0))
            for code in remove:
                found = session.get(UserSiteRow, (person.id, codes[code].id))
                if found is not None:
                    session.delete(found)
            if everywhere is not None:
                person.all_sites = everywhere
                session.add(person)
            session.flush()
            after = (_everywhere(person), [site.code for site in _listed(session, person)])
            if after != before:
                self.audit(
                    session,
                    actor,
                    "user.sites",
                    ("user", person.id),
                    old={"everywhere": before[0], "sites": before[1]},
                    new={"everywhere": after[0], "sites": after[1]},
                )
            return after[0], _listed(session, person)

    def add(self, user: str, code: str, name: str) -> Site:
        """A new site and its audit chain's head, on the trail (of the site the admin is at)."""
        problem = site_code_problem(code)
        if problem:
            raise ServiceError(problem)
        name = name.strip()
        if not name or len(name) > 80 or not name.isprintable():
            raise ServiceError("a site's name is 1 to 80 printable characters")
        with self.writing(user, Action.MANAGE_SITES, denied_as="site.add") as (session, actor):
            taken = session.exec(select(SiteRow).where(SiteRow.code == code)).first()
            if taken is not None:
                raise ServiceError(f"there is already a site '{code}' ({taken.name})")
            row = SiteRow(code=code, name=name)
            session.add(row)
            session.flush()
            session.add(AuditHeadRow(id=row.id or 0, last_id=0, count=0, last_hash=GENESIS))
            self.audit(session, actor, "site.add", ("site", code), new={"code": code, "name": name})
            return Site(row.id or 0, row.code, row.name, row.active)


def _person(session: Session, name: str) -> UserRow:
    person = (
        session.exec(select(UserRow).where(UserRow.name == name.strip())).first()
        if storable(name)
        else None
    )
    if person is None:
        raise NotFound(f"no user named '{name}'")
    return person


def _everywhere(person: UserRow) -> bool:
    return person.all_sites or person.role == Role.ADMIN.value


def _listed(session: Session, person: UserRow) -> list[Site]:
    rows = session.exec(
        select(SiteRow)
        .join(UserSiteRow, col(UserSiteRow.site_id) == col(SiteRow.id))
        .where(UserSiteRow.user_id == person.id)
        .order_by(col(SiteRow.id))
    ).all()
    return [Site(row.id or 0, row.code, row.name, row.active) for row in rows]
