"""`mesomix audit anchor` keeps the chain's head outside the database; `audit verify --anchor`
proves that nothing up to each anchored head was removed, rewound or rewritten — which the chain
alone cannot, once someone with the file has moved its recorded head back or hashed it anew.

The first journey runs as real processes; the attacks and the malformed files call the command
line's `main` in this process, each command answering with its exit status, stdout and stderr."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from mesomix.bootstrap import Settings, build
from mesomix.db.tables import AuditHeadRow, AuditRow
from mesomix.services.audit import row_hash
from tests.factories import PASSWORD, mixture, receive, seed_people
from tests.test_cli import in_process

ROOT = Path(__file__).resolve().parents[1]
B12 = "cyanocobalamin_1000mcg_1ml_vial"
AUDIT, HEAD = AuditRow.__table__, AuditHeadRow.__table__


@pytest.fixture(scope="module")
def clinic_template(tmp_path_factory) -> Path:
    """One clinic for the module (people, a receipt, a dispense); each test works on a copy."""
    path = tmp_path_factory.mktemp("clinic") / "clinic.sqlite"
    services = build(Settings(database_url=f"sqlite:///{path}"))
    seed_people(services)
    receive(services, B12, "B1", 10)
    services.mixtures.dispense(mixture(("cyanocobalamin", "1000 mcg")), "sam")
    services.close()
    return path


@pytest.fixture
def clinic_file(clinic_template, tmp_path) -> Path:
    path = tmp_path / "clinic.sqlite"
    path.write_bytes(clinic_template.read_bytes())
    return path


def mesomix(path: Path, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mesomix", "--db", str(path), *args],
        cwd=cwd, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "MESOMIX_PASSWORD": PASSWORD},
    )  # fmt: skip


def on_main(path: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The same command through `main` in this process (tests/test_cli.py's `in_process`)."""
    return in_process("--db", str(path), *args, password=PASSWORD, cwd=cwd)


def chain(path: Path) -> list[dict]:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        rows = [row._asdict() for row in connection.execute(sa.select(AUDIT).order_by(AUDIT.c.id))]
    engine.dispose()
    return rows


def anchored(
    path: Path, anchors: Path, run_as: Callable[..., subprocess.CompletedProcess[str]] = mesomix
) -> int:
    done = run_as(path, "audit", "anchor", "--user", "nadia", "--output", str(anchors))
    assert done.returncode == 0, done.stderr
    return int(anchors.read_text().splitlines()[-1].split()[0])


def test_the_head_is_printed_appended_verified_and_the_anchoring_audited(clinic_file, tmp_path):
    printed = mesomix(clinic_file, "audit", "anchor", "--user", "nadia")
    assert printed.returncode == 0, printed.stderr
    row_id, hash_, at = printed.stdout.split()
    head = chain(clinic_file)[-1]
    assert (int(row_id), hash_) == (head["id"], head["hash"]) and at.endswith("Z")
    assert head["action"] == "audit.anchor" and head["user_name"] == "nadia"

    anchors = tmp_path / "elsewhere" / "anchors.txt"
    anchors.parent.mkdir()
    anchors.write_text("# the clinic's anchors, kept on the office machine\n")
    first = anchored(clinic_file, anchors)
    second = anchored(clinic_file, anchors)
    lines = anchors.read_text().splitlines()
    assert len(lines) == 3 and second > first
    assert lines[1].split()[1] == chain(clinic_file)[first - 1]["hash"]

    verified = mesomix(clinic_file, "audit", "verify", "--user", "nadia", "--anchor", str(anchors))
    assert verified.returncode == 0, verified.stderr
    assert f"2 anchors hold (the latest: row {second} at " in verified.stdout

    refused = mesomix(clinic_file, "audit", "anchor", "--user", "sam")
    assert refused.returncode == 2 and "sam (staff) may not view the audit trail" in refused.stderr
    assert chain(clinic_file)[-1]["action"] == "denied"


def rewind(path: Path, to_row: int) -> None:
    """Cut the chain back to `to_row` and move its recorded head there, guard dropped."""
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER audit_no_delete")
        connection.execute(sa.delete(AUDIT).where(AUDIT.c.id > to_row))
        last = connection.execute(sa.select(AUDIT.c.hash).where(AUDIT.c.id == to_row)).scalar()
        connection.execute(sa.update(HEAD).values(last_id=to_row, count=to_row, last_hash=last))
    engine.dispose()


def rewrite(path: Path, from_row: int) -> None:
    """Change a row and hash the chain anew from there, head included, guard dropped."""
    rows = chain(path)
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER audit_no_update")
        previous = rows[from_row - 2]["hash"]
        for row in rows[from_row - 1 :]:
            if row["id"] == from_row:
                row["reason"] = "nothing to see"
            row["prev_hash"] = previous
            row["hash"] = previous = row_hash(row)
            connection.execute(
                sa.update(AUDIT)
                .where(AUDIT.c.id == row["id"])
                .values(reason=row["reason"], prev_hash=row["prev_hash"], hash=row["hash"])
            )
        connection.execute(sa.update(HEAD).values(last_hash=previous))
    engine.dispose()


@pytest.mark.parametrize(
    ("attack", "says"),
    [
        (rewind, ("is not the row anchored (its hash differs)", "the chain ends at row {end}, before the anchored row")),
        (lambda path, row: rewrite(path, row + 1), ("is not the row anchored (its hash differs)",) * 2),
    ],
    ids=["truncated-and-rewound", "rewritten"],
)  # fmt: skip
def test_a_chain_cut_back_or_rewritten_fails_its_anchors_and_names_them(
    clinic_file, tmp_path, attack, says
):
    """Three heads anchored; the chain is then cut back to the first (its head moved there), or
    hashed anew from the row after it. Each verify signs in, which appends a row: once cut back,
    the chain grows a new row where the second head was, and ends before the third."""
    anchors = tmp_path / "anchors.txt"
    first, second, third = (anchored(clinic_file, anchors, on_main) for _ in range(3))
    attack(clinic_file, first)
    plain = on_main(clinic_file, "audit", "verify", "--user", "nadia")
    assert plain.returncode == 0, plain.stderr  # the chain alone cannot tell

    verified = on_main(clinic_file, "audit", "verify", "--user", "nadia", "--anchor", str(anchors))
    assert verified.returncode == 1 and "Traceback" not in verified.stderr
    failing = verified.stderr.splitlines()
    assert [line.split(" (row ")[0] for line in failing] == [
        f"mesomix: {anchors}: anchor line 2",
        f"mesomix: {anchors}: anchor line 3",
    ], verified.stderr  # the first anchor still holds
    assert failing[0].startswith(f"mesomix: {anchors}: anchor line 2 (row {second} at ")
    assert f"anchor line 3 (row {third} at " in failing[1]
    assert says[0] in failing[0]
    assert says[1].format(end=first + 2) in failing[1]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "it holds no anchor"),
        ("12 abc 2026-12-01T10:00:00Z\n", "line 1: the hash is not 64 lowercase hexadecimal"),
        (f"# ours\n0 {'a' * 64} 2026-12-01T10:00:00Z\n", "line 2: '0' is not a row id"),
        (f"12 {'a' * 64} 2026-12-01 10:00\n", "line 1 is not ID HASH TIME"),
        (f"12 {'a' * 64} 2026-12-01T10:00:00+02:00\n", "line 1: '2026-12-01T10:00:00+02:00' is not a time in UTC"),
        (f"12 {'a' * 64} yesterday\n", "is not a time in UTC"),
    ],
    ids=["empty", "hash", "id", "fields", "zone", "time"],
)  # fmt: skip
def test_a_malformed_anchor_file_is_refused_with_words(clinic_file, tmp_path, text, says):
    anchors = tmp_path / "anchors.txt"
    anchors.write_text(text)
    rows = len(chain(clinic_file))
    for command in (["verify", "--anchor"], ["anchor", "--output"]):
        if command[0] == "anchor" and not text:
            continue  # an empty file is where anchors start
        done = on_main(
            clinic_file, "audit", *command, "anchors.txt", "--user", "nadia", cwd=tmp_path
        )
        assert done.returncode == 2, done.stdout
        assert done.stderr.startswith("mesomix: the anchor file anchors.txt is not one: ")
        assert (
            says in done.stderr and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        )
    assert len(chain(clinic_file)) == rows  # refused before anyone signed in
    assert anchors.read_text() == text
