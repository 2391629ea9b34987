"""The site a connection works at: what its engine was built for (`at_site`), read by every
query of the shelves and by the audit trail (each site's own chain)."""

from __future__ import annotations

import sqlalchemy as sa

SITE_OPTION = "mesomix_site"  # the engine's execution option naming the site it works at
FIRST_SITE_ID = 1  # `main`: everything written before there were sites is its


def at_site(engine: sa.Engine, site: int) -> sa.Engine:
    """The engine whose work is at `site`: its shelves, its audit chain."""
    return engine.execution_options(**{SITE_OPTION: site})


def site_of(connection: sa.Connection) -> int:
    """The site a connection works at (the first, for an engine built without one)."""
    return int(connection.get_execution_options().get(SITE_OPTION, FIRST_SITE_ID))
