"""One terminal in a race: dispenses the same one-ampoule mixture N times, reports each outcome.

Run as a real process: `python -m tests.reliability.dispense_worker URL USER ATTEMPTS`.
"""

from __future__ import annotations

import json
import sys

from mesomix.bootstrap import Settings, build
from mesomix.services.errors import DatabaseBusy, ServiceError
from tests.factories import mixture


def main(url: str, user: str, attempts: int) -> None:
    services = build(Settings(database_url=url))
    outcomes = []
    for _ in range(attempts):
        try:
            result = services.mixtures.dispense(mixture(("cyanocobalamin", "1000 mcg")), user)
            outcomes.append({"ok": True, "batch": result.batch_id})
        except DatabaseBusy as exc:
            outcomes.append({"ok": False, "busy": True, "message": str(exc)})
        except ServiceError as exc:
            outcomes.append({"ok": False, "busy": False, "message": str(exc)})
    services.close()
    json.dump(outcomes, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
