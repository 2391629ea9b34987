"""The audit trail as a person reads it (AuditTrailService): only who may view the audit, a
refusal itself recorded; a patient by reference; an anchor file that cannot be written refused
before anything is anchored."""

from __future__ import annotations

import pytest

from mesomix.domain.allergy import Allergy
from mesomix.services.errors import NotFound, PermissionDenied, ServiceError
from tests.factories import audit_rows


def test_only_who_may_view_the_audit_reads_it_and_a_refusal_is_recorded(clinic):
    for read in (
        lambda: clinic.audit.verify("sam"),
        lambda: clinic.audit.show("sam"),
        lambda: clinic.audit.anchor("sam"),
    ):
        with pytest.raises(PermissionDenied):
            read()
    denied = [row for row in audit_rows(clinic) if row.action == "denied"]
    assert len(denied) == 3 and all(row.user_name == "sam" for row in denied)
    assert clinic.audit.verify("nadia").intact


def test_rows_of_a_patient_are_found_by_reference(clinic):
    clinic.allergies.record("P-1", "drchen", Allergy(text="latex gloves"))
    lines = clinic.audit.show("nadia", patient_ref="P-1")
    assert [line.action for line in lines] == ["allergy.record"]
    with pytest.raises(NotFound, match="no patient with reference 'P-404'"):
        clinic.audit.show("nadia", patient_ref="P-404")


def test_an_anchor_file_that_cannot_be_written_anchors_nothing(clinic, tmp_path):
    with pytest.raises(ServiceError, match="permission denied"):  # its folder is not there
        clinic.audit.anchor("nadia", tmp_path / "gone" / "anchors.txt")
    assert not [row for row in audit_rows(clinic) if row.action == "audit.anchor"]
    head = clinic.audit.anchor("nadia", tmp_path / "anchors.txt")
    assert [row.id for row in audit_rows(clinic) if row.action == "audit.anchor"] == [head.row_id]
