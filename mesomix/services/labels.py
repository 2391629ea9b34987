"""The label of a dispensed mixture, again: shown, saved as a file, or sent to the printer.

The label text is written once, when the batch is dispensed, and kept with it; reprinting sends
exactly those words (a label kept from before labels named their signed-off blocks gets those
lines, read from the overrides stored with the batch). It names every block signed off and every
warning the person dispensing acknowledged. Printing goes through the terminal's own print command (CUPS `lp`, or BSD
`lpr`), to MESOMIX_PRINTER when it is set, else to the default printer.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from mesomix.clock import Clock
from mesomix.db.tables import (
    AcknowledgementRow,
    AuditRow,
    BatchLineRow,
    BatchRow,
    LotRow,
    MovementRow,
    OverrideRow,
    ProductRow,
    UserRow,
)
from mesomix.domain.bench import BY_SCAN
from mesomix.domain.beyond_use import BeyondUse
from mesomix.domain.label import SIZES, LabelSheet, zpl
from mesomix.domain.mixture import Plan
from mesomix.domain.overrides import REASONS
from mesomix.domain.permissions import Action
from mesomix.domain.text import readable
from mesomix.domain.units import format_amount
from mesomix.services.base import Service
from mesomix.services.batches import DrawnLot
from mesomix.services.errors import NotFound, ServiceError

PRINT_TIMEOUT_S = 15
LABEL_WIDTH = 80
OVERRIDDEN = "OVERRIDDEN"  # opens each signed-off block on a label: it can be looked for
ACKNOWLEDGED = "ACKNOWLEDGED"  # opens each warning read by the person dispensing
RECALLED = "RECALLED"  # opens each lot drawn into the batch that has been recalled since
# Where a finding's head ends and its details begin: "allergy to X: … in … (confirmed…)",
# "lidocaine 300 mg > 200 mg maximum (…) — source: …".
_HEAD_ENDS = re.compile(r": | — |; ")


@dataclass(frozen=True)
class SignedOff:
    """A blocking finding a practitioner signed off for one batch: whoever reads the label or
    the patient's history must see that the mixture was made despite it, and on whose word."""

    finding: str  # the finding's message, whole, as it was signed
    signed_by: str  # the practitioner's display name
    reason_code: str
    why: str

    @property
    def head(self) -> str:
        """The finding in short ("allergy to Procaine hydrochloride"); the whole message stays
        on the batch record."""
        return _HEAD_ENDS.split(self.finding, maxsplit=1)[0].strip()

    @property
    def reason(self) -> str:
        return REASONS.get(self.reason_code, self.reason_code)

    @property
    def signed(self) -> str:
        return f"signed by {self.signed_by} ({self.reason}): {self.why}"

    def lines(self, width: int = LABEL_WIDTH) -> list[str]:
        """For the label: wrapped to the paper's 80 columns, nothing cut."""
        return [
            *textwrap.wrap(f"{OVERRIDDEN}: {self.head}", width, subsequent_indent="  "),
            *textwrap.wrap(self.signed, width, initial_indent="  ", subsequent_indent="    "),
        ]


@dataclass(frozen=True)
class Acknowledged:
    """A warning the person dispensing read before dispensing: whoever reads the label or the
    patient's history must see that the mixture was made knowing it."""

    finding: str  # the warning's message, whole, as it was shown
    read_by: str  # the display name of the person dispensing

    @property
    def head(self) -> str:
        """The warning in short; the whole message stays with the batch."""
        return _HEAD_ENDS.split(self.finding, maxsplit=1)[0].strip()

    @property
    def read(self) -> str:
        return f"read by {self.read_by} before dispensing"

    def lines(self, width: int = LABEL_WIDTH) -> list[str]:
        """For the label: wrapped to the paper's 80 columns, nothing cut."""
        return [
            *textwrap.wrap(f"{ACKNOWLEDGED}: {self.head}", width, subsequent_indent="  "),
            *textwrap.wrap(self.read, width, initial_indent="  ", subsequent_indent="    "),
        ]


@dataclass(frozen=True)
class RecalledLot:
    """A lot drawn into a batch and recalled since: whoever reads the patient's history or a
    label printed again must see it, in words (the label first printed could not say it)."""

    lot_number: str
    product: str  # the product's name, as on the box
    recalled_on: date | None  # the clinic's day the recall was recorded (None: not in the trail)
    reason: str  # as the manager gave it

    @property
    def said(self) -> str:
        on = f" — recalled on {self.recalled_on.isoformat()}" if self.recalled_on else ""
        return f"lot {self.lot_number}{on}"

    @property
    def why(self) -> str:
        return f"{self.product}: {self.reason}" if self.reason else self.product

    def lines(self, width: int = LABEL_WIDTH) -> list[str]:
        """For the label: wrapped to the paper's 80 columns, nothing cut."""
        return [
            *textwrap.wrap(f"{RECALLED} {self.said}", width, subsequent_indent="  "),
            *textwrap.wrap(self.why, width, initial_indent="  ", subsequent_indent="    "),
        ]


def recalled_lots(
    session: Session, batch_ids: Sequence[int], zone: tzinfo
) -> dict[int, list[RecalledLot]]:
    """The lots drawn into these batches that are recalled now, with the day each recall was
    recorded (its latest `lot.recalled` row in the trail)."""
    found: dict[int, list[RecalledLot]] = {}
    if not batch_ids:
        return found
    rows = session.exec(
        select(
            MovementRow.batch_id,
            LotRow.id,
            LotRow.lot_number,
            LotRow.status_reason,
            ProductRow.name,
        )  # type: ignore[call-overload]  # sqlmodel's select() is typed for up to four columns
        .join(LotRow, col(LotRow.id) == MovementRow.lot_id)
        .join(ProductRow, col(ProductRow.code) == LotRow.product_code)
        .where(col(MovementRow.batch_id).in_(batch_ids), LotRow.status == "recalled")
        .distinct()
        .order_by(col(MovementRow.batch_id), col(LotRow.lot_number))
    ).all()
    if not rows:
        return found
    lot_ids = {row[1] for row in rows}
    when = dict(
        session.exec(
            select(AuditRow.lot_id, func.max(AuditRow.at))
            .where(AuditRow.action == "lot.recalled", col(AuditRow.lot_id).in_(lot_ids))
            .group_by(col(AuditRow.lot_id))
        ).all()
    )
    for batch_id, lot_id, number, reason, product in rows:
        at = when.get(lot_id)
        day = at.astimezone(zone).date() if at is not None else None
        found.setdefault(batch_id, []).append(RecalledLot(number, product, day, reason))
    return found


def with_recalls(text: str, recalled: Sequence[RecalledLot]) -> str:
    """A label printed again names, before anything else, each of its lots recalled since."""
    if not recalled:
        return text
    return "\n".join([*(line for lot in recalled for line in lot.lines()), text])


def acknowledged_lines(read: Iterable[Acknowledged]) -> list[str]:
    return [line for one in read for line in one.lines()]


def acknowledged(session: Session, batch_ids: Sequence[int]) -> dict[int, list[Acknowledged]]:
    """The warnings acknowledged for these batches, in the order they were shown."""
    found: dict[int, list[Acknowledged]] = {}
    if not batch_ids:
        return found
    rows = session.exec(
        select(AcknowledgementRow, UserRow.display_name)
        .join(UserRow, col(UserRow.id) == AcknowledgementRow.user_id)
        .where(col(AcknowledgementRow.batch_id).in_(batch_ids))
        .order_by(col(AcknowledgementRow.id))
    )
    for row, name in rows:
        found.setdefault(row.batch_id, []).append(Acknowledged(row.finding_message, name))
    return found


def overridden_lines(signed: Iterable[SignedOff]) -> list[str]:
    return [line for one in signed for line in one.lines()]


def with_overrides(text: str, signed: Sequence[SignedOff]) -> str:
    """A label kept from before labels named their overrides gets them, above its USE BY line;
    a label that names them is left as it was printed."""
    if not signed or any(line.startswith(OVERRIDDEN) for line in text.splitlines()):
        return text
    lines = text.splitlines()
    at = next((i for i, line in enumerate(lines) if line.startswith("USE BY")), len(lines))
    return "\n".join([*lines[:at], *overridden_lines(signed), *lines[at:]])


def signed_off(session: Session, batch_ids: Sequence[int]) -> dict[int, list[SignedOff]]:
    """The overrides signed for these batches, in the order they were signed."""
    found: dict[int, list[SignedOff]] = {}
    if not batch_ids:
        return found
    rows = session.exec(
        select(OverrideRow, UserRow.display_name)
        .join(UserRow, col(UserRow.id) == OverrideRow.practitioner_id)
        .where(col(OverrideRow.batch_id).in_(batch_ids))
        .order_by(col(OverrideRow.id))
    )
    for row, name in rows:
        found.setdefault(row.batch_id, []).append(
            SignedOff(row.finding_message, name, row.reason_code, row.reason_text)
        )
    return found


@dataclass(frozen=True)
class BatchLabel:
    batch_id: int
    text: str

    @property
    def file_name(self) -> str:
        return f"batch-{self.batch_id:06d}-label.txt"

    @property
    def printed(self) -> str:
        """What goes on paper: the batch number first, so the syringe leads back to its record."""
        return f"Batch {self.batch_id}\n{self.text}\n"


class LabelService(Service):
    def __init__(self, engine: sa.Engine, clock: Clock, folder: Path, printer: str = "") -> None:
        super().__init__(engine, clock)
        self.folder = folder  # where labels are saved unless another folder is named
        self.printer = printer  # "" sends to the default printer

    def label(self, user: str, batch_id: int) -> BatchLabel:
        """The label as it was printed when the batch was dispensed (with its overrides named,
        should it be older than labels that name them), headed by each of its lots recalled
        since."""
        with self.reading(user, Action.VIEW_PATIENTS) as (session, _):
            batch = session.get(BatchRow, batch_id) if 0 < batch_id < 2**63 else None
            if batch is None:
                raise NotFound(f"no batch {batch_id}")
            signed = signed_off(session, [batch_id]).get(batch_id, [])
            recalled = recalled_lots(session, [batch_id], self._clock.zone).get(batch_id, [])
            return BatchLabel(batch_id, with_recalls(with_overrides(batch.label, signed), recalled))

    def sheet(self, user: str, batch_id: int) -> LabelSheet:
        """The label as a printer prints it: the label, its storage, how its vials were
        checked at the bench, and the batch code its 2-D code holds."""
        label = self.label(user, batch_id)
        with self.reading(user, Action.VIEW_PATIENTS) as (session, _):
            batch = session.get(BatchRow, batch_id)
            checks = list(
                session.exec(select(BatchLineRow.verified).where(BatchLineRow.batch_id == batch_id))
            )
        storage = STORAGE_WORDS.get(batch.storage if batch else "", "")
        return LabelSheet(batch_id, tuple(label.text.splitlines()), storage, _checked(checks))

    def printable(self, user: str, batch_id: int, form: str, size: str) -> tuple[str, bytes]:
        """The label as a file of `form` (text, pdf, zpl) at `size`: its name and content."""
        if form not in FORMS:
            raise ServiceError(f"a label is printed as {', '.join(FORMS)}, not '{form}'")
        if size not in SIZES:
            raise ServiceError(f"label sizes are {', '.join(SIZES)}, not '{size}'")
        if form == "text":
            label = self.label(user, batch_id)
            return label.file_name, label.printed.encode("utf-8")
        sheet = self.sheet(user, batch_id)
        name = f"batch-{batch_id:06d}-label-{size}.{form}"
        if form == "pdf":
            # ReportLab only for a PDF: every command would otherwise start slower
            from mesomix.services.label_sheets import pdf

            return name, pdf(sheet, SIZES[size])
        return name, zpl(sheet, SIZES[size]).encode("utf-8")

    def save(
        self,
        user: str,
        batch_id: int,
        folder: Path | None = None,
        form: str = "text",
        size: str = "62mm",
    ) -> Path:
        """The label as a file (text, PDF or ZPL), written whole or not at all; its path."""
        name, content = self.printable(user, batch_id, form, size)
        folder = folder or self.folder
        path = folder / name
        partial = path.with_name(path.name + ".part")  # a full disk leaves no half label
        try:
            folder.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(content)
            partial.replace(path)
        except OSError as exc:
            with contextlib.suppress(OSError):  # the folder itself may be the problem
                partial.unlink(missing_ok=True)
            raise ServiceError(
                readable(f"the label could not be saved in {folder}: {exc.strerror or exc}")
            ) from None
        return path

    def send_to_printer(self, user: str, batch_id: int) -> str:
        """Print the label; what was done, in words. Refused with the reason when the terminal
        has no print command or the printer refuses."""
        label = self.label(user, batch_id)
        command = self._print_command(f"mesomix batch {batch_id}")
        try:
            done = subprocess.run(
                command,
                input=label.printed,
                capture_output=True,
                text=True,
                timeout=PRINT_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ServiceError(readable(f"the label could not be printed: {exc}")) from None
        if done.returncode != 0:
            said = [line.strip() for line in (done.stderr or done.stdout).splitlines()]
            why = (
                " / ".join(line for line in said if line)
                or f"{command[0]} exited {done.returncode}"
            )
            raise ServiceError(readable(f"the printer refused the label: {why}"))
        where = f"printer {self.printer}" if self.printer else "the default printer"
        return f"label of batch {batch_id} sent to {where}"

    def _print_command(self, title: str) -> list[str]:
        if shutil.which("lp"):
            return ["lp", "-t", title, *(["-d", self.printer] if self.printer else [])]
        if shutil.which("lpr"):
            return ["lpr", "-T", title, *(["-P", self.printer] if self.printer else [])]
        raise ServiceError(
            "this terminal has no print command (lp or lpr): save the label and print the file"
        )


FORMS = ("text", "pdf", "zpl")
STORAGE_WORDS = {
    "room": "Store at controlled room temperature, 20-25 °C",
    "refrigerated": "Store refrigerated, 2-8 °C; do not freeze",
}


def _checked(verified: Sequence[str]) -> str:
    """How the vials of a batch's draws were checked at the bench, in words."""
    if not verified or all(v == "" for v in verified):
        return "Vials checked: not recorded (made before scanning)"
    scanned = sum(1 for v in verified if v == BY_SCAN)
    return f"Vials checked: {scanned} of {len(verified)} draws verified by scan" + (
        "" if scanned == len(verified) else ", the rest by eye"
    )


def _ml(microlitres: int) -> str:
    return format_amount(Decimal(microlitres) / 1000, "volume")


def label_text(
    patient_name: str,
    patient_ref: str,
    maker: str,
    plan: Plan,
    drawn: list[DrawnLot],
    now: datetime,
    bud: BeyondUse,
    clock: Clock,
    overridden: Sequence[SignedOff] = (),
    acknowledged: Sequence[Acknowledged] = (),
    prescriber: str = "",
    session: str = "",
) -> str:
    """The label that goes on the syringe: patient, the course session it is for, contents
    (each amount with its concentration in the final mixture), lots, any block signed off (and by whom, why), any warning acknowledged, beyond-use date,
    who ordered it, who made it and when."""
    zone = clock.zone
    lines = [f"{patient_name} ({patient_ref})"]
    if session:
        lines.append(session)
    lines.append(f"Final volume {_ml(plan.final_volume_ul)}")
    for item in drawn:
        draw = item.draw
        lots = ", ".join(f"{p.lot_number} exp {p.expiry.isoformat()}" for p in item.picks)
        contents = ", ".join(
            f"{d.substance.short_name} {format_amount(d.value, d.dimension)}"
            + (f" ({d.concentration_text()})" if d.final_ul else "")
            for d in draw.delivered
        )
        head = contents or f"{draw.product.name} q.s."
        lines.append(f"  {head}: {_ml(draw.volume_ul)} of {draw.product.name} [lot {lots}]")
    lines.extend(overridden_lines(overridden))
    lines.extend(acknowledged_lines(acknowledged))
    lines.append(f"USE BY {bud.at.astimezone(zone):%Y-%m-%d %H:%M} ({bud.binding().reason})")
    if prescriber:
        lines.append(f"Ordered by {prescriber}")
    lines.append(f"Made by {maker} on {now.astimezone(zone):%Y-%m-%d %H:%M}")
    return "\n".join(lines)
