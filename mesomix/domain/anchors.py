"""Anchors: the audit chain's head written down outside the database, one line a head.

The chain proves that no row was edited, removed or reordered between its rows; someone with the
database file can still cut rows from its end and move its recorded head back, or write the whole
chain again. A head kept elsewhere (a file on another machine, a printout) pins what the chain
was: that row must still be there, with the same hash and time, and the chain no shorter.

A line is `ID HASH TIME`: the row's place in the first site's chain (for rows written before
there were sites, also its id), its SHA-256 in hex, its time in UTC (ISO 8601, `Z`). The row
anchored records the other sites' chains' heads, so one line pins every chain.
Blank lines and lines starting with `#` are the clinic's own notes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from mesomix.errors import Refused

_HASH = re.compile(r"^[0-9a-f]{64}$")
_ID = re.compile(r"^[1-9][0-9]{0,18}$")
SHAPE = "ID HASH TIME, as `mesomix audit anchor` writes it"


class AnchorError(Refused, ValueError):
    """An anchor file that cannot be read as anchors; the message names the line."""


@dataclass(frozen=True)
class Anchor:
    row_id: int
    hash: str
    at: datetime  # UTC
    line: int = 0  # its line in the file it was read from

    def text(self) -> str:
        """The line that keeps it."""
        return f"{self.row_id} {self.hash} {utc_text(self.at)}"

    def named(self) -> str:
        return f"anchor line {self.line} (row {self.row_id} at {utc_text(self.at)})"


def utc_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_anchors(text: str, *, empty_ok: bool = False) -> list[Anchor]:
    """Every anchor of a file, in its order; AnchorError naming the first line that is not one."""
    anchors = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        anchors.append(_anchor(line, number))
    if not anchors and not empty_ok:
        raise AnchorError(f"it holds no anchor (a line is {SHAPE})")
    return anchors


def _anchor(line: str, number: int) -> Anchor:
    fields = line.split()
    shown = line if len(line) <= 120 else line[:117] + "..."
    if len(fields) != 3:
        raise AnchorError(f"line {number} is not {SHAPE}: {shown!r}")
    row_id, hash_, when = fields
    if not _ID.match(row_id):
        raise AnchorError(f"line {number}: '{row_id[:40]}' is not a row id (a whole number from 1)")
    if not _HASH.match(hash_):
        raise AnchorError(f"line {number}: the hash is not 64 lowercase hexadecimal digits")
    try:
        at = datetime.fromisoformat(when)
    except ValueError:
        at = None
    offset = at.utcoffset() if at is not None else None
    if at is None or offset is None or offset.total_seconds() != 0:
        raise AnchorError(
            f"line {number}: '{when[:40]}' is not a time in UTC (like 2026-12-04T16:56:57.000000Z)"
        )
    return Anchor(int(row_id), hash_, at.astimezone(UTC), number)
