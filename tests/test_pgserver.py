"""Checks that the throwaway PostgreSQL harness is real, isolated and concurrent."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from tests.pgserver import ENV_BINDIR, PostgresServer, find_bindir

pytestmark = pytest.mark.slow

THREADS = 16
ATTEMPTS_PER_THREAD = 8
START_QTY = 100


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


def _engine(url: str) -> Engine:
    return create_engine(url, pool_size=THREADS, max_overflow=0)


def test_two_databases_are_separate(pg: PostgresServer) -> None:
    url_a = pg.create_database("pgserver_a")
    url_b = pg.create_database("pgserver_b")
    assert url_a == f"postgresql+psycopg://postgres@127.0.0.1:{pg.port}/pgserver_a"
    assert pg.url.endswith("/postgres")

    eng_a, eng_b = _engine(url_a), _engine(url_b)
    try:
        with eng_a.begin() as conn:
            conn.execute(text("CREATE TABLE only_in_a (x int)"))
            assert conn.execute(text("SELECT current_database()")).scalar_one() == "pgserver_a"
            assert int(conn.execute(text("SHOW server_version_num")).scalar_one()) >= 150000
        with eng_b.connect() as conn:
            assert conn.execute(text("SELECT current_database()")).scalar_one() == "pgserver_b"
            assert conn.execute(text("SELECT to_regclass('only_in_a')")).scalar_one() is None
            assert conn.execute(text("SHOW fsync")).scalar_one() == "off"
    finally:
        eng_a.dispose()
        eng_b.dispose()


def test_guarded_decrement_under_contention(pg: PostgresServer) -> None:
    """16 connections race on one row; the guard must admit exactly START_QTY decrements."""
    engine = _engine(pg.create_database("pgserver_race"))
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (id int PRIMARY KEY, qty int NOT NULL)"))
            conn.execute(text("INSERT INTO t VALUES (1, :q)"), {"q": START_QTY})

        barrier = threading.Barrier(THREADS)
        results: list[int] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def worker() -> None:
            try:
                with engine.connect() as conn:
                    barrier.wait(timeout=10)
                    for _ in range(ATTEMPTS_PER_THREAD):
                        with conn.begin():
                            rc = conn.execute(
                                text("UPDATE t SET qty = qty - 1 WHERE id = 1 AND qty >= 1")
                            ).rowcount
                        with lock:
                            results.append(rc)
            except BaseException as exc:
                with lock:
                    errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(THREADS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=30)

        assert not errors, errors
        assert len(results) == THREADS * ATTEMPTS_PER_THREAD
        assert results.count(1) == START_QTY
        assert results.count(0) == THREADS * ATTEMPTS_PER_THREAD - START_QTY
        with engine.connect() as conn:
            assert conn.execute(text("SELECT qty FROM t WHERE id = 1")).scalar_one() == 0
    finally:
        engine.dispose()


def test_stop_removes_everything() -> None:
    server = PostgresServer().start()
    tmpdir = server.tmpdir
    proc = server._proc
    assert tmpdir is not None and proc is not None
    server.stop()
    assert proc.poll() is not None
    assert not Path(tmpdir).exists()
    server.stop()  # idempotent
    with pytest.raises(RuntimeError):
        _ = server.url


def test_missing_binaries_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_BINDIR, str(tmp_path))
    with pytest.raises(RuntimeError, match="does not contain the PostgreSQL server binaries"):
        find_bindir()
    with pytest.raises(RuntimeError):
        PostgresServer().start()
