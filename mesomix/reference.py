"""Read the shipped reference data (data/*.toml) into domain objects, refusing anything inconsistent."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from mesomix.domain.beyond_use import Category
from mesomix.domain.catalog import (
    AllergenGroup,
    Catalog,
    Coding,
    ContainerKind,
    DoseLimit,
    Elemental,
    IUDefinition,
    Measure,
    NoKnownAllergy,
    Product,
    Strength,
    Substance,
    UnrelatedAllergen,
)
from mesomix.domain.course import CourseError, CourseLimit, Gap, Indication, Schedule, Zone
from mesomix.domain.reactions import ReactionKind
from mesomix.domain.units import Field, QuantityError, canonical, parse_quantity, parse_reference
from mesomix.domain.vigilance import CountRule, RateRule
from mesomix.errors import Refused

UNIT_DEFINITIONS = "units.txt"  # pint definitions: IU, mEq and the like, each with its source


class ReferenceDataError(Refused, ValueError):
    """The shipped data contradicts itself; names the file and the entry."""


def data_dir() -> Path:
    """The shipped reference data: `data/` beside the package, or inside an installed wheel."""
    package = Path(__file__).resolve().parent
    for candidate in (package.parent / "data", package / "_data"):
        if (candidate / UNIT_DEFINITIONS).is_file():
            return candidate
    raise FileNotFoundError(
        f"mesomix reference data ({UNIT_DEFINITIONS}) is missing from the install"
    )


def unit_definitions() -> str:
    """The text of the unit definitions the domain's one registry is built from (mesomix/__init__.py
    names this reader; the domain reads no files)."""
    return (data_dir() / UNIT_DEFINITIONS).read_text(encoding="utf-8")


def _load(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ReferenceDataError(f"{path.name}: {exc}") from exc


def _quantity(text: str, where: str) -> Any:
    try:
        return parse_reference(text)
    except QuantityError as exc:
        raise ReferenceDataError(f"{where}: {exc}") from None


def substance_from_record(raw: dict[str, Any]) -> Substance:
    where = f"substances.toml [{raw.get('code', '?')}]"
    iu = raw.get("iu")
    elemental = raw.get("elemental")
    limits = []
    for limit in raw.get("dose_limit", []):
        if not limit.get("source"):
            raise ReferenceDataError(f"{where}: a dose limit has no source")
        limits.append(
            DoseLimit(
                max=_quantity(limit["max"], where) if "max" in limit else None,
                per_kg=_quantity(limit["per_kg"], where) if "per_kg" in limit else None,
                condition=limit.get("condition"),
                per=limit.get("per", "session"),
                source=limit["source"],
                note=limit.get("note", ""),
            )
        )
    if iu and not iu.get("source"):
        raise ReferenceDataError(f"{where}: the IU factor has no source")
    return Substance(
        code=raw["code"],
        name=raw["name"],
        synonyms=tuple(raw.get("synonyms", ())),
        role=raw.get("role", "active"),
        category=raw.get("category", ""),
        measure=Measure(raw.get("measure", "mass")),
        molar_mass=_quantity(raw["molar_mass"], where) if "molar_mass" in raw else None,
        valence=raw.get("valence"),
        iu=IUDefinition(_quantity(iu["mass"], where), iu["source"]) if iu else None,
        elemental=(
            Elemental(
                elemental["substance"], int(elemental.get("atoms", 1)), elemental.get("source", "")
            )
            if elemental
            else None
        ),
        allergen_groups=tuple(raw.get("allergen_groups", ())),
        dose_limits=tuple(limits),
        course_limits=tuple(
            _course_limit(raw, limit, where) for limit in raw.get("course_limit", ())
        ),
        codes=_codes(raw, where),
    )


_CANONICAL_UNIT = {"mass": "mg", "IU": "IU", "mEq": "mEq", "mmol": "mmol"}


def _gap(text: str, where: str) -> Gap:
    """ "1 month", "2 weeks", "10 days": a label's interval, months kept as calendar months."""
    try:
        return Gap.parse(text)
    except CourseError as exc:
        raise ReferenceDataError(f"{where}: interval {exc}") from None


def _course_limit(substance: dict[str, Any], raw: dict[str, Any], where: str) -> CourseLimit:
    """A limit across sessions; an amount in the substance's canonical unit (mg, IU...)."""
    amount, unit = None, "mg"
    if "max_amount" in raw:
        try:
            amount, dimension = canonical(_quantity(raw["max_amount"], where))
        except QuantityError as exc:
            raise ReferenceDataError(f"{where}: course limit: {exc}") from None
        if dimension not in _CANONICAL_UNIT:
            raise ReferenceDataError(
                f"{where}: course limit '{raw['max_amount']}' is not an amount"
            )
        unit = _CANONICAL_UNIT[dimension]
    window = raw.get("window")
    try:
        return CourseLimit(
            substance=substance["code"],
            name=substance["name"].split(" (", 1)[0],
            unit=unit,
            source=raw.get("source", ""),
            max_sessions=raw.get("max_sessions"),
            least_interval=_gap(raw["least_interval"], where) if "least_interval" in raw else None,
            max_amount=amount,
            window_days=_gap(window, where).days if window else None,
        )
    except ValueError as exc:
        raise ReferenceDataError(f"{where}: {exc}") from None


def _coding(raw: dict[str, Any], where: str) -> Coding:
    """A code of another system, which must say where it was taken from."""
    if not raw.get("source"):
        raise ReferenceDataError(f"{where}: code {raw.get('code', '?')} has no source")
    return Coding(str(raw["system"]), str(raw["code"]), str(raw.get("display", "")))


def _codes(raw: dict[str, Any], where: str) -> tuple[Coding, ...]:
    return tuple(_coding(code, where) for code in raw.get("codes", ()))


def _volume_ul(text: str, where: str) -> int:
    try:
        volume = parse_quantity(text, Field.VOLUME)
    except QuantityError as exc:
        raise ReferenceDataError(f"{where}: {exc}") from None
    microlitres = Decimal(volume.to("microliter").magnitude)
    if microlitres != microlitres.to_integral_value():
        raise ReferenceDataError(f"{where}: container volume finer than a microlitre")
    return int(microlitres)


@functools.cache
def beyond_use_rules(folder: Path | None = None) -> tuple[dict[str, Category], int]:
    """Compounding categories by code, and the default in-use days of an opened multi-dose vial."""
    raw = _load((folder or data_dir()) / "beyond_use.toml")
    categories = {
        c["code"]: Category(
            c["code"], c["name"], int(c["room_hours"]), int(c["refrigerated_hours"]), c["source"]
        )
        for c in raw["category"]
    }
    return categories, int(raw["multi_dose"]["in_use_days"])


def product_from_record(raw: dict[str, Any]) -> Product:
    where = f"products.toml [{raw.get('code', '?')}]"
    strengths = []
    for strength in raw.get("strength", []):
        try:
            per_ml = parse_quantity(strength["per_ml"], Field.STRENGTH)
        except QuantityError as exc:
            raise ReferenceDataError(f"{where}: {exc}") from None
        strengths.append(Strength(strength["substance"], per_ml))
    return Product(
        code=raw["code"],
        name=raw["name"],
        container=ContainerKind(raw["container"]),
        container_volume_ul=_volume_ul(raw["container_volume"], where),
        strengths=tuple(strengths),
        excipients=tuple(e["substance"] for e in raw.get("excipient", [])),
        form=raw.get("form", "solution"),
        reconstitute_with=raw.get("reconstitute_with"),
        diluent=bool(raw.get("diluent", False)),
        pack_size=int(raw.get("pack_size", 1)),
        in_use_days=(
            int(raw["in_use_days"])
            if "in_use_days" in raw
            else beyond_use_rules()[1]
            if raw["container"] == "multi_dose"
            else None
        ),
        latex_stopper=bool(raw.get("latex_stopper", False)),
        source=raw.get("source", ""),
        not_for_admixture=raw.get("admixture", {}).get("statement", ""),
    )


def group_from_record(raw: dict[str, Any]) -> AllergenGroup:
    return AllergenGroup(
        code=raw["code"],
        name=raw["name"],
        description=raw.get("description", ""),
        cross_reacts_with=tuple(raw.get("cross_reacts_with", ())),
        does_not_cross_react_with=tuple(raw.get("does_not_cross_react_with", ())),
        triggers=tuple(raw.get("triggers", ())),
        source=raw.get("source", ""),
        codes=_codes(raw, f"allergen_groups.toml [{raw.get('code', '?')}]"),
    )


def no_known_from_record(raw: dict[str, Any]) -> NoKnownAllergy:
    where = f"allergy_codes.toml no_known [{raw.get('code', '?')}]"
    return NoKnownAllergy(
        _coding(raw, where),
        raw["name"],
        raw.get("category", ""),
        raw.get("group", ""),
        raw["source"],
        tuple(raw.get("abbreviations", ())),
    )


def unrelated_from_record(raw: dict[str, Any]) -> UnrelatedAllergen:
    where = f"allergy_codes.toml unrelated [{raw.get('code', '?')}]"
    if not raw.get("why"):
        raise ReferenceDataError(f"{where}: says not why it relates to nothing mesomix holds")
    return UnrelatedAllergen(_coding(raw, where), raw["why"], raw["source"])


def load_records(folder: Path | None = None) -> dict[str, list[dict[str, Any]]]:
    """The raw records of the shipped files: groups, substances, products."""
    folder = folder or data_dir()
    return {
        "group": _load(folder / "allergen_groups.toml")["group"],
        "substance": _load(folder / "substances.toml")["substance"],
        "product": _load(folder / "products.toml")["product"],
        **allergy_code_records(folder),
    }


def allergy_code_records(folder: Path | None = None) -> dict[str, list[dict[str, Any]]]:
    """Codes of other systems' allergy records that name no allergen mesomix holds: "no known
    allergy" statements, and allergens known to relate to nothing mesomix holds."""
    raw = _load((folder or data_dir()) / "allergy_codes.toml")
    return {"no_known": raw.get("no_known", []), "unrelated": raw.get("unrelated", [])}


def catalog_from_records(records: dict[str, list[dict[str, Any]]]) -> Catalog:
    """Domain objects from raw records, checked for dangling references and missing sources."""
    try:
        catalog = Catalog(
            substances={s.code: s for s in map(substance_from_record, records["substance"])},
            products={p.code: p for p in map(product_from_record, records["product"])},
            groups={g.code: g for g in map(group_from_record, records["group"])},
            no_known={
                n.coding.key: n for n in map(no_known_from_record, records.get("no_known", ()))
            },
            unrelated={
                u.coding.key: u for u in map(unrelated_from_record, records.get("unrelated", ()))
            },
        )
    except KeyError as exc:
        raise ReferenceDataError(f"reference data is missing the field {exc}") from None
    validate(catalog)
    return catalog


def load_catalog(folder: Path | None = None) -> Catalog:
    """The shipped catalogue."""
    return catalog_from_records(load_records(folder))


def validate(catalog: Catalog) -> None:
    """Every code a record names must exist, and every product must be usable."""
    problems = []
    for s in catalog.substances.values():
        problems += [
            f"substance {s.code}: unknown allergen group {g}"
            for g in s.allergen_groups
            if g not in catalog.groups
        ]
        if s.elemental and s.elemental.substance not in catalog.substances:
            problems.append(f"substance {s.code}: unknown element {s.elemental.substance}")
    for p in catalog.products.values():
        named = [st.substance for st in p.strengths] + list(p.excipients)
        problems += [
            f"product {p.code}: unknown substance {c}" for c in named if c not in catalog.substances
        ]
        if p.reconstitute_with and p.reconstitute_with not in catalog.products:
            problems.append(f"product {p.code}: unknown diluent product {p.reconstitute_with}")
        if not p.strengths and not p.diluent:
            problems.append(f"product {p.code}: neither a strength nor a diluent")
        if p.container_volume_ul <= 0:
            problems.append(f"product {p.code}: container volume must be positive")
    for g in catalog.groups.values():
        problems += [
            f"group {g.code}: unknown group {o}"
            for o in (*g.cross_reacts_with, *g.does_not_cross_react_with)
            if o not in catalog.groups
        ]
    for n in catalog.no_known.values():
        if n.group and n.group not in catalog.groups:
            problems.append(f"no known allergy {n.coding.code}: unknown group {n.group}")
    for key in (*catalog.no_known, *catalog.unrelated):
        if catalog.by_code(Coding(*key)) is not None:
            problems.append(f"code {key[1]} of {key[0]} is also a substance's or group's code")
    if problems:
        raise ReferenceDataError("; ".join(problems))


@dataclass(frozen=True)
class CourseTemplates:
    """The zones, and per indication its usual course and consent (data/courses.toml)."""

    zones: dict[str, Zone]
    indications: dict[str, Indication]
    consent_version: int


def course_templates(folder: Path | None = None) -> CourseTemplates:
    """Read data/courses.toml, refusing a zone or schedule no course could use, naming where."""
    raw = _load((folder or data_dir()) / "courses.toml")
    zones: dict[str, Zone] = {}
    for record in raw.get("zone", []):
        if record["code"] in zones:
            raise ReferenceDataError(f"courses.toml: zone {record['code']} is listed twice")
        zones[record["code"]] = Zone(record["code"], record["name"], record["region"])
    consent = raw.get("consent", {})
    if not str(consent.get("text", "")).strip() or not isinstance(consent.get("version"), int):
        raise ReferenceDataError("courses.toml: [consent] needs a text and a whole version number")
    indications: dict[str, Indication] = {}
    for record in raw.get("indication", []):
        where = f"courses.toml [{record.get('code', '?')}]"
        unknown = [zone for zone in record.get("zones", []) if zone not in zones]
        if unknown:
            raise ReferenceDataError(f"{where}: unknown zone {', '.join(unknown)}")
        try:
            blocks = [
                (int(count), _gap(spacing, where), _gap(least, where))
                for count, spacing, least in record["schedule"]
            ]
            text = consent["text"].strip().replace("{alternatives}", record["alternatives"])
            indications[record["code"]] = Indication(
                code=record["code"],
                name=record["name"],
                schedule=Schedule.blocks(*blocks),
                schedule_said=record["schedule_said"],
                zones=tuple(record["zones"]),
                consent=text,
                source=record.get("source", ""),
            )
        except (KeyError, TypeError) as exc:
            raise ReferenceDataError(f"{where}: missing or malformed {exc}") from None
        except ReferenceDataError:
            raise
        except ValueError as exc:
            raise ReferenceDataError(f"{where}: {exc}") from None
    return CourseTemplates(zones, indications, consent["version"])


@dataclass(frozen=True)
class SignalRules:
    """When reactions traced to one lot are a signal (data/vigilance.toml)."""

    counts: tuple[CountRule, ...]
    rates: tuple[RateRule, ...]


def signal_rules(folder: Path | None = None) -> SignalRules:
    """Read data/vigilance.toml, refusing a kind no reaction has or a threshold that could
    never be met, naming where."""
    raw = _load((folder or data_dir()) / "vigilance.toml")
    counts: list[CountRule] = []
    rates: list[RateRule] = []
    for table in ("count", "rate"):
        for record in raw.get(table, []):
            where = f"vigilance.toml [{table}] {record.get('name', '?')!r}"
            try:
                kinds = frozenset(ReactionKind(kind) for kind in record["kinds"])
                at_least, source = int(record["at_least"]), str(record["source"]).strip()
                if at_least < 1 or not kinds or not source:
                    raise ValueError("needs kinds, a source and at_least of 1 or more")
                if table == "count":
                    days = int(record["within_days"])
                    if days < 1:
                        raise ValueError("within_days must be 1 or more")
                    counts.append(CountRule(record["name"], kinds, at_least, days, source))
                else:
                    times = float(record["times"])
                    if not times > 1:
                        raise ValueError("times must be more than 1")
                    rates.append(RateRule(record["name"], kinds, at_least, times, source))
            except (KeyError, TypeError) as exc:
                raise ReferenceDataError(f"{where}: missing or malformed {exc}") from None
            except ValueError as exc:
                raise ReferenceDataError(f"{where}: {exc}") from None
    return SignalRules(tuple(counts), tuple(rates))
