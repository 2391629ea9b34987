"""The site a connection works at: what its engine was built for (`at_site`), read by every
query of the shelves and by the audit trail (each site's own chain)."""

from __future__ import annotations

import sqlalchemy as sa

from mesomix.db.tables import SiteRow, UserRow, UserSiteRow

SITE_OPTION = "mesomix_site"  # the engine's execution option naming the site it works at
FIRST_SITE_ID = 1  # `main`: everything written before there were sites is its


def at_site(engine: sa.Engine, site: int) -> sa.Engine:
    """The engine whose work is at `site`: its shelves, its audit chain."""
    return engine.execution_options(**{SITE_OPTION: site})


def site_of(connection: sa.Connection) -> int:
    """The site a connection works at (the first, for an engine built without one)."""
    return int(connection.get_execution_options().get(SITE_OPTION, FIRST_SITE_ID))


_USER_SITE = UserSiteRow.__table__
_SITE = SiteRow.__table__


def works_here(user: sa.Table) -> sa.ColumnElement[bool]:
    """Whether the person of a `user_account` row works at the site bound as `:site`: an admin
    everywhere, one marked `all_sites` everywhere, anyone else at the sites listed for them."""
    return sa.or_(
        user.c.role == "admin",
        user.c.all_sites,
        sa.exists().where(
            _USER_SITE.c.user_id == user.c.id, _USER_SITE.c.site_id == sa.bindparam("site")
        ),
    )


def site_column(column: str) -> sa.ScalarSelect[str]:
    """A column (name, code) of the site bound as `:site`, read in the same round trip."""
    return sa.select(_SITE.c[column]).where(_SITE.c.id == sa.bindparam("site")).scalar_subquery()


def elsewhere(name: str, site_name: str, site_code: str) -> str:
    """What a person is told who signs in or acts at a site they do not work at."""
    return (
        f"{name} does not work at {site_name} ({site_code}): an admin adds it to them "
        f"(mesomix user sites {name} --add {site_code})"
    )


_USER = UserRow.__table__
# A person by name (bound as `:name`), whether they work at the site bound as `:site`, and that
# site's name and code for the refusal: one round trip for a sign-in and for a dispense's actor.
FIND_PERSON = sa.select(
    _USER,
    works_here(_USER).label("works_here"),
    site_column("name").label("site_name"),
    site_column("code").label("site_code"),
).where(_USER.c.name == sa.bindparam("name"))
