"""A reaction read from what a practitioner typed, or refused naming every field that is wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mesomix.domain.reactions import (
    Outcome,
    ReactionError,
    ReactionKind,
    ReactionWords,
    Seriousness,
    Severity,
    read_reaction,
)

SESSION = datetime(2026, 11, 3, 10, 30, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 9, tzinfo=UTC)
ZONES = {"scalp", "face_lower", "submental"}


def words(**changed: str) -> ReactionWords:
    typed = {
        "kind": "nodule",
        "what": "tender red nodule, 5 mm",
        "onset": "2026-11-10 08:00",
        "zone": "scalp",
        "severity": "moderate",
        "serious": "",
        "treatment": "warm compresses",
        "outcome": "recovering",
    }
    return ReactionWords(**{**typed, **changed})


def test_a_reaction_is_read_from_its_words():
    reaction = read_reaction(words(), SESSION, NOW, ZONES)
    assert reaction.kind is ReactionKind.NODULE and reaction.severity is Severity.MODERATE
    assert reaction.onset == datetime(2026, 11, 10, 8, tzinfo=UTC)
    assert (reaction.zone, reaction.serious, reaction.outcome) == (
        "scalp",
        None,
        Outcome.RECOVERING,
    )
    assert reaction.said == "moderate nodule, recovering"


@pytest.mark.parametrize(
    ("onset", "expected"),
    [
        ("2 days after", SESSION + timedelta(days=2)),
        ("36 h", SESSION + timedelta(hours=36)),
        ("2026-11-03", SESSION),  # the session's own day counts from the session
        ("2026-11-05", datetime(2026, 11, 5, tzinfo=UTC)),
    ],
)
def test_the_onset_is_a_time_a_day_or_a_delay_after_the_session(onset, expected):
    assert read_reaction(words(onset=onset), SESSION, NOW, ZONES).onset == expected


def test_a_serious_reaction_says_why_and_its_words_are_its_own():
    reaction = read_reaction(
        words(kind="Infection", serious="hospitalisation", severity="SEVERE"), SESSION, NOW, ZONES
    )
    assert reaction.serious is Seriousness.HOSPITALISATION
    assert reaction.said == "severe infection, serious (hospitalisation), recovering"


@pytest.mark.parametrize(
    ("changed", "said"),
    [
        ({"onset": "2026-11-03 09:00"}, "onset 2026-11-03 09:00 is before the session"),
        ({"onset": "2026-11-02"}, "is before the session (2026-11-03 10:30)"),
        ({"onset": "2026-12-01 09:00"}, "onset 2026-12-01 09:00 is in the future"),
        ({"onset": "last week"}, "onset 'last week' is not a time"),
        ({"onset": "2026-13-01"}, "onset '2026-13-01' is not a time"),
        ({"severity": "bad"}, "the severity 'bad' is not one of: mild, moderate, severe"),
        ({"kind": "rash"}, "the kind 'rash' is not one of: infection,"),
        ({"outcome": "fine"}, "the outcome 'fine' is not one of: recovering, resolved,"),
        ({"serious": "yes"}, "serious because 'yes' is not one of: death,"),
        ({"zone": "elbow"}, "zone 'elbow' is not a zone (face_lower, scalp, submental)"),
        ({"kind": "other", "what": " "}, "what was seen is needed for a reaction of kind 'other'"),
        ({"treatment": "x" * 201}, "the treatment given is over 200 characters"),
        ({"what": "red\x1b[31m"}, "what was seen is over 200 characters or unprintable"),
    ],
)
def test_a_reaction_that_cannot_be_read_is_refused_with_words(changed, said):
    with pytest.raises(ReactionError, match=None) as refused:
        read_reaction(words(**changed), SESSION, NOW, ZONES)
    assert said in str(refused.value)


def test_every_wrong_field_is_said_at_once():
    with pytest.raises(ReactionError) as refused:
        read_reaction(words(kind="rash", severity="bad", onset="soon"), SESSION, NOW, ZONES)
    assert len(str(refused.value).splitlines()) == 3
