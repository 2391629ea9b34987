"""The manager's reports as pandas frames: the database adds up, pandas only shapes and exports."""

from __future__ import annotations

import contextlib
import csv
import errno
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from mesomix.clock import Clock
from mesomix.db.sites import site_of
from mesomix.domain.inventory import reason_words
from mesomix.domain.permissions import Action
from mesomix.domain.text import readable
from mesomix.reports import queries
from mesomix.reports.cells import inert
from mesomix.reports.names import FORMATS, REPORTS, file_there, refuse_existing
from mesomix.services.base import Service
from mesomix.services.courses import CourseService, Forecast
from mesomix.services.errors import ServiceError
from mesomix.services.stock import StockService
from mesomix.services.stock.lots import LotRef

EXPIRY_WINDOWS = (30, 60, 90)
DEFAULT_PERIODS = {"week": 13, "month": 12}
MAX_PERIODS = 60
_CHUNK_ROWS = 10_000  # rows turned into columns at a time, so no report holds its rows twice


def _ml(microlitres: pd.Series) -> pd.Series:
    """Exact sums (integer microlitres, from SQL) shown in mL; n/1000 prints exactly as a float."""
    return microlitres.fillna(0).astype("int64") / 1000


def _money(cents: pd.Series) -> pd.Series:
    return (cents.fillna(0).astype("int64") / 100).round(2)


class ReportService(Service):
    def __init__(
        self, engine: sa.Engine, clock: Clock, inventory: StockService, courses: CourseService
    ) -> None:
        super().__init__(engine, clock)
        self._inventory = inventory
        self._courses = courses

    def report(
        self,
        user: str,
        name: str,
        *,
        period: str = "month",
        periods: int | None = None,
        lot_id: int | None = None,
        lot: str = "",
        product: str = "",
        days: int = 30,
    ) -> pd.DataFrame:
        """One report, by name; the query runs in the database, the frame holds its result.

        The recall report is of one lot: its number as printed on the box (`lot`, with the
        `product` where several products have a lot so numbered), or its id.

        The usage report covers the last `periods` weeks or months (13 weeks or 12 months unless
        told), the current one included."""
        if name not in REPORTS:
            raise ServiceError(f"unknown report '{name}': use one of {', '.join(REPORTS)}")
        if name == "recall":
            return self.recall(user, lot, product, lot_id=lot_id)[1]
        if name == "forecast":
            return forecast_frame(self._courses.forecast(user, days))
        if period not in queries.PERIODS:
            raise ServiceError(f"period '{period}' is not one of {', '.join(queries.PERIODS)}")
        periods = DEFAULT_PERIODS[period] if periods is None else periods
        if not isinstance(periods, int) or not 1 <= periods <= MAX_PERIODS:
            raise ServiceError(f"the usage report covers 1 to {MAX_PERIODS} periods, not {periods}")
        with self.reading(user, Action.VIEW_REPORTS) as (session, _):
            connection = session.connection()
            frame = self._frame(connection, name, period, periods)
        if name == "vigilance" and product.strip():  # one product's lots
            frame = frame[frame["product"] == product.strip()].reset_index(drop=True)
        return frame

    def recall(
        self, user: str, lot: str, product: str = "", *, lot_id: int | None = None
    ) -> tuple[LotRef, pd.DataFrame]:
        """Every batch and patient that received a lot, found by the number on the box (or by
        its id); the lot, to say which was found, and the frame, each row naming it too."""
        if lot_id is None and not lot.strip():
            raise ServiceError("the recall report needs a lot: the lot number on the box")
        ref = (
            self._inventory.find_lot(user, lot, product)
            if lot_id is None
            else self._inventory.lot_ref(user, lot_id)
        )
        lines = self._inventory.recall_trace(user, ref.lot_id)
        frame = pd.DataFrame(
            [
                (ln.batch_id, ln.made_at, ln.patient_ref, ln.patient_name, ln.volume_ul, ln.made_by)
                for ln in lines
            ],
            columns=["batch", "made_at", "patient_ref", "patient", "volume_ul", "made_by"],
        )
        frame.insert(4, "volume_ml", _ml(frame.pop("volume_ul")))
        # The clinic's own time, as every screen shows it (stored in UTC).
        frame["made_at"] = (
            pd.to_datetime(frame["made_at"], utc=True).dt.tz_convert(self._clock.zone).dt.floor("s")
        )
        frame["lot_number"], frame["product"] = ref.lot_number, ref.product_code
        return ref, frame

    @staticmethod
    def _read(connection: sa.Connection, query: sa.Select[tuple[object, ...]]) -> pd.DataFrame:
        """Rows from the driver's own cursor straight into a frame: the database already did the
        arithmetic, so nothing is converted row by row in Python. The statement's few values are
        ours (dates, kinds), never typed by a person, so they are rendered into the SQL."""
        sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
        driver = connection.connection.driver_connection
        if driver is None:  # only for a connection already closed, which this is not
            raise RuntimeError("the report's connection is closed")
        cursor = driver.cursor()
        try:
            cursor.execute(sql)
            columns = [d[0] for d in cursor.description]
            chunks = []
            while rows := cursor.fetchmany(_CHUNK_ROWS):
                chunks.append(pd.DataFrame.from_records(rows, columns=columns))
            if not chunks:
                return pd.DataFrame(columns=columns)
            return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
        finally:
            cursor.close()

    def _frame(
        self, connection: sa.Connection, name: str, period: str, periods: int
    ) -> pd.DataFrame:
        today = self._clock.today()
        if name == "stock":
            frame = self._read(connection, queries.stock_by_lot(site_of(connection)))
            frame["on_hand_ml"] = _ml(frame.pop("on_hand_ul"))
            frame["open_ml"] = _ml(frame.pop("open_ul"))
            frame["value"] = _money(frame.pop("value_cents"))
            frame["expired"] = pd.to_datetime(frame["expiry"]) < pd.Timestamp(today)
            return frame.drop(columns=["container_volume_ul"])
        if name == "stock-products":
            return self._stock_by_product(
                self._read(connection, queries.stock_by_product(today, site_of(connection)))
            )
        if name == "expiring":
            frame = self._read(
                connection, queries.expiring(today, EXPIRY_WINDOWS, site_of(connection))
            )
            frame["on_hand_ml"] = _ml(frame.pop("on_hand_ul"))
            frame["value_at_risk"] = _money(frame.pop("value_cents"))
            return frame.drop(columns=["container_volume_ul"])
        if name == "usage":
            columns = queries.last_periods(period, today, self._clock.zone, periods)
            frame = self._read(connection, queries.usage(columns, site_of(connection)))
            for column in [p.label for p in columns]:
                frame[column] = _ml(frame[column])
            frame["total_ml"] = _ml(frame.pop("total_ul"))
            return frame
        if name == "waste":
            frame = self._read(connection, queries.waste(site_of(connection)))
            frame["wasted_ml"] = _ml(frame.pop("wasted_ul"))
            frame["value"] = _money(frame.pop("value_cents"))
            # Words where a person reads the reason; a coded one keeps its code beside them for
            # a sheet (a reason kept in words, a dispense's waste, has none).
            words = frame["reason"].map(reason_words)
            frame["reason_code"] = frame["reason"].where(words != frame["reason"], "")
            frame["reason"] = words
            return frame
        if name == "vigilance":
            return vigilance_frame(
                self._read(connection, queries.sessions_per_lot()),
                self._read(connection, queries.reactions_per_lot()),
            )
        if name == "reactions":
            start = queries.last_periods(period, today, self._clock.zone, periods)[0]
            frame = self._read(connection, queries.reactions(start.start))
            frame["practitioner"] = frame["practitioner"].replace("", "(not named)")
            frame["indication"] = frame["indication"].replace("", "(not said)")
            first = ["kind", "severity", "reactions", "lot_number", "product_name"]
            return frame[first + [c for c in frame.columns if c not in first]]
        if name == "mixtures":
            frame = self._read(
                connection, queries.mixtures_by_practitioner_and_purpose(site_of(connection))
            )
            frame["practitioner"] = frame["practitioner"].replace("", "(not named)")
            frame["purpose"] = frame["purpose"].replace("", "(not said)")
        else:
            frame = self._read(connection, queries.mixtures_by_maker(site_of(connection)))
        frame["volume_ml"] = _ml(frame.pop("volume_ul"))
        return frame

    @staticmethod
    def _stock_by_product(frame: pd.DataFrame) -> pd.DataFrame:
        """Sealed containers and the suggested order as the low-stock list has them (usable
        lots only; at or below the level, the reorder quantity or what is short, whichever is
        more), the figures a manager compares first beside the name; unusable stock after."""
        containers = (frame.pop("sealed_ul") // frame.pop("container_volume_ul")).astype("int64")
        level = frame.pop("reorder_level").astype("Int64")
        quantity = frame.pop("reorder_quantity").astype("Int64")
        below = (containers <= level).fillna(False).astype(bool)
        short, wanted = level - containers, quantity.fillna(0)
        return pd.DataFrame(
            {
                "product": frame["product"],
                "product_name": frame["product_name"],
                "sealed_containers": containers,
                "suggested_order": wanted.where(wanted >= short, short).where(below),
                "on_hand_ml": _ml(frame["on_hand_ul"]),
                "unusable_ml": _ml(frame["unusable_ul"]),
                "value": _money(frame["value_cents"]),
                "unusable_value": _money(frame["unusable_value_cents"]),
                "lots": frame["lots"].astype("int64"),
                "reorder_level": level,
                "reorder_quantity": quantity,
                "below_reorder": below,
            }
        )


def vigilance_frame(sessions: pd.DataFrame, reactions: pd.DataFrame) -> pd.DataFrame:
    """A lot a row: the sessions it went into, its reactions by kind and in all, their rate per
    100 sessions, and the same rate across the product's other lots; the lots most above their
    product's other lots first."""
    kinds = (
        reactions.pivot_table(index="lot_id", columns="kind", values="n", aggfunc="sum")
        .fillna(0)
        .astype("int64")
        if len(reactions)
        else pd.DataFrame(index=pd.Index([], name="lot_id"))
    )
    frame = sessions.merge(kinds, how="left", left_on="lot_id", right_index=True)
    frame[list(kinds.columns)] = frame[list(kinds.columns)].fillna(0).astype("int64")
    frame["sessions"] = frame["sessions"].astype("int64")
    frame["reactions"] = frame[list(kinds.columns)].sum(axis=1).astype("int64")
    per_product = frame.groupby("product")[["sessions", "reactions"]].transform("sum")
    other_sessions = per_product["sessions"] - frame["sessions"]
    other_reactions = per_product["reactions"] - frame["reactions"]
    frame["rate_per_100"] = (100 * frame["reactions"] / frame["sessions"]).round(2)
    frame["other_lots_rate_per_100"] = (
        (100 * other_reactions / other_sessions).where(other_sessions > 0).round(2)
    )
    frame["times_other_lots"] = (
        (frame["rate_per_100"] / frame["other_lots_rate_per_100"])
        .where(frame["other_lots_rate_per_100"] > 0)
        .round(2)
    )
    first = ["lot_number", "product_name", "sessions", "reactions", "rate_per_100"]
    rest = ["other_lots_rate_per_100", "times_other_lots", *sorted(kinds.columns)]
    # Most above the product's other lots first (a lot whose product has no other lot, or
    # whose other lots had none, by its own rate).
    frame["_above"] = frame["rate_per_100"] - frame["other_lots_rate_per_100"].fillna(0)
    frame = frame.sort_values(["_above", "reactions"], ascending=False)
    return frame[first + rest + ["product", "lot_id"]].reset_index(drop=True)


def forecast_frame(forecast: Forecast) -> pd.DataFrame:
    """The forecast a product a row, those short first: what the booked sessions need, what is
    usable, the first day short, and what to order."""
    return pd.DataFrame(
        [
            (
                p.product,
                forecast.names.get(p.product, p.product),
                p.sessions,
                p.need_ul / 1000,
                p.usable_ul / 1000,
                p.short_ul / 1000,
                p.first_short.isoformat() if p.first_short else "",
                p.short_containers,
                p.order_containers,
            )
            for p in forecast.products
        ],
        columns=[
            "product",
            "product_name",
            "sessions",
            "need_ml",
            "usable_ml",
            "short_ml",
            "first_short",
            "short_containers",
            "order_containers",
        ],
    )


def export(frame: pd.DataFrame, form: str, path: Path | None, *, replace: bool = False) -> str:
    """The report as a table (text), CSV or XLSX; files are written whole or not at all, and an
    existing file is replaced only when `replace` says so (an old export is someone's record)."""
    if form not in FORMATS:
        raise ServiceError(f"format '{form}' is not one of {', '.join(FORMATS)}")
    if form == "table":
        return frame.to_string(index=False) if len(frame) else "(nothing to report)"
    if path is not None and path.suffix and path.suffix.lower() != f".{form}":
        raise ServiceError(
            readable(f"{path.name} ends in {path.suffix} but the format is {form}: name it .{form}")
        )
    if path is None:
        if form == "xlsx":
            raise ServiceError("an XLSX report needs --output FILE")
        return _csv(inert(frame))
    refuse_existing(path, replace)
    replacing = file_there(
        path
    )  # as told to: said in the answer, so nobody takes it for a new file
    frame = inert(frame)  # a name typed as a formula is text to whoever opens the file
    if form == "xlsx":
        frame = frame.assign(
            **{
                str(column): frame[column].dt.tz_localize(None)
                for column in frame.select_dtypes(include=["datetimetz"]).columns
            }
        )
    partial = path.with_name(path.name + ".part")
    try:
        if form == "csv":
            _csv(frame, partial)
        else:  # Excel has no time zones: local times are written as the clock on the wall
            frame.to_excel(partial, index=False, engine="openpyxl")
        partial.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):  # the folder itself may be the problem
            partial.unlink(missing_ok=True)
        raise ServiceError(f"{path}: cannot be written: {_why(exc, path)}") from None
    return f"{len(frame)} rows written to {path}" + (
        ", replacing the file there" if replacing else ""
    )


def _csv(frame: pd.DataFrame, path: Path | None = None) -> str:
    """Every text cell in quotes: a reader whose list separator is not the comma (a semicolon
    in much of Europe) still sees one cell, so `a;=1+1` cannot become a cell of its own."""
    return frame.to_csv(path, index=False, quoting=csv.QUOTE_NONNUMERIC) or ""


def _why(exc: OSError, path: Path) -> str:
    """Why a file cannot be written, in words rather than an errno."""
    if path.is_dir():
        return "it is a folder: give a file name in it"
    if exc.errno == errno.ENOENT or not path.parent.is_dir():
        return f"there is no folder {path.parent}"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "no permission to write there"
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    return exc.strerror or str(exc)
