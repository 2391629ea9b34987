"""Architecture contracts: the domain stays pure; the UI never reaches the database directly."""

from __future__ import annotations

import ast
import re
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


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def mesomix_imports(path: Path, modules: set[str]) -> set[str]:
    """The mesomix modules a module imports, at its top or inside a function (a cycle through an
    import put off until run time is still a cycle); those under `if TYPE_CHECKING:` never run."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    pending: list[ast.AST] = [ast.parse(path.read_text(encoding="utf-8"))]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(
                [*package[: len(package) - node.level + 1], node.module or ""]
                if node.level
                else [node.module or ""]
            ).strip(".")
            for alias in node.names:  # `from mesomix.cli import output` imports a module
                whole = f"{base}.{alias.name}"
                found.add(whole if whole in modules else base)
        pending.extend(ast.iter_child_nodes(node))
    return found & modules


def import_cycles() -> list[list[str]]:
    """Every cycle of imports among mesomix's modules, each as the path that closes it."""
    paths = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
    graph = {name: sorted(mesomix_imports(path, set(paths))) for name, path in paths.items()}
    cycles: list[list[str]] = []
    done: set[str] = set()

    def walk(name: str, trail: list[str]) -> None:
        if name in trail:
            cycles.append([*trail[trail.index(name) :], name])
            return
        if name in done:
            return
        for imported in graph[name]:
            walk(imported, [*trail, name])
        done.add(name)

    for name in graph:
        walk(name, [])
    return cycles


def test_no_module_of_mesomix_imports_itself_back():
    """`launch` and `cli` imported each other: a module can then not be read, tested or moved
    alone. The command line, the application and the wiring import downward only."""
    assert import_cycles() == []


def sheet_loaders() -> dict[str, set[str]]:
    """Each stylesheet's name, and the classes that load it by their CSS_PATH."""
    found: dict[str, set[str]] = {}
    for path in (PACKAGE / "tui").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            for stmt in node.body:
                if (
                    isinstance(stmt, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "CSS_PATH" for t in stmt.targets)
                    and isinstance(stmt.value, ast.Constant)
                ):
                    found.setdefault(Path(stmt.value.value).name, set()).add(node.name)
    return found


def test_a_screens_stylesheet_styles_that_screen_alone():
    """A sheet a screen loads (its CSS_PATH) applies to the whole app once loaded: Textual scopes
    a screen's inline CSS, not its CSS_PATH. So every rule of a screen's sheet begins with the
    class of a screen that loads it, and only the App's base.tcss styles everything."""
    loaders = sheet_loaders()
    assert loaders.pop("base.tcss") == {"MesomixApp"}
    unscoped: dict[str, list[str]] = {}
    for sheet in sorted((PACKAGE / "tui" / "styles").glob("*.tcss")):
        if sheet.name == "base.tcss":
            continue
        text = re.sub(r"/\*.*?\*/", "", sheet.read_text(encoding="utf-8"), flags=re.S)
        selectors = [s.strip() for rule in re.findall(r"([^{}]+)\{", text) for s in rule.split(",")]
        screens = loaders.get(sheet.name, set())
        wrong = [s for s in selectors if re.split(r"[\s.#:>]", s, maxsplit=1)[0] not in screens]
        if wrong or not screens:
            unscoped[sheet.name] = wrong or ["loaded by no screen"]
    assert unscoped == {}
