"""One kind of refusal: every exception mesomix defines is an errors.Refused, which the command
line words with its exit status and a screen's worker says in its own words; anything else is a
bug, said in one line with its traceback kept in the log once."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import mesomix
from mesomix.cli import exit_status, explain
from mesomix.domain.formulas import ScaleError
from mesomix.domain.units import QuantityError
from mesomix.errors import Refused
from mesomix.services.errors import DatabaseBusy, Refusals
from mesomix.tui.failures import reported


def test_every_exception_mesomix_defines_is_a_refusal():
    defined = {
        cls
        for info in pkgutil.walk_packages(mesomix.__path__, "mesomix.")
        for _, cls in inspect.getmembers(importlib.import_module(info.name), inspect.isclass)
        if cls.__module__ == info.name and issubclass(cls, BaseException)
    }
    assert len(defined) > 20
    assert sorted(c.__qualname__ for c in defined if not issubclass(c, Refused)) == []


@pytest.mark.parametrize(
    "refusal",
    [
        QuantityError("'5 units' is not a unit mesomix reads"),
        ScaleError("cannot be scaled to 0 mL"),  # a ValueError too, as code catches it so
        DatabaseBusy("the database is busy: try again"),
        Refusals(["first line", "second line"]),
    ],
)
def test_the_command_line_words_any_refusal_with_its_exit_status(refusal):
    assert explain(refusal) == str(refusal)
    assert exit_status(refusal) == refusal.exit_status == 2


def test_anything_else_is_a_bug_for_the_command_line():
    assert explain(KeyError("x")) is None


def _said(job, *args, **kwargs) -> list[str]:
    said: list[str] = []
    with reported(said.append, *args, **kwargs):
        job()
    return said


def _refuse() -> None:
    raise DatabaseBusy("the database is busy: try again")


def _bug() -> None:
    raise KeyError("lot")


def test_a_worker_says_a_refusal_in_its_own_words_after_what_it_was_doing(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert _said(_refuse) == ["the database is busy: try again"]
    assert _said(_refuse, bug="could not load the stock") == ["the database is busy: try again"]
    assert _said(_refuse, "could not load the patients") == [
        "could not load the patients: the database is busy: try again"
    ]
    assert _said(lambda: None, "could not load the patients") == []
    assert not (tmp_path / "mesomix").exists()  # a refusal is no bug: nothing is logged


def test_a_bug_in_a_worker_is_said_in_one_line_and_logged_once(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    for _ in range(3):  # a check run at every keystroke
        assert _said(_bug, bug="the report could not be made") == [
            "the report could not be made: 'lot'"
        ]
    kept = list((tmp_path / "mesomix" / "log").glob("error-*.txt"))
    assert len(kept) == 1
    assert "KeyError: 'lot'" in kept[0].read_text(encoding="utf-8")
