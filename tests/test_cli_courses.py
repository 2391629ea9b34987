"""The course commands on the demo database, as a practitioner, staff and a manager type them:
a course planned, its consent shown and signed, session 1 booked, drafted to a file and
dispensed with `mix dispense`, its injection recorded; a session booked too soon, and other
bad input, refused on stderr with status 2 and nothing written; the forecast as a report."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.factories import copy_of
from tests.test_cli import in_process, run

PLAN = (
    "course",
    "plan",
    "P-0010",
    "--indication",
    "hair",
    "--formula",
    "hair_restoration",
    "--zones",
    "scalp 4 mL",
    "--user",
    "drchen",
)


@pytest.fixture
def demo_db(cli_demo, tmp_path) -> str:
    """A copy of the demo database made once for the test process."""
    return copy_of(cli_demo, tmp_path / "cli.sqlite")


def _plan(db: str, start: date) -> int:
    status, printed = run("--db", db, *PLAN, "--start", f"{start}")
    assert status == 0, printed
    first = printed.splitlines()[0]
    assert first.startswith("course ") and "hair loss, active, version 1" in first
    return int(first.split()[1].rstrip(":"))


def test_a_course_from_plan_to_injection_on_the_command_line(demo_db, tmp_path, capsys):
    today = date.today()
    course = _plan(demo_db, today)
    status, text = run("--db", demo_db, "consent", "show", str(course), "--user", "drchen")
    assert status == 0 and "11 sessions" in text
    shown = tmp_path / "consent.txt"
    shown.write_text(text, encoding="utf-8")
    status, printed = run(
        "--db", demo_db, "consent", "sign", str(course), "--shown", str(shown),
        "--statement", "explained in person; the patient read it and agreed", "--user", "drchen",
    )  # fmt: skip
    assert status == 0 and "consent: signed" in printed
    when = f"{today + timedelta(days=1)} 10:30"
    status, printed = run(
        "--db", demo_db, "session", "book", str(course), "1", when, "--user", "sam"
    )
    assert status == 0 and "session 1 of 11: booked" in printed
    status, printed = run("--db", demo_db, "session", "list", "--days", "2", "--user", "sam")
    assert status == 0 and f"course {course} session 1 of 11" in printed
    mixture = tmp_path / "session1.toml"
    status, printed = run(
        "--db", demo_db, "session", "draft", str(course), "--output", str(mixture), "--user", "sam"
    )
    assert status == 0 and f"course = {course}" in mixture.read_text(encoding="utf-8")
    status, printed = run(
        "--db", demo_db, "mix", "dispense", str(mixture), "--acknowledge-all", "--user", "sam"
    )
    assert status == 0 and printed.startswith("dispensed batch"), capsys.readouterr().err
    status, printed = run(
        "--db", demo_db, "session", "inject", str(course), "1", "--zones", "scalp 4 mL",
        "--technique", "nappage", "--depth", "2 mm", "--needle", "30G 4 mm", "--user", "drchen",
    )  # fmt: skip
    assert status == 0 and "injected at session 1: scalp 4 mL, nappage" in printed
    status, printed = run("--db", demo_db, "course", "list", "P-0010", "--user", "sam")
    assert f"course {course}: hair loss, active, 1 of 11 sessions held" in printed


def test_a_session_booked_too_soon_is_refused_with_the_earliest_day(demo_db, capsys):
    today = date.today()
    course = _plan(demo_db, today + timedelta(days=1))
    status, _ = run(
        "--db", demo_db, "session", "book", str(course), "1", f"{today + timedelta(days=1)} 09:00",
        "--user", "sam",
    )  # fmt: skip
    assert status == 0
    capsys.readouterr()
    status, printed = run(
        "--db", demo_db, "session", "book", str(course), "2", f"{today + timedelta(days=3)} 09:00",
        "--user", "sam",
    )  # fmt: skip
    assert (status, printed) == (2, "")
    said = capsys.readouterr().err
    assert f"not before {today + timedelta(days=6)}" in said and "may override" in said


def test_bad_course_input_is_refused_in_words_and_writes_nothing(demo_db, capsys):
    cases = [
        (("--start", f"{date.today() - timedelta(days=1)}"), "is past"),
        (("--start", f"{date.today()}", "--schedule", "8 weekly"), "not a block of sessions"),
    ]
    for extra, words in cases:
        status, printed = run("--db", demo_db, *PLAN, *extra)
        assert (status, printed) == (2, ""), extra
        assert words in capsys.readouterr().err
    done = in_process("--db", demo_db, *PLAN, "--start", "2026-13-01", password="x")
    assert done.returncode == 2 and "'2026-13-01' is not a date" in done.stderr
    bad_zone = [*PLAN]
    bad_zone[bad_zone.index("scalp 4 mL")] = "scalp 40 mL"
    status, _ = run("--db", demo_db, *bad_zone, "--start", f"{date.today()}")
    assert status == 2 and "check the decimal point" in capsys.readouterr().err
    status, printed = run("--db", demo_db, "course", "list", "P-0010", "--user", "sam")
    assert "0 course(s) for P-0010" in printed
    status, _ = run(
        "--db", demo_db, "session", "book", "999", "1", "2030-01-01 10:00", "--user", "sam"
    )
    assert status == 2 and "no course 999" in capsys.readouterr().err


def test_the_manager_reads_the_forecast(demo_db, capsys):
    course = _plan(demo_db, date.today())
    run(
        "--db", demo_db, "session", "book", str(course), "1",
        f"{date.today() + timedelta(days=2)} 10:00", "--user", "sam",
    )  # fmt: skip
    status, printed = run("--db", demo_db, "report", "forecast", "--days", "7", "--user", "nadia")
    assert status == 0 and "need mL" in printed
    status, _ = run("--db", demo_db, "report", "forecast", "--user", "sam")
    assert status == 2 and "may not" in capsys.readouterr().err
