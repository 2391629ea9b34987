"""Architecture contracts: the domain stays pure; the UI never reaches the database directly."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mesomix"


def imports_of(folder: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[str(path.relative_to(PACKAGE.parent))] = names
    return found


def offending(folder: Path, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    return {
        path: sorted(n for n in names if n.split(".")[0] in forbidden or n.startswith(forbidden))
        for path, names in imports_of(folder).items()
        if any(n.split(".")[0] in forbidden or n.startswith(forbidden) for n in names)
    }


def test_domain_imports_neither_ui_nor_database():
    forbidden = (
        "textual",
        "sqlmodel",
        "sqlalchemy",
        "alembic",
        "pandas",
        "mesomix.db",
        "mesomix.services",
        "mesomix.tui",
    )
    assert offending(PACKAGE / "domain", forbidden) == {}


def test_ui_never_opens_a_session_or_parses_quantities_itself():
    forbidden = ("sqlmodel", "sqlalchemy", "mesomix.db", "pint", "mesomix.services.uow")
    assert offending(PACKAGE / "tui", forbidden) == {}


def run_time_imports(path: Path) -> set[str]:
    """The modules a file imports when it runs: those under `if TYPE_CHECKING:` are left out."""
    checked_only: set[int] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            checked_only |= {id(inner) for stmt in node.body for inner in ast.walk(stmt)}
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in checked_only:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_ui_imports_neither_the_database_nor_the_wiring_at_run_time():
    """The screens get the program built (`Services`) and name its type for the reader only:
    importing `bootstrap` would load the database layer before the first frame, and tie the UI
    to how the program is wired."""
    forbidden = ("mesomix.db", "mesomix.bootstrap")
    found = {
        str(path.relative_to(PACKAGE.parent)): sorted(
            name for name in run_time_imports(path) if name.startswith(forbidden)
        )
        for path in sorted((PACKAGE / "tui").rglob("*.py"))
    }
    assert {path: names for path, names in found.items() if names} == {}


@pytest.mark.parametrize(
    "module", ["mesomix.domain.mixture", "mesomix.domain.allocation", "mesomix.domain.conversions"]
)
def test_importing_the_domain_loads_no_ui_or_database(module):
    code = f"import sys, {module}; print(sorted(m for m in ('textual', 'sqlalchemy', 'sqlmodel') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
