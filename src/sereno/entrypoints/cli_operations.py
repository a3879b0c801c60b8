"""``sereno operations …``: joint operations (plan operativo) of your agency (ADR 0033)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from sereno.domain.errors import InvalidInput, SerenoError
from sereno.domain.operations import JointOperation
from sereno.entrypoints.cli_common import AsJson, AsUser, fail, out, start_as
from sereno.services import operations

operations_app = typer.Typer(help="Joint operations between agencies (plan operativo).",
                             no_args_is_help=True)


def _row(operation: JointOperation) -> dict[str, Any]:
    return {"id": operation.id, "title": operation.title, **operations.audit_summary(operation)}


def _when(value: str, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(InvalidInput(f"{what} is not an ISO 8601 date-time: {value!r}"))
    if moment.tzinfo is None:
        fail(InvalidInput(f"{what} needs a time zone (e.g. 2026-11-27T18:00:00-05:00)"))
    return moment


@operations_app.command("list")
def operations_list(as_user: AsUser, as_json: AsJson = False) -> None:
    """The operations your agency takes part in, newest first."""
    platform, who = start_as(as_user)
    try:
        found = operations.list_operations(platform.uow(), who, platform.clock)
    except SerenoError as error:
        fail(error)
    if as_json:
        sys.stdout.write(json.dumps([_row(o) for o in found], ensure_ascii=False) + "\n")
        return
    for o in found:
        out.print(f"{o.id}  {o.code:<24} {o.status.value:<9} {o.starts_at:%Y-%m-%d %H:%M} → "
                  f"{o.ends_at:%Y-%m-%d %H:%M} UTC  {'+'.join(o.participants)}  {o.title}",
                  markup=False, highlight=False)


@operations_app.command("create")
def operations_create(
    title: str,
    as_user: AsUser,
    area: Annotated[Path, typer.Option(help="a file with the GeoJSON Polygon (lon, lat)")],
    starts_at: Annotated[str, typer.Option(help="ISO 8601 with a time zone")],
    ends_at: Annotated[str, typer.Option(help="ISO 8601 with a time zone")],
    participant: Annotated[list[str], typer.Option(
        "--participant", help="a participating agency (repeat); yours leads")],
    code: Annotated[str | None, typer.Option(help="e.g. OP-MALECON; generated if absent")] = None,
    objectives: Annotated[str, typer.Option()] = "",
    unit: Annotated[list[str] | None, typer.Option("--unit", help="a unit (repeat)")] = None,
    camera: Annotated[list[str] | None, typer.Option("--camera", help="a camera (repeat)")
                      ] = None,
    as_json: AsJson = False,
) -> None:
    """A new operation led by your agency (supervisors and administrators)."""
    platform, who = start_as(as_user)
    try:
        shape = json.loads(area.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        fail(InvalidInput(f"--area: cannot read a GeoJSON polygon: {error}"))
    draft = operations.OperationDraft(
        code=code, title=title, participants=list(participant), area=shape,
        starts_at=_when(starts_at, "--starts-at"), ends_at=_when(ends_at, "--ends-at"),
        objectives=objectives, unit_ids=list(unit or []), camera_ids=list(camera or []))
    try:
        created = operations.create_operation(platform.uow(), who, draft, platform.clock)
    except SerenoError as error:
        fail(error)
    if as_json:
        sys.stdout.write(json.dumps(_row(created), ensure_ascii=False) + "\n")
        return
    out.print(f"[green]operation {created.code} ({created.status.value})[/green] {created.id}")


@operations_app.command("cancel")
def operations_cancel(operation_id: str, as_user: AsUser,
                      reason: Annotated[str, typer.Option(help="why it is called off")]
                      ) -> None:
    """Call off an operation your agency leads."""
    platform, who = start_as(as_user)
    try:
        cancelled = operations.cancel_operation(platform.uow(), who, operation_id, reason,
                                                platform.clock)
    except SerenoError as error:
        fail(error)
    out.print(f"[yellow]operation {cancelled.code} cancelled[/yellow]")


@operations_app.command("summary")
def operations_summary(operation_id: str, as_user: AsUser) -> None:
    """What happened in an operation (JSON): alerts, incidents, units, cameras."""
    platform, who = start_as(as_user)
    try:
        result = operations.operation_summary(platform.uow(), who, operation_id,
                                              platform.clock)
    except SerenoError as error:
        fail(error)
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
