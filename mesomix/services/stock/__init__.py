"""The stock service, its work split by job so each is found where a newcomer looks:
receiving.py (deliveries onto the shelf), movements.py (adjust, waste, return, count, correct),
lots.py (the shelf by lot: listing, finding by the number on the box, status and recall),
reorder.py (reorder levels and what is low) and transfers.py (stock sent to another site). The ledger's reconciliation is services/ledger.py;
a dispense takes stock in services/mixtures.py, in its own transaction."""

from __future__ import annotations

import sqlalchemy as sa

from mesomix.clock import Clock
from mesomix.services.catalog import CatalogService
from mesomix.services.ledger import discrepancies
from mesomix.services.stock.lots import Lots
from mesomix.services.stock.movements import Movements
from mesomix.services.stock.receiving import Receiving
from mesomix.services.stock.reorder import Reorder
from mesomix.services.stock.transfers import Transfers


class StockService(Receiving, Movements, Lots, Reorder, Transfers):
    """Everything done to stock by hand, one service (bootstrap names it `stock` and, for the
    Inventory screen and the reports, `inventory`)."""

    def __init__(
        self, engine: sa.Engine, clock: Clock, catalog: CatalogService | None = None
    ) -> None:
        super().__init__(engine, clock)
        self._catalog = catalog  # for products typed by name; without it, codes only

    def discrepancies(self) -> list[tuple[int, int, int]]:
        """Lots whose on-hand differs from the sum of their movements: (lot id, on hand, ledger)."""
        return discrepancies(self._engine)
