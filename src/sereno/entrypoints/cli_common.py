"""What every ``sereno`` command module shares: the consoles, the ``--as`` option, starting
the platform, acting as a user, and turning an expected error into a message and exit 1."""

from __future__ import annotations

import getpass
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from sereno.bootstrap import Platform, bootstrap
from sereno.config import load_settings
from sereno.domain.access import Principal
from sereno.domain.errors import SerenoError
from sereno.services import accounts

out = Console()
err = Console(stderr=True)

AsUser = Annotated[str, typer.Option("--as", envvar="SERENO_AS",
                                     help="Username to act as (scoping and audit).")]
AsJson = Annotated[bool, typer.Option("--json")]


def start_platform(migrate: bool = True) -> Platform:
    """The platform from the effective settings; exit 2 with the reason if it cannot start."""
    try:
        return bootstrap(load_settings(), run_migrations=migrate)
    except Exception as error:  # configuration or database problems: say so plainly
        err.print(f"[red]cannot start:[/red] {error}")
        raise typer.Exit(2) from error


def act_as(platform: Platform, username: str) -> Principal:
    """The principal of an active user, with channel ``cli``; exit 2 if there is none."""
    with platform.uow() as uow:
        user = uow.users.by_username(username)
    if user is None or user.disabled:
        err.print(f"[red]no active user {username!r}[/red]")
        raise typer.Exit(2)
    return accounts.principal_for(user, channel="cli", address=f"local:{getpass.getuser()}")


def start_as(username: str) -> tuple[Platform, Principal]:
    """``start_platform`` and ``act_as`` in one."""
    platform = start_platform()
    return platform, act_as(platform, username)


def fail(error: SerenoError) -> NoReturn:
    """Print an expected error (code, message, details) on stderr and exit 1."""
    err.print(f"[red]{error.code}:[/red] {error.message}")
    for detail in error.details[:50]:
        err.print(f"  {detail}")
    raise typer.Exit(1)
