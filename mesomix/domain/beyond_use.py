"""Beyond-use dates: the earliest of the compounding category's limit, the expiry of every lot
used, and the in-use limit of every opened multi-dose vial drawn from.

Expiry dates are calendar dates printed on boxes: a lot is good until the end of that day in the
clinic's time zone. Opened single-dose containers are never kept: their remainder is waste.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from mesomix.domain.findings import Finding, Severity


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    room_hours: int
    refrigerated_hours: int
    source: str

    def hours(self, storage: str) -> int:
        return self.refrigerated_hours if storage == "refrigerated" else self.room_hours


@dataclass(frozen=True)
class LotUse:
    """A lot a mixture draws from, as beyond-use dating needs it."""

    product: str
    lot_number: str
    expiry: date
    multi_dose: bool
    vial_opened_at: datetime | None  # when the container drawn from was first punctured
    in_use_days: int


@dataclass(frozen=True)
class Limit:
    at: datetime
    reason: str
    brief: str = ""  # the reason in a few words, for a line read while composing


@dataclass(frozen=True)
class BeyondUse:
    at: datetime
    rule: str  # "earliest of: ..." with each input: kept with the batch
    limits: tuple[Limit, ...]
    summary: str = ""  # the date and the limit that set it: what a person reads while composing

    def binding(self) -> Limit:
        return min(self.limits, key=lambda limit: limit.at)


def end_of_day(day: date, zone: tzinfo) -> datetime:
    """The last moment a lot printed with this expiry date may be used."""
    return datetime.combine(day + timedelta(days=1), time(0), zone) - timedelta(microseconds=1)


def _local(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def beyond_use(
    prepared_at: datetime,
    category: Category,
    storage: str,
    lots: Sequence[LotUse],
    zone: tzinfo,
) -> BeyondUse:
    """The mixture's beyond-use date and the rule that set it, every input shown."""
    hours = category.hours(storage)
    where = "refrigerated" if storage == "refrigerated" else "at room temperature"
    rule = f"{category.name} {where}: {hours} h"
    limits = [Limit(prepared_at + timedelta(hours=hours), rule, rule)]
    for use in lots:
        expires = f"lot {use.lot_number} expires {use.expiry.isoformat()}"
        limits.append(
            Limit(
                end_of_day(use.expiry, zone),
                f"lot {use.lot_number} of {use.product} expires {use.expiry.isoformat()}",
                expires,
            )
        )
        if use.multi_dose and use.vial_opened_at is not None:
            opened = f"vial of lot {use.lot_number} opened {_local(use.vial_opened_at, zone)}"
            limits.append(
                Limit(
                    use.vial_opened_at + timedelta(days=use.in_use_days),
                    f"{opened}, in use for {use.in_use_days} days",
                    f"{opened} + {use.in_use_days} d",
                )
            )
    binding = min(limits, key=lambda limit: limit.at)
    later = [limit for limit in limits if limit is not binding]
    inputs = "; ".join(f"{limit.reason} → {_local(limit.at, zone)}" for limit in limits)
    return BeyondUse(
        binding.at,
        f"use by {_local(binding.at, zone)}, the earliest of: {inputs}",
        tuple(limits),
        # Short, for a finding on a 24-row screen: every limit is in the explanation above.
        f"use by {_local(binding.at, zone)}, set by {binding.brief}"
        + (f" ({_counted(len(later))} later)" if later else ""),
    )


def _counted(later: int) -> str:
    return "1 other limit is" if later == 1 else f"{later} other limits are"


def expiry_findings(
    prepared_at: datetime, category: Category, storage: str, lots: Sequence[LotUse], zone: tzinfo
) -> list[Finding]:
    """A warning for each lot that expires before the category's limit would end."""
    limit = prepared_at + timedelta(hours=category.hours(storage))
    return [
        Finding(
            Severity.WARN,
            "lot.expires_before_beyond_use",
            f"lot {use.lot_number} of {use.product} expires {use.expiry.isoformat()}, before the "
            f"{category.name} limit ({_local(limit, zone)}): the mixture must be used by "
            f"{_local(end_of_day(use.expiry, zone), zone)}",
            subject=use.lot_number,
        )
        for use in lots
        if end_of_day(use.expiry, zone) < limit
    ]
