"""Files named on the command line, read no further than a limit: a file larger than what it
claims to be is refused before it is parsed, saying its size and the limit."""

from __future__ import annotations

import os
from pathlib import Path

from mesomix.options import BadInput

MIXTURE_FILE_LIMIT = 64 * 1024  # a mixture of a dozen ingredients is under 1 KiB
FHIR_FILE_LIMIT = 16 * 1024 * 1024  # one patient's allergies, however many, with their reactions
ANCHOR_FILE_LIMIT = 16 * 1024 * 1024  # a line (about 110 bytes) a day for four centuries


def size_text(size: int) -> str:
    """A file size to the byte, with its order of size: 65,536 bytes (64 KiB)."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            return f"{size:,} bytes ({size / factor:.3g} {unit})"
    return f"{size:,} bytes"


def read_limited(path: Path, limit: int, what: str) -> bytes:
    """The bytes of a file, reading at most `limit` (a pipe or a device too): a larger file is
    refused with its size (or "more than") and the limit."""
    try:
        with path.open("rb") as file:
            data = file.read(limit + 1)
            size = os.fstat(file.fileno()).st_size
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadInput(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > limit:
        most = size_text(limit)
        said = (
            f"is {size_text(size)}: {what} may be at most {most}"
            if size > limit
            else f"goes on past {most}, the most {what} may be"
        )
        raise BadInput(f"{path} {said} — is it the right file? Nothing was done")
    return data


def read_text(path: Path, limit: int, what: str) -> str:
    """A file a person named, or a message saying why it cannot be read."""
    data = read_limited(path, limit, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(
            f"{path}: byte {exc.start} is not UTF-8 text: save the file as UTF-8 (CSV UTF-8)"
        ) from None


def append_line(path: Path, line: str) -> None:
    """A line added at the end of a file kept by hand, on a line of its own even when the file's
    last line has no newline, and on the disk before this returns; OSError if it cannot be."""
    with path.open("a+", encoding="utf-8") as file:
        file.seek(0, os.SEEK_END)
        if file.tell():
            file.seek(file.tell() - 1)
            ends_a_line = file.read(1) == "\n"
        else:
            ends_a_line = True
        file.write(("" if ends_a_line else "\n") + line + "\n")
        file.flush()
        os.fsync(file.fileno())


def write_new(path: Path, text: str) -> None:
    """A new file holding the text; refused when one is there already, so nothing is written
    over, and in words when the folder will not take it."""
    try:
        with path.open("x", encoding="utf-8") as file:
            file.write(text)
    except FileExistsError:
        raise BadInput(f"{path} is there already: name another file") from None
    except OSError as exc:
        raise BadInput(f"{path} cannot be written: {exc.strerror or exc}") from None
