"""The alert queue of the caller's agency: list, raise by hand, read, act, and the evidence."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from sereno.domain import commands
from sereno.domain.alerts import Alert, AlertAction
from sereno.domain.errors import NotFound
from sereno.domain.evidence import IssueKind
from sereno.entrypoints.api.context import Caller, platform_of
from sereno.entrypoints.api.schemas import ErrorResponse, Strict
from sereno.services import alerts, footage_release

router = APIRouter(tags=["alerts"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422)}

CapCategory = Literal["Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env",
                      "Transport", "Infra", "CBRNE", "Other"]
CapSeverity = Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]
CapUrgency = Literal["Immediate", "Expected", "Future", "Past", "Unknown"]
CapCertainty = Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"]


class AlertOut(BaseModel):
    id: str
    agency: str
    source: str
    category: str
    severity: str
    urgency: str
    certainty: str
    event: str
    headline: str
    description: str
    status: str
    raised_at: datetime
    raised_by: str
    latitude: float | None
    longitude: float | None
    cameras: list[str]
    count: int
    last_seen_at: datetime | None
    has_snapshot: bool
    has_clip: bool
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    escalation_level: int
    escalated_at: datetime | None
    assigned_to: str | None
    assigned_at: datetime | None
    dismissed_at: datetime | None
    dismiss_reason: str | None
    closed_at: datetime | None
    closed_by: str | None
    origin_agency: str | None
    origin_node: str | None
    redacted: bool
    media_withheld: bool
    version: int


class ActionOut(BaseModel):
    kind: str
    by: str
    at: datetime
    note: str | None
    detail: dict[str, Any]


class AlertDetailOut(AlertOut):
    timeline: list[ActionOut]


class RaiseIn(Strict):
    category: CapCategory = "Security"
    severity: CapSeverity
    urgency: CapUrgency = "Immediate"
    certainty: CapCertainty = "Observed"
    event: str = Field(min_length=1, max_length=160)
    headline: str = Field(min_length=1, max_length=160)
    description: str = Field(default="", max_length=2000)
    camera_id: str | None = Field(default=None, max_length=64)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class ActIn(Strict):
    to: str | None = Field(default=None, max_length=64, description="assign: the username")
    note: str | None = Field(default=None, max_length=2000,
                             description="dismiss: why it is a false alarm; close: what was done")


def alert_out(alert: Alert) -> AlertOut:
    return AlertOut(
        id=alert.id, agency=alert.agency_id, source=alert.source.value,
        category=alert.category.value, severity=alert.severity.value,
        urgency=alert.urgency.value, certainty=alert.certainty.value, event=alert.event,
        headline=alert.headline, description=alert.description, status=alert.status.value,
        raised_at=alert.raised_at, raised_by=alert.raised_by, latitude=alert.latitude,
        longitude=alert.longitude, cameras=list(alert.camera_ids), count=alert.count,
        last_seen_at=alert.last_seen_at, has_snapshot=alert.snapshot_key is not None,
        has_clip=alert.clip_key is not None, acknowledged_by=alert.acknowledged_by,
        acknowledged_at=alert.acknowledged_at, escalation_level=alert.escalation_level,
        escalated_at=alert.escalated_at, assigned_to=alert.assigned_to,
        assigned_at=alert.assigned_at, dismissed_at=alert.dismissed_at,
        dismiss_reason=alert.dismiss_reason, closed_at=alert.closed_at,
        closed_by=alert.closed_by, origin_agency=alert.origin_agency_id,
        origin_node=alert.origin_node, redacted=alert.redacted,
        media_withheld=alert.media_withheld, version=alert.version)


def _action_out(action: AlertAction) -> ActionOut:
    return ActionOut(kind=action.kind.value, by=action.by, at=action.at, note=action.note,
                     detail=action.detail)


@router.get("/alerts", response_model=list[AlertOut], responses=ERRORS)
def list_alerts(
    request: Request, caller: Caller,
    status: Annotated[str | None, Query(max_length=16,
                                        description="active, open, acknowledged, …")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AlertOut]:
    """The caller's agency's alert queue, newest first."""
    found = alerts.list_queue(platform_of(request).uow(), caller, status=status, limit=limit)
    return [alert_out(a) for a in found]


@router.post("/alerts", response_model=AlertOut, status_code=201, responses=ERRORS)
def raise_alert(request: Request, caller: Caller, body: RaiseIn) -> AlertOut:
    """Raise an alert by hand (operators, dispatchers, supervisors)."""
    return alert_out(platform_of(request).bus.handle(commands.RaiseAlert(
        caller, body.category, body.severity, body.urgency, body.certainty, body.event,
        body.headline, body.description, body.camera_id, body.latitude, body.longitude)))


@router.get("/alerts/{alert_id}", response_model=AlertDetailOut, responses=ERRORS)
def read_alert(request: Request, caller: Caller, alert_id: str) -> AlertDetailOut:
    """One alert with its timeline of actions."""
    alert, timeline = alerts.get_alert(platform_of(request).uow(), caller, alert_id)
    return AlertDetailOut(**alert_out(alert).model_dump(),
                          timeline=[_action_out(a) for a in timeline])


@router.post("/alerts/{alert_id}/{action}", response_model=AlertOut, responses=ERRORS)
def act_on_alert(request: Request, caller: Caller, alert_id: str,
                 action: Literal["acknowledge", "escalate", "assign", "dismiss", "close"],
                 body: ActIn | None = None) -> AlertOut:
    """Acknowledge, escalate, assign (``to``), dismiss as a false alarm (``note`` = why) or
    close an alert of the caller's agency; timestamped and audited."""
    return alert_out(platform_of(request).bus.handle(commands.HandleAlert(
        caller, alert_id, action, body.to if body else None, body.note if body else None)))


@router.get("/alerts/{alert_id}/snapshot.jpg", responses={
    **ERRORS, 200: {"content": {"image/jpeg": {}}}})
def alert_snapshot(request: Request, caller: Caller, alert_id: str) -> Response:
    """The alert's picture, through the policy door (an audited access to footage)."""
    return _media(request, caller, alert_id, "snapshot")


@router.get("/alerts/{alert_id}/clip.mp4", responses={
    **ERRORS, 200: {"content": {"video/mp4": {}}}})
def alert_clip(request: Request, caller: Caller, alert_id: str) -> Response:
    """The alert's clip, through the policy door (an audited access to footage)."""
    return _media(request, caller, alert_id, "clip")


def _media(request: Request, caller: Caller, alert_id: str, which: str) -> Response:
    platform = platform_of(request)
    granted = alerts.release_media(platform.uow(), caller, alert_id, which)
    data = platform.media.get(granted.key)
    if data is None:
        raise NotFound(f"the {which} file is missing from the media store")
    if granted.release is not None:  # the partner's own footage: overlay and watermark rules
        kind = IssueKind.DETECTION_SNAPSHOT if which == "snapshot" else IssueKind.DETECTION_CLIP
        marker = footage_release.live_marker(
            platform.uow(), caller, granted.release.camera, granted.release.decision,
            platform.settings.data_dir, platform.clock, kind=kind, overlay=False)
        data = marker.mark(data) if which == "snapshot" else marker.mark_video(data)
    media_type = "image/jpeg" if which == "snapshot" else "video/mp4"
    return Response(data, media_type=media_type, headers={"Cache-Control": "no-store"})
