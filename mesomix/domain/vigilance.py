"""Lot vigilance: when the reactions traced to one lot are a signal.

Clusters of infections (atypical mycobacteria among them) and nodules after mesotherapy have
been traced to contaminated products or poor asepsis; one clinic sees them first as two or
three patients of one lot. Two rules, with thresholds a clinic keeps in data
(data/vigilance.toml):

- a count: at least `at_least` reactions of the rule's kinds among the sessions one lot went
  into, with onsets within `within_days` of each other;
- a rate: a lot's reactions of the rule's kinds per 100 sessions, at least `times` the rate of
  the same product's other lots, once the lot has `at_least` of them (a rate of one is noise).

Pure: the reactions and session counts come in, the signals go out, each naming what it counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from mesomix.domain.reactions import ReactionKind


@dataclass(frozen=True)
class CountRule:
    name: str
    kinds: frozenset[ReactionKind]
    at_least: int
    within_days: int
    source: str


@dataclass(frozen=True)
class RateRule:
    name: str
    kinds: frozenset[ReactionKind]
    at_least: int
    times: float
    source: str


@dataclass(frozen=True)
class LotReaction:
    """One reaction traced to one lot (a batch drawing from two lots is traced to both)."""

    reaction_id: int
    lot_id: int
    product: str
    kind: ReactionKind
    onset: datetime
    patient: str
    lot_number: str = ""  # as printed on the box; the id when not given

    @property
    def lot_said(self) -> str:
        return f"lot {self.lot_number or self.lot_id}"


@dataclass(frozen=True)
class Signal:
    rule: str
    lot_id: int
    product: str
    reactions: tuple[LotReaction, ...]
    said: str


def count_signals(reactions: Iterable[LotReaction], rules: Iterable[CountRule]) -> list[Signal]:
    """For each lot and rule, the first window of `within_days` holding `at_least` of the
    rule's reactions (with every reaction of that lot the window holds)."""
    by_lot: dict[int, list[LotReaction]] = defaultdict(list)
    for reaction in reactions:
        by_lot[reaction.lot_id].append(reaction)
    signals = []
    for rule in rules:
        window = timedelta(days=rule.within_days)
        for lot_id, found in sorted(by_lot.items()):
            counted = sorted((r for r in found if r.kind in rule.kinds), key=lambda r: r.onset)
            for first, start in enumerate(counted):
                held = [r for r in counted[first:] if r.onset - start.onset <= window]
                if len(held) >= rule.at_least:
                    signals.append(
                        Signal(
                            rule.name,
                            lot_id,
                            start.product,
                            tuple(held),
                            f"{len(held)} {_kinds(held)} from {start.lot_said} within "
                            f"{rule.within_days} days ({_onsets(held)}) [{rule.source}]",
                        )
                    )
                    break
    return signals


def rate_signals(
    reactions: Iterable[LotReaction],
    sessions: Mapping[int, tuple[str, int]],
    rules: Iterable[RateRule],
) -> list[Signal]:
    """`sessions`: per lot, its product and how many sessions it went into. A lot whose rate
    of the rule's reactions is `times` its product's other lots' (or whose other lots have
    none) once it has `at_least` of them."""
    found = list(reactions)
    signals = []
    for rule in rules:
        counted: dict[int, list[LotReaction]] = defaultdict(list)
        for reaction in found:
            if reaction.kind in rule.kinds:
                counted[reaction.lot_id].append(reaction)
        for lot_id, held in sorted(counted.items()):
            product, given = sessions.get(lot_id, (held[0].product, 0))
            if len(held) < rule.at_least or not given:
                continue
            others = [
                (lot, n) for lot, (code, n) in sessions.items() if code == product and lot != lot_id
            ]
            other_given = sum(n for _, n in others)
            other_count = sum(len(counted.get(lot, [])) for lot, _ in others)
            rate = 100 * len(held) / given
            usual = 100 * other_count / other_given if other_given else 0.0
            if rate >= rule.times * usual and (usual or other_given):
                signals.append(
                    Signal(
                        rule.name,
                        lot_id,
                        product,
                        tuple(sorted(held, key=lambda r: r.onset)),
                        f"{held[0].lot_said}: {len(held)} {_kinds(held)} in {given} sessions "
                        f"({rate:.1f} per 100), {_times(rate, usual)} the product's other lots "
                        f"({other_count} in {other_given}, {usual:.1f} per 100) [{rule.source}]",
                    )
                )
    return signals


def _kinds(held: list[LotReaction]) -> str:
    kinds = ", ".join(sorted({r.kind.value for r in held}))
    return f"reaction{'s' if len(held) != 1 else ''} ({kinds})"


def _onsets(held: list[LotReaction]) -> str:
    return ", ".join(f"{r.patient} {r.onset:%Y-%m-%d}" for r in held)


def _times(rate: float, usual: float) -> str:
    return f"{rate / usual:.1f} times" if usual else "none in"
