"""`mesomix site` and the global `--site`: the sites listed, one added by an admin only, a
terminal started at a site that is not there (or a code that cannot be one) refused with the
sites there are, nothing written; what a terminal at a site writes goes into that site's chain."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.factories import copy_of
from tests.test_cli import DEMO_PASSWORDS, in_process


@pytest.fixture
def demo_db(tmp_path, cli_demo) -> str:
    return copy_of(cli_demo, Path(tmp_path / "sites.sqlite"))


def sites_and_chains(db: str) -> tuple[list[str], dict[int, int]]:
    with sqlite3.connect(db) as connection:
        codes = [code for (code,) in connection.execute("SELECT code FROM site ORDER BY id")]
        chains = dict(connection.execute("SELECT chain, count(*) FROM audit GROUP BY chain"))
    return codes, chains


def test_an_admin_adds_a_site_and_its_terminals_write_its_own_chain(demo_db, monkeypatch):
    done = in_process("--db", demo_db, "site", "list", password="")
    assert (done.returncode, done.stdout) == (0, "main         Main clinic  (this terminal)\n")
    done = in_process(
        "--db", demo_db, "site", "add", "north", "North clinic", "--user", "admin",
        password=DEMO_PASSWORDS["admin"],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "site north added: North clinic (its terminals: mesomix --site north)\n"
    monkeypatch.setenv("MESOMIX_SITE", "north")
    refused = in_process(
        "--db", demo_db, "patient", "add", "P-9001", "--name", "Nora North", "--user", "drchen",
        password=DEMO_PASSWORDS["drchen"],
    )  # fmt: skip
    assert (
        refused.returncode == 2 and "drchen does not work at North clinic (north)" in refused.stderr
    )
    done = in_process(
        "--db", demo_db, "user", "sites", "drchen", "--add", "north", "--user", "admin",
        password=DEMO_PASSWORDS["admin"],
    )  # fmt: skip
    assert done.stdout == "drchen works at main, north\n", done.stderr
    done = in_process("--db", demo_db, "site", "list", password="")
    assert done.stdout.splitlines() == [
        "main         Main clinic",
        "north        North clinic  (this terminal)",
    ]
    done = in_process(
        "--db", demo_db, "patient", "add", "P-9001", "--name", "Nora North", "--user", "drchen",
        password=DEMO_PASSWORDS["drchen"],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    codes, chains = sites_and_chains(demo_db)
    assert codes == ["main", "north"] and chains[2] >= 2  # signed in, and the patient added
    check = in_process("--db", demo_db, "check", password="")
    assert check.returncode == 0 and "audit chain: ok" in check.stdout


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (
            ("--site", "south", "site", "list"),
            "there is no site 'south' in this database: its sites are main",
        ),
        (("--site", "No Way", "site", "list"), "--site must be a site's code"),
        (("--site", "x" * 40, "site", "list"), "--site must be a site's code"),
        (("site", "add", "North", "North clinic", "--user", "admin"), "'North' is not a site code"),
        (("site", "add", "north", "North clinic", "--user", "nadia"), "add a site"),
    ],
    ids=["unknown site", "not a code", "too long", "capitals", "a manager"],
)
def test_a_site_that_cannot_be_is_refused_and_nothing_written(demo_db, argv, says):
    before = sites_and_chains(demo_db)[0]
    user = argv[argv.index("--user") + 1] if "--user" in argv else "sam"
    done = in_process("--db", demo_db, *argv, password=DEMO_PASSWORDS[user])
    assert done.returncode == 2 and says in done.stderr, done.stderr
    assert done.stdout == "" and sites_and_chains(demo_db)[0] == before


def test_a_manager_sends_sealed_containers_to_another_site(demo_db, monkeypatch):
    in_process(
        "--db", demo_db, "site", "add", "north", "North clinic", "--user", "admin",
        password=DEMO_PASSWORDS["admin"],
    )  # fmt: skip
    in_process(
        "--db", demo_db, "user", "sites", "nadia", "--add", "north", "--user", "admin",
        password=DEMO_PASSWORDS["admin"],
    )  # fmt: skip
    with sqlite3.connect(demo_db) as connection:
        lot, sealed = connection.execute(
            "SELECT lot.id, (on_hand_ul - open_ul) / container_volume_ul FROM lot "
            "JOIN product ON product.code = lot.product_code WHERE status = 'available' "
            "AND on_hand_ul - open_ul >= 2 * container_volume_ul ORDER BY lot.id LIMIT 1"
        ).fetchone()
    done = in_process(
        "--db", demo_db, "lot", "transfer", str(lot), "--to", "north", "--containers", "2",
        "--user", "nadia", password=DEMO_PASSWORDS["nadia"],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"lot {lot}: 2 containers sent to north (lot ")
    monkeypatch.setenv("MESOMIX_SITE", "north")
    shelf = in_process(
        "--db", demo_db, "stock", "--user", "nadia", password=DEMO_PASSWORDS["nadia"]
    )
    assert shelf.returncode == 0 and len(shelf.stdout.strip().splitlines()) >= 2
    too_many = in_process(
        "--db", demo_db, "lot", "transfer", str(lot), "--to", "main", "--containers", "1",
        "--user", "nadia", password=DEMO_PASSWORDS["nadia"],
    )  # fmt: skip
    assert too_many.returncode == 2 and "another site's shelves" in too_many.stderr
    assert sealed >= 2
    check = in_process("--db", demo_db, "check", password="")
    assert check.returncode == 0, check.stdout
