"""What Compose shows of a checked mixture, in words: the plan a draw a line, the findings most
severe first with what was signed off, the patient's line above the work, and the names offered
for an ingredient typed.

Pure: a plan, its findings and a patient in, text out. No Textual here (rich only draws a plan
line), so what the screen says is tested without an App (tests/tui/test_plan_view.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from mesomix.domain.allergy import Allergy
from mesomix.domain.catalog import Catalog
from mesomix.domain.findings import Finding, Severity
from mesomix.domain.mixture import Plan
from mesomix.domain.units import format_quantity

if TYPE_CHECKING:
    from mesomix.services.people import PatientSummary

DRAW_WIDTH = 7  # "12.5 mL": the rest of the plan's width is the product and what it delivers
PlanRow = tuple[str, str, str]  # (draw, product, what it delivers)
FindingLine = tuple[str, str]  # (words, severity value)
SEVERITIES = list(Severity)  # most severe first


def plan_rows(plan: Plan) -> list[PlanRow]:
    """A row a draw — its volume, the product's whole name (strength, size and preservative are
    at the end of a name), what it delivers (a B complex delivers five vitamins) — then the
    final volume; over the final volume asked, the total is the ingredients', said so."""
    rows = [
        (
            format_quantity(draw.volume),
            draw.product.name + (f" ×{draw.containers}" if draw.containers > 1 else ""),
            "→ "
            + (
                ", ".join(
                    f"{format_quantity(d.amount, 4)} {d.substance.short_name}"
                    for d in draw.delivered
                )
                or "q.s. (diluent)"
            ),
        )
        for draw in plan.draws
    ]
    if plan.draws:
        over = plan.asked_ul is not None and plan.ingredients_ul > plan.asked_ul
        asked = f"{(plan.asked_ul or 0) / 1000:g} mL"
        said = f"ingredients: over the {asked} asked" if over else "final volume"
        rows.append((format_quantity(plan.final_volume), said, ""))
    return rows


def finding_lines(findings: Iterable[Finding], signed: set[str]) -> list[FindingLine]:
    """Each finding marked by its word (never its colour alone), most severe first, with what a
    practitioner may do about it or has done."""
    return [
        (f"{f.severity.word}: {f.message}{sign_note(f, signed)}", f.severity.value)
        for f in sorted(findings, key=lambda f: SEVERITIES.index(f.severity))
    ]


def sign_note(finding: Finding, signed: set[str]) -> str:
    if finding.key in signed:
        return " — SIGNED OFF for this mixture"
    if finding.severity is Severity.BLOCK and finding.overridable:
        return " — a practitioner may override (F8)"
    return ""


def unsigned(plan: Plan, signed: set[str]) -> list[Finding]:
    """The blocks nobody has signed off: while there is one, the mixture is not dispensed."""
    return [f for f in plan.findings if f.severity is Severity.BLOCK and f.key not in signed]


def plan_line(row: PlanRow, bold: bool = False) -> Table:
    """A draw, then its product's whole name with what it delivers beneath, wrapped beside the
    draw."""
    draw, product, delivers = row
    source = Text(product)
    if delivers:
        source.append(f"\n{delivers}", style="dim")
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=DRAW_WIDTH, no_wrap=True)
    grid.add_column(ratio=1)
    grid.add_row(Text(draw, style="bold" if bold else ""), source)
    return grid


def pick_text(name: str, chosen: bool) -> Text:
    """A name offered for an ingredient; the one Ctrl+Space takes is marked ▶, not only lit."""
    return Text(f"{'▶' if chosen else ' '} {name}")


def patient_line(patient: PatientSummary, catalog: Catalog | None) -> str:
    """Short enough that six allergies fit the lines above the work; refuted ones are not a
    risk and are only counted (the Patients screen lists them)."""
    weight = (
        f"{patient.weight_kg.normalize():f} kg"
        if patient.weight_kg is not None
        else "weight not recorded"
    )
    alerting = [a for a in patient.allergies if a.verification != "refuted"]
    refuted = len(patient.allergies) - len(alerting)
    said = [text for text in (allergy_said(a, catalog) for a in alerting) if text]
    allergies = "; ".join(said) or ("none recorded" if not refuted else "none that alert")
    more = f"; {refuted} refuted" if refuted else ""
    return f"{patient.name} · {weight} · allergies: {allergies}{more}"


def allergy_said(allergy: Allergy, catalog: Catalog | None) -> str:
    """An allergy in the patient line; a "no known allergy" statement in words, and not at all
    once set aside."""
    label = allergy.label(catalog) if catalog else allergy.text or "?"
    if catalog and allergy.no_known(catalog) is not None:
        return label if allergy.clinical_status == "active" else ""
    coded = "" if allergy.coded else " [not coded]"
    return f"{label}{coded} ({allergy.verification}, {allergy.criticality})"
