"""Terminals in a race: each dispenses the same mixture N times and reports every outcome.

`python -m tests.reliability.dispense_worker URL USER ATTEMPTS` is one terminal: a one-ampoule
mixture, N times; the outcomes as a JSON list on stdout.

With `--processes P` it is P terminals: this process imports mesomix once, then forks P children
(a fork takes milliseconds where a fresh interpreter takes a second), each builds its own engine,
and all start dispensing together once every one is ready. `--mixture JSON` names what they
dispense: {"ingredients": [["dexpanthenol", "250 mg"], ...], "final": "5 mL", "diluent": CODE}. The
output is then {"go": TIME, "outcomes": [...]}, each outcome with its start and end times (t0, t1).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mesomix.bootstrap import Settings, build
from mesomix.domain.mixture import DraftMixture
from mesomix.services.errors import DatabaseBusy, ServiceError
from tests.factories import mixture

ONE_AMPOULE = {"ingredients": [["cyanocobalamin", "1000 mcg"]], "final": ""}
# 250 mg is 1 mL of a 2 mL ampoule: the rest is waste. Dexpanthenol has no dose limit, so one
# patient may receive the mixture any number of times (lidocaine would stop at 200 mg a session).
DEXPANTHENOL = "bepamedin_500mg_2ml_amp"
B12 = "cyanocobalamin_1000mcg_1ml_vial"  # one whole vial per mixture
SALINE = "sodium_chloride_09_10ml_vial"  # the q.s. to 5 mL, from a single-dose vial
THREE_PRODUCTS = {
    "ingredients": [["dexpanthenol", "250 mg"], ["cyanocobalamin", "1000 mcg"]],
    "final": "5 mL",
    "diluent": SALINE,
}
UL_PER_MIXTURE = {DEXPANTHENOL: 2_000, B12: 1_000, SALINE: 10_000}  # drawn and wasted, per product
ROOT = Path(__file__).resolve().parents[2]


def draft_of(spec: dict[str, Any], site: str = "main") -> DraftMixture:
    """The mixture a terminal dispenses; at a site of `patients` (site → reference), for that
    site's own patient (else P-1)."""
    return mixture(
        *(tuple(item) for item in spec["ingredients"]),
        final=spec.get("final", ""),
        diluent=spec.get("diluent"),
        patient=spec.get("patients", {}).get(site, "P-1"),
    )


def attempt(services: Any, draft: DraftMixture, user: str) -> dict[str, Any]:
    """One dispense: ok with its batch, or refused with the kind of refusal and its message."""
    t0 = time.time()
    try:
        outcome: dict[str, Any] = {"ok": True, "batch": services.mixtures.dispense(draft, user).batch_id}  # fmt: skip
    except DatabaseBusy as exc:
        outcome = {"ok": False, "busy": True, "message": str(exc), "error": type(exc).__name__}
    except ServiceError as exc:
        outcome = {"ok": False, "busy": False, "message": str(exc), "error": type(exc).__name__}
    outcome.update(t0=t0, t1=time.time())
    return outcome


def terminal(url: str, user: str, attempts: int, spec: dict[str, Any]) -> list[dict[str, Any]]:
    services = build(Settings(database_url=url))
    try:
        draft = draft_of(spec)
        return [attempt(services, draft, user) for _ in range(attempts)]
    finally:
        services.close()


def _forked_terminal(url: str, user: str, attempts: int, spec: dict[str, Any], start: Any, results: Any, site: str) -> None:  # fmt: skip
    services = build(Settings(database_url=url, site=site))  # its own engine, made after the fork
    draft = draft_of(spec, site)
    services.mixtures.check(draft, user)  # its caches warm, as a terminal in use has them
    start.wait()
    outcomes = [{**attempt(services, draft, user), "site": site} for _ in range(attempts)]
    services.close()
    results.put(outcomes)


def terminals(url: str, user: str, attempts: int, processes: int, spec: dict[str, Any], sites: tuple[str, ...] = ("main",)) -> dict[str, Any]:  # fmt: skip
    """P forked terminals started together, the i-th at the i-th site (round the list); their
    outcomes (each with its site) and the time they were let go."""
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(processes + 1), context.Queue()
    children = [
        context.Process(
            target=_forked_terminal,
            args=(url, user, attempts, spec, start, results, sites[i % len(sites)]),
        )
        for i in range(processes)
    ]
    for child in children:
        child.start()
    start.wait(timeout=120)
    go = time.time()
    outcomes = [outcome for _ in children for outcome in results.get(timeout=300)]
    for child in children:
        child.join(timeout=60)
        if child.exitcode != 0:
            raise SystemExit(f"a terminal failed with exit code {child.exitcode}")
    return {"go": go, "outcomes": outcomes}


@dataclass(frozen=True)
class Load:
    """What a race of terminals did: every outcome, and when they were let go."""

    outcomes: list[dict[str, Any]]
    go: float

    @property
    def succeeded(self) -> list[dict[str, Any]]:
        return [o for o in self.outcomes if o["ok"]]

    def figures(self) -> dict[str, float]:
        """Attempts per second while the race ran, dispenses per second until the last one, and
        the median and slowest dispense."""
        end = max(o["t1"] for o in self.outcomes)
        last_success = max(o["t1"] for o in self.succeeded)
        took = sorted((o["t1"] - o["t0"]) * 1000 for o in self.succeeded)
        return {
            "attempts_per_s": len(self.outcomes) / (end - self.go),
            "dispenses_per_s": len(self.succeeded) / (last_success - self.go),
            "p50_ms": took[len(took) // 2],
            "p99_ms": took[min(len(took) - 1, len(took) * 99 // 100)],
            "max_ms": took[-1],
        }


def race(url: str, processes: int, attempts: int, spec: dict[str, Any] = THREE_PRODUCTS, sites: tuple[str, ...] = ("main",)) -> Load:  # fmt: skip
    """`processes` terminals × `attempts` dispenses as user sam, started together, in a process
    of their own (the caller's engines and threads stay out of the fork), spread over `sites`."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.reliability.dispense_worker", url, "sam", str(attempts),
         "--processes", str(processes), "--mixture", json.dumps(spec), "--sites", ",".join(sites)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the terminals failed: {done.stderr[-2000:]}")
    result = json.loads(done.stdout)
    return Load(result["outcomes"], result["go"])


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("user")
    parser.add_argument("attempts", type=int)
    parser.add_argument("--processes", type=int)
    parser.add_argument("--mixture", type=json.loads)
    parser.add_argument("--sites", default="main", help="the sites' codes, comma-separated")
    args = parser.parse_args(argv)
    spec = args.mixture or ONE_AMPOULE
    if args.processes:
        sites = tuple(args.sites.split(","))
        json.dump(
            terminals(args.url, args.user, args.attempts, args.processes, spec, sites), sys.stdout
        )
    else:
        json.dump(terminal(args.url, args.user, args.attempts, spec), sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
