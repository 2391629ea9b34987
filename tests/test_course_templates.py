"""The shipped course templates: every indication's course, zones and consent readable, and a
template no course could use refused with the place named."""

from __future__ import annotations

import shutil
from datetime import date
from itertools import pairwise
from pathlib import Path

import pytest

from mesomix.reference import ReferenceDataError, course_templates, data_dir

TEMPLATES = course_templates()
RISKS = ("infection", "bruising", "swelling", "redness", "allergic reaction", "pain")


def test_every_indication_the_clinic_treats_has_a_course_zones_and_a_sourced_template() -> None:
    treated = {"face", "hair", "cellulite", "localised_fat", "pain", "sports_injury"}
    assert set(TEMPLATES.indications) >= treated
    for indication in TEMPLATES.indications.values():
        assert indication.schedule.steps and indication.source.strip()
        assert all(zone in TEMPLATES.zones for zone in indication.zones)


def test_the_consent_names_the_risks_the_alternatives_and_the_sessions_in_plain_words() -> None:
    hair = TEMPLATES.indications["hair"]
    text = hair.consent_for("Ana Silva", len(hair.schedule.steps), ("scalp",))
    for risk in RISKS:
        assert risk in text
    assert "I, Ana Silva" in text and "11 sessions" in text and "minoxidil" in text
    assert "{" not in text  # every blank filled


def test_the_hair_course_is_weekly_then_spreads_out() -> None:
    due = TEMPLATES.indications["hair"].schedule.due(date(2026, 1, 5))
    assert [(b - a).days for a, b in pairwise(due)] == [7] * 7 + [14, 14, 28]


def test_the_localised_fat_course_keeps_the_deoxycholate_label_s_calendar_month() -> None:
    fat = TEMPLATES.indications["localised_fat"]
    assert fat.schedule.too_soon(2, date(2026, 1, 31), date(2026, 2, 27))
    assert fat.schedule.too_soon(2, date(2026, 1, 31), date(2026, 2, 28)) == ""


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ('zones = ["scalp"]', 'zones = ["scalpp"]', r"\[hair\]: unknown zone scalpp"),
        (
            '[[8, "1 week"',
            '[[8, "1 wek"',
            r"\[hair\]: interval '1 wek' is not a gap between sessions",
        ),
        ('[[8, "1 week"', '[[0, "1 week"', r"\[hair\]: a block of a schedule"),
        ("I, {patient}", "I, {name}", r"the consent names name"),
        ('schedule_said = "weekly for 8', 'said = "weekly for 8', r"\[hair\]: missing"),
    ],
)
def test_a_template_no_course_could_use_is_refused_naming_where(
    tmp_path: Path, old: str, new: str, words: str
) -> None:
    shutil.copytree(data_dir(), tmp_path, dirs_exist_ok=True)
    courses = tmp_path / "courses.toml"
    text = courses.read_text(encoding="utf-8")
    assert old in text
    courses.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=words):
        course_templates(tmp_path)
