"""The hostile corpus through the command line: every argument and file field that takes text.

`mesomix.cli.main` runs in this process, as tests/test_cli.py runs it, on one database for the
module; a handful of real processes follow. Exit status 2 with a message on stderr (status 1 with
the blocking findings for `mix check`) is a refusal and must write nothing; status 0 is an
acceptance and must store what was typed. No traceback, no other status, no exception.

For speed, while the corpus runs the argument parser is built once (argparse keeps no state
between parses), `build` hands back the program already built on the module's database (each
command still signs in and runs as shipped), and argon2id runs at its smallest cost. The real
processes at the end use none of that.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

import mesomix.cli
from mesomix.bootstrap import Services, Settings, build
from mesomix.db.tables import LotRow, MovementRow, PatientRow, ProductRow, UserRow
from mesomix.services.uow import unit_of_work
from tests.factories import PASSWORD, receive, seed_people
from tests.hostile import Hostile, corpus
from tests.hostile.harness import (
    NotApplicable,
    Point,
    Refused,
    dump_failures,
    message_problems,
    quick_passwords,
    report,
    run_points,
)

ROOT = Path(__file__).resolve().parents[2]
LIDOCAINE = "lidocaine_2pct_2ml_amp"
SALINE = "sodium_chloride_09_10ml_vial"
MULTI_DOSE = "xylocaine_1pct_10ml_mdv"


@dataclass(frozen=True)
class Clinic:
    db: str
    services: Services
    folder: Path

    def built(self, settings: Settings) -> Services:
        """The clinic's program, built once: every command runs on it."""
        return {self.services.settings.database_url: self.services}[settings.database_url]


@pytest.fixture(scope="module")
def clinic(tmp_path_factory) -> Iterator[Clinic]:
    folder = tmp_path_factory.mktemp("hostile-cli")
    db = folder / "cli.sqlite"
    with quick_passwords(), pytest.MonkeyPatch.context() as patch:
        services = build(Settings(database_url=f"sqlite:///{db}"))
        seed_people(services)
        for name, _display, _role in (("sam", 0, 0), ("drchen", 0, 0), ("nadia", 0, 0), ("root", 0, 0)):  # fmt: skip
            services.accounts.sign_in(name, PASSWORD)  # rehashed once at the quick cost
        for code, lot, containers in ((LIDOCAINE, "C-LIDO", 3_000), (SALINE, "C-SAL", 3_000), (MULTI_DOSE, "C-MDV", 500)):  # fmt: skip
            receive(services, code, lot, containers)
        services.accounts.create_user("root", "victim", "Vic Tim", "staff", PASSWORD)
        parser = mesomix.cli.parser()
        patch.setattr(mesomix.cli, "parser", lambda: parser)
        yield Clinic(str(db), services, folder)
        services.close()


def cli(clinic: Clinic, *argv: str, password: str = PASSWORD, new_password: str | None = None):
    """One command in this process: (status, stdout, stderr)."""
    for text in (*argv, password, new_password or ""):
        try:
            os.fsencode(text)  # what an argument or a variable can hold: no NUL, no \ud800
        except (UnicodeEncodeError, ValueError):
            raise NotApplicable from None
        if "\x00" in text:
            raise NotApplicable
    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in ("MESOMIX_PASSWORD", "MESOMIX_NEW_PASSWORD")}
    os.environ["MESOMIX_PASSWORD"] = password
    if new_password is not None:
        os.environ["MESOMIX_NEW_PASSWORD"] = new_password
    try:
        with contextlib.redirect_stderr(err):
            try:
                status = mesomix.cli.main(["--db", clinic.db, *argv], out, build=clinic.built)
            except SystemExit as exited:  # argparse's own refusals
                status = exited.code
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None)
            if value is not None:
                os.environ[key] = value
    return status, out.getvalue(), err.getvalue()


def outcome(result, *, blocked_is_refusal: bool = False):
    """Exit status 2 (or 1 for a blocked check) is a refusal with its message; 0 an acceptance."""
    status, out, err = result
    if status == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        message = lines[-1] if lines else ""
        if not message.startswith("mesomix: "):
            return Refused(f"stderr does not end with a mesomix message: {err[-200:]!r}")
        return Refused(message.removeprefix("mesomix: ").removeprefix("error: "))
    if status == 1 and blocked_is_refusal:
        blocks = [line for line in out.splitlines() if "BLOCK:" in line]
        return Refused(" / ".join(blocks) if blocks else f"exit 1 without a BLOCK line: {out!r}")
    if status != 0:
        raise AssertionError(f"exit status {status}: {err[-300:]!r}")
    return out, err


def toml_string(text: str) -> str:
    """A TOML basic string holding `text` exactly (controls escaped)."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def write(clinic: Clinic, name: str, text: str) -> str:
    """A file as a person saves it; text no UTF-8 file can hold (lone surrogates) is written as the
    invalid bytes a confused editor would leave."""
    path = clinic.folder / name
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return str(path)


def mixture_file(clinic: Clinic, **fields: str) -> str:
    values = {
        "patient": "P-1",
        "final_volume": "5 mL",
        "what": "lidocaine",
        "amount": "20 mg",
    }
    values.update(fields)
    head = [f"{key} = {toml_string(values[key])}" for key in ("patient", "final_volume")]
    head += [f"{key} = {toml_string(values[key])}" for key in ("prescriber", "purpose") if key in values]  # fmt: skip
    body = ["[[ingredient]]", f"what = {toml_string(values['what'])}", f"amount = {toml_string(values['amount'])}"]  # fmt: skip
    return write(clinic, "mixture.toml", "\n".join([*head, *body]) + "\n")


def csv_file(clinic: Clinic, header: list[str], row: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows([header, row])
    return write(clinic, "import.csv", out.getvalue())


def _one(services: Services, query):
    with unit_of_work(services.engine) as session:
        return session.exec(query).first()


def _hostile_quantity(entry: Hostile) -> bool:
    return entry.amount is None


UNIQUE = itertools.count(1)


def points(c: Clinic) -> list[Point]:
    s = c.services
    n = UNIQUE  # numbers for references, codes and lot numbers never used before
    mdv = _one(s, select(LotRow).where(LotRow.lot_number == "C-MDV"))
    statuses = _other_status(s, mdv.id)  # a change to the status the lot has is refused

    def check(**fields: str):
        return outcome(cli(c, "mix", "check", mixture_file(c, **fields), "--user", "sam"), blocked_is_refusal=True)  # fmt: skip

    def patient(ref: str, name: str, *, weight: str = ""):
        return outcome(cli(c, "patient", "add", ref, "--name", name, "--weight", weight, "--user", "drchen"))  # fmt: skip

    def stored_patient(entry: Hostile, ref: str, field: str, expected) -> str | None:
        row = _one(s, select(PatientRow).where(PatientRow.ref == ref))
        if row is None:
            return f"no patient {ref!r}"
        got = getattr(row, field)
        return (
            None if got == expected else f"{field} stored as {got!r:.60}, typed {entry.text!r:.60}"
        )

    def last_note(entry: Hostile, _out) -> str | None:
        row = _one(s, select(MovementRow).order_by(MovementRow.id.desc()))
        return None if row.note == entry.text.strip() else f"note stored as {row.note!r:.60}"

    def unlock_victim(_entry: Hostile) -> None:
        with unit_of_work(s.engine, write=True) as session:
            session.execute(sa.update(UserRow).where(UserRow.name == "victim").values(failed_attempts=0, locked_until=None))  # fmt: skip

    def fhir(text: str) -> str:
        resource = {
            "resourceType": "AllergyIntolerance",
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "code": {"text": text},
            "note": [{"text": text}],
            "patient": {"reference": "Patient/P-1"},
        }
        return write(c, "allergy.json", json.dumps(resource))

    product_header = ["code", "name", "container", "container_volume", "source", "strengths"]
    stock_header = ["product", "lot_number", "expiry", "containers"]
    expiry = (s.clock.today().replace(year=s.clock.today().year + 1)).isoformat()
    uncached = s.catalog.invalidate

    def products(path: str):
        s.catalog.invalidate = lambda: None  # see the service-level corpus: no reload per row
        try:
            return outcome(cli(c, "import", "products", path, "--user", "nadia"))
        finally:
            s.catalog.invalidate = uncached

    def product_named(entry: Hostile, _out) -> str | None:
        row = _one(s, select(ProductRow).where(ProductRow.name == entry.text.strip()))
        return None if row else "no product under the name as typed"

    quantity = ("amount", "quantity", "volume", "mg", "mL", "unit", "number")
    csv_problem = ("row", "file", "CSV", "column")
    # text no UTF-8 file can hold (lone surrogates) makes the file unreadable; a value of a
    # million characters makes it larger than a mixture file may be
    file = ("UTF-8", "mixture file")
    return [
        Point("convert: amount", lambda e: outcome(cli(c, "convert", e.text, "--substance", "cholecalciferol", "--to", "mcg")),
              None, quantity, must_refuse=_hostile_quantity),
        Point("convert: --substance", lambda e: outcome(cli(c, "convert", "5 mg", "--substance", e.text, "--to", "mg")),
              None, ("substance",)),
        Point("convert: --product", lambda e: outcome(cli(c, "convert", "5 mg", "--product", e.text, "--to", "mL")),
              None, ("product",)),
        Point("convert: --to", lambda e: outcome(cli(c, "convert", "5 mg", "--substance", "biotin", "--to", e.text)),
              None, ("--to", "unit")),
        Point("mix check: amount", lambda e: check(amount=e.text), None, (*quantity, "lidocaine", *file),
              must_refuse=_hostile_quantity),
        Point("mix check: final_volume", lambda e: check(final_volume=e.text), None, ("final volume", *file)),
        Point("mix check: what", lambda e: check(what=e.text), None, ("ingredient", "substance", *file)),
        Point("mix check: patient", lambda e: check(patient=e.text), None, ("patient", *file)),
        Point("mix check: prescriber", lambda e: check(prescriber=e.text), None, ("practitioner", *file)),
        Point("mix check: the file", lambda e: outcome(cli(c, "mix", "check", write(c, "raw.toml", e.text), "--user", "sam"), blocked_is_refusal=True),
              None, ("TOML", "ingredient", "key", "UTF-8")),
        Point("mix dispense: amount",
              lambda e: outcome(cli(c, "mix", "dispense", mixture_file(c, amount=e.text), "--user", "sam")),
              None, (*quantity, "lidocaine"), frozenset({"lot", "movement", "batch", "batch_line"}),
              must_refuse=_hostile_quantity),
        Point("patient add: REF", lambda e: patient(e.text, "Hostile Reference"),
              lambda e, _o: stored_patient(e, e.text.strip(), "name", "Hostile Reference"), ("reference",),
              frozenset({"patient"})),
        Point("patient add: --name", lambda e: patient(f"CN-{next(n)}", e.text),
              lambda e, _o: None if _one(s, select(PatientRow).where(PatientRow.name == e.text.strip())) else "no patient of that name",
              ("name",), frozenset({"patient"})),
        Point("patient add: --weight", lambda e: patient(f"CW-{next(n)}", "Weighed", weight=e.text),
              None, ("weight",), frozenset({"patient"})),
        Point("patient weight: WEIGHT", lambda e: outcome(cli(c, "patient", "weight", "P-1", e.text, "--user", "drchen")),
              None, ("weight",), frozenset({"patient"})),
        Point("patient weight: REF", lambda e: outcome(cli(c, "patient", "weight", e.text, "70 kg", "--user", "drchen")),
              None, ("reference", "patient"), frozenset({"patient"})),
        Point("lot adjust: --add", lambda e: outcome(cli(c, "lot", "adjust", str(mdv.id), "--add", e.text, "--reason", "found", "--user", "nadia")),
              None, quantity, frozenset({"lot", "movement"}), must_refuse=_hostile_quantity),
        Point("lot adjust: --note", lambda e: outcome(cli(c, "lot", "adjust", str(mdv.id), "--add", "0.01 mL", "--reason", "found", "--note", e.text, "--user", "nadia")),
              last_note, ("note",), frozenset({"lot", "movement"})),
        Point("lot adjust: LOT_ID", lambda e: outcome(cli(c, "lot", "adjust", e.text, "--add", "1 mL", "--reason", "found", "--user", "nadia")),
              None, ("lot_id", "lot", "int"), frozenset({"lot", "movement"})),
        Point("lot count: --open", lambda e: outcome(cli(c, "lot", "count", str(mdv.id), "--sealed", str(_one(s, select(LotRow).where(LotRow.id == mdv.id)).on_hand_ul // 10_000), "--open", e.text, "--reason", "miscount_previously", "--user", "nadia")),
              None, ("open vial", "open volume", "opened container", *quantity), frozenset({"lot", "movement"})),
        Point("lot status: --reason", lambda e: outcome(cli(c, "lot", "status", str(mdv.id), next(statuses), "--reason", e.text, "--user", "nadia")),
              None, ("reason", "why"), frozenset({"lot"})),
        Point("allergy import: FHIR text", lambda e: outcome(cli(c, "allergy", "import", fhir(e.text), "--patient", "P-1", "--user", "drchen")),
              None, ("text", "note", "code", "JSON", "allergy"), frozenset({"allergy"})),
        Point("allergy import: the file", lambda e: outcome(cli(c, "allergy", "import", write(c, "raw.json", e.text), "--patient", "P-1", "--user", "drchen")),
              None, ("JSON", "resource", "UTF-8"), frozenset({"allergy"})),
        Point("import products: name", lambda e: products(csv_file(c, product_header, [f"cli_{next(n)}", e.text, "single_dose", "1 mL", "src", "biotin 5 mg/mL"])),
              product_named, ("name", *csv_problem), frozenset({"product"})),
        Point("import products: the file", lambda e: products(write(c, "raw.csv", e.text)),
              None, (*csv_problem, "UTF-8", "empty"), frozenset({"product"})),
        Point("import stock: lot_number", lambda e: outcome(cli(c, "import", "stock", csv_file(c, stock_header, [SALINE, e.text, expiry, "1"]), "--user", "nadia")),
              None, ("lot_number", *csv_problem), frozenset({"lot", "movement"})),
        Point("user create: NAME", lambda e: outcome(cli(c, "user", "create", e.text, "--display-name", "Hostile", "--role", "staff", "--user", "root", new_password=PASSWORD)),
              None, ("user name",), frozenset({"user_account", "user_site"})),
        Point("user create: --display-name", lambda e: outcome(cli(c, "user", "create", f"cli{next(n)}", "--display-name", e.text, "--role", "staff", "--user", "root", new_password=PASSWORD)),
              None, ("display name",), frozenset({"user_account", "user_site"})),
        Point("user create: password", lambda e: outcome(cli(c, "user", "create", f"pw{next(n)}", "--display-name", "P", "--role", "staff", "--user", "root", new_password=e.text)),
              None, ("password",), frozenset({"user_account", "user_site"})),
        Point("sign in: --user", lambda e: outcome(cli(c, "stock", "--user", e.text)), None, ("user name",)),
        Point("sign in: password", lambda e: outcome(cli(c, "stock", "--user", "victim", password=e.text)),
              None, ("password",), refusal_writes=frozenset({"user_account"}), prepare=unlock_victim),
        Point("audit show: --by", lambda e: outcome(cli(c, "audit", "show", "--by", e.text, "--user", "nadia")), None, ("user",)),
        Point("audit show: --patient", lambda e: outcome(cli(c, "audit", "show", "--patient", e.text, "--user", "nadia")),
              None, ("patient",)),
        Point("audit show: --since", lambda e: outcome(cli(c, "audit", "show", "--since", e.text, "--user", "nadia")),
              None, ("date", "since")),
        Point("report: NAME", lambda e: outcome(cli(c, "report", e.text, "--user", "nadia")), None, ("name", "choice")),
        Point("report: --period", lambda e: outcome(cli(c, "report", "usage", "--period", e.text, "--user", "nadia")),
              None, ("period", "choice")),
    ]  # fmt: skip


# Bugs of mesomix/cli.py this corpus found and that are still open: the entry points where each
# shows, and how its failures read. Each must still be seen where it shows — when one is fixed,
# its entry here must go. (The five found first are fixed.)
KNOWN_CLI_BUGS: dict[str, tuple[tuple[str, ...], Callable[[str], bool]]] = {}


def known_cli_bug(failure: str) -> str | None:
    point = failure.split(" ← ", 1)[0]
    return next(
        (bug for bug, (where, seen) in KNOWN_CLI_BUGS.items() if point in where and seen(failure)),
        None,
    )


# Two halves, so that two test workers share the run.
HALVES = {
    "quantities, mixtures, patients and lots": ("convert", "mix check", "mix dispense", "patient add", "patient weight", "lot adjust", "lot count", "lot status"),
    "imports, accounts, audit and reports": ("allergy import", "import products", "import stock", "user create", "sign in", "audit show", "report"),
}  # fmt: skip


def test_every_command_line_entry_point_is_in_a_half(clinic):
    names = [point.name.split(":")[0] for point in points(clinic)]
    assert sorted(n for n in names for half in HALVES.values() if n in half) == sorted(names)


@pytest.mark.slow
@pytest.mark.parametrize("half", list(HALVES))
def test_every_hostile_input_through_the_command_line(clinic, half):
    chosen = [point for point in points(clinic) if point.name.split(":")[0] in HALVES[half]]
    with quick_passwords():
        tallies = run_points(chosen, clinic.services.engine)
    total, table = report(tallies, f"command line, {half}")
    here = {p.name for p in chosen}
    known = {bug: 0 for bug, (where, _) in KNOWN_CLI_BUGS.items() if here & set(where)}
    unknown = []
    for failure in total.failures:
        bug = known_cli_bug(failure)
        if bug is None:
            unknown.append(failure)
        else:
            known[bug] += 1
    if known:
        table += "\nknown bugs of cli.py (reported, not this suite's to fix):\n" + "\n".join(
            f"  {n:>4} × {bug}" for bug, n in known.items()
        )
    print(table)
    dump_failures(unknown)
    assert not unknown, table + "\n" + "\n".join(unknown[:80])
    fixed = [bug for bug, n in known.items() if not n]
    assert not fixed, f"fixed, so remove from KNOWN_CLI_BUGS: {fixed}"
    assert clinic.services.stock.discrepancies() == []


# --- a few real processes: what a terminal really sends ----------------------------------------


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ([b"convert", b"5 \xff\xfe", b"--substance", b"biotin", b"--to", b"mg"], "U+DCFF"),
        ([b"patient", b"weight", b"P-\xff", b"70 kg", b"--user", b"drchen"], "no patient"),
    ],
)
def test_hostile_bytes_from_a_real_terminal(clinic, argv, says):
    """Arguments arrive as bytes: invalid UTF-8 becomes lone surrogates in Python's argv."""
    env = {**os.environ, "MESOMIX_PASSWORD": PASSWORD}
    done = subprocess.run(
        [sys.executable.encode(), b"-m", b"mesomix", b"--db", clinic.db.encode(), *argv],
        capture_output=True,
        cwd=ROOT,
        env=env,
        check=False,
        timeout=60,
    )
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 2, err
    assert "Traceback" not in err and says in err, err
    assert err.startswith("mesomix: ") and b"\x1b" not in done.stderr
    assert not message_problems(err.removeprefix("mesomix: "), corpus()[0], (), 1_000)


def _other_status(services, lot_id: int):
    """Endlessly, the status the lot does not have now (quarantined or available)."""
    while True:
        now = services.inventory.lot_ref("nadia", lot_id).status
        yield "available" if now == "quarantined" else "quarantined"
