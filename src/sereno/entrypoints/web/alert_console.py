"""The monitoring centre's live alert queue (``/alerts``, ADR 0028): the page opens with the
agency's newest alerts; ``static/alerts.js`` keeps it live from ``/api/v1/alerts/stream`` and
acts through the alert API with the session and its CSRF token."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from sereno.domain.access import Permission
from sereno.entrypoints.api.context import platform_of
from sereno.entrypoints.api.routes.alerts import alert_out
from sereno.entrypoints.web.console import page_caller, render, script_json
from sereno.services import alert_queue

router = APIRouter(include_in_schema=False)
LOUD = ("Severe", "Extreme")  # new alerts of these severities sound (unless muted)


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request) -> Response:
    """The alert queue: newest and most severe first, live, driven from the keyboard."""
    context = page_caller(request)
    who = context.principal
    found = alert_queue.open_page(platform_of(request).uow(), who)
    config = {"user": who.username, "canHandle": who.can(Permission.ALERT_HANDLE),
              "canFootage": who.can(Permission.FOOTAGE_LIVE), "loud": list(LOUD),
              "alerts": [alert_out(a).model_dump(mode="json") for a in found]}
    return render(request, "alerts.html", context=context, alerts_json=script_json(config),
                  can_handle=config["canHandle"],
                  can_incident=who.can(Permission.INCIDENT_WRITE))
