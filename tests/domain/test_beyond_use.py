"""The beyond-use date: the earliest of the category's limit and every lot's own, each kept."""

from __future__ import annotations

from datetime import UTC, date, datetime

from mesomix.domain.beyond_use import Category, LotUse, beyond_use

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CATEGORY_1 = Category("category_1", "category 1", 12, 24, "USP <797>")


def lot(number: str, expiry: date, opened: datetime | None = None) -> LotUse:
    return LotUse("a product", number, expiry, opened is not None, opened, 28)


def test_the_summary_names_the_limit_that_sets_it_and_counts_the_rest():
    lots = [
        lot("A1", date(2027, 9, 13)),
        lot("B2", date(2027, 5, 28), datetime(2026, 11, 18, 19, 35, tzinfo=UTC)),
        lot("C3", date(2026, 12, 1)),
    ]
    bud = beyond_use(NOW, CATEGORY_1, "room", lots, UTC)
    assert bud.at == datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
    # Read on a 24-row screen while composing: one limit and a count, not every lot.
    assert bud.summary == (
        "use by 2026-11-24 21:00, set by category 1 at room temperature: 12 h "
        "(4 other limits are later)"
    )
    # Every limit is kept with the batch.
    assert all(f"lot {n}" in bud.rule for n in ("A1", "B2", "C3")) and "opened" in bud.rule


def test_a_lot_that_expires_first_sets_the_date():
    bud = beyond_use(NOW, CATEGORY_1, "refrigerated", [lot("D4", date(2026, 11, 24))], UTC)
    assert bud.summary == (
        "use by 2026-11-24 23:59, set by lot D4 expires 2026-11-24 (1 other limit is later)"
    )
