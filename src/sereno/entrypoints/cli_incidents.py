"""``sereno incidents …``: the agency's incident board, creating, reading, moving and noting
incidents (ADR 0031). Exit 1 with the reason for an expected refusal."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from sereno.bootstrap import Platform
from sereno.domain.access import Principal
from sereno.domain.errors import SerenoError
from sereno.domain.incidents import Incident, IncidentEvent
from sereno.entrypoints.cli_common import AsJson, AsUser, fail, out, start_as
from sereno.services import incidents

incidents_app = typer.Typer(help="Incidents of your agency.", no_args_is_help=True)


def _row(incident: Incident) -> dict[str, Any]:
    stamps = ("acknowledged_at", "dispatched_at", "en_route_at", "on_scene_at", "resolved_at",
              "closed_at", "cancelled_at")
    return {"id": incident.id, "number": incident.number, "type": incident.type_code,
            "priority": incident.priority, "status": incident.status.value,
            "title": incident.title, "latitude": incident.latitude,
            "longitude": incident.longitude, "address": incident.address,
            "source": incident.source.value, "version": incident.version,
            "created_by": incident.created_by, "created_at": incident.created_at.isoformat(),
            "merged_into": incident.merged_into,
            **{s: (getattr(incident, s).isoformat() if getattr(incident, s) else None)
               for s in stamps}}


def _event(event: IncidentEvent) -> dict[str, Any]:
    return {"kind": event.kind.value, "from": event.from_status.value if event.from_status
            else None, "to": event.to_status.value if event.to_status else None,
            "by": event.by, "by_agency": event.by_agency, "at": event.at.isoformat(),
            "note": event.note, "detail": event.detail}


def _print(incident: Incident) -> None:
    out.print(f"{incident.number}  P{incident.priority}  {incident.status.value:<12} "
              f"{incident.type_code:<20} v{incident.version}  {incident.title}",
              markup=False, highlight=False)


def _emit(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


@incidents_app.command("list")
def incidents_list(
    as_user: AsUser,
    status: Annotated[str | None, typer.Option(help="open (default), all, or one status")] = None,
    as_json: AsJson = False,
) -> None:
    """The board: your agency's incidents, most urgent first."""
    platform, who = start_as(as_user)
    try:
        found = incidents.board(platform.uow(), who, status=status)
    except SerenoError as error:
        fail(error)
    if as_json:
        _emit([_row(i) for i in found])
        return
    for incident in found:
        _print(incident)


@incidents_app.command("create")
def incidents_create(
    as_user: AsUser,
    type_code: Annotated[str, typer.Option("--type", help="an incident type code")],
    title: Annotated[str, typer.Option()],
    lat: Annotated[float, typer.Option()],
    lon: Annotated[float, typer.Option()],
    description: Annotated[str, typer.Option()] = "",
    address: Annotated[str | None, typer.Option()] = None,
    priority: Annotated[int | None, typer.Option(help="1 (highest) to 5")] = None,
    as_json: AsJson = False,
) -> None:
    """Open an incident (a call-taker's form)."""
    platform, who = start_as(as_user)
    try:
        incident = incidents.create(
            platform.uow(), who, incidents.NewIncident(
                type_code=type_code, title=title, latitude=lat, longitude=lon,
                description=description, address=address, priority=priority),
            clock=platform.clock, publish=platform.bus.publish)
    except SerenoError as error:
        fail(error)
    if as_json:
        _emit(_row(incident))
    else:
        _print(incident)


def _find(platform: Platform, who: Principal, reference: str) -> str:
    """An incident id from an id or a number (``SEG-2026-000001``) of the caller's agency (the
    use-case then reads it, scoped and audited)."""
    with platform.uow() as uow:
        found = uow.incidents.by_number(reference)
    if found is not None and found.agency_id == who.agency_id:
        return str(found.id)
    return reference


@incidents_app.command("show")
def incidents_show(as_user: AsUser, incident: Annotated[str, typer.Argument(
        help="id or number")], as_json: AsJson = False) -> None:
    """One incident with its timeline."""
    platform, who = start_as(as_user)
    try:
        found = incidents.get(platform.uow(), who, _find(platform, who, incident))
    except SerenoError as error:
        fail(error)
    if as_json:
        _emit({**_row(found.incident), "alerts": found.alert_ids,
               "timeline": [_event(e) for e in found.timeline]})
        return
    _print(found.incident)
    for event in found.timeline:
        change = f"{event.from_status.value if event.from_status else ''}→" \
                 f"{event.to_status.value}" if event.to_status else ""
        out.print(f"  {event.at:%Y-%m-%d %H:%M:%S}  {event.kind.value:<12} {change:<24} "
                  f"{event.by} ({event.by_agency})  {event.note or ''}",
                  markup=False, highlight=False)


@incidents_app.command("transition")
def incidents_transition(
    as_user: AsUser, incident: Annotated[str, typer.Argument(help="id or number")],
    to: Annotated[str, typer.Argument(help="the next status")],
    version: Annotated[int | None, typer.Option(help="the version you saw")] = None,
    note: Annotated[str | None, typer.Option(help="why (required to cancel)")] = None,
    as_json: AsJson = False,
) -> None:
    """Move an incident to its next status."""
    platform, who = start_as(as_user)
    try:
        moved = incidents.transition(platform.uow(), who, _find(platform, who, incident),
                                     to, version=version, clock=platform.clock, note=note,
                                     publish=platform.bus.publish)
    except SerenoError as error:
        fail(error)
    if as_json:
        _emit(_row(moved))
    else:
        _print(moved)


@incidents_app.command("note")
def incidents_note(
    as_user: AsUser, incident: Annotated[str, typer.Argument(help="id or number")],
    text: Annotated[str, typer.Argument()],
    version: Annotated[int | None, typer.Option(help="the version you saw")] = None,
) -> None:
    """Add a note to an incident's timeline."""
    platform, who = start_as(as_user)
    try:
        noted = incidents.add_note(platform.uow(), who, _find(platform, who, incident),
                                   text, clock=platform.clock, version=version,
                                   publish=platform.bus.publish)
    except SerenoError as error:
        fail(error)
    _print(noted)
