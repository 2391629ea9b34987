"""How a report's frame reads on screen: names first and cut, no internal codes or ids, plain
words and figures (the export keeps every column as it is)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pandas as pd

from mesomix.tui.screens.reports import counted, readable


def test_a_report_reads_as_a_manager_would_write_it():
    frame = pd.DataFrame(
        {
            "product": ["lidocaine_2pct_2ml_amp"],
            "product_name": ["Lidocaine Hydrochloride Injection 2% 2 mL ampoule"],
            "lot_id": [7],
            "within_days": [30],
            "on_hand_ml": [19.0],
            "value_at_risk": [1234.5],
            "below_reorder": [True],
            "made_at": [pd.Timestamp("2026-11-24 09:30", tz="UTC")],
        }
    )
    headings, (row,) = readable(frame, ZoneInfo("Europe/Paris"))
    assert headings == ["product name", "on hand mL", "value at risk", "below reorder", "made at"]
    assert row == ["Lidocaine Hydrochloride…", "19", "1,234.50", "yes", "2026-11-24 10:30"]


def test_without_a_name_the_code_is_kept():
    headings, _ = readable(pd.DataFrame({"product": ["x"], "lots": [1]}), ZoneInfo("UTC"))
    assert headings == ["product", "lots"]


def test_counts_read_as_words():
    assert [counted(0, "row"), counted(1, "row"), counted(2, "batch", "batches")] == [
        "no rows",
        "1 row",
        "2 batches",
    ]
