"""The label of a dispensed mixture, again: shown, saved as a file, or sent to the printer.

The label text is written once, when the batch is dispensed, and kept with it; reprinting sends
exactly those words. Printing goes through the terminal's own print command (CUPS `lp`, or BSD
`lpr`), to MESOMIX_PRINTER when it is set, else to the default printer.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from mesomix.clock import Clock
from mesomix.db.tables import BatchRow
from mesomix.domain.permissions import Action
from mesomix.domain.text import readable
from mesomix.services.actors import require
from mesomix.services.audit import denials_recorded
from mesomix.services.errors import NotFound, ServiceError
from mesomix.services.uow import unit_of_work

PRINT_TIMEOUT_S = 15


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


class LabelService:
    def __init__(self, engine: sa.Engine, clock: Clock, folder: Path, printer: str = "") -> None:
        self._engine = engine
        self._clock = clock
        self.folder = folder  # where labels are saved unless another folder is named
        self.printer = printer  # "" sends to the default printer

    def label(self, user: str, batch_id: int) -> BatchLabel:
        """The label as it was printed when the batch was dispensed."""
        with (
            denials_recorded(self._engine, self._clock, user, Action.VIEW_PATIENTS.value),
            unit_of_work(self._engine) as session,
        ):
            require(session, user, Action.VIEW_PATIENTS)
            batch = session.get(BatchRow, batch_id) if 0 < batch_id < 2**63 else None
            if batch is None:
                raise NotFound(f"no batch {batch_id}")
            return BatchLabel(batch_id, batch.label)

    def save(self, user: str, batch_id: int, folder: Path | None = None) -> Path:
        """The label as a text file (written whole or not at all); its path."""
        label = self.label(user, batch_id)
        folder = folder or self.folder
        path = folder / label.file_name
        partial = path.with_name(path.name + ".part")  # a full disk leaves no half label
        try:
            folder.mkdir(parents=True, exist_ok=True)
            partial.write_text(label.printed, encoding="utf-8")
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
