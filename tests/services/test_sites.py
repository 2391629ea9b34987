"""Sites and their audit chains: each site's writes in its own chain, verified together,
tampering in any chain detected (and named), the heads anchored together, writes at one site not
waiting for another's chain (PostgreSQL), and the rows written before there were sites still
verifying after the upgrade."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from datetime import UTC, timedelta

import pytest
import sqlalchemy as sa
from alembic import command

from mesomix.bootstrap import Settings, build
from mesomix.db.engine import make_engine, writer
from mesomix.db.migrate import _config
from mesomix.domain.anchors import Anchor
from mesomix.services.audit import GENESIS, Entry, append, verify
from mesomix.services.errors import NotFound, PermissionDenied, ServiceError
from mesomix.services.uow import transaction
from tests.factories import PASSWORD, mixture, receive, seed_people, tamper_audit

B12 = "cyanocobalamin_1000mcg_1ml_vial"


def at(services, site: str):
    """Another terminal on the same database, working at `site`."""
    return build(
        Settings(database_url=services.settings.database_url, clock=services.clock, site=site)
    )


def chains(services) -> dict[int, list[int]]:
    """Each chain's places, in the order of the rows' ids."""
    with transaction(services.engine) as connection:
        rows = connection.execute(sa.text("SELECT chain, seq FROM audit ORDER BY id")).all()
    found: dict[int, list[int]] = {}
    for chain, seq in rows:
        found.setdefault(chain, []).append(seq)
    return found


@pytest.fixture
def two_sites(clinic):
    """The clinic at main, and a terminal at a second site, north, added by the admin."""
    north = clinic.sites.add("root", "north", "North clinic")
    assert (north.code, north.name) == ("north", "North clinic")
    for person in ("sam", "drchen", "nadia"):
        clinic.sites.assign("root", person, add=["north"])
    terminal = at(clinic, "north")
    yield clinic, terminal
    terminal.close()


def a_little_of_everything(services, lot_number: str) -> None:
    services.accounts.sign_in("sam", PASSWORD)
    receive(services, B12, lot_number, 5)
    services.mixtures.dispense(mixture(("cyanocobalamin", "1000 mcg")), "sam")


def test_a_new_database_has_its_first_site_and_only_an_admin_adds_another(clinic):
    assert [(s.code, s.name) for s in clinic.sites.sites()] == [("main", "Main clinic")]
    with pytest.raises(PermissionDenied):
        clinic.sites.add("nadia", "north", "North clinic")
    for code, name, says in [
        ("North", "North clinic", "not a site code"),
        ("", "x", "not a site code"),
        ("-x", "x", "not a site code"),
        ("a" * 33, "x", "not a site code"),
        ("north", "", "1 to 80 printable"),
        ("north", "x\ny", "1 to 80 printable"),
        ("main", "Again", "already a site 'main'"),
    ]:
        with pytest.raises(ServiceError, match=says):
            clinic.sites.add("root", code, name)
    assert [s.code for s in clinic.sites.sites()] == ["main"]
    with pytest.raises(NotFound, match="no site 'north' in this database: its sites are main"):
        at(clinic, "north")


def test_each_site_writes_its_own_chain_and_all_of_them_verify(two_sites):
    main, north = two_sites
    for day in range(3):  # interleaved, as two clinics work through a day
        a_little_of_everything(main, f"M{day}")
        a_little_of_everything(north, f"N{day}")
    by_chain = chains(main)
    assert set(by_chain) == {1, 2}
    for places in by_chain.values():  # each chain whole, in the order it was written
        assert places == list(range(1, len(places) + 1))
    verdict = verify(main.engine)
    assert verdict.intact and verdict.rows == sum(map(len, by_chain.values()))
    with transaction(main.engine) as connection:
        north_actions = connection.execute(
            sa.text("SELECT DISTINCT action FROM audit WHERE chain = 2")
        ).scalars()
        assert {"sign_in", "stock.receive", "dispense"} <= set(north_actions)


@pytest.mark.parametrize(
    ("statements", "says"),
    [
        (
            ["UPDATE audit SET reason = 'x' WHERE chain = 2 AND seq = 3"],
            "row 3 of site north's chain was edited",
        ),
        (
            ["DELETE FROM audit WHERE chain = 2 AND seq = 3"],
            "row 3 of site north's chain is missing",
        ),
        (
            [
                "UPDATE audit SET seq = -4 WHERE chain = 2 AND seq = 4",
                "UPDATE audit SET seq = 4 WHERE chain = 2 AND seq = 3",
                "UPDATE audit SET seq = 3 WHERE chain = 2 AND seq = -4",
            ],
            "row 3 of site north's chain does not follow row 2",
        ),
        (  # a row moved from one site's chain to the other's end
            [
                "UPDATE audit SET chain = 1, seq = (SELECT count FROM audit_head WHERE id = 1) + 1 "
                "WHERE chain = 2 AND seq = (SELECT count FROM audit_head WHERE id = 2)"
            ],
            "does not follow",
        ),
        (
            [
                "DELETE FROM audit WHERE chain = 2 AND seq >= (SELECT count FROM audit_head WHERE id = 2) - 1"
            ],
            "the chain of site north ends at row",
        ),
        (["UPDATE audit SET chain = 9 WHERE chain = 2"], "row 1 of site 9's chain was edited"),
    ],
    ids=["edited", "deleted", "reordered", "moved to another chain", "truncated", "chain renamed"],
)
def test_tampering_in_another_sites_chain_is_detected_and_named(two_sites, statements, says):
    main, north = two_sites
    a_little_of_everything(main, "M1")
    a_little_of_everything(north, "N1")
    a_little_of_everything(north, "N2")
    assert verify(main.engine).intact
    tamper_audit(main, *statements)
    verdict = verify(main.engine)
    assert not verdict.intact and says in verdict.problem, verdict.problem


def test_the_heads_are_anchored_together(two_sites):
    """A chain cut back with its head rewound verifies on its own; the anchor, written to the
    first site's chain with every head, still catches it."""
    main, north = two_sites
    a_little_of_everything(north, "N1")
    a_little_of_everything(main, "M1")
    head = main.audit.anchor("nadia")
    assert verify(main.engine, [head]).intact
    with transaction(main.engine) as connection:
        count, last_id = connection.execute(
            sa.text("SELECT count, last_id FROM audit_head WHERE id = 2")
        ).one()
        before = connection.execute(
            sa.text("SELECT id, hash FROM audit WHERE chain = 2 AND seq = :seq"), {"seq": count - 1}
        ).one()
    tamper_audit(
        main,
        f"DELETE FROM audit WHERE id = {last_id}",
        f"UPDATE audit_head SET count = {count - 1}, last_id = {before.id}, "
        f"last_hash = '{before.hash}' WHERE id = 2",
    )
    assert verify(main.engine).intact  # the cut alone is not seen
    verdict = verify(main.engine, [head])
    assert not verdict.intact
    (why,) = verdict.anchor_problems
    assert f"row {count} of site north's chain, whose hash the anchored row recorded" in why


def hash_as_0015_did(row: dict[str, object]) -> str:
    """A row's hash as mesomix computed it before there were sites: no chain, no place."""
    content = dict(row)
    content["at"] = row["at"].astimezone(UTC).isoformat(timespec="microseconds")  # type: ignore[union-attr]
    text = json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()


def test_rows_written_before_there_were_sites_still_verify_and_their_anchors_hold(tmp_path, clock):
    """A database of revision 0015: its rows hashed without chain or place. Upgraded, the chain
    verifies, an anchor taken before still holds, and new rows follow on."""
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = make_engine(url)
    with writer(engine).begin() as connection:
        command.upgrade(_config(connection), "0015")
    previous, when = GENESIS, clock.now() - timedelta(days=3)
    old: list[dict[str, object]] = []
    for row_id in range(1, 6):
        row: dict[str, object] = {
            "id": row_id, "at": when + timedelta(minutes=row_id), "user_id": None,
            "user_name": "root", "action": "old.work", "record_type": "", "record_id": "",
            "patient_id": None, "lot_id": None, "old": None, "new": {"n": row_id},
            "reason": "", "prev_hash": previous,
        }  # fmt: skip
        row["hash"] = previous = hash_as_0015_did(row)
        old.append(row)
    with writer(engine).begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO audit (id, at, user_id, user_name, action, record_type, record_id, "
                "patient_id, lot_id, old, new, reason, prev_hash, hash) VALUES (:id, :at, "
                ":user_id, :user_name, :action, :record_type, :record_id, :patient_id, :lot_id, "
                ":old, :new, :reason, :prev_hash, :hash)"
            ),
            [
                {**r, "at": r["at"].replace(tzinfo=None), "new": f'{{"n": {r["id"]}}}'}  # type: ignore[union-attr]
                for r in old
            ],
        )
        connection.execute(
            sa.text("UPDATE audit_head SET last_id = 5, count = 5, last_hash = :h WHERE id = 1"),
            {"h": previous},
        )
    engine.dispose()
    kept = Anchor(5, str(previous), old[-1]["at"])  # type: ignore[arg-type]

    services = build(Settings(database_url=url, clock=clock))  # the upgrade, as a start does it
    try:
        assert verify(services.engine, [kept]).intact
        with transaction(services.engine, write=True) as connection:
            append(connection, clock.now(), Entry("new.work"))
        assert chains(services) == {1: [1, 2, 3, 4, 5, 6]}
        assert verify(services.engine, [kept]).intact
    finally:
        services.close()


def test_on_postgresql_a_site_writes_while_another_sites_chain_is_held(postgres, clock):
    """The point of a chain per site: a transaction at main holding main's chain head does not
    hold up a write at north; both chains verify, every id unique."""
    url = postgres.create_database("sites")
    main = build(Settings(database_url=url, clock=clock))
    seed_people(main)
    main.sites.add("root", "north", "North clinic")
    for person in ("sam", "nadia"):
        main.sites.assign("root", person, add=["north"])
    north = at(main, "north")
    try:
        holding, release = threading.Event(), threading.Event()

        def hold_main_chain() -> None:
            with transaction(main.engine, write=True) as connection:
                append(connection, clock.now(), Entry("held"))  # main's head locked till commit
                holding.set()
                release.wait(30)

        holder = threading.Thread(target=hold_main_chain)
        holder.start()
        assert holding.wait(30)
        started = time.monotonic()
        receive(north, B12, "N1", 3)  # a receipt at north: a movement and north's chain
        took = time.monotonic() - started
        release.set()
        holder.join(30)
        assert took < 2, f"north's write waited {took:.1f} s for main's chain"
        a_little_of_everything(main, "M1")
        a_little_of_everything(north, "N2")
        assert verify(main.engine).intact
        with transaction(main.engine) as connection:
            ids = connection.execute(sa.text("SELECT id FROM audit")).scalars().all()
        assert len(ids) == len(set(ids))
        assert set(chains(main)) == {1, 2}
    finally:
        north.close()
        main.close()


def test_people_work_at_their_sites_and_an_admin_says_which(clinic):
    """Someone not listed at a site is refused there — signing in (once the password is right,
    so a wrong one still only counts), acting, dispensing — each refusal audited; an admin adds
    the site, or every site (a chain's manager); an account made at a site works there."""
    clinic.sites.add("root", "north", "North clinic")
    north = at(clinic, "north")
    try:
        from mesomix.services.accounts import SignInRefused

        with pytest.raises(SignInRefused, match="wrong user name or password"):
            north.accounts.sign_in("sam", "not sam's password")
        told = r"sam does not work at North clinic \(north\): an admin adds it to them \(mesomix user sites sam --add north\)"
        with pytest.raises(SignInRefused, match=told):
            north.accounts.sign_in("sam", PASSWORD)
        with pytest.raises(
            PermissionDenied, match=r"nadia does not work at North clinic \(north\)"
        ):
            receive(north, B12, "N-1", 2)
        with pytest.raises(PermissionDenied, match=r"sam does not work at North clinic \(north\)"):
            north.mixtures.dispense(mixture(("cyanocobalamin", "1000 mcg")), "sam")
        with transaction(clinic.engine) as connection:
            trail = connection.execute(
                sa.text("SELECT action, user_name FROM audit WHERE chain = 2 ORDER BY seq")
            ).all()
        assert [tuple(row) for row in trail][-3:] == [
            ("sign_in.refused", "sam"), ("denied", "nadia"), ("denied", "sam"),
        ]  # fmt: skip
        assert clinic.sites.assign("root", "nadia", add=["north"])[1][-1].code == "north"
        receive(north, B12, "N-1", 2)
        everywhere, listed = clinic.sites.assign("root", "sam", everywhere=True)
        assert everywhere and [site.code for site in listed] == ["main"]
        assert north.accounts.sign_in("sam", PASSWORD).name == "sam"
        north.mixtures.dispense(mixture(("cyanocobalamin", "1000 mcg")), "sam")
        clinic.sites.assign("root", "nadia", remove=["main"])
        with pytest.raises(PermissionDenied, match=r"nadia does not work at Main clinic \(main\)"):
            clinic.stock.lots("nadia")
        north.accounts.create_user("root", "lea", "Léa", "staff", "another long password")
        assert clinic.sites.of_person("root", "lea") == (False, clinic.sites.sites()[1:])
        with pytest.raises(NotFound, match="no site 'south'"):
            clinic.sites.assign("root", "lea", add=["south"])
        with pytest.raises(PermissionDenied):
            clinic.sites.assign("nadia", "lea", add=["main"])
    finally:
        north.close()
