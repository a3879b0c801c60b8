"""``sereno integrations …``: alert webhooks and MQTT topics of the agency's own tools (ADR 0029),
acting as a user like the API (admins: ``exchange:manage``)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from sereno.domain.errors import SerenoError
from sereno.entrypoints.cli_common import AsJson, AsUser, fail, out, start_as
from sereno.services import integrations

integrations_app = typer.Typer(help="Alert integrations: webhooks and MQTT topics.",
                               no_args_is_help=True)


@integrations_app.command("list")
def integrations_list(as_user: AsUser, as_json: AsJson = False) -> None:
    """The agency's integrations, active or not."""
    platform, who = start_as(as_user)
    try:
        found = integrations.list_subscriptions(platform.uow(), who)
    except SerenoError as error:
        fail(error)
    rows = [{"id": s.id, "kind": s.kind.value, "destination_id": s.destination_id,
             "target": s.target, "categories": s.categories,
             "min_severity": s.min_severity.value, "active": s.active,
             "created_by": s.created_by} for s in found]
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return
    columns = ["id", "kind", "destination_id", "target", "categories", "min_severity",
               "active", "created_by"]
    table = Table(*columns, title=f"{len(rows)} integrations")
    for row in rows:
        table.add_row(*(", ".join(v) if isinstance(v := row[c], list) else str(v)
                        for c in columns))
    out.print(table)


@integrations_app.command("add")
def integrations_add(
    as_user: AsUser,
    kind: Annotated[str, typer.Option(help="webhook or mqtt")],
    destination: Annotated[str, typer.Option(help="an approved egress destination id of "
                                                  "your agency (purpose webhook or mqtt)")],
    target: Annotated[str, typer.Option(help="webhook: URL path under the destination; "
                                             "mqtt: the topic")],
    category: Annotated[list[str] | None, typer.Option(
        help="CAP category to send (repeat; none: every category)")] = None,
    min_severity: Annotated[str, typer.Option(
        help="Unknown, Minor, Moderate, Severe or Extreme")] = "Unknown",
    as_json: AsJson = False,
) -> None:
    """Send the agency's alerts to a webhook or MQTT topic; prints the signing key once."""
    platform, who = start_as(as_user)
    try:
        created = integrations.create_subscription(
            platform.uow(), who, kind=kind, destination_id=destination, target=target,
            categories=list(category or []), min_severity=min_severity,
            box=platform.integration_secrets, clock=platform.clock)
    except SerenoError as error:
        fail(error)
    found = created.subscription
    if as_json:
        sys.stdout.write(json.dumps({"id": found.id, "kind": found.kind.value,
                                     "target": found.target, "secret": created.secret}) + "\n")
        return
    out.print(f"[green]added[/green] {found.id} ({found.kind.value} {found.target})")
    out.print(f"signing key (shown only now): {created.secret}", highlight=False)


@integrations_app.command("deactivate")
def integrations_deactivate(as_user: AsUser, subscription_id: str) -> None:
    """Stop an integration for good."""
    platform, who = start_as(as_user)
    try:
        found = integrations.deactivate_subscription(platform.uow(), who, subscription_id,
                                                     platform.clock)
    except SerenoError as error:
        fail(error)
    out.print(f"[green]deactivated[/green] {found.id}")
