"""Is this SQLite file fit to be used? Its header, its file system, its folder, its pages.

Each check is cheap enough for every start except `integrity`, which reads every page and backs
`mesomix check`; the start runs SQLite's `quick_check` instead (see bootstrap.build).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from mesomix.db.faults import DatabaseRefused, Fault

SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_SIZE = 100
MOUNTINFO = Path("/proc/self/mountinfo")

# File systems on which SQLite's WAL mode is unsafe: its shared-memory index (the -shm file)
# only works between processes of one machine, and these file systems' locks are not reliable.
NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs", "nfs4", "cifs", "smbfs", "smb3", "ncpfs", "afs", "9p", "ceph", "glusterfs",
        "lustre", "gpfs", "davfs", "fuse.sshfs", "fuse.glusterfs", "fuse.cephfs", "fuse.rclone",
        "fuse.s3fs",
    }
)  # fmt: skip # a list of names, several to a line, as it reads


# --- the file system -------------------------------------------------------------------------


@dataclass(frozen=True)
class Mount:
    point: str
    fstype: str


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash in paths as octal escapes (\\040)."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def parse_mountinfo(text: str) -> list[Mount]:
    """The mounts of a /proc/<pid>/mountinfo text, in its order (later mounts cover earlier ones).

    A line: `id parent major:minor root mount-point options [optional fields...] - fstype
    source super-options`; malformed lines are skipped."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if "-" not in fields:
            continue
        dash = fields.index("-")
        if dash < 5 or dash + 1 >= len(fields):
            continue
        mounts.append(Mount(_unescape(fields[4]), fields[dash + 1]))
    return mounts


def filesystem_type(path: Path | str, mountinfo: str) -> str | None:
    """The type of the file system holding `path` (absolute, symlinks resolved by the caller):
    that of the longest mount point containing it, the latest mount winning on a tie."""
    target = Path(path).parts
    best: Mount | None = None
    for mount in parse_mountinfo(mountinfo):
        point = Path(mount.point).parts
        if target[: len(point)] == point and (
            best is None or len(point) >= len(Path(best.point).parts)
        ):
            best = mount
    return best.fstype if best else None


def existing_folder(path: Path) -> Path:
    """The nearest folder of `path` that exists (the database's own folder may not, yet)."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder.resolve()


def refuse_network_filesystem(path: Path, mountinfo: str | None = None) -> None:
    """Refuse a database whose folder is on a network file system. `mountinfo` is the text of
    /proc/self/mountinfo (read when not given; on systems without it nothing is refused)."""
    if mountinfo is None:
        try:
            mountinfo = MOUNTINFO.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return
    folder = existing_folder(path)
    kind = filesystem_type(folder, mountinfo)
    if kind in NETWORK_FILESYSTEMS:
        raise DatabaseRefused(
            f"{folder} is on a network file system ({kind}): SQLite's WAL mode needs shared "
            "memory on one machine; use PostgreSQL for shared databases (MESOMIX_DATABASE_URL)",
            Fault.CANNOT_OPEN,
        )


# --- the file itself -------------------------------------------------------------------------


def header_problem(path: Path) -> str | None:
    """What is wrong with the first 100 bytes of an SQLite file, or None when they look sound
    (an empty or missing file is a new database, not a damaged one)."""
    try:
        with path.open("rb") as file:
            header = file.read(HEADER_SIZE)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"it cannot be read ({exc.strerror})"
    if not header:
        return None
    if len(header) < HEADER_SIZE:
        return f"it is {len(header)} bytes long: too short for an SQLite database"
    if header[:16] != SQLITE_MAGIC:
        return "its first bytes are not an SQLite header: it is not a database, or was overwritten"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return f"its header gives an impossible page size ({page_size}): the header is damaged"
    if header[18] not in (1, 2) or header[19] not in (1, 2) or header[21:24] != b"\x40\x20\x20":
        return "its header is damaged (file format bytes out of range)"
    return None


def refuse_damaged_header(path: Path) -> None:
    problem = header_problem(path)
    if problem:
        raise DatabaseRefused(damaged_message(path, problem), Fault.DAMAGED, problem)


def damaged_message(where: object, detail: str) -> str:
    """The one wording of a damaged database, wherever it is found."""
    db = f" --db {where}" if isinstance(where, Path) else ""
    return (
        f"the database {where} could not be used: it is damaged ({detail}). Stop using it and "
        f"restore it from a backup; `mesomix{db} check` lists what SQLite finds"
    )


def space_exhausted(path: Path) -> str:
    """Why writing beside `path` runs out of room, or "" when it need not. SQLite reports a write
    refused for size (EFBIG, a file-size limit) as a plain disk I/O error; this tells the two
    apart from a failing disk."""
    try:
        import resource

        limit, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    except (ImportError, OSError):  # not a Unix
        limit = -1
    if limit not in (-1, getattr(resource, "RLIM_INFINITY", -1)):
        sizes = [p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists()]
        if any(size + 65_536 >= limit for size in sizes):
            return f"this session's file-size limit (ulimit -f) of {limit:,} bytes is reached"
    try:
        disk = os.statvfs(existing_folder(path))
    except OSError:
        return ""
    if disk.f_bavail * disk.f_frsize < 1_048_576:
        return "less than 1 MB is free on its disk"
    return ""


def read_only_reason(path: Path, asked: bool) -> str:
    """Why a database file must be opened read-only, or "" when it may be written."""
    if asked:
        return "opened with --read-only"
    if path.exists() and not os.access(path, os.W_OK):
        return f"the file {path} is not writable"
    folder = path.parent
    beside = [Path(f"{path}-wal"), Path(f"{path}-shm")]
    if (
        path.exists()
        and not os.access(folder, os.W_OK)
        and not all(p.exists() and os.access(p, os.W_OK) for p in beside)
    ):
        return f"its folder {folder} is not writable, and WAL mode keeps two files beside it"
    return ""


# --- the pages -------------------------------------------------------------------------------


def page_problems(connection: sa.Connection, *, quick: bool = False) -> list[str]:
    """SQLite's own check of every page: `integrity_check` (structure and every index entry),
    or the faster `quick_check` (structure only). An empty list means sound."""
    pragma = "quick_check" if quick else "integrity_check"
    return [
        line
        for (text,) in connection.exec_driver_sql(f"PRAGMA {pragma}")
        for line in str(text).splitlines()
        if line not in ("ok", "*** in database main ***")
    ]


def foreign_key_problems(connection: sa.Connection) -> list[str]:
    """Rows that point to a row that is not there (SQLite's `foreign_key_check`)."""
    return [
        f"{table} row {rowid} points to a missing {parent} row"
        for table, rowid, parent, _ in connection.exec_driver_sql("PRAGMA foreign_key_check")
    ]
