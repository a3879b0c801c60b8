"""``sereno federation …``: delivery to peer nodes (ADR 0026)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from sereno.domain.errors import SerenoError
from sereno.entrypoints.cli_common import AsJson, AsUser, fail, out, start_as
from sereno.services import federation

federation_app = typer.Typer(help="Signed delivery to other agencies' nodes.",
                             no_args_is_help=True)


@federation_app.command("status")
def federation_status(as_user: AsUser, as_json: AsJson = False) -> None:
    """Per peer node: messages of your agency waiting, the oldest wait, the last error and the
    last delivery (administrators)."""
    platform, who = start_as(as_user)
    try:
        rows = federation.status_for(platform.federation, who)
    except SerenoError as error:
        fail(error)
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return
    table = Table("peer", "agency", "pending", "oldest (s)", "attempts", "last error",
                  "last delivered", title="Federation")
    for row in rows:
        table.add_row(row["node_id"], row["agency_id"], str(row["pending"]),
                      "-" if row["oldest_pending_age_s"] is None
                      else f"{row['oldest_pending_age_s']:.1f}",
                      str(row["attempts"]), row["last_error"] or "-",
                      row["last_delivered_at"] or "-")
    out.print(table)


@federation_app.command("retry")
def federation_retry(
    as_user: AsUser,
    peer: Annotated[str | None, typer.Option(help="only this peer node")] = None,
) -> None:
    """Send what waits for a peer node now, without waiting for its backoff (the running
    server picks it up within its interval)."""
    platform, who = start_as(as_user)
    try:
        count = federation.retry_for(platform.federation, who, peer)
    except SerenoError as error:
        fail(error)
    out.print(f"{count} message(s) due now")
