"""Units (ADR 0032): the agency's fleet, AVL position reports, recommendations by ETA,
dispatch, and the mobile terminal's reports on a dispatch."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel, Field

from sereno.domain.units import Dispatch, Unit
from sereno.entrypoints.api.context import Caller, platform_of
from sereno.entrypoints.api.schemas import ErrorResponse, Strict
from sereno.services import dispatch, units
from sereno.services.units import MAX_FIXES, Fix

router = APIRouter(tags=["units"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422)}


class UnitOut(BaseModel):
    id: str
    agency: str
    name: str
    kind: str
    status: str
    latitude: float | None
    longitude: float | None
    position_at: datetime | None
    heading_deg: float | None
    speed_kmh: float | None
    incident_id: str | None
    version: int


class UnitIn(Strict):
    id: str = Field(min_length=1, max_length=32, description="the call sign, e.g. PN-PAT-014")
    name: str = Field(min_length=1, max_length=120)
    kind: str = Field(max_length=32, description="patrol_car, motorcycle, bicycle, foot")


class FixIn(Strict):
    latitude: float
    longitude: float
    at: AwareDatetime = Field(description="when the fix was taken (with a time zone)")
    heading_deg: float | None = None
    speed_kmh: float | None = None


class PositionsIn(Strict):
    positions: list[FixIn] = Field(min_length=1, max_length=MAX_FIXES)


class PositionsOut(BaseModel):
    unit_id: str
    accepted: int
    latitude: float
    longitude: float
    position_at: datetime


class CandidateOut(BaseModel):
    unit_id: str
    name: str
    kind: str
    latitude: float
    longitude: float
    distance_m: float
    eta_s: float


class RecommendationOut(BaseModel):
    incident_id: str
    latitude: float
    longitude: float
    units: list[CandidateOut]


class DispatchIn(Strict):
    units: list[str] = Field(min_length=1, max_length=dispatch.MAX_UNITS_PER_DISPATCH)


class DispatchOut(BaseModel):
    id: str
    incident_id: str
    unit_id: str
    agency: str
    status: str
    assigned_by: str
    assigned_at: datetime
    acknowledged_at: datetime | None
    en_route_at: datetime | None
    on_scene_at: datetime | None
    cleared_at: datetime | None
    cancelled_at: datetime | None
    eta_s: float | None
    distance_m: float | None


def unit_out(unit: Unit) -> UnitOut:
    return UnitOut(id=unit.id, agency=unit.agency_id, name=unit.name, kind=unit.kind.value,
                   status=unit.status.value, latitude=unit.latitude, longitude=unit.longitude,
                   position_at=unit.position_at, heading_deg=unit.heading_deg,
                   speed_kmh=unit.speed_kmh, incident_id=unit.incident_id, version=unit.version)


def dispatch_out(made: Dispatch) -> DispatchOut:
    return DispatchOut(
        id=made.id, incident_id=made.incident_id, unit_id=made.unit_id, agency=made.agency_id,
        status=made.status.value, assigned_by=made.assigned_by, assigned_at=made.assigned_at,
        acknowledged_at=made.acknowledged_at, en_route_at=made.en_route_at,
        on_scene_at=made.on_scene_at, cleared_at=made.cleared_at,
        cancelled_at=made.cancelled_at, eta_s=made.eta_s, distance_m=made.distance_m)


@router.get("/units", response_model=list[UnitOut], responses=ERRORS)
def list_units(request: Request, caller: Caller,
               status: Annotated[str | None, Query(max_length=16)] = None) -> list[UnitOut]:
    """The caller's agency's units with their last position and status."""
    return [unit_out(u) for u in units.list_units(platform_of(request).uow(), caller,
                                                  status=status)]


@router.post("/units", response_model=UnitOut, status_code=201, responses=ERRORS)
def register_unit(request: Request, caller: Caller, body: UnitIn) -> UnitOut:
    """Register a unit in the caller's agency's fleet (administrators)."""
    platform = platform_of(request)
    return unit_out(units.register_unit(platform.uow(), caller, body.id, body.name, body.kind,
                                        clock=platform.clock))


@router.post("/units/{unit_id}/positions", response_model=PositionsOut, responses=ERRORS)
def report_positions(request: Request, caller: Caller, unit_id: str,
                     body: PositionsIn) -> PositionsOut:
    """One or more AVL fixes of a unit of the caller's agency: all accepted or none (an older
    fix than the last accepted is 409 "stale position"; outside the service area 422)."""
    platform = platform_of(request)
    fixes = [Fix(f.latitude, f.longitude, f.at, f.heading_deg, f.speed_kmh)
             for f in body.positions]
    done = units.report_positions(platform.uow(), caller, unit_id, fixes, clock=platform.clock,
                                  index=platform.unit_index)
    last = done.last[unit_id]
    return PositionsOut(unit_id=unit_id, accepted=done.accepted, latitude=last.latitude,
                        longitude=last.longitude, position_at=last.at)


class ServiceIn(Strict):
    status: Literal["available", "out_of_service"]


@router.post("/units/{unit_id}/status", response_model=UnitOut, responses=ERRORS)
def set_service(request: Request, caller: Caller, unit_id: str, body: ServiceIn) -> UnitOut:
    """Take a unit of the caller's agency out of service or back in; a unit on a dispatch
    answers 409 until it clears."""
    platform = platform_of(request)
    return unit_out(units.set_service(platform.uow(), caller, unit_id, body.status,
                                      clock=platform.clock, index=platform.unit_index))


@router.get("/incidents/{incident_id}/recommendations", response_model=RecommendationOut,
            responses=ERRORS)
def recommendations(
    request: Request, caller: Caller, incident_id: str,
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
    kind: Annotated[list[str] | None, Query(max_length=8,
                                            description="only units of these kinds")] = None,
) -> RecommendationOut:
    """The available units of the caller's agency that would arrive first (ETA model of
    ADR 0032: great circle × detour factor / urban speed of the kind, plus turnout)."""
    platform = platform_of(request)
    found = dispatch.recommend(platform.uow(), caller, incident_id, clock=platform.clock,
                               index=platform.unit_index, limit=limit, kinds=kind)
    return RecommendationOut(
        incident_id=found.incident.id, latitude=found.incident.latitude,
        longitude=found.incident.longitude,
        units=[CandidateOut(unit_id=c.unit_id, name=c.name, kind=c.kind.value,
                            latitude=c.latitude, longitude=c.longitude,
                            distance_m=c.distance_m, eta_s=c.eta_s) for c in found.units])


@router.get("/incidents/{incident_id}/dispatches", response_model=list[DispatchOut],
            responses=ERRORS)
def list_dispatches(request: Request, caller: Caller, incident_id: str) -> list[DispatchOut]:
    """The incident's dispatches with every timestamp."""
    return [dispatch_out(d) for d in dispatch.list_dispatches(platform_of(request).uow(),
                                                              caller, incident_id)]


@router.post("/incidents/{incident_id}/dispatches", response_model=list[DispatchOut],
             status_code=201, responses=ERRORS)
def dispatch_units(request: Request, caller: Caller, incident_id: str,
                   body: DispatchIn) -> list[DispatchOut]:
    """Assign units of the caller's agency to the incident; a unit another dispatcher has
    just assigned answers 409 "unit already assigned" and nothing is assigned."""
    platform = platform_of(request)
    made = dispatch.dispatch_units(platform.uow(), caller, incident_id, body.units,
                                   clock=platform.clock, index=platform.unit_index,
                                   publish=platform.bus.publish)
    return [dispatch_out(d) for d in made]


@router.post("/dispatches/{dispatch_id}/{report}", response_model=DispatchOut,
             responses=ERRORS)
def report_on_dispatch(request: Request, caller: Caller, dispatch_id: str,
                       report: Literal["acknowledge", "en-route", "on-scene", "clear"]
                       ) -> DispatchOut:
    """The unit's report from its mobile terminal: stamped on the dispatch, moves the unit
    (and the incident: en route, on scene)."""
    platform = platform_of(request)
    return dispatch_out(dispatch.report(platform.uow(), caller, dispatch_id, report,
                                        clock=platform.clock, index=platform.unit_index,
                                        publish=platform.bus.publish))
