"""Reports: the manager's reports as tables, a chart where a picture says more (usage over time,
value at risk by expiry window), and export to CSV or XLSX.

The report is computed by the report service in a worker; the screen shows the first rows of the
frame it returns and hands the whole frame back to the service to export.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.events import Resize
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Input, Select, Sparkline, Static

from mesomix.reports.names import FORMATS, REPORTS, ExportExists
from mesomix.reports.service import export, forecast_frame
from mesomix.reports.table import cell, in_words
from mesomix.services.accounts import SignedIn
from mesomix.services.courses.week import FORECAST_DAYS
from mesomix.services.errors import ServiceError
from mesomix.tui.screens.base import WorkScreen, columns, short, update_text
from mesomix.tui.widgets.field import Field
from mesomix.tui.widgets.form import Form, FormField, Values

if TYPE_CHECKING:  # a type hint only: the screens never import the wiring at run time
    from mesomix.bootstrap import Services
    from mesomix.services.courses import Forecast

ROWS_SHOWN = 500  # the table shows this many; an export carries every row
COLUMN_WIDEST = 40
BAR_WIDTH = 30


# Shown on screen but not needed to read it: the code beside the product's name, the lot's
# internal id, a parameter repeated on every row. Exports keep every column.
HIDDEN = {"lot_id", "within_days", "reason_code"}  # the reason is shown in words
NAMES = ("product_name",)  # long text: first, cut to NAME_WIDTH, and then no code beside it
NAME_WIDTH = 24  # at 80 columns the name and the first figures share the screen
# Figures that only matter when there are some (stock in recalled, quarantined or expired lots):
# blank rather than 0 on screen, so the few products holding any stand out. Exports keep the 0.
BLANK_WHEN_NONE = {"unusable_ml", "unusable_value"}
# Headed on screen as Inventory's low-stock list heads them, short enough that the figures a
# manager compares with that list and the unusable stock all show at 80 columns; stock by
# product counts only the lots that may be used, which "lots" beside "unusable mL" hid.
HEADINGS = {"sealed_containers": "sealed", "lots": "usable lots"}
DETAIL_LINES = (
    4  # the most the highlighted row's line under the table takes (see styles/reports.tcss)
)


def counted(number: int, one: str, many: str = "") -> str:
    """1 row, 2 rows, no batches."""
    word = one if number == 1 else many or f"{one}s"
    return f"{number} {word}" if number else f"no {many or one + 's'}"


def heading(column: str) -> str:
    """A column as a manager reads it: on_hand_ml → on hand mL."""
    return HEADINGS.get(column) or in_words(column)


def shown(column: str, value: object, zone: tzinfo) -> str:
    """A cell as a person reads it (as the command line's table shows it), and blank rather
    than 0 where only a figure matters."""
    text = cell(column, value, zone)  # "" for none, read before comparing (pd.NA == 0 is NA)
    if column in BLANK_WHEN_NONE and text and float(text.replace(",", "")) == 0:
        return ""
    return text


def readable(frame: pd.DataFrame, zone: tzinfo) -> tuple[list[str], list[list[str]]]:
    """The report's columns and rows for the screen: the name first, cut so that the figures
    beside it show at 80 columns (the export has it whole), and plain words."""
    every = [str(c) for c in frame.columns]
    names = [c for c in every if c in NAMES]
    hidden = HIDDEN | ({"product"} if names else set())  # the code, when its name is there
    kept = names + [c for c in every if c not in hidden and c not in NAMES]
    rows = [
        [
            short(text, NAME_WIDTH) if column in NAMES else text
            for column in kept
            for text in (shown(column, row[column], zone),)
        ]
        for row in frame.head(ROWS_SHOWN).to_dict("records")
    ]
    return [heading(c) for c in kept], rows


def detail(row: Mapping[str, object], zone: tzinfo) -> str:
    """The highlighted row where the table cuts it: the product's whole name and code, and in
    a report by lot the lot's number, status and expiry; empty for a report of no product."""
    if "product_name" not in row:
        return ""
    said = [
        shown("product_name", row["product_name"], zone),
        shown("product", row.get("product"), zone),
    ]
    lot = shown("lot_number", row.get("lot_number"), zone)
    if lot:
        said.append(f"lot {lot}")
        said.append(shown("status", row.get("status"), zone))
        expiry = shown("expiry", row.get("expiry"), zone)
        if expiry:
            past = ", expired" if row.get("expired") is True else ""
            said.append(f"expiry {expiry}{past}")
    return " · ".join(part for part in said if part)


def bars(labels: list[str], values: list[float], unit: str, places: int = 2) -> str:
    """A horizontal bar chart in text, each bar with its number (a picture, and the figure)."""
    top = max(values, default=0) or 1
    width = max((len(label) for label in labels), default=0)
    return "\n".join(
        f"{label:>{width}} {'█' * round(BAR_WIDTH * value / top):<{BAR_WIDTH}} {value:,.{places}f} {unit}"
        for label, value in zip(labels, values, strict=True)
    )


def forecast_chart(forecast: Forecast, days_shown: int = 6) -> str:
    """The product short soonest (else the one needed most), day by day: what the sessions
    need against what is left in date after them, each a bar and its figure."""
    if not forecast.products:
        return f"No session booked in the next {forecast.days} days."
    product = forecast.products[0]  # short first, soonest first
    top = max([d.need_ul for d in product.days] + [product.usable_ul]) or 1
    half = 12  # two bars and their figures in 80 columns
    lines = [
        f"{short(forecast.names.get(product.product, product.product), 40)}: need and stock in date"
    ]
    for day in product.days[:days_shown]:
        need = "█" * max(1, round(half * day.need_ul / top))
        left = "█" * round(half * day.left_ul / top)
        said = f"{day.day:%m-%d}  need {need:<{half}} {day.need_ul / 1000:>6g} mL"
        said += f"  left {left:<{half}} {day.left_ul / 1000:>6g} mL"
        lines.append(said + (f"  SHORT {day.short_ul / 1000:g} mL" if day.short_ul else ""))
    more = len(product.days) - days_shown
    if more > 0:
        lines.append(f"… {more} more day(s): export for all")
    return "\n".join(lines)


class ReportsScreen(WorkScreen):
    CSS_PATH = "../styles/reports.tcss"
    BINDINGS = [
        # Priority: the lot field's own Ctrl+E (end of line) would take the key otherwise.
        Binding(
            "ctrl+r",
            "run",
            "Run",
            id="reports.run",
            priority=True,
            tooltip="Run the chosen report again",
        ),
        Binding(
            "ctrl+e",
            "export",
            "Export",
            id="reports.export",
            priority=True,
            tooltip="Export the report shown to a CSV or XLSX file",
        ),
    ]

    @dataclass
    class Ready(Message):
        name: str
        frame: pd.DataFrame
        about: str = ""  # which lot a recall report found
        chart: str = ""  # a forecast's need against stock, day by day

    def __init__(self, services: Services, user: SignedIn) -> None:
        super().__init__(services, user)
        self._frame: pd.DataFrame | None = None
        self._name = ""
        self._details: list[str] = []  # each row's line under the table, in the table's order

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="report-choice"):
            yield Select[str](
                [(name, name) for name in REPORTS],
                value="stock-products",
                allow_blank=False,
                id="report-name",
                compact=True,
            )
            yield Select[str](
                [("by month", "month"), ("by week", "week")],
                value="month",
                allow_blank=False,
                id="report-period",
                compact=True,
            )
            days = Select[str](
                [(f"next {d} days", str(d)) for d in FORECAST_DAYS],
                value="30",
                allow_blank=False,
                id="report-days",
                compact=True,
            )
            days.display = False  # for the forecast only
            yield days
            yield Field(placeholder="lot number on the box (recall)", id="report-lot", compact=True)
        yield Static("", id="report-chart")
        yield Sparkline([], id="report-spark")
        yield DataTable(id="report-table", zebra_stripes=True)
        yield Static("", id="report-detail")
        yield Static("", id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "mesomix — Reports"
        self.action_run()

    @on(Select.Changed)
    def _chosen(self) -> None:
        forecast = self.query_one("#report-name", Select).value == "forecast"
        self.query_one("#report-days", Select).display = forecast
        self.query_one("#report-period", Select).display = not forecast
        self.action_run()

    def reload(self) -> None:
        self.action_run()

    @on(Input.Submitted, "#report-lot")
    def _lot_typed(self) -> None:
        """A lot number typed and Enter: that is a recall, whichever report was chosen."""
        chosen = self.query_one("#report-name", Select)
        if self.query_one("#report-lot", Input).value.strip() and chosen.value != "recall":
            chosen.value = "recall"  # runs it, as any change of report does
            return
        self.action_run()

    def action_run(self) -> None:
        name = self.query_one("#report-name", Select).value
        period = self.query_one("#report-period", Select).value
        typed = self.query_one("#report-lot", Input).value.strip()
        if name == "recall" and not typed:
            self.say(
                "The recall report needs the lot number as printed on the box: type it (then "
                "the product, if several share it) and press Enter.",
                error=True,
            )
            self.query_one("#report-lot", Input).focus()
            self._clear()
            return
        self.say(f"Running {name}…")
        days = int(str(self.query_one("#report-days", Select).value))
        self._run(str(name), str(period), typed, days)

    @work(thread=True, exclusive=True, group="report")
    def _run(self, name: str, period: str, lot: str, days: int = 30) -> None:
        """The report, in a worker; a recall's lot is found by its number (and product) by
        the service, which says which lot it found or why it found none."""
        reports, about = self.services.reports, ""
        with self.reporting(bug="the report could not be made"):
            if name == "recall":
                ref, frame = reports.recall(self.user.name, lot)
                # Whole, code and all: the status line wraps, and every row is of this lot.
                named = f"{ref.product_name} · {ref.product_code}"
                about = f"lot {ref.lot_number} ({ref.status}) of {named}"
            elif name == "forecast":
                forecast = self.services.courses.forecast(self.user.name, days)
                frame = forecast_frame(forecast)
                self.post_message(self.Ready(name, frame, chart=forecast_chart(forecast)))
                return
            else:
                frame = reports.report(self.user.name, name, period=period)
            self.post_message(self.Ready(name, frame, about))

    def on_reports_screen_ready(self, message: Ready) -> None:
        self._frame, self._name = message.frame, message.name
        frame = message.frame
        table = self.query_one("#report-table", DataTable)
        table.clear(columns=True)
        headings, cells = readable(frame, self.services.clock.zone)
        columns(
            table,
            *(
                (name, min(COLUMN_WIDEST, max([len(name), *(len(row[n]) for row in cells)])))
                for n, name in enumerate(headings)
            ),
        )
        for row in cells:
            table.add_row(*[Text(value) for value in row])
        zone = self.services.clock.zone
        self._details = [
            detail({str(name): value for name, value in row.items()}, zone)
            for row in frame.head(ROWS_SHOWN).to_dict("records")
        ]
        self._fit_detail()
        self._show_detail(0)
        more = f" (the first {ROWS_SHOWN}; export for all)" if len(frame) > ROWS_SHOWN else ""
        if message.about:  # a recall: which lot, and who received it
            received = counted(len(frame), "batch", "batches")
            self.say(f"Recall of {message.about}: {received}{more}. Ctrl+E exports.")
        else:
            unusable = ""
            if "unusable_ml" in frame:  # stock nobody may use, which the figures leave out
                held = int((frame["unusable_ml"] > 0).sum())
                unusable = f", {held} holding unusable stock" if held else ""
            rows = counted(len(frame), "row")
            self.say(f"{message.name}: {rows}{unusable}{more}. Ctrl+E exports.")
        self._chart(message.name, frame, message.chart)

    @on(DataTable.CellHighlighted, "#report-table")
    def _highlighted(self, event: DataTable.CellHighlighted) -> None:
        self._show_detail(event.coordinate.row)

    def on_resize(self, event: Resize) -> None:
        self._fit_detail()

    def _show_detail(self, row: int) -> None:
        text = self._details[row] if 0 <= row < len(self._details) else ""
        update_text(self.query_one("#report-detail", Static), Text(text))

    def _fit_detail(self) -> None:
        """Room under the table for the longest line of this report's rows (up to
        DETAIL_LINES): the table keeps its height while the cursor moves; none for a report
        of no product (a recall names its one lot's product whole in the status line)."""
        line = self.query_one("#report-detail", Static)
        width = max(1, self.size.width - line.styles.gutter.width)
        need = max(
            (Content(text).get_height(line.styles, width) for text in self._details),  # type: ignore[arg-type]  # typed RulesMap; Textual passes a widget's styles
            default=0,
        )
        line.display = need > 0
        for lines in range(2, DETAIL_LINES + 1):
            line.set_class(min(need, DETAIL_LINES) == lines, f"lines-{lines}")

    def on_work_screen_failed(self, message: WorkScreen.Failed) -> None:
        """A refused report leaves no other report's rows on screen to be read as its own (the
        base screen's handler, called next, says why)."""
        self._clear()

    def _clear(self) -> None:
        self._frame, self._name, self._details = None, "", []
        self.query_one("#report-table", DataTable).clear(columns=True)
        self._fit_detail()
        self.query_one("#report-chart", Static).display = False
        self.query_one("#report-spark", Sparkline).display = False

    def _chart(self, name: str, frame: pd.DataFrame, drawn: str = "") -> None:
        chart, spark = (
            self.query_one("#report-chart", Static),
            self.query_one("#report-spark", Sparkline),
        )
        spark.display = False
        chart.display = True
        if name == "usage" and len(frame):
            periods = [c for c in frame.columns if c[:4].isdigit()]
            totals = [float(frame[c].sum()) for c in periods]
            # Newest first: the chart has room for a few lines, and this month matters most.
            chart.update(Text(bars(periods[::-1], totals[::-1], "mL")))
            spark.data = totals
            spark.display = len(periods) > 1
        elif name == "forecast" and drawn:
            chart.update(Text(drawn))
        elif name == "expiring" and len(frame):
            by_window = frame.groupby("within_days")["value_at_risk"].sum()
            chart.update(
                Text(
                    bars(
                        [f"≤ {d} d" for d in by_window.index],
                        [float(v) for v in by_window],
                        "at cost",
                    )
                )
            )
        elif name == "reactions" and len(frame):
            # By lot, the most first: a reaction counts once for each lot it traces to.
            by_lot = frame.groupby("lot_number")["reactions"].sum().nlargest(6)
            labels = [f"lot {lot}" for lot in by_lot.index]
            chart.update(Text(bars(labels, [float(n) for n in by_lot], "reaction(s)", 0)))
        else:
            chart.update("")
            chart.display = False

    def action_export(self) -> None:
        if self._frame is None:
            self.say("Run a report first.", error=True)
            return
        frame, name = self._frame, self._name
        today = self.services.clock.today().isoformat()
        if name == "recall" and "lot_number" in frame and len(frame):
            lot = re.sub(r"[^A-Za-z0-9._-]", "_", str(frame["lot_number"].iloc[0]))
            name = f"recall-{lot}"  # which lot, in the file's name

        confirmed: list[Path] = []  # a file the person was told exists, then pressed Export again

        def submit(values: Values) -> str:
            form = values["format"]
            typed = values["path"].strip()
            path = (
                Path(typed).expanduser()
                if typed
                else Path.home() / f"mesomix-{name}-{today}.{form}"
            )
            try:
                return export(frame, form, path, replace=path in confirmed)
            except ExportExists:
                confirmed[:] = [path]  # only this file, and only until another is named
                raise ServiceError(
                    f"{path} already exists. Export again to replace it, or give another file "
                    "name (Escape keeps it and writes nothing)."
                ) from None

        self.ask(
            Form(
                f"Export {name}",
                [
                    FormField(
                        "format", "Format", choices=[(f, f) for f in FORMATS if f != "table"]
                    ),
                    FormField("path", "File", f"blank: ~/mesomix-{name}-{today}.<format>"),
                ],
                submit,
                go="Export",
            )
        )
