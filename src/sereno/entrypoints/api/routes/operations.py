"""Joint operations (plan operativo) of the caller's agency: list, read, plan, change and cancel
(the lead's supervisors and administrators), the ones active now with their cameras (for the
wall), and the summary of what happened in one. ADR 0033."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from sereno.domain.cameras import Camera
from sereno.domain.operations import JointOperation
from sereno.entrypoints.api.context import Caller, platform_of
from sereno.entrypoints.api.schemas import ErrorResponse, Strict
from sereno.services import operations

router = APIRouter(tags=["operations"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422)}


class OperationOut(BaseModel):
    id: str
    code: str
    title: str
    lead_agency: str
    participants: list[str]
    area: dict[str, Any]
    starts_at: datetime
    ends_at: datetime
    objectives: str
    unit_ids: list[str]
    camera_ids: list[str]
    status: str
    created_by: str
    created_at: datetime


class OperationIn(Strict):
    code: str | None = Field(default=None, min_length=3, max_length=32,
                             description="generated (OP-YYYYMMDD-XXXXXX) when not given")
    title: str = Field(min_length=3, max_length=160)
    participants: list[str] = Field(
        min_length=1, max_length=20,
        description="agency ids; your agency leads and always takes part")
    area: dict[str, Any] = Field(description="GeoJSON Polygon (longitude, latitude) inside "
                                             "the service area")
    starts_at: datetime
    ends_at: datetime
    objectives: str = Field(default="", max_length=4000)
    unit_ids: list[str] = Field(default_factory=list, max_length=200)
    camera_ids: list[str] = Field(default_factory=list, max_length=200)


class OperationPatch(Strict):
    title: str | None = Field(default=None, min_length=3, max_length=160)
    participants: list[str] | None = Field(default=None, min_length=1, max_length=20)
    area: dict[str, Any] | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    objectives: str | None = Field(default=None, max_length=4000)
    unit_ids: list[str] | None = Field(default=None, max_length=200)
    camera_ids: list[str] | None = Field(default=None, max_length=200)


class CancelIn(Strict):
    reason: str = Field(min_length=3, max_length=500)


class WallCamera(BaseModel):
    id: str
    name: str
    owner_agency: str
    latitude: float
    longitude: float
    status: str


class ActiveOperationOut(BaseModel):
    id: str
    code: str
    title: str
    lead_agency: str
    ends_at: datetime
    cameras: list[WallCamera]


def operation_out(operation: JointOperation) -> OperationOut:
    return OperationOut(
        id=operation.id, code=operation.code, title=operation.title,
        lead_agency=operation.lead_agency_id, participants=list(operation.participants),
        area=operation.area, starts_at=operation.starts_at, ends_at=operation.ends_at,
        objectives=operation.objectives, unit_ids=list(operation.unit_ids),
        camera_ids=list(operation.camera_ids), status=operation.status.value,
        created_by=operation.created_by, created_at=operation.created_at)


def wall_camera(camera: Camera) -> WallCamera:
    return WallCamera(id=camera.id, name=camera.name, owner_agency=camera.owner_agency_id,
                      latitude=camera.latitude, longitude=camera.longitude,
                      status=camera.status.value)


@router.get("/operations", response_model=list[OperationOut], responses=ERRORS)
def list_operations(request: Request, caller: Caller) -> list[OperationOut]:
    """The operations the caller's agency takes part in, newest window first."""
    platform = platform_of(request)
    return [operation_out(o) for o in operations.list_operations(platform.uow(), caller,
                                                                 platform.clock)]


@router.post("/operations", response_model=OperationOut, status_code=201, responses=ERRORS)
def create_operation(request: Request, caller: Caller, body: OperationIn) -> OperationOut:
    """A new operation led by the caller's agency (its supervisors and administrators)."""
    platform = platform_of(request)
    draft = operations.OperationDraft(
        code=body.code, title=body.title, participants=list(body.participants),
        area=body.area, starts_at=body.starts_at, ends_at=body.ends_at,
        objectives=body.objectives, unit_ids=list(body.unit_ids),
        camera_ids=list(body.camera_ids))
    return operation_out(operations.create_operation(platform.uow(), caller, draft,
                                                     platform.clock))


@router.get("/operations/active", response_model=list[ActiveOperationOut], responses=ERRORS)
def active_operations(request: Request, caller: Caller) -> list[ActiveOperationOut]:
    """Operations active now in which the caller's agency takes part, with their cameras the
    caller may see (to put on the wall; the live view still passes the policy door)."""
    platform = platform_of(request)
    return [ActiveOperationOut(id=a.operation.id, code=a.operation.code,
                               title=a.operation.title, lead_agency=a.operation.lead_agency_id,
                               ends_at=a.operation.ends_at,
                               cameras=[wall_camera(c) for c in a.cameras])
            for a in operations.active_operations(platform.uow(), caller, platform.clock)]


@router.get("/operations/{operation_id}", response_model=OperationOut, responses=ERRORS)
def read_operation(request: Request, caller: Caller, operation_id: str) -> OperationOut:
    """One operation the caller's agency takes part in."""
    platform = platform_of(request)
    return operation_out(operations.get_operation(platform.uow(), caller, operation_id,
                                                  platform.clock))


@router.patch("/operations/{operation_id}", response_model=OperationOut, responses=ERRORS)
def update_operation(request: Request, caller: Caller, operation_id: str,
                     body: OperationPatch) -> OperationOut:
    """Change the plan (the lead's supervisors and administrators; not once it ended)."""
    platform = platform_of(request)
    changes = operations.OperationChanges(**body.model_dump(exclude_unset=True))
    return operation_out(operations.update_operation(platform.uow(), caller, operation_id,
                                                     changes, platform.clock))


@router.post("/operations/{operation_id}/cancel", response_model=OperationOut,
             responses=ERRORS)
def cancel_operation(request: Request, caller: Caller, operation_id: str,
                     body: CancelIn) -> OperationOut:
    """Call the operation off (the lead's supervisors and administrators)."""
    platform = platform_of(request)
    return operation_out(operations.cancel_operation(platform.uow(), caller, operation_id,
                                                     body.reason, platform.clock))


@router.get("/operations/{operation_id}/summary", response_model=dict[str, Any],
            responses=ERRORS)
def operation_summary(request: Request, caller: Caller, operation_id: str) -> dict[str, Any]:
    """What happened in the operation: alerts inside it by severity and status, incidents and
    their time to on-scene, units and cameras (stored once the operation ended)."""
    platform = platform_of(request)
    return operations.operation_summary(platform.uow(), caller, operation_id, platform.clock)
