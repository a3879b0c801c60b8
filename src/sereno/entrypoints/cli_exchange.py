"""``sereno cap …``: CAP 1.2 messages from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from sereno.entrypoints.cli_common import AsJson, err, out
from sereno.exchange.cap.validation import check_cap

cap_app = typer.Typer(help="OASIS CAP 1.2 alert messages.", no_args_is_help=True)


@cap_app.command("validate")
def cap_validate(
    path: Path,
    strict: Annotated[bool, typer.Option(
        "--strict", help="treat the soft rules real feeds break as errors (our exports)")] = False,
    as_json: AsJson = False,
) -> None:
    """Check FILE: safe parsing, the OASIS schema, CAP 1.2 §3 rules. Exit 0 only if valid."""
    try:
        data = path.read_bytes()
    except OSError as error:
        err.print(f"[red]cannot read {path}:[/red] {error.strerror}")
        raise typer.Exit(2) from None
    result = check_cap(data, strict=strict)
    if as_json:
        sys.stdout.write(json.dumps({"valid": result.valid, "errors": result.errors,
                                     "warnings": result.warnings}, ensure_ascii=False) + "\n")
    else:
        for problem in result.errors:
            out.print(f"[red]error:[/red] {problem}", markup=True, highlight=False)
        for warning in result.warnings:
            out.print(f"[yellow]warning:[/yellow] {warning}", markup=True, highlight=False)
        out.print("valid CAP 1.2" if result.valid else "not a valid CAP 1.2 message")
    if not result.valid:
        raise typer.Exit(1)
