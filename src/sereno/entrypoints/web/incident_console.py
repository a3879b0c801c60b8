"""The incident console (ADR 0034): the live board ``/incidents`` and an incident's page
``/incidents/{id}`` (details, timeline, notes, linked alerts, lifecycle, cameras around, the
dispatch panel). Pages render a shell with what the scripts need; ``static/incidents.js`` and
``static/incident.js`` read and act through the incident, unit and dispatch API with the session
and its CSRF token, so every check, refusal and audit record stays in the API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from sereno.domain.access import Permission
from sereno.domain.incidents import TRANSITIONS
from sereno.entrypoints.api.context import platform_of
from sereno.entrypoints.web.console import language_of, page_caller, render, script_json
from sereno.services import incident_console

router = APIRouter(include_in_schema=False)
UNITS_REFRESH_S = 5  # the units' positions and assignments are polled this often


@router.get("/incidents", response_class=HTMLResponse)
def incidents_page(request: Request) -> Response:
    """The incident board: open incidents, most urgent and oldest first, live."""
    context = page_caller(request)
    who = context.principal
    catalogue = incident_console.open_board(platform_of(request).uow(), who)
    english = language_of(request) == "en"
    config = {"canUnits": who.can(Permission.UNIT_READ), "refresh": UNITS_REFRESH_S,
              "types": {k.code: k.name_en if english else k.name_es for k in catalogue}}
    return render(request, "incidents.html", context=context,
                  incidents_json=script_json(config))


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(request: Request, incident_id: str) -> Response:
    """One incident: its file, its lifecycle buttons, the cameras around and dispatch."""
    context = page_caller(request)
    who = context.principal
    opened = incident_console.open_incident(platform_of(request).uow(), who, incident_id)
    incident, kind = opened.incident, opened.kind
    type_name = None
    if kind is not None:
        type_name = kind.name_en if language_of(request) == "en" else kind.name_es
    config = {"id": incident.id, "user": who.username, "typeName": type_name,
              "canWrite": who.can(Permission.INCIDENT_WRITE),
              "canDispatch": who.can(Permission.INCIDENT_DISPATCH),
              "canUnits": who.can(Permission.UNIT_READ),
              "canFootage": who.can(Permission.FOOTAGE_LIVE),
              "transitions": {s.value: sorted(t.value for t in to)
                              for s, to in TRANSITIONS.items()},
              "refresh": UNITS_REFRESH_S}
    return render(request, "incident.html", context=context, incident=incident,
                  incident_json=script_json(config))
