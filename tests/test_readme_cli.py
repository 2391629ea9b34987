"""The README's command line, run as written: each command of its first block, one after the
other, on a fresh data folder — the first as a real process, the rest through the program's
`main` with that process's environment and folder (a process costs a second and more to start,
and the process boundary is the first's and the other command-line tests' business) (the demo database made by the first that needs
it), in a folder holding the README's mixture file. Where a command's comment starts with its
answer ("250 mcg: …"), that is what it prints. The signed-in person's password is the demo's,
given as a script gives it (MESOMIX_PASSWORD), in place of the prompt.

The second block, every command with CAPITALS to replace, is checked against the parser: each
names a command that is there."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from mesomix.cli import main, parser
from tests.test_cli import DEMO_PASSWORDS, ROOT

pytestmark = pytest.mark.slow


def _section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## The command line")
    return text[start : text.index("\n## ", start + 1)]


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", _section(), re.DOTALL | re.MULTILINE)


def _commands(block: str) -> list[str]:
    """Each command of a block, its continued lines joined."""
    lines = block.replace("\\\n", " ").splitlines()
    return [c.strip() for c in lines if c.strip() and not c.strip().startswith("#")]


def test_every_command_of_the_readme_runs_as_written_on_a_fresh_data_folder(tmp_path):
    (mixture,) = _blocks("toml")
    work = tmp_path / "work"
    work.mkdir()
    (work / "mixture.toml").write_text(mixture, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESOMIX_") and k != "TZ"} | {
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    commands = _commands(_blocks("sh")[0])
    assert len(commands) >= 12
    for at, command in enumerate(commands):
        argv = shlex.split(command, comments=True)
        assert argv[0] == "mesomix", command
        user = argv[argv.index("--user") + 1] if "--user" in argv else None
        password = {"MESOMIX_PASSWORD": DEMO_PASSWORDS[user]} if user else {}
        if at == 0:  # the first as a real process, which makes the demo database
            done = subprocess.run(
                [sys.executable, "-m", "mesomix", *argv[1:]],
                capture_output=True, text=True, cwd=work, env=env | password, check=False,
                timeout=120,
            )  # fmt: skip
        else:  # the rest through `main` as that process would run it: a second less each
            done = as_a_process(argv[1:], env | password, work)
        assert (done.returncode, done.stderr) == (0, ""), command
        assert done.stdout.strip(), command
        answer = re.match(r"[^#]*#\s*(\d[^:;]*)[:;]", command)
        if answer:
            assert done.stdout.strip() == answer.group(1).strip(), command
    assert (tmp_path / "data" / "mesomix" / "demo.sqlite").exists()
    assert sorted(p.name for p in work.iterdir()) == [
        "allergies.json",
        "anchors.txt",
        "mixture.toml",
        "stock.xlsx",
    ]


def as_a_process(
    argv: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """`mesomix ARGV` through `main` in this process, with exactly the process's environment
    and folder, answering as the process would (its exit status, stdout and stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, value)
        patch.chdir(cwd)
        patch.setattr(sys, "stdin", io.StringIO(""))
        with contextlib.redirect_stderr(err):
            try:
                status = main(argv, out)
            except SystemExit as exited:
                status = exited.code
    return subprocess.CompletedProcess(argv, status, out.getvalue(), err.getvalue())


def _subcommands(command: object) -> dict[str, object]:
    for action in getattr(command, "_actions", ()):
        if action.__class__.__name__ == "_SubParsersAction":
            return dict(action.choices)
    return {}


def test_every_command_of_the_synopsis_is_one_the_parser_has():
    top = parser()
    commands = _commands(_blocks("sh")[1])
    assert len(commands) >= 20
    for command in commands:
        words = [w for w in command.split("#")[0].split() if w not in ("mesomix", "--demo")]
        level, path = top, []
        while (choices := _subcommands(level)) and words:
            names = words.pop(0).split("|")  # "unlock|deactivate|…": each one
            assert all(name in choices for name in names), f"{command}: {names}"
            path.append(names[0])
            level = choices[names[0]]
        assert path and not _subcommands(level), command
        known = {o for action in level._actions for o in action.option_strings}  # type: ignore[attr-defined]
        for option in re.findall(r"(?<![\w-])--[a-z][a-z-]*", command.split("#")[0]):
            assert option in known or option == "--demo", f"{command}: {option}"
