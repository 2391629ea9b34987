"""`mesomix user …`: accounts, the first admin, then the admin's work."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, TextIO

from mesomix.cli.arguments import acting, group
from mesomix.cli.signin import new_password, services
from mesomix.services.accounts import ROLES, AccountService


def register(commands: Any) -> None:
    user_commands = group(
        commands, "user", "accounts: the first admin, then the admin's work", "user_command"
    )
    first = user_commands.add_parser("create-admin", help="the first admin of a new database")
    first.add_argument("name")
    first.add_argument("--display-name", required=True)
    first.set_defaults(run=run_create_admin)
    create = user_commands.add_parser("create", help="a new account (admin only)")
    create.add_argument("name")
    create.add_argument("--display-name", required=True)
    create.add_argument("--role", required=True, choices=ROLES)
    create.set_defaults(run=_done(_create))
    for verb, words, change in (
        ("unlock", "after failed sign-ins", _named(AccountService.unlock)),
        ("deactivate", "no more sign-ins", _named(AccountService.deactivate)),
        ("reactivate", "sign-ins again", _named(AccountService.reactivate)),
        ("reset-password", "a new password", _reset_password),
    ):
        one = user_commands.add_parser(verb, help=words)
        one.add_argument("name")
        acting(one)
        one.set_defaults(run=_done(change))
    acting(create)
    role = user_commands.add_parser("role", help="change what an account may do")
    role.add_argument("name")
    role.add_argument("--role", required=True, choices=ROLES)
    acting(role)
    role.set_defaults(run=_done(_set_role))
    listing = user_commands.add_parser("list", help="every account (admin only)")
    acting(listing)
    listing.set_defaults(run=run_list)
    where = user_commands.add_parser("sites", help="the sites a person works at (admin only)")
    where.add_argument("name")
    where.add_argument("--add", action="append", default=[], metavar="SITE")
    where.add_argument("--remove", action="append", default=[], metavar="SITE")
    every = where.add_mutually_exclusive_group()
    every.add_argument(
        "--everywhere", action="store_true", default=None, help="every site (a chain's manager)"
    )
    every.add_argument(
        "--listed", action="store_false", dest="everywhere", help="only the sites listed"
    )
    acting(where)
    where.set_defaults(run=run_sites)


def run_create_admin(args: argparse.Namespace, out: TextIO) -> int:
    program = services(args)
    program.accounts.create_first_admin(args.name, args.display_name, new_password(args.name))
    print(f"{args.name} is the first admin of {program.settings.database_url}", file=out)
    return 0


def run_list(args: argparse.Namespace, out: TextIO) -> int:
    for row in services(args).accounts.users(args.actor):
        state = "active" if row.active else "deactivated"
        locked = " (locked)" if row.locked_until else ""
        print(f"{row.name:<16} {row.role:<13} {state}{locked}  {row.display_name}", file=out)
    return 0


def run_sites(args: argparse.Namespace, out: TextIO) -> int:
    sites = services(args).sites
    if args.add or args.remove or args.everywhere is not None:
        everywhere, listed = sites.assign(
            args.actor, args.name, args.add, args.remove, args.everywhere
        )
    else:
        everywhere, listed = sites.of_person(args.actor, args.name)
    codes = ", ".join(site.code for site in listed) or "none"
    print(
        f"{args.name} works at "
        + ("every site" if everywhere else codes)
        + (f" (listed: {codes})" if everywhere else ""),
        file=out,
    )
    return 0


Change = Callable[[AccountService, argparse.Namespace], None]


def _create(accounts: AccountService, args: argparse.Namespace) -> None:
    accounts.create_user(
        args.actor, args.name, args.display_name, args.role, new_password(args.name)
    )


def _set_role(accounts: AccountService, args: argparse.Namespace) -> None:
    accounts.set_role(args.actor, args.name, args.role)


def _reset_password(accounts: AccountService, args: argparse.Namespace) -> None:
    accounts.reset_password(args.actor, args.name, new_password(args.name))


def _named(method: Callable[[AccountService, str, str], None]) -> Change:
    """An AccountService method that takes the admin and the account's name alone."""
    return lambda accounts, args: method(accounts, args.actor, args.name)


def _done(change: Change) -> Callable[[argparse.Namespace, TextIO], int]:
    """An admin's change to one account, said done once made."""

    def run(args: argparse.Namespace, out: TextIO) -> int:
        change(services(args).accounts, args)
        print(f"{args.user_command}: {args.name} done", file=out)
        return 0

    return run
