"""`mesomix allergy import` then `allergy export`, as real processes: HL7's R4 examples come back
as they were given (but for the id mesomix gives each resource)."""

from __future__ import annotations

import json

from tests.domain.test_fhir_examples import SET_BY_MESOMIX, example, without
from tests.test_cli_acknowledge import db, mesomix  # noqa: F401 (fixtures)


def test_hl7_examples_through_the_command_line(db, tmp_path):  # noqa: F811
    added = mesomix(db, "patient", "add", "example", "--name", "Peter Chalmers", user="drchen")
    assert added.returncode == 0, added.stderr
    names = ["example", "medication", "fishallergy", "nkla"]
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": example(n)} for n in names]}  # fmt: skip
    path = tmp_path / "hl7.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    loaded = mesomix(db, "allergy", "import", str(path), "--patient", "example", user="drchen")
    assert loaded.returncode == 0, loaded.stderr
    assert "recorded 4 allergies for example" in loaded.stdout
    out = tmp_path / "out.json"
    exported = mesomix(db, "allergy", "export", "example", "--output", str(out), user="drchen")
    assert exported.returncode == 0, exported.stderr
    back = json.loads(out.read_text(encoding="utf-8"))
    assert [without(e["resource"], SET_BY_MESOMIX) for e in back["entry"]] == [
        without(example(n), SET_BY_MESOMIX) for n in names
    ]
