"""Products read from CSV: each row checked into the record the shipped catalogue uses."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mesomix.domain.catalog import Catalog, ContainerKind, Substance
from mesomix.domain.imports.rows import CsvRows, ImportRefused, Progress, RowCheck, in_microlitres
from mesomix.domain.units import Field, QuantityError, parse_quantity

_CODE = re.compile(r"[a-z0-9][a-z0-9_]{1,59}")


PRODUCT_COLUMNS = {
    "code": True,
    "name": True,
    "container": True,
    "container_volume": True,
    "source": True,
    "strengths": False,
    "excipients": False,
    "form": False,
    "reconstitute_with": False,
    "pack_size": False,
    "latex_stopper": False,
    "diluent": False,
    "in_use_days": False,
    "reorder_level": False,
    "reorder_quantity": False,
}  # column -> required


@dataclass(frozen=True)
class ProductImport:
    """A product row as checked: the same record the shipped catalogue uses, ready to store."""

    row: int
    record: dict[str, Any]
    container_volume_ul: int
    reorder_level: int | None
    reorder_quantity: int | None


def check_products(
    rows: CsvRows,
    catalog: Catalog,
    codes_on_record: Mapping[str, dict[str, Any]],
    progress: Progress | None = None,
) -> tuple[list[ProductImport], int]:
    """The products to add (from `read_rows(text, PRODUCT_COLUMNS, "products")`), and how many
    rows repeat a product already on record unchanged."""
    problems, found, unchanged = rows.problems, [], 0
    seen: dict[str, int] = {}
    for done, (number, cells) in enumerate(rows.rows, start=1):
        check = RowCheck(number, cells, problems)
        checked = _product(check, catalog)
        if progress:
            progress(done, len(rows.rows))
        if checked is None:
            continue
        code = checked.record["code"]
        if code in seen:
            check.problem("code", f"'{code}' is also on row {seen[code]}")
            continue
        seen[code] = number
        if code in codes_on_record:
            if codes_on_record[code] == checked.record:
                unchanged += 1
            else:
                check.problem(
                    "code",
                    f"'{code}' is already in the catalogue with other details: give the new product its own code",
                )
            continue
        found.append(checked)
    if problems:
        raise ImportRefused(problems)
    return found, unchanged


def _product(check: RowCheck, catalog: Catalog) -> ProductImport | None:
    code = check.text("code", required=True, longest=60)
    if code and not _CODE.fullmatch(code):
        check.problem(
            "code", f"'{code}' is not a product code: 2 to 60 lower-case letters, digits or _"
        )
    name = check.text("name", required=True)
    container = check.text("container", required=True).lower().replace("-", "_").replace(" ", "_")
    if container and container not in {kind.value for kind in ContainerKind}:
        check.problem("container", f"'{container}' is not single_dose or multi_dose")
    volume = _volume(check, "container_volume")
    form = check.text("form").lower() or "solution"
    if form not in ("solution", "powder"):
        check.problem("form", f"'{form}' is not solution or powder")
    reconstitute_with = check.text("reconstitute_with")
    if form == "powder" and not reconstitute_with:
        check.problem(
            "reconstitute_with", "a powder needs the code of the diluent it is made up with"
        )
    elif reconstitute_with and reconstitute_with not in catalog.products:
        check.problem("reconstitute_with", f"no product with code '{reconstitute_with}'")
    strengths = _strengths(check, catalog)
    excipients = [
        _substance(check, "excipients", typed, catalog)
        for typed in _items(check.text("excipients", longest=1000))
    ]
    diluent = check.flag("diluent")
    if not strengths and not diluent:
        check.problem(
            "strengths",
            "a product that is not a diluent needs at least one strength, e.g. lidocaine_hcl 20 mg/mL",
        )
    pack_size = check.whole("pack_size", smallest=1, largest=10_000) or 1
    in_use_days = check.whole("in_use_days", smallest=1, largest=365)
    if in_use_days and container != "multi_dose":
        check.problem("in_use_days", "only a multi-dose container has an in-use period once opened")
    latex = check.flag("latex_stopper")
    reorder_level = check.whole("reorder_level", smallest=0, largest=100_000)
    reorder_quantity = check.whole("reorder_quantity", smallest=1, largest=100_000)
    source = check.text("source", required=True, longest=500)
    if check.failed or volume is None:
        return None
    record: dict[str, Any] = {
        "code": code,
        "name": name,
        "form": form,
        "container": container,
        "container_volume": volume[0],
        "pack_size": pack_size,
        "latex_stopper": latex,
        "source": source,
    }
    if strengths:
        record["strength"] = [{"substance": s, "per_ml": per_ml} for s, per_ml in strengths]
    if excipients:
        record["excipient"] = [{"substance": s.code} for s in excipients if s is not None]
    if diluent:
        record["diluent"] = True
    if reconstitute_with:
        record["reconstitute_with"] = reconstitute_with
    if in_use_days:
        record["in_use_days"] = in_use_days
    return ProductImport(check.number, record, volume[1], reorder_level, reorder_quantity)


def _items(text: str) -> Iterator[str]:
    return (item.strip() for item in text.split(";") if item.strip())


def _volume(check: RowCheck, column: str) -> tuple[str, int] | None:
    typed = check.text(column, required=True)
    if not typed:
        return None
    try:
        quantity = parse_quantity(typed, Field.VOLUME)
    except QuantityError as exc:
        check.problem(column, str(exc))
        return None
    microlitres = in_microlitres(quantity)
    if microlitres != int(microlitres) or not 1 <= microlitres <= 1_000_000_000:
        check.problem(column, f"{typed} is not a container volume mesomix can count in microlitres")
        return None
    return typed, int(microlitres)


def _substance(check: RowCheck, column: str, typed: str, catalog: Catalog) -> Substance | None:
    found = catalog.substances.get(typed) or catalog.resolve(typed)
    if isinstance(found, Substance):
        return found
    meanings = catalog.meanings(typed)
    if len(meanings) > 1:
        check.problem(
            column, f"'{typed}' could be {' or '.join(m.code for m in meanings)}: use the code"
        )
    else:
        check.problem(column, f"no substance '{typed}' in the catalogue")
    return None


def _strengths(check: RowCheck, catalog: Catalog) -> list[tuple[str, str]]:
    """`substance strength` pairs separated by ';', e.g. "lidocaine_hcl 20 mg/mL; adrenaline 1:100000".

    The strength is the first run of words, starting with a digit, that reads as one."""
    found = []
    for item in _items(check.text("strengths", longest=1000)):
        words = item.split()
        split = next(
            (
                n
                for n in range(1, len(words))
                if words[n][0].isdigit() and _reads_as_strength(" ".join(words[n:]))
            ),
            None,
        )
        if split is None:
            check.problem(
                "strengths",
                f"'{item}': write the substance then its strength, e.g. lidocaine_hcl 20 mg/mL",
            )
            continue
        substance = _substance(check, "strengths", " ".join(words[:split]), catalog)
        if substance is not None:
            found.append((substance.code, " ".join(words[split:])))
    return found


def _reads_as_strength(typed: str) -> bool:
    try:
        parse_quantity(typed, Field.STRENGTH)
    except QuantityError:
        return False
    return True
