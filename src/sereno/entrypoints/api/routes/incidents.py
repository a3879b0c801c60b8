"""Incidents of the caller's agency (ADR 0031): the board, creation (form, alert, CAP), the
lifecycle, notes, alert links, merges, priority, the cameras around, and the type catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sereno.domain.incidents import Incident, IncidentEvent, IncidentType
from sereno.entrypoints.api.context import API_PREFIX, Caller, platform_of
from sereno.entrypoints.api.errors import error_response
from sereno.entrypoints.api.schemas import ErrorResponse, Strict
from sereno.services import cap_exchange, incidents

router = APIRouter(tags=["incidents"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422)}
XML_TYPES = frozenset({"application/xml", "application/cap+xml", "text/xml"})
Status = Literal["new", "acknowledged", "dispatched", "en_route", "on_scene", "resolved",
                 "closed", "cancelled"]
CapCategory = Literal["Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env",
                      "Transport", "Infra", "CBRNE", "Other"]


class IncidentOut(BaseModel):
    id: str
    agency: str
    number: str
    type: str
    priority: int
    status: str
    title: str
    description: str
    latitude: float
    longitude: float
    address: str | None
    source: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int
    merged_into: str | None
    operation_id: str | None
    origin_agency: str | None
    acknowledged_at: datetime | None
    dispatched_at: datetime | None
    en_route_at: datetime | None
    on_scene_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None


class EventOut(BaseModel):
    kind: str
    from_status: str | None
    to_status: str | None
    by: str
    by_agency: str
    at: datetime
    note: str | None
    detail: dict[str, Any]


class LinkedAlertOut(BaseModel):
    id: str
    href: str
    snapshot: str
    clip: str


class IncidentDetailOut(IncidentOut):
    timeline: list[EventOut]
    alerts: list[LinkedAlertOut]


class FormIn(Strict):
    type: str = Field(min_length=1, max_length=32, description="an incident type code")
    title: str = Field(min_length=1, max_length=160)
    description: str = Field(default="", max_length=4000)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    address: str | None = Field(default=None, max_length=200)
    priority: int | None = Field(default=None, ge=1, le=5,
                                 description="1 (highest) to 5; the type's default if absent")


class FromAlertIn(Strict):
    alert_id: str = Field(min_length=1, max_length=64)
    type: str | None = Field(default=None, max_length=32,
                             description="the catalogue's reading of the alert if absent")
    priority: int | None = Field(default=None, ge=1, le=5)
    title: str | None = Field(default=None, max_length=160)


class TransitionIn(Strict):
    to: Status
    version: int | None = Field(default=None, ge=1,
                                description="the version you saw; a stale one answers 409")
    note: str | None = Field(default=None, max_length=4000,
                             description="required (a reason) to cancel")


class NoteIn(Strict):
    text: str = Field(min_length=1, max_length=4000)
    version: int | None = Field(default=None, ge=1)


class LinkIn(Strict):
    alert_id: str = Field(min_length=1, max_length=64)
    version: int | None = Field(default=None, ge=1)


class MergeIn(Strict):
    into: str = Field(min_length=1, max_length=64, description="the incident to keep")
    version: int | None = Field(default=None, ge=1,
                                description="the duplicate's version, as you saw it")


class PriorityIn(Strict):
    priority: int = Field(ge=1, le=5)
    version: int | None = Field(default=None, ge=1)


class CameraAroundOut(BaseModel):
    id: str
    name: str
    owner_agency: str
    latitude: float
    longitude: float
    heading_deg: float
    fov_deg: float
    range_m: float
    status: str
    distance_m: float
    bearing_deg: float
    recording_start: datetime
    recording_end: datetime
    recording: str = Field(description="the recording around the incident (policy door)")


class CapIncidentOut(BaseModel):
    incident: IncidentOut
    created: bool
    cap_outcome: str
    alert_id: str | None


class TypeIn(Strict):
    name_es: str = Field(min_length=1, max_length=120)
    name_en: str = Field(min_length=1, max_length=120)
    default_priority: int = Field(ge=1, le=5)
    category: CapCategory
    active: bool = True


class TypeOut(BaseModel):
    code: str
    name_es: str
    name_en: str
    default_priority: int
    category: str
    active: bool


def incident_out(incident: Incident) -> IncidentOut:
    """The API form of an incident."""
    return IncidentOut(
        id=incident.id, agency=incident.agency_id, number=incident.number,
        type=incident.type_code, priority=incident.priority, status=incident.status.value,
        title=incident.title, description=incident.description, latitude=incident.latitude,
        longitude=incident.longitude, address=incident.address,
        source=incident.source.value, created_by=incident.created_by,
        created_at=incident.created_at, updated_at=incident.updated_at,
        version=incident.version, merged_into=incident.merged_into,
        operation_id=incident.operation_id, origin_agency=incident.origin_agency_id,
        acknowledged_at=incident.acknowledged_at, dispatched_at=incident.dispatched_at,
        en_route_at=incident.en_route_at, on_scene_at=incident.on_scene_at,
        resolved_at=incident.resolved_at, closed_at=incident.closed_at,
        cancelled_at=incident.cancelled_at)


def _event_out(event: IncidentEvent) -> EventOut:
    return EventOut(kind=event.kind.value,
                    from_status=event.from_status.value if event.from_status else None,
                    to_status=event.to_status.value if event.to_status else None,
                    by=event.by, by_agency=event.by_agency, at=event.at, note=event.note,
                    detail=event.detail)


def _type_out(kind: IncidentType) -> TypeOut:
    return TypeOut(code=kind.code, name_es=kind.name_es, name_en=kind.name_en,
                   default_priority=kind.default_priority, category=kind.category.value,
                   active=kind.active)


def _alert_link(alert_id: str) -> LinkedAlertOut:
    base = f"{API_PREFIX}/alerts/{alert_id}"
    return LinkedAlertOut(id=alert_id, href=base, snapshot=f"{base}/snapshot.jpg",
                          clip=f"{base}/clip.mp4")


# ---- the board and creation -------------------------------------------------------------------


@router.get("/incidents", response_model=list[IncidentOut], responses=ERRORS)
def list_incidents(
    request: Request, caller: Caller,
    status: Annotated[str | None, Query(max_length=16,
                                        description="open (default), all, or one status")] = None,
    type: Annotated[str | None, Query(max_length=32)] = None,
    max_priority: Annotated[int | None, Query(ge=1, le=5)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[IncidentOut]:
    """The caller's agency's incident board: most urgent first, then newest."""
    found = incidents.board(platform_of(request).uow(), caller, status=status, type_code=type,
                            max_priority=max_priority, limit=limit)
    return [incident_out(i) for i in found]


@router.post("/incidents", response_model=IncidentOut, status_code=201, responses=ERRORS)
def create_incident(request: Request, caller: Caller, body: FormIn) -> IncidentOut:
    """A call-taker's incident (operators, dispatchers, supervisors)."""
    platform = platform_of(request)
    return incident_out(incidents.create(
        platform.uow(), caller, incidents.NewIncident(
            type_code=body.type, title=body.title, latitude=body.latitude,
            longitude=body.longitude, description=body.description, address=body.address,
            priority=body.priority),
        clock=platform.clock, publish=platform.bus.publish))


@router.post("/incidents/from-alert", response_model=IncidentOut, status_code=201,
             responses=ERRORS)
def incident_from_alert(request: Request, caller: Caller, body: FromAlertIn) -> IncidentOut:
    """One click: an incident from an alert of the caller's agency, carrying its evidence."""
    platform = platform_of(request)
    return incident_out(incidents.create_from_alert(
        platform.uow(), caller, body.alert_id, clock=platform.clock, type_code=body.type,
        priority=body.priority, title=body.title, publish=platform.bus.publish))


@router.post("/incidents/from-cap", response_model=CapIncidentOut,
             responses={**ERRORS, 201: {"model": CapIncidentOut}, 413: {"model": ErrorResponse},
                        415: {"model": ErrorResponse}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/cap+xml": {"schema": {"type": "string"}},
                 "application/xml": {"schema": {"type": "string"}}}}})
async def incident_from_cap(
    request: Request, caller: Caller,
    type: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """A CAP 1.2 message from a registered source as an incident (201 when it opened one; a
    message already received answers 200 with the incident it opened)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in XML_TYPES:
        return error_response(415, "unsupported_media_type",
                              "send the CAP message as application/cap+xml or application/xml")
    platform = platform_of(request)
    body = await request.body()
    try:
        result = await run_in_threadpool(
            incidents.create_from_cap, platform.uow(), caller, body,
            node=platform.settings.node_name, clock=platform.clock, type_code=type,
            publish=platform.bus.publish)
    except cap_exchange.MessageTooLarge as error:
        return error_response(413, "payload_too_large", error.message)
    out = CapIncidentOut(incident=incident_out(result.incident), created=result.created,
                         cap_outcome=result.cap.outcome, alert_id=result.cap.alert_id)
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if result.created else 200)


# ---- one incident -----------------------------------------------------------------------------


@router.get("/incidents/{incident_id}", response_model=IncidentDetailOut, responses=ERRORS)
def read_incident(request: Request, caller: Caller, incident_id: str) -> IncidentDetailOut:
    """One incident with its timeline and linked alerts (their media behind their own door)."""
    found = incidents.get(platform_of(request).uow(), caller, incident_id)
    return IncidentDetailOut(**incident_out(found.incident).model_dump(),
                             timeline=[_event_out(e) for e in found.timeline],
                             alerts=[_alert_link(a) for a in found.alert_ids])


@router.post("/incidents/{incident_id}/transition", response_model=IncidentOut,
             responses=ERRORS)
def transition_incident(request: Request, caller: Caller, incident_id: str,
                        body: TransitionIn) -> IncidentOut:
    """Move the incident to its next status (409 when not allowed from its current one, or
    when ``version`` is not the current one)."""
    platform = platform_of(request)
    return incident_out(incidents.transition(
        platform.uow(), caller, incident_id, body.to, version=body.version,
        clock=platform.clock, note=body.note, publish=platform.bus.publish))


@router.post("/incidents/{incident_id}/notes", response_model=IncidentOut, responses=ERRORS)
def note_incident(request: Request, caller: Caller, incident_id: str,
                  body: NoteIn) -> IncidentOut:
    """Add a note to the timeline."""
    platform = platform_of(request)
    return incident_out(incidents.add_note(
        platform.uow(), caller, incident_id, body.text, clock=platform.clock,
        version=body.version, publish=platform.bus.publish))


@router.post("/incidents/{incident_id}/alerts", response_model=IncidentOut, responses=ERRORS)
def link_incident_alert(request: Request, caller: Caller, incident_id: str,
                        body: LinkIn) -> IncidentOut:
    """Link a further alert of the caller's agency to the incident."""
    platform = platform_of(request)
    return incident_out(incidents.link_alert(
        platform.uow(), caller, incident_id, body.alert_id, clock=platform.clock,
        version=body.version, publish=platform.bus.publish))


@router.post("/incidents/{incident_id}/merge", response_model=IncidentOut, responses=ERRORS)
def merge_incident(request: Request, caller: Caller, incident_id: str,
                   body: MergeIn) -> IncidentOut:
    """Merge this duplicate into ``into``; answers the incident kept."""
    platform = platform_of(request)
    return incident_out(incidents.merge_into(
        platform.uow(), caller, incident_id, body.into, clock=platform.clock,
        version=body.version, publish=platform.bus.publish))


@router.post("/incidents/{incident_id}/priority", response_model=IncidentOut,
             responses=ERRORS)
def prioritise_incident(request: Request, caller: Caller, incident_id: str,
                        body: PriorityIn) -> IncidentOut:
    """Change an open incident's priority (dispatchers, supervisors)."""
    platform = platform_of(request)
    return incident_out(incidents.set_priority(
        platform.uow(), caller, incident_id, body.priority, clock=platform.clock,
        version=body.version, publish=platform.bus.publish))


@router.get("/incidents/{incident_id}/cameras", response_model=list[CameraAroundOut],
            responses=ERRORS)
def incident_cameras(
    request: Request, caller: Caller, incident_id: str,
    radius_m: Annotated[float, Query(ge=0, le=200)] = 0.0,
) -> list[CameraAroundOut]:
    """The cameras (that the caller may see) whose field of view covers the incident's place,
    nearest first, with their recording around the incident's time."""
    _, found = incidents.cameras_around(platform_of(request).uow(), caller, incident_id,
                                        radius_m=radius_m)
    out = []
    for item in found:
        camera = item.view.camera
        query = (f"start={quote(item.start.isoformat())}&end={quote(item.end.isoformat())}")
        out.append(CameraAroundOut(
            id=camera.id, name=camera.name, owner_agency=camera.owner_agency_id,
            latitude=camera.latitude, longitude=camera.longitude,
            heading_deg=camera.heading_deg, fov_deg=camera.fov_deg, range_m=camera.range_m,
            status=camera.status.value, distance_m=round(item.view.distance_m, 1),
            bearing_deg=round(item.view.bearing_deg, 1), recording_start=item.start,
            recording_end=item.end,
            recording=f"{API_PREFIX}/cameras/{quote(camera.id)}/recordings/clip.mp4?{query}"))
    return out


# ---- the type catalogue -----------------------------------------------------------------------


@router.get("/incident-types", response_model=list[TypeOut], responses=ERRORS)
def list_incident_types(
    request: Request, caller: Caller,
    active: Annotated[bool, Query(description="only the active ones")] = False,
) -> list[TypeOut]:
    """The caller's agency's incident types."""
    found = incidents.list_types(platform_of(request).uow(), caller, active_only=active)
    return [_type_out(k) for k in found]


@router.put("/incident-types/{code}", response_model=TypeOut, responses={
    **ERRORS, 201: {"model": TypeOut}})
def save_incident_type(request: Request, caller: Caller, code: str, body: TypeIn) -> Response:
    """Create (201) or update (200) a type of the caller's agency (administrators); a type is
    deactivated (``active: false``), never deleted."""
    platform = platform_of(request)
    kind, created = incidents.save_type(
        platform.uow(), caller, code=code, name_es=body.name_es, name_en=body.name_en,
        default_priority=body.default_priority, category=body.category, active=body.active,
        clock=platform.clock)
    return JSONResponse(_type_out(kind).model_dump(), status_code=201 if created else 200)
