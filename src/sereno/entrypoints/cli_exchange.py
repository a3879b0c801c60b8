"""``sereno cap …``: CAP 1.2 messages from the command line."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from sereno.domain.errors import SerenoError
from sereno.entrypoints.cli_common import AsJson, AsUser, err, fail, out, start_as
from sereno.exchange.cap.validation import check_cap
from sereno.services import cap_exchange

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


@cap_app.command("import")
def cap_import(
    path: Path,
    as_user: AsUser,
    as_json: AsJson = False,
) -> None:
    """Import FILE into your agency's queue (ADR 0027): exit 0 when accepted (the alert id is
    printed), 1 when refused (the reasons are printed), 2 when FILE cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as error:
        err.print(f"[red]cannot read {path}:[/red] {error.strerror}")
        raise typer.Exit(2) from None
    platform, who = start_as(as_user)
    try:
        result = cap_exchange.import_cap(platform.uow(), who, data,
                                         node=platform.settings.node_name,
                                         clock=platform.clock, publish=platform.bus.publish)
    except SerenoError as error:
        fail(error)
    if as_json:
        sys.stdout.write(json.dumps(dataclasses.asdict(result), ensure_ascii=False) + "\n")
        return
    what = "already received" if result.duplicate else result.outcome
    out.print(f"{result.msg_type} {result.identifier}: {what}"
              + (f", alert {result.alert_id}" if result.alert_id else "")
              + (f" (signed, pinned certificate {result.signed_by[:16]}…)"
                 if result.signed_by else ""), markup=False, highlight=False)
    for warning in result.warnings:
        out.print(f"[yellow]warning:[/yellow] {warning}", markup=True, highlight=False)


sources_app = typer.Typer(help="The senders your agency imports CAP from, and their pinned "
                               "signing certificates.", no_args_is_help=True)
cap_app.add_typer(sources_app, name="sources")


@sources_app.command("add")
def sources_add(
    sender: str,
    name: str,
    as_user: AsUser,
    certificate: Annotated[Path | None, typer.Option(
        "--certificate", help="the sender's signing certificate (PEM) to pin")] = None,
    require_signature: Annotated[bool, typer.Option(
        "--require-signature", help="refuse its unsigned messages")] = False,
) -> None:
    """Register SENDER (CAP <sender>) as a source of your agency, or re-pin it (admins)."""
    pem = None
    if certificate is not None:
        try:
            pem = certificate.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as error:
            err.print(f"[red]cannot read {certificate}:[/red] {error}")
            raise typer.Exit(2) from None
    platform, who = start_as(as_user)
    try:
        source = cap_exchange.add_source(platform.uow(), who, sender=sender, name=name,
                                         certificate_pem=pem,
                                         require_signature=require_signature,
                                         clock=platform.clock)
    except SerenoError as error:
        fail(error)
    out.print(f"registered {source.sender} ({source.id})"
              + (f", pinned certificate {source.fingerprint}" if source.fingerprint else ""),
              markup=False, highlight=False)


@sources_app.command("list")
def sources_list(as_user: AsUser, as_json: AsJson = False) -> None:
    """Your agency's registered CAP sources (admins)."""
    platform, who = start_as(as_user)
    try:
        found = cap_exchange.list_sources(platform.uow(), who)
    except SerenoError as error:
        fail(error)
    rows = [{"id": s.id, "sender": s.sender, "name": s.name, "fingerprint": s.fingerprint,
             "require_signature": s.require_signature,
             "registered_at": s.registered_at.isoformat()} for s in found]
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return
    for row in rows:
        pin = f"pinned {str(row['fingerprint'])[:16]}…" if row["fingerprint"] else "no pin"
        must = ", signature required" if row["require_signature"] else ""
        out.print(f"{row['sender']}  {row['name']}  ({pin}{must})", markup=False,
                  highlight=False)
