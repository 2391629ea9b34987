"""An older database is brought up to date on start without losing a row."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from mesomix.bootstrap import Settings, build
from mesomix.db.engine import make_engine, writer
from mesomix.db.migrate import _config, current_revision, head_revision
from mesomix.db.repositories.patients import patient_facts
from mesomix.services.uow import transaction


def patient_facts_of(services, ref):
    with transaction(services.engine) as connection:
        return patient_facts(connection, ref)


def test_a_0001_database_with_data_upgrades_and_keeps_every_row(tmp_path, clock):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = make_engine(url)
    with writer(engine).begin() as connection:
        command.upgrade(_config(connection), "0001")
    with writer(engine).begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO patient (ref, name, sex, notes, created_at) VALUES ('P-9', 'Old Patient', 'female', '', '2026-01-01 00:00:00')"
            )
        )
        connection.execute(sa.text(
            "INSERT INTO allergy (patient_id, text, clinical_status, verification, criticality, reaction, reaction_severity, note) "
            "VALUES (1, 'peanut', 'active', 'confirmed', 'high', 'anaphylaxis', 'severe', 'from the 0001 era')"
        ))  # fmt: skip
    engine.dispose()
    assert current_revision(make_engine(url)) == "0001"

    services = build(Settings(database_url=url, clock=clock))  # what starting mesomix does
    assert current_revision(services.engine) == head_revision()
    patient, facts = patient_facts_of(services, "P-9")
    (allergy,) = facts.allergies
    assert (patient.ref, allergy.text, allergy.note) == ("P-9", "peanut", "from the 0001 era")
    assert [(r.manifestation, r.severity) for r in allergy.reactions] == [("anaphylaxis", "severe")]
    assert allergy.tolerated == ()
    services.close()


def test_the_upgrade_also_runs_on_postgresql(postgres, clock):
    url = postgres.create_database("upgrade")
    engine = make_engine(url)
    with writer(engine).begin() as connection:
        command.upgrade(_config(connection), "0001")
        connection.execute(
            sa.text(
                "INSERT INTO patient (ref, name, sex, notes, created_at) VALUES ('P-9', 'Old', 'f', '', now())"
            )
        )
        connection.execute(sa.text(
            "INSERT INTO allergy (patient_id, text, clinical_status, verification, criticality, reaction, reaction_severity, note) "
            "VALUES (1, 'latex', 'active', 'confirmed', 'high', 'hives', 'mild', '')"
        ))  # fmt: skip
    engine.dispose()
    services = build(Settings(database_url=url, clock=clock))
    _, facts = patient_facts_of(services, "P-9")
    assert [(r.manifestation, r.severity) for r in facts.allergies[0].reactions] == [
        ("hives", "mild")
    ]
    services.close()


def test_a_database_with_dispensed_batches_goes_down_and_up_again_keeping_every_row(services):
    """Migrations that rebuild `batch` on SQLite must not trip over the rows pointing at it."""
    from mesomix.db.migrate import downgrade, migrate
    from mesomix.services.demo import load_demo
    from tests.factories import snapshot

    load_demo(services)
    before = {
        name: rows
        for name, rows in snapshot(services).items()
        if name in ("batch_line", "movement", "lot")
    }
    assert before["batch_line"]
    downgrade(services.engine, "0005")
    assert current_revision(services.engine) == "0005"
    assert migrate(services.engine)
    after = snapshot(services)
    # a batch line's `verified` (0014) is dropped going down: it comes back unknown ("")
    before["batch_line"] = [(*row[:-1], "") for row in before["batch_line"]]
    assert {name: after[name] for name in before} == before
    with services.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # back on


def test_the_head_read_from_the_migration_files_is_alembics(tmp_path):
    """Every start reads the newest revision without Alembic (db/migrate.py): it must be the
    one Alembic would migrate to, and a database never migrated is at none."""
    from alembic.script import ScriptDirectory

    assert head_revision() == ScriptDirectory.from_config(_config()).get_current_head()
    assert current_revision(make_engine(f"sqlite:///{tmp_path / 'new.sqlite'}")) is None
