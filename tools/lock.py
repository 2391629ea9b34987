"""`make lock`: the versions installed in .venv written as two locks — requirements.lock, the
application alone (what pyproject.toml's dependencies need, and theirs), and
requirements-dev.lock, the test and lint tools on top of it. `make demo` installs the first,
`make test` both.

Run by the environment's own Python; the split follows the installed packages' own metadata, so
it needs nothing but what is installed."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
APP_HEADER = (
    "# The application's exact versions (pip install -r requirements.lock): what `make demo`\n"
    "# installs. Regenerate both locks with `make lock`.\n"
)
DEV_HEADER = (
    "# The test and lint tools on top of the application (pip install -r requirements-dev.lock):\n"
    "# what `make test` adds. Regenerate both locks with `make lock`.\n"
    "-r requirements.lock\n"
)


def needed_by(name: str, extras: frozenset[str] = frozenset()) -> set[str]:
    """The canonical names of a distribution and everything it needs, with the extras asked."""
    seen: set[str] = set()
    todo = [(name, extras)]
    while todo:
        current, wanted = todo.pop()
        try:
            dist = distribution(current)
        except PackageNotFoundError:
            continue  # a requirement for another platform or Python: not installed here
        key = canonicalize_name(current)
        if key in seen and not wanted:
            continue
        seen.add(key)
        for text in dist.requires or ():
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": e}) for e in {"", *wanted}):
                todo.append((requirement.name, frozenset(requirement.extras)))
    return seen


def main() -> int:
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    app = needed_by("mesomix") - {"mesomix"}
    app_lines, dev_lines = [], []
    for line in frozen:
        name = canonicalize_name(line.split("==")[0])
        if name == "mesomix":
            continue
        (app_lines if name in app else dev_lines).append(line)
    missing = app - {canonicalize_name(line.split("==")[0]) for line in app_lines}
    if missing:
        print(f"not installed, so not locked: {', '.join(sorted(missing))}", file=sys.stderr)
        return 1
    (ROOT / "requirements.lock").write_text(APP_HEADER + "\n".join(app_lines) + "\n")
    (ROOT / "requirements-dev.lock").write_text(DEV_HEADER + "\n".join(dev_lines) + "\n")
    print(f"requirements.lock: {len(app_lines)} packages; requirements-dev.lock: {len(dev_lines)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
