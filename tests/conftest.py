"""Shared fixtures: the whole program built on a real, temporary database with an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import Path

import pytest

from mesomix.bootstrap import Services, Settings, build
from mesomix.clock import FixedClock
from mesomix.services.demo import load_demo
from tests.factories import copy_of, seed_people

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


class Templates:
    """Databases made once per test process, each test working on its own copy of the file.

    Migrating an empty database and seeding its catalogue takes about a second, and loading the
    demo set several more: done for every test, it was most of the suite's time. A copy (SQLite's
    backup, page by page) is the same database; it is then opened with `build` like any other,
    so its checks (the pages, the revision, the catalogue's fingerprint) still run."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._made: dict[tuple[bool, datetime, tzinfo], Path] = {}

    def copy(self, target: Path, clock: FixedClock, *, demo: bool = False) -> None:
        """The database made at the clock's time (with the demo set loaded, if `demo`) copied
        to `target`; the clock is not moved, as neither migrating nor the demo moves it."""
        key = (demo, clock.now(), clock.zone)
        made = self._made.get(key)
        if made is None:
            made = self._folder / f"template-{len(self._made)}.sqlite"
            services = build(Settings(database_url=f"sqlite:///{made}", clock=FixedClock(*key[1:])))
            if demo:
                load_demo(services)
            services.close()
            self._made[key] = made
        copy_of(made, target)


@pytest.fixture(scope="session")
def templates(tmp_path_factory) -> Templates:
    return Templates(tmp_path_factory.mktemp("templates"))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'mesomix.sqlite'}"


@pytest.fixture
def services(db_url, clock, templates) -> Iterator[Services]:
    """The program on a new database: migrated, its catalogue seeded, nobody in it yet."""
    templates.copy(Path(db_url.removeprefix("sqlite:///")), clock)
    built = build(Settings(database_url=db_url, clock=clock))
    yield built
    built.close()


@pytest.fixture
def demo(db_url, clock, templates) -> Iterator[Services]:
    """The program on a database holding the demo data set, loaded at the clock's time."""
    templates.copy(Path(db_url.removeprefix("sqlite:///")), clock, demo=True)
    built = build(Settings(database_url=db_url, clock=clock))
    yield built
    built.close()


@pytest.fixture
def clinic(services) -> Services:
    """Services on a database with a staff member, a practitioner, a manager and two patients."""
    seed_people(services)
    return services


@pytest.fixture(scope="session")
def cli_demo(tmp_path_factory) -> Path:
    """The demo database as `mesomix demo` makes it (at the time it is made), once per test
    process: a test of the command line takes a copy (see `copy_of`)."""
    from tests.test_cli import run

    path = tmp_path_factory.mktemp("cli-demo") / "demo.sqlite"
    assert run("--db", str(path), "demo")[0] == 0
    return path


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the session, from the machine's own binaries (never skipped)."""
    from tests.pgserver import PostgresServer

    with PostgresServer() as server:
        yield server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The modules holding a slow journey run first — those that are nothing but slow journeys
    before those that also hold quick tests — each module's tests still together and in their
    order: with several workers, a minute-long test started last keeps the whole run waiting
    for it, while started first it overlaps the hundreds of short ones (`make test` hands the
    workers two tests at a time, so the slow ones spread over them)."""
    tests: dict[Path, int] = {}
    slow: dict[Path, int] = {}
    for item in items:
        tests[item.path] = tests.get(item.path, 0) + 1
        if item.get_closest_marker("slow"):
            slow[item.path] = slow.get(item.path, 0) + 1
    items.sort(key=lambda item: -slow.get(item.path, 0) / tests[item.path])
