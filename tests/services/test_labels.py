"""A dispensed mixture's label again: the same words, saved whole as a file, or sent through the
terminal's own print command (a real `lp` script on PATH stands in for CUPS)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from mesomix.services.errors import NotFound, PermissionDenied, ServiceError
from tests.factories import mixture, receive

B12 = "cyanocobalamin_1000mcg_1ml_vial"


@pytest.fixture
def dispensed(clinic):
    receive(clinic, B12, "LBL001", 5)
    return clinic.mixtures.dispense(mixture(("cyanocobalamin", "500 mcg")), "sam")


def fake_printer(folder: Path, name: str, exit_code: int = 0, complaint: str = "") -> Path:
    """A print command that keeps what it was given: its arguments, then the text."""
    folder.mkdir(exist_ok=True)
    script = folder / name
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > "{folder}/{name}.args"\n'
        f'/bin/cat > "{folder}/{name}.text"\n'
        + (f'echo "{complaint}" >&2\n' if complaint else "")
        + f"exit {exit_code}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


def test_the_label_is_the_one_printed_at_dispensing(clinic, dispensed):
    label = clinic.labels.label("sam", dispensed.batch_id)
    assert label.text == dispensed.label and "LBL001" in label.text and "USE BY" in label.text
    assert clinic.labels.label("drchen", dispensed.batch_id).text == dispensed.label


def test_saved_whole_in_the_folder_named(clinic, dispensed, tmp_path):
    path = clinic.labels.save("sam", dispensed.batch_id, tmp_path / "labels")
    assert path == tmp_path / "labels" / f"batch-{dispensed.batch_id:06d}-label.txt"
    assert path.read_text(encoding="utf-8") == f"Batch {dispensed.batch_id}\n{dispensed.label}\n"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no part file left


def test_a_folder_that_cannot_be_written_is_named(clinic, dispensed, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ServiceError, match=r"the label could not be saved in .*a-file"):
        clinic.labels.save("sam", dispensed.batch_id, blocker)
    assert blocker.read_text() == "not a folder"


@pytest.mark.parametrize("batch_id", [0, -1, 999_999, 2**70])
def test_unknown_batches_are_refused(clinic, dispensed, batch_id):
    with pytest.raises(NotFound, match=f"no batch {batch_id}"):
        clinic.labels.label("sam", batch_id)


def test_a_manager_does_not_read_patients_labels(clinic, dispensed):
    with pytest.raises(PermissionDenied):
        clinic.labels.label("nadia", dispensed.batch_id)


def test_printed_through_lp_to_the_printer_chosen(clinic, dispensed, tmp_path, monkeypatch):
    bin_folder = fake_printer(tmp_path / "bin", "lp")
    monkeypatch.setenv("PATH", f"{bin_folder}:/usr/bin:/bin")
    clinic.labels.printer = "pharmacy-zebra"
    said = clinic.labels.send_to_printer("sam", dispensed.batch_id)
    assert said == f"label of batch {dispensed.batch_id} sent to printer pharmacy-zebra"
    args = (bin_folder / "lp.args").read_text().split()
    assert args[-2:] == ["-d", "pharmacy-zebra"] and "-t" in args
    assert (bin_folder / "lp.text").read_text(encoding="utf-8").endswith(dispensed.label + "\n")


def test_lpr_when_there_is_no_lp(clinic, dispensed, tmp_path, monkeypatch):
    bin_folder = fake_printer(tmp_path / "bin", "lpr")
    monkeypatch.setenv("PATH", str(bin_folder))
    said = clinic.labels.send_to_printer("sam", dispensed.batch_id)
    assert said.endswith("sent to the default printer")
    assert "-T" in (bin_folder / "lpr.args").read_text()


def test_a_printer_that_refuses_says_why(clinic, dispensed, tmp_path, monkeypatch):
    bin_folder = fake_printer(tmp_path / "bin", "lp", 1, "lp: The printer or class does not exist.")
    monkeypatch.setenv("PATH", str(bin_folder))
    with pytest.raises(ServiceError, match="the printer refused the label: lp: The printer or"):
        clinic.labels.send_to_printer("sam", dispensed.batch_id)


def test_no_print_command_says_to_save_instead(clinic, dispensed, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ServiceError, match=r"no print command \(lp or lpr\): save the label"):
        clinic.labels.send_to_printer("sam", dispensed.batch_id)
