"""A course as a practitioner plans it, checked whole before anything is written.

The plan names the indication, the schedule, the day it starts and the zones with the volume
given into each at every session; the formula each session is made from is the service's to
find. What is refused here is what no clinic could mean: a start already past, zones no one
knows, a zone twice, a volume of nothing or of a bottle, more into the zones than the mixture
makes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from mesomix.domain.course.care import Zone
from mesomix.domain.course.schedule import CourseError
from mesomix.domain.units import Field, Q, QuantityError, format_quantity, parse_quantity

# More than this into one zone at one session is a slip of the decimal point (50 mL for 5.0),
# not mesotherapy, whose sessions give a few millilitres per zone.
MOST_PER_ZONE_UL = 20_000
# A course is planned for the coming months; a start further off is a mistyped year.
LONGEST_LEAD = timedelta(days=366)


@dataclass(frozen=True)
class ZoneVolume:
    """One zone of the plan and the volume given into it at each session, in microlitres."""

    zone: str
    volume_ul: int

    @property
    def volume_said(self) -> str:
        return format_quantity(Q(Decimal(self.volume_ul) / 1000, "mL"))


def read_zones(text: str, known: Mapping[str, Zone]) -> tuple[ZoneVolume, ...]:
    """ "scalp 4 mL, face_lower 1.5 mL": each zone by its code and the volume given into it."""
    zones: list[ZoneVolume] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        code, _, volume = part.partition(" ")
        if not volume.strip():
            raise CourseError(
                f"'{part}': say the zone and the volume given into it, e.g. scalp 4 mL"
            )
        zones.append(zone_volume(code, volume, known))
    return check_zones(zones)


def zone_volume(code: str, volume: str, known: Mapping[str, Zone]) -> ZoneVolume:
    """One zone and its volume as typed, refused in words when either cannot be meant."""
    code = code.strip().lower()
    if code not in known:
        raise CourseError(f"'{code}' is not a zone; the zones are {', '.join(sorted(known))}")
    try:
        quantity = parse_quantity(volume, Field.VOLUME)
    except QuantityError as exc:
        raise CourseError(f"{code}: {exc}") from None
    microlitres = Decimal(quantity.to("microliter").magnitude)
    if microlitres != microlitres.to_integral_value() or microlitres < 1:
        raise CourseError(f"{code}: {volume.strip()} is finer than a microlitre")
    if microlitres > MOST_PER_ZONE_UL:
        raise CourseError(
            f"{code}: {volume.strip()} into one zone at one session is more than "
            f"{MOST_PER_ZONE_UL // 1000} mL; check the decimal point"
        )
    return ZoneVolume(code, int(microlitres))


def check_zones(zones: list[ZoneVolume]) -> tuple[ZoneVolume, ...]:
    if not zones:
        raise CourseError("a course names at least one zone and its volume, e.g. scalp 4 mL")
    seen: set[str] = set()
    for zone in zones:
        if zone.zone in seen:
            raise CourseError(f"{zone.zone} is named twice: give its whole volume once")
        seen.add(zone.zone)
    return tuple(zones)


def check_start(starts_on: date, today: date) -> None:
    """A course starts today or later, within the year."""
    if starts_on < today:
        raise CourseError(
            f"the course would start on {starts_on:%Y-%m-%d}, which is past; "
            f"start it today ({today:%Y-%m-%d}) or later"
        )
    if starts_on - today > LONGEST_LEAD:
        raise CourseError(
            f"the course would start on {starts_on:%Y-%m-%d}, over a year from now; check the year"
        )


def check_volumes(zones: tuple[ZoneVolume, ...], makes_ul: int, formula: str) -> None:
    """The zones of a session take no more than the mixture the session is made from."""
    total = sum(z.volume_ul for z in zones)
    if total > makes_ul:
        raise CourseError(
            f"the zones take {_ml(total)} a session but {formula} makes {_ml(makes_ul)}; "
            "lower the volumes or scale the formula"
        )


def _ml(microlitres: int) -> str:
    return ZoneVolume("", microlitres).volume_said
