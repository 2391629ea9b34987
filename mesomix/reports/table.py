"""A report as a table a person reads in a terminal of 80 columns: words for headings, units
beside them, the columns that matter first, yes/no, money with two decimals, local times, long
names cut with "…". The export (CSV, XLSX) keeps every column as it is; this is only how the
same frame is shown.

Pure: a pandas frame in, text out."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo

import pandas as pd

from mesomix.reports.names import UnknownColumns

WIDTH = 80
GAP = "  "
NAME_NARROWEST = 20  # a long text is cut to fit, but never below this
# Long text, cut to what the figures leave (with "…"); --wide shows it whole.
NAMES = ("product_name", "patient", "display_name", "reason", "purpose", "practitioner")

# Every column a report frame may have, in words, with its unit.
HEADINGS = {
    "product": "code",
    "product_name": "product",
    "lot_id": "lot id",
    "lot_number": "lot",
    "expiry": "expiry",
    "status": "status",
    "on_hand_ml": "on hand mL",
    "open_ml": "open mL",
    "value": "value",
    "expired": "expired",
    "sealed_containers": "sealed",
    "suggested_order": "order",
    "unusable_ml": "unusable mL",
    "unusable_value": "unusable value",
    "lots": "usable lots",
    "reorder_level": "reorder level",
    "reorder_quantity": "reorder qty",
    "below_reorder": "below level",
    "within_days": "within days",
    "value_at_risk": "value at risk",
    "batches": "batches",
    "total_ml": "total mL",
    "kind": "kind",
    "reason": "reason",
    "movements": "movements",
    "wasted_ml": "wasted mL",
    "practitioner": "practitioner",
    "purpose": "purpose",
    "mixtures": "mixtures",
    "volume_ml": "volume mL",
    "user": "user",
    "display_name": "name",
    "role": "role",
    "batch": "batch",
    "made_at": "made at",
    "patient_ref": "patient",
    "patient": "name",
    "made_by": "made by",
    "sessions": "sessions",
    "need_ml": "need mL",
    "usable_ml": "usable mL",
    "short_ml": "short mL",
    "first_short": "short from",
    "short_containers": "short",
    "order_containers": "order",
    "severity": "severity",
    "indication": "indication",
    "reactions": "reactions",
    "serious": "serious",
    "not_confirmed": "unconfirmed",
    "rate_per_100": "per 100",
    "other_lots_rate_per_100": "others per 100",
    "times_other_lots": "× others",
}
MONEY = {"value", "unusable_value", "value_at_risk"}


@dataclass(frozen=True)
class Layout:
    """The columns a report shows at 80: `always`, then as many of `if_room` as fit (in that
    order of preference); every column shows in the frame's own order."""

    always: tuple[str, ...]
    if_room: tuple[str, ...] = ()


LAYOUTS = {
    "stock": Layout(
        ("product_name", "lot_number", "expiry", "status", "on_hand_ml", "value"),
        ("open_ml",),
    ),
    "stock-products": Layout(
        ("product_name", "sealed_containers", "suggested_order", "on_hand_ml", "unusable_ml"),
        ("value", "lots", "unusable_value"),
    ),
    "expiring": Layout(
        ("product_name", "lot_number", "expiry", "on_hand_ml", "value_at_risk"), ("status",)
    ),
    "waste": Layout(("kind", "reason", "movements", "wasted_ml", "value")),
    "mixtures": Layout(("practitioner", "purpose", "mixtures", "volume_ml")),
    "makers": Layout(("user", "display_name", "role", "mixtures", "volume_ml")),
    "recall": Layout(("batch", "made_at", "patient_ref", "patient", "volume_ml", "made_by")),
    "forecast": Layout(
        ("product_name", "need_ml", "usable_ml", "first_short", "order_containers"),
        ("short_containers", "sessions"),
    ),
    "vigilance": Layout(
        ("lot_number", "product_name", "sessions", "reactions", "rate_per_100"),
        ("times_other_lots", "other_lots_rate_per_100"),
    ),
    "reactions": Layout(
        ("kind", "severity", "product_name", "lot_number", "reactions"),
        ("serious", "indication", "practitioner", "not_confirmed"),
    ),
}


def heading(column: str) -> str:
    """A column in words: on_hand_ml → on hand mL; a period (2026-11) as it is."""
    return HEADINGS.get(column) or in_words(column)


def in_words(column: str) -> str:
    """A column's name in words, its unit beside it: on_hand_ml → on hand mL."""
    words = column.removesuffix("_ml").replace("_", " ")
    return f"{words} mL" if column.endswith("_ml") else words


def cell(column: str, value: object, zone: tzinfo) -> str:
    """A value as a person reads it: blank for none, yes/no, money with two decimals, 19 not
    19.0, times in the clinic's zone to the minute."""
    # pandas-stubs' isna takes no bare object, though pandas reads any scalar (NaN, NaT, NA)
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[call-overload]
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp):
        return f"{value.tz_convert(zone) if value.tzinfo else value:%Y-%m-%d %H:%M}"
    if isinstance(value, float):
        return f"{value:,.2f}" if column in MONEY else f"{value:,.10g}"
    return str(value)


def chosen(frame: pd.DataFrame, report: str, names: Sequence[str]) -> list[str]:
    """The columns --columns names, as given; an unknown one is refused, listing the rest."""
    every = [str(c) for c in frame.columns]
    unknown = [n for n in names if n not in every]
    if unknown:
        raise UnknownColumns(
            f"the {report} report has no column {', '.join(repr(n) for n in unknown)}: "
            f"it has {', '.join(every)}"
        )
    return list(dict.fromkeys(names))


def table(
    frame: pd.DataFrame,
    report: str,
    zone: tzinfo,
    *,
    columns: Sequence[str] = (),
    wide: bool = False,
    width: int = WIDTH,
) -> str:
    """The report as text: the columns asked for (`columns`), every column whole (`wide`), or
    those that matter, fitted to `width`; a last line says what was left out and how to see it."""
    every = [str(c) for c in frame.columns]
    if columns:
        shown = chosen(frame, report, columns)
    elif wide:
        shown = every
    else:
        shown = _fitting(frame, report, zone, width)
    merged = report == "stock" and "status" in shown and "expired" not in shown and not wide
    rows = [
        [_shown_cell(column, row, zone, merged) for column in shown]
        for row in frame[shown]
        .assign(**({"expired": frame["expired"]} if merged else {}))
        .to_dict("records")
    ]
    headings = [heading(c) for c in shown]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headings)]
    if not wide:
        widths = _cut(shown, widths, width)
    right = [
        pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        for c in shown
    ]
    lines = [_line(headings, widths, right), *(_line(r, widths, right) for r in rows)]
    if not rows:
        lines.append("(nothing to report)")
    if len(shown) < len(every):
        lines.append(f"({len(shown)} of {len(every)} columns: --wide for all, --columns to choose)")
    return "\n".join(line.rstrip() for line in lines)


def _shown_cell(column: str, row: Mapping[Hashable, object], zone: tzinfo, merged: bool) -> str:
    """A lot's status says "expired" when the expired column is not shown beside it, as the
    stock list and Inventory say it."""
    text = cell(column, row[column], zone)
    if merged and column == "status" and row.get("expired") is True:
        return "expired" if text == "available" else f"{text}, expired"
    return text


def _fitting(frame: pd.DataFrame, report: str, zone: tzinfo, width: int) -> list[str]:
    """The report's layout at `width`: its columns always shown, then those that fit."""
    every = [str(c) for c in frame.columns]
    layout = LAYOUTS.get(report)
    if layout is None:  # the usage report: the name, the latest periods that fit, the totals
        periods = [c for c in every if c not in ("product", "product_name", "batches", "total_ml")]
        layout = Layout(
            tuple(c for c in ("product_name", "batches", "total_ml") if c in every),
            tuple(reversed(periods)),
        )
    shown = [c for c in layout.always if c in every]
    for extra in layout.if_room:
        if extra in every and _needed(frame, [*shown, extra], zone) <= width:
            shown.append(extra)
    return [c for c in every if c in shown]


def _needed(frame: pd.DataFrame, columns: list[str], zone: tzinfo) -> int:
    """The width these columns take, a name cut to its narrowest."""
    total = len(GAP) * (len(columns) - 1)
    for column in columns:
        cells = [len(cell(column, v, zone)) for v in frame[column]]
        wanted = max([len(heading(column)), *cells])
        total += min(wanted, NAME_NARROWEST) if column in NAMES else wanted
    return total


def _cut(columns: list[str], widths: list[int], width: int) -> list[int]:
    """The name columns narrowed (never below NAME_NARROWEST) until the table fits."""
    over = sum(widths) + len(GAP) * (len(widths) - 1) - width
    cut = list(widths)
    for i, column in enumerate(columns):
        if over <= 0:
            break
        if column in NAMES and cut[i] > NAME_NARROWEST:
            taken = min(over, cut[i] - NAME_NARROWEST)
            cut[i] -= taken
            over -= taken
    return cut


def _line(cells: Sequence[str], widths: Sequence[int], right: Sequence[bool]) -> str:
    return GAP.join(
        (_fit(text, w).rjust(w) if r else _fit(text, w).ljust(w))
        for text, w, r in zip(cells, widths, right, strict=True)
    )


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
