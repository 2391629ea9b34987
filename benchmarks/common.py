"""Measuring helpers: best-of-N timing of a callable, so ratios compare like with like."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    baseline: float
    unit: str
    goal: str
    passed: bool
    detail: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("inf")


def per_call(function: Callable[[], object], *, repeat: int = 7, min_time: float = 0.2) -> float:
    """Seconds per call: the best of `repeat` rounds, each long enough to time reliably."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            function()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time / 4:
            break
        number *= 2
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            function()
        best = min(best, (time.perf_counter() - start) / number)
    return best
