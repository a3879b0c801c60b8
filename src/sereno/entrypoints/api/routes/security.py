"""Security alerts of the caller's agency (auditors)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from sereno.domain import commands
from sereno.domain.security import SecurityAlert
from sereno.entrypoints.api.context import Caller, platform_of
from sereno.entrypoints.api.schemas import ErrorResponse, Strict
from sereno.services import security

router = APIRouter(tags=["security"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422)}


class AlertOut(BaseModel):
    id: str
    agency: str
    kind: str
    severity: str
    summary: str
    detail: dict[str, Any]
    raised_at: datetime
    status: str
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    acknowledge_note: str | None
    closed_by: str | None
    closed_at: datetime | None
    close_note: str | None


class AcknowledgeIn(Strict):
    note: str | None = Field(default=None, max_length=2000)


class CloseIn(Strict):
    note: str = Field(min_length=1, max_length=2000)


def alert_out(alert: SecurityAlert) -> AlertOut:
    return AlertOut(
        id=alert.id, agency=alert.agency_id, kind=alert.kind.value,
        severity=alert.severity.value, summary=alert.summary, detail=alert.detail,
        raised_at=alert.raised_at, status=alert.status.value,
        acknowledged_by=alert.acknowledged_by, acknowledged_at=alert.acknowledged_at,
        acknowledge_note=alert.acknowledge_note, closed_by=alert.closed_by,
        closed_at=alert.closed_at, close_note=alert.close_note)


@router.get("/security-alerts", response_model=list[AlertOut], responses=ERRORS)
def list_alerts(
    request: Request, caller: Caller,
    status: Annotated[str | None, Query(max_length=16)] = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AlertOut]:
    """The caller's agency's security alerts, newest first (auditors)."""
    found = security.list_alerts(platform_of(request).uow(), caller, status=status, kind=kind,
                                 limit=limit)
    return [alert_out(a) for a in found]


@router.post("/security-alerts/{alert_id}/acknowledge", response_model=AlertOut,
             responses=ERRORS)
def acknowledge_alert(request: Request, caller: Caller, alert_id: str,
                      body: AcknowledgeIn | None = None) -> AlertOut:
    """Say that somebody is looking into the alert (auditors)."""
    note = body.note if body else None
    return alert_out(platform_of(request).bus.handle(
        commands.AcknowledgeSecurityAlert(caller, alert_id, note)))


@router.post("/security-alerts/{alert_id}/close", response_model=AlertOut, responses=ERRORS)
def close_alert(request: Request, caller: Caller, alert_id: str, body: CloseIn) -> AlertOut:
    """Close the alert with a note of what was found and done (auditors)."""
    return alert_out(platform_of(request).bus.handle(
        commands.CloseSecurityAlert(caller, alert_id, body.note)))
