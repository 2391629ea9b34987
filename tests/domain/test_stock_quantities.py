"""Stock taken off or put on a lot as a person types it: a volume, or whole containers."""

from __future__ import annotations

import pytest

from mesomix.domain.inventory import StockChangeError, open_volume_ul, stock_volume_ul

AMPOULE = 2_000  # µL in one 2 mL ampoule


@pytest.mark.parametrize(
    ("typed", "ul"),
    [
        ("2 mL", 2_000),
        ("0.5 mL", 500),
        ("1 ampoule", 2_000),
        ("3 ampoules", 6_000),
        ("2 Vials", 4_000),
        ("1 container", 2_000),
        ("4 ampules", 8_000),
        ("1vial", 2_000),
    ],
)
def test_a_volume_or_whole_containers_is_read_in_microlitres(typed, ul):
    assert stock_volume_ul(typed, AMPOULE) == ul


@pytest.mark.parametrize(
    ("typed", "container", "says"),
    [
        ("1.5 vials", AMPOULE, "'1.5 vials' is not a whole number of containers"),
        ("0 vials", AMPOULE, "not a whole number of containers"),
        ("1,000 vials", AMPOULE, "not a whole number"),
        ("100001 vials", AMPOULE, "more than 100,000 containers"),
        ("1 vial", 0, "container size is not known"),
        ("1 amp", AMPOULE, "ampere"),
        ("2", AMPOULE, "volume"),
        ("2 mg", AMPOULE, "volume: "),
    ],
)
def test_what_is_not_a_volume_or_whole_containers_is_refused_in_words(typed, container, says):
    with pytest.raises(StockChangeError, match=says):
        stock_volume_ul(typed, container)


@pytest.mark.parametrize("typed", ["0", "0 mL", "0ml", " empty ", "EMPTY"])
def test_an_opened_container_may_be_counted_empty(typed):
    assert open_volume_ul(typed, 10_000) == 0


def test_an_opened_container_holds_no_more_than_a_full_one():
    assert open_volume_ul("7.5 mL", 10_000) == 7_500
    with pytest.raises(StockChangeError, match="holds at most 10 mL"):
        open_volume_ul("12 mL", 10_000)
    with pytest.raises(StockChangeError, match="'1 vial' counts containers: type what is left"):
        open_volume_ul("1 vial", 10_000)
