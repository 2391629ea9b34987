"""The mixture file format, read from text alone: what `mix check` and `mix dispense` are given."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mesomix.domain.mixture import DraftIngredient, DraftMixture
from mesomix.domain.mixture_file import MixtureFileError, read_mixture, write_mixture

WHOLE = """
patient = "P-0001"
final_volume = "5 mL"
diluent = "saline_0_9_10ml"
storage = "fridge"
purpose = "hair"

[[ingredient]]
what = "biotin"
amount = "10 mg"

[[ingredient]]
what = "lidocaine"
amount = "40 mg"
product = "lidocaine_hcl_2pct_5ml"
"""


def test_a_whole_file_is_the_draft_it_describes():
    assert read_mixture(WHOLE) == DraftMixture(
        ingredients=(
            DraftIngredient("biotin", "10 mg", None),
            DraftIngredient("lidocaine", "40 mg", "lidocaine_hcl_2pct_5ml"),
        ),
        final_volume="5 mL",
        diluent="saline_0_9_10ml",
        patient="P-0001",
        storage="fridge",
        category="category_1",
        purpose="hair",
        prescriber=None,
    )


def test_what_is_left_out_takes_the_defaults_of_a_draft():
    draft = read_mixture('[[ingredient]]\nwhat = "biotin"\namount = "10 mg"\n')
    assert (draft.final_volume, draft.storage, draft.category, draft.patient) == (
        "",
        "room",
        "category_1",
        None,
    )


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("what = ", "not valid TOML: "),
        ('volume = "5 mL"\n[[ingredient]]\nwhat = "a"\namount = "1 mg"', "unknown key(s) volume"),
        ('final_volume = "5 mL"', "no [[ingredient]] entries"),
        ("ingredient = [1]", "ingredient 1 is not a table"),
        (
            '[[ingredient]]\nwhat = "a"\namount = "1 mg"\ndose = "x"\nunit = "y"',
            "ingredient 1: unknown key(s) dose, unit",
        ),
        (
            '[[ingredient]]\nwhat = "a"\namount = "1 mg"\n[[ingredient]]\nwhat = "b"\namount = 40',
            'ingredient 2: amount must be text, e.g. amount = "40 mg"',
        ),
        (
            '[[ingredient]]\nwhat = "a"\namount = "1 mg"\nproduct = 7',
            "ingredient 1: product must be a product code as text",
        ),
        (
            'final_volume = 5\n[[ingredient]]\nwhat = "a"\namount = "1 mg"',
            'final_volume must be text, e.g. final_volume = "5 mL"',
        ),
    ],
)
def test_a_file_that_is_not_a_mixture_says_where(text, said):
    with pytest.raises(MixtureFileError) as refused:
        read_mixture(text)
    assert str(refused.value).startswith(said)


texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
numbers = st.none() | st.integers(min_value=1, max_value=2**62)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.builds(DraftIngredient, texts, texts, st.none() | texts), min_size=1, max_size=4),
    texts,
    st.none() | texts,
    numbers,
    numbers,
    numbers,
)
def test_a_mixture_written_reads_back_the_same(
    ingredients, final_volume, patient, formula_version, course, session
) -> None:
    draft = DraftMixture(
        ingredients=tuple(ingredients),
        final_volume=final_volume,
        patient=patient,
        formula_version=formula_version,
        course=course,
        session=session,
    )
    assert read_mixture(write_mixture(draft)) == draft


@pytest.mark.parametrize("value", ["0", "-1", '"1"', "true", "1.5"])
def test_a_course_that_is_not_a_whole_number_is_refused(value) -> None:
    text = f'course = {value}\n[[ingredient]]\nwhat = "biotin"\namount = "5 mg"\n'
    with pytest.raises(MixtureFileError, match="course must be a whole number above zero"):
        read_mixture(text)
