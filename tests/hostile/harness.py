"""Running the corpus through one entry point and judging every outcome.

An outcome passes when the input was either
- refused with one of the program's own errors (ServiceError and its kinds, QuantityError,
  ImportRefused; on the command line exit status 2 with a message), with a specific message and
  nothing written — or, for checks that answer with findings, a blocking finding saying why; or
- accepted, and what was stored reads back exactly as typed.
Anything else (another exception, a write on refusal, a vague or unsafe message, an accepted input
that reads back different, a hostile quantity accepted) is a failure, named with its input.

What was written is watched on every engine in the process (SQLAlchemy's cursor events, counted
only when the transaction commits), so a refusal that wrote a row is caught even if another part of
the batch wrote legitimately; each batch is also bracketed by full table snapshots.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import time
import traceback
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from mesomix.domain.imports import ImportRefused
from mesomix.domain.units import QuantityError
from mesomix.services.errors import PermissionDenied, ServiceError
from tests.hostile import Hostile, corpus

REFUSALS = (ServiceError, QuantityError, ImportRefused)
_WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)


# Not data a refusal could half-write: the search index kept as a cache (any search, even one
# for something refused, may keep it) and the catalogue's version (raised by trigger with every
# write to products, which are watched themselves).
CACHES = frozenset({"search_snapshot", "catalogue_version"})


class WriteWatch:
    """Tables written by committed transactions, on every engine of this process (but CACHES)."""

    def __init__(self) -> None:
        self._pending: dict[int, list[str]] = {}
        self.committed: list[str] = []

    def _execute(self, conn, _cursor, statement, parameters, _context, many) -> None:
        written = _WRITE.match(statement)
        if written and written.group(1).lower() not in CACHES:
            rows = len(parameters) if many else 1
            self._pending.setdefault(id(conn), []).extend([written.group(1).lower()] * rows)

    def _commit(self, conn) -> None:
        self.committed += self._pending.pop(id(conn), [])

    def _rollback(self, conn) -> None:
        self._pending.pop(id(conn), None)

    def take(self) -> list[str]:
        """The tables written since the last call, once per row written."""
        written, self.committed = self.committed, []
        return written

    @contextmanager
    def watching(self) -> Iterator[WriteWatch]:
        hooks = (
            ("before_cursor_execute", self._execute),
            ("commit", self._commit),
            ("rollback", self._rollback),
        )
        for name, hook in hooks:
            event.listen(sa.engine.Engine, name, hook)
        try:
            yield self
        finally:
            for name, hook in hooks:
                event.remove(sa.engine.Engine, name, hook)


@dataclass(frozen=True)
class Refused:
    """A refusal given as an answer rather than an exception: a plan's blocking findings, or the
    command line's exit status 2 with its message."""

    message: str
    codes: tuple[str, ...] = ()


class NotApplicable(Exception):
    """The input cannot reach this entry point at all (no command line can carry NUL)."""


@dataclass(frozen=True)
class Point:
    """One entry point that takes text, with the hostile text put in one of its places."""

    name: str
    call: Callable[[Hostile], Any]  # the entry point; returns a result, a Refused, or raises
    read_back: Callable[[Hostile, Any], str | None] | None = None  # accepted: what differs, or None
    mentions: tuple[str, ...] = ()  # a refusal names one of these, or quotes the value
    writes: frozenset[str] = frozenset()  # tables an accepted input may write (audit aside)
    refusal_writes: frozenset[str] = frozenset()  # what a refusal may write (sign-in failures)
    must_refuse: Callable[[Hostile], bool] = lambda entry: False  # e.g. hostile quantities
    longest_message: int = 1_000
    prepare: Callable[[Hostile], None] | None = None  # set-up that may write, before watching


@dataclass
class Tally:
    """The figures of one entry point (or of all of them)."""

    calls: int = 0
    refused: int = 0
    accepted: int = 0
    uncaught: int = 0
    wrote_on_refusal: int = 0
    vague_messages: int = 0
    wrong_read_back: int = 0
    hostile_accepted: int = 0
    not_applicable: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in (
            "calls", "refused", "accepted", "uncaught", "wrote_on_refusal", "vague_messages",
            "wrong_read_back", "hostile_accepted", "not_applicable", "seconds",
        ):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures += other.failures

    @property
    def problems(self) -> int:
        return (
            self.uncaught
            + self.wrote_on_refusal
            + self.vague_messages
            + self.wrong_read_back
            + self.hostile_accepted
        )


@contextmanager
def quick_passwords() -> Iterator[None]:
    """argon2id at its smallest cost while a corpus runs: the same library and code paths, without
    spending most of the run on hundreds of deliberately slow hashes."""
    from argon2 import PasswordHasher

    from mesomix.services import passwords

    shipped = passwords._HASHER
    passwords._HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    try:
        yield
    finally:
        passwords._HASHER = shipped


def message_problems(
    message: str, entry: Hostile, mentions: Iterable[str], longest: int
) -> list[str]:
    """What makes a refusal's message unfit for a person; empty when it is specific and safe."""
    problems = []
    text = message.strip()
    if not text:
        return ["an empty message"]
    if "Traceback (most recent call last)" in text:
        problems.append("a Python traceback in the message")
    if re.fullmatch(r"\w*(Error|Exception)\(.*\)", text, re.DOTALL) or (
        text.startswith("<") and text.endswith(">")
    ):
        problems.append(f"a bare repr: {text[:80]!r}")
    if entry.text.strip() and text in (entry.text.strip(), repr(entry.text)):
        problems.append("only the input, repeated")
    unsafe = sorted({f"U+{ord(c):04X}" for c in text if _unsafe(c)})
    if unsafe:
        problems.append(
            f"raw invisible or control characters {', '.join(unsafe)} in the message "
            "(a terminal would act on them)"
        )
    if len(text) > longest:
        problems.append(f"a message of {len(text):,} characters (at most {longest:,})")
    words = [w.lower() for w in mentions]
    typed = " ".join(entry.text.split())  # as a message quotes it: spaces of any kind as one
    quoted = typed.isprintable() and 0 < len(typed) <= 40 and typed in " ".join(text.split())
    if words and not quoted and not any(w in text.lower() for w in words):
        problems.append(f"names neither the field ({' / '.join(words)}) nor the value: {text!r}")
    return problems


def _unsafe(char: str) -> bool:
    """A character a terminal acts on or cannot print: controls (ESC, CR, BEL...), format
    characters (bidi overrides, zero-width, BOM), lone surrogates, line and paragraph separators."""
    if char == "\n":
        return False
    return unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp")


def last_audit_actions(engine: sa.Engine, rows: int) -> list[str]:
    """The actions of the newest audit rows."""
    with engine.connect() as connection:
        return list(
            connection.execute(
                sa.text("SELECT action FROM audit ORDER BY id DESC LIMIT :rows"), {"rows": rows}
            ).scalars()
        )


def watched_tables(engine: sa.Engine) -> list[str]:
    """Every table but the audit trail's (which refusals may write), Alembic's, and CACHES."""
    with engine.connect() as connection:
        names = sa.inspect(connection).get_table_names()
    unwatched = {"audit", "audit_head", "alembic_version", *CACHES}
    return [name for name in names if name not in unwatched]


def fingerprint(engine: sa.Engine, tables: Iterable[str]) -> dict[str, str]:
    """A digest of every row of each table, read raw through the driver's own cursor and
    pickled (not repr'd: a tenth of the time, on a database that grows with the corpus), to
    compare before and after a batch cheaply."""
    digests = {}
    with engine.connect() as connection:
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            for name in tables:
                cursor.execute(f'SELECT * FROM "{name}"')  # in rowid order
                rows = cursor.fetchall()
                digests[name] = hashlib.sha256(pickle.dumps(rows, protocol=5)).hexdigest()
        finally:
            cursor.close()
    return digests


def run_point(
    point: Point,
    watch: WriteWatch,
    engine: sa.Engine,
    entries: Iterable[Hostile] | None = None,
) -> Tally:
    """Every entry through one entry point; the tally and each failure, named."""
    tally = Tally()
    started = time.perf_counter()
    for entry in entries if entries is not None else corpus():
        if point.prepare is not None:
            point.prepare(entry)
        watch.take()
        failures: list[str] = []
        error: BaseException | None = None
        refusal: str | None = None
        try:
            result = point.call(entry)
        except NotApplicable:
            tally.not_applicable += 1
            continue
        except REFUSALS as exc:
            error, refusal = exc, str(exc)
        except Exception as exc:  # the very thing this corpus hunts: nothing else may escape
            tally.uncaught += 1
            where = traceback.extract_tb(exc.__traceback__)[-1]
            failures.append(
                f"uncaught {type(exc).__name__}: {str(exc)[:160]!r} "
                f"(at {where.filename.rsplit('/', 2)[-1]}:{where.lineno})"
            )
        else:
            if isinstance(result, Refused):
                refusal = result.message
        tally.calls += 1
        rows_written = watch.take()
        written = set(rows_written)
        if refusal is not None:
            tally.refused += 1
            allowed = set(point.refusal_writes)
            audited = rows_written.count("audit")
            added = last_audit_actions(engine, audited) if audited else []
            if isinstance(error, PermissionDenied):
                allowed |= {"audit", "audit_head"}
            elif added and set(added) <= {
                "sign_in",
                "sign_in.failed",
                "sign_in.refused",
                "signature",
                "signature.failed",
                "signature.refused",
                "account.locked",
            }:
                # signing in, and a signature, is audited, refused or not
                allowed |= {"audit", "audit_head"}
            wrong = written - allowed
            if wrong:
                tally.wrote_on_refusal += 1
                failures.append(f"refused but wrote {sorted(wrong)} (audit: {added})")
            vague = message_problems(refusal, entry, point.mentions, point.longest_message)
            if vague:
                tally.vague_messages += 1
                failures += vague
        elif error is None and not failures:
            tally.accepted += 1
            if point.must_refuse(entry):
                tally.hostile_accepted += 1
                failures.append(f"accepted, but this input must be refused (got {result!r:.80})")
            unexpected = written - point.writes - {"audit", "audit_head"}
            if unexpected:
                tally.wrote_on_refusal += 1
                failures.append(f"accepted, and wrote tables it has no business with: {unexpected}")
            if point.read_back is not None:
                try:
                    differs = point.read_back(entry, result)
                except Exception as exc:
                    differs = f"reading back raised {type(exc).__name__}: {str(exc)[:160]!r}"
                if differs:
                    tally.wrong_read_back += 1
                    failures.append(f"accepted, but reads back wrong: {differs}")
        tally.failures += [f"{point.name} ← {entry.label}: {f}" for f in failures]
    tally.seconds = time.perf_counter() - started
    return tally


def run_points(
    points: Iterable[Point], engine: sa.Engine, entries: Iterable[Hostile] | None = None
) -> dict[str, Tally]:
    """Every point over the corpus, each batch bracketed by table fingerprints: a batch may change
    only the tables its accepted inputs write (and the trail)."""
    watch = WriteWatch()
    tallies: dict[str, Tally] = {}
    tables = watched_tables(engine)
    with watch.watching():
        before = fingerprint(engine, tables)
        for point in points:
            tallies[point.name] = tally = run_point(point, watch, engine, entries)
            after = fingerprint(engine, tables)
            changed = {name for name, digest in after.items() if digest != before.get(name)}
            before = after
            stray = changed - point.writes - point.refusal_writes - {"audit", "audit_head"}
            if stray:
                tally.wrote_on_refusal += 1
                tally.failures.append(f"{point.name}: the batch changed tables {sorted(stray)}")
    return tallies


def dump_failures(failures: list[str]) -> None:
    """Every failure into the file MESOMIX_HOSTILE_FAILURES names, for a long list."""
    path = os.environ.get("MESOMIX_HOSTILE_FAILURES")
    if path and failures:
        Path(path).write_text("\n".join(failures), encoding="utf-8")


def report(tallies: dict[str, Tally], title: str) -> tuple[Tally, str]:
    """The summary table of a run: one line per entry point and the totals."""
    total = Tally()
    lines = [
        f"{title}: {max(t.calls + t.not_applicable for t in tallies.values())} hostile inputs "
        f"× {len(tallies)} entry points (the corpus: {len(corpus())} inputs of "
        f"{len({entry.kind for entry in corpus()})} kinds)",
        f"{'entry point':<36} {'calls':>6} {'refused':>8} {'accepted':>9} {'uncaught':>9} "
        f"{'wrote':>6} {'vague':>6} {'misread':>8} {'seconds':>8}",
    ]
    for name, tally in tallies.items():
        total.add(tally)
        lines.append(_row(name, tally))
    lines.append(_row("TOTAL", total))
    if total.not_applicable:
        lines.append(
            f"{total.not_applicable} inputs could not reach an entry point at all "
            "(NUL, or a lone high surrogate, in a command-line argument or variable)"
        )
    return total, "\n".join(lines)


def _row(name: str, t: Tally) -> str:
    return (
        f"{name:<36} {t.calls:>6} {t.refused:>8} {t.accepted:>9} {t.uncaught:>9} "
        f"{t.wrote_on_refusal:>6} {t.vague_messages:>6} {t.wrong_read_back + t.hostile_accepted:>8} "
        f"{t.seconds:>8.2f}"
    )
