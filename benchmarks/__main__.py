"""Run every benchmark and print one table: figure, baseline, ratio, goal, pass/fail.

`make bench` (or `python -m benchmarks`). Speeds are ratios against a baseline run in the same
process, so the table means the same on a slow or a fast machine.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from datetime import UTC, datetime

from benchmarks import (
    bench_check,
    bench_dispense,
    bench_load,
    bench_reports,
    bench_search,
    bench_vigilance,
)
from benchmarks.common import Figure


def table(figures: list[Figure]) -> str:
    rows = [("figure", "mesomix", "baseline", "ratio", "goal", "result")]
    for f in figures:
        rows.append(
            (
                f.name,
                f"{f.value:,.2f} {f.unit}",
                f"{f.baseline:,.2f} {f.unit}",
                f"{f.ratio:.3f}×",
                f.goal,
                "pass" if f.passed else "FAIL",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    notes = [f"- {f.name}: {f.detail}" for f in figures if f.detail]
    return "\n".join([*lines, "", *notes])


def in_a_fresh_process(module: str) -> list[Figure]:
    """A benchmark's figures from a process of its own. The keystroke figure counts the CPU
    time of the whole process: run after the others, it also counted what they left behind (a
    heap of a million movements for the collector to walk, threads), the same for mesomix and
    for the bare app, which pulled the ratio towards 1 (0.975× here, 1.4–1.6× alone)."""
    code = (
        "import dataclasses, json, sys\n"
        f"from benchmarks import {module}\n"
        f"print(json.dumps([dataclasses.asdict(f) for f in {module}.run()]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [Figure(**fields) for fields in json.loads(done.stdout.splitlines()[-1])]


def main() -> int:
    figures = [
        bench_check.run(),
        *bench_dispense.run(),
        *bench_reports.run(),
        *bench_search.run(),
        *bench_load.run(),
        *bench_vigilance.run(),
        *in_a_fresh_process("bench_courses"),
        *in_a_fresh_process("bench_tui"),
    ]
    print(
        f"mesomix benchmarks — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — Python {platform.python_version()} on {platform.machine()}"
    )
    print(table(figures))
    return 0 if all(f.passed for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
