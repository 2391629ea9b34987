"""The program a command works on, and the passwords it asks for: at the prompt, or (for
scripts) from an environment variable."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from mesomix.bootstrap import Services, build_services
from mesomix.options import BadInput, settings_from
from mesomix.services.passwords import PASSWORD_RULE


def services(args: argparse.Namespace) -> Services:
    """The program on the chosen database (built by `args.build`, which `main` sets), with the
    acting person signed in if there is one; `--demo` fills the demo database on first use."""
    built = build_services(
        settings_from(args), demo=args.demo and args.command != "demo", build=args.build
    )
    if getattr(args, "actor", None):
        built.accounts.sign_in(args.actor, password(f"password of {args.actor}: "))
    return built


def password(prompt: str, variable: str = "MESOMIX_PASSWORD") -> str:
    """A password typed at the prompt, or (for scripts) from an environment variable."""
    if variable in os.environ:
        return os.environ[variable]
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    raise BadInput(f"a password is needed: type it at the prompt, or set {variable} for a script")


def new_password(name: str) -> str:
    """A new password, typed twice at the prompt after its rule (or MESOMIX_NEW_PASSWORD for a
    script)."""
    if "MESOMIX_NEW_PASSWORD" not in os.environ:
        print(PASSWORD_RULE, file=sys.stderr)
    first = password(f"new password for {name}: ", "MESOMIX_NEW_PASSWORD")
    if "MESOMIX_NEW_PASSWORD" not in os.environ and getpass.getpass("again: ") != first:
        raise BadInput("the two passwords differ")
    return first


def signing_password(signed_by: str, from_stdin: bool) -> str:
    """The password of the practitioner who signs overrides: a line of standard input when
    asked for, else the prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if sys.stdin.isatty():
        return getpass.getpass(f"password of {signed_by} (signature): ")
    raise BadInput(
        "the practitioner's password is needed: type it at the prompt or use --password-stdin"
    )
