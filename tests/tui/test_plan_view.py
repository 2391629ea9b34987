"""What Compose says about a checked mixture, read from plan_view alone: real plans checked on
the demo database, no Textual App (the screen only draws these lines)."""

from __future__ import annotations

import pytest
from rich.console import Console

from mesomix.domain.mixture import DraftIngredient, DraftMixture, Plan
from mesomix.tui.screens.compose.plan_view import (
    finding_lines,
    patient_line,
    plan_line,
    plan_rows,
    unsigned,
)

LIDOCAINE_1 = "Lidocaine Hydrochloride Injection 1% 2 mL ampoule (preservative-free)"


def check(services, *ingredients: tuple[str, str], final: str = "", patient=None) -> Plan:  # type: ignore[no-untyped-def]
    draft = DraftMixture(
        ingredients=tuple(DraftIngredient(what, amount) for what, amount in ingredients),
        final_volume=final,
        patient=patient,
    )
    return services.mixtures.check(draft, "sam")


def test_a_draw_a_row_what_it_delivers_then_the_q_s_and_the_final_volume(demo):
    plan = check(demo, ("lidocaine", "20 mg"), ("cyanocobalamin", "500 mcg"), final="12 mL", patient="P-0003")  # fmt: skip
    rows = plan_rows(plan)
    assert rows[0] == ("2 mL", LIDOCAINE_1, "→ 20 mg Lidocaine hydrochloride")
    assert rows[1][0] == "0.5 mL" and rows[1][2] == "→ 0.5 mg Cyanocobalamin"
    draw, diluent, delivers = rows[2]  # what is left to 12 mL, from the default diluent
    assert (draw, delivers) == ("9.5 mL", "→ 85.5 mg Sodium chloride")
    assert diluent.startswith("Sodium Chloride Injection USP 0.9%")
    assert rows[-1] == ("12 mL", "final volume", "")


def test_no_final_volume_the_mixture_is_what_is_drawn_and_said_so(demo):
    plan = check(demo, ("lidocaine", "20 mg"), patient="P-0003")
    assert plan_rows(plan) == [
        ("2 mL", LIDOCAINE_1, "→ 20 mg Lidocaine hydrochloride"),
        ("2 mL", "final volume", ""),
    ]
    words = [text for text, _ in finding_lines(plan.findings, set())]
    assert "NOTE: no final volume given: the mixture is what is drawn, 2 mL" in words


def test_over_the_final_volume_asked_the_total_is_the_ingredients_and_blocks_come_first(demo):
    plan = check(demo, ("lidocaine", "20 mg"), ("ascorbic acid", "150 mg"), final="1 mL")
    assert plan_rows(plan)[-1] == ("3 mL", "ingredients: over the 1 mL asked", "")
    lines = finding_lines(plan.findings, set())
    assert [severity for _, severity in lines] == ["block", "block", "info"]
    assert lines[0][0] == (
        "BLOCK: choose the patient: allergies and dose limits are checked against them"
    )
    assert lines[1][0].startswith("BLOCK: the ingredients add up to 3 mL, more than the final")
    assert lines[2][0].startswith("NOTE: beyond-use date: use by 2026-11-24 21:00")
    # neither block may be overridden: no "F8" offered, and both stop the dispense
    assert not any("F8" in text for text, _ in lines)
    assert len(unsigned(plan, set())) == 2


def test_a_dose_block_offers_the_override_and_once_signed_says_so_and_no_longer_stops(demo):
    plan = check(demo, ("lidocaine", "250 mg"), patient="P-0003")
    (block,) = [f for f in plan.findings if f.overridable]
    first, *_ = finding_lines(plan.findings, set())
    assert first[1] == "block"
    assert first[0].startswith("BLOCK: Lidocaine hydrochloride 250 mg > 200 mg maximum")
    assert first[0].endswith(" — a practitioner may override (F8)")
    assert unsigned(plan, set()) == [block]

    signed, *_ = finding_lines(plan.findings, {block.key})
    assert signed[0].endswith(" — SIGNED OFF for this mixture")
    assert unsigned(plan, {block.key}) == []


@pytest.mark.parametrize(
    ("ref", "said"),
    [
        ("P-0003", "Jean-Luc Moreau · 84 kg · allergies: none recorded"),
        ("P-0008", "Björn Lindqvist · weight not recorded · allergies: none recorded"),
        ("P-0010", "Marco Rossi · 91.2 kg · allergies: none that alert; 1 refuted"),
        (
            "P-0020",
            "Hamid Rahimi · 95.5 kg · allergies: Benzyl alcohol (confirmed, low); "
            "'nickel' [not coded] (confirmed, low)",
        ),
    ],
)
def test_the_patient_line_names_each_allergy_that_alerts_and_counts_the_refuted(demo, ref, said):
    (patient,) = [p for p in demo.people.patients("sam") if p.ref == ref]
    assert patient_line(patient, demo.catalog.catalog()) == said


def test_a_plan_line_keeps_the_draw_beside_the_whole_name_and_what_it_delivers(demo):
    row = plan_rows(check(demo, ("lidocaine", "20 mg"), patient="P-0003"))[0]
    console = Console(width=40, record=True)
    console.print(plan_line(row))
    lines = [line.rstrip() for line in console.export_text().splitlines()]
    assert lines[0].startswith("2 mL    Lidocaine Hydrochloride")
    assert all(line.startswith(" " * 8) for line in lines[1:])  # wrapped beside the draw
    words = " ".join(line.strip() for line in lines)
    assert "(preservative-free)" in words and "→ 20 mg Lidocaine hydrochloride" in words
