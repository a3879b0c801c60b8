"""Camera registry: list, read, create, update, retire, import, export, live snapshot."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from sereno.adapters.camera_files import parse_camera_file
from sereno.domain import commands
from sereno.domain.cameras import CameraStatus
from sereno.domain.errors import InvalidInput
from sereno.domain.evidence import IssueKind
from sereno.entrypoints.api.context import Caller, platform_of
from sereno.entrypoints.api.schemas import (
    CameraIn,
    CameraList,
    CameraOut,
    CameraPatch,
    ErrorResponse,
    ImportReportOut,
)
from sereno.services import cameras as camera_service
from sereno.services import footage_release
from sereno.services.cameras import CameraFilter

router = APIRouter(tags=["cameras"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 413, 422)}


def camera_filters(
    status: CameraStatus | None = None,
    centre_id: Annotated[str | None, Query(max_length=64)] = None,
    owner_agency: Annotated[str | None, Query(max_length=64)] = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[str | None, Query(max_length=100, description="part of the id or name")] = None,
) -> CameraFilter:
    """The list filters, shared by the list and the GeoJSON export."""
    return CameraFilter(status=status, centre_id=centre_id, owner_agency_id=owner_agency,
                        tag=tag, text=q)


Filters = Annotated[CameraFilter, Depends(camera_filters)]


@router.get("/cameras", response_model=CameraList, responses=ERRORS)
def list_cameras(request: Request, caller: Caller, filters: Filters) -> CameraList:
    """Cameras the caller's agency may see: its own and partners' shared ones."""
    platform = platform_of(request)
    found = camera_service.list_cameras(platform.uow(), caller, filters)
    items = [CameraOut(**camera_service.public_view(c, caller)) for c in found]
    return CameraList(items=items, count=len(items))


@router.get("/cameras.geojson", responses=ERRORS,
            response_class=JSONResponse)
def export_cameras(request: Request, caller: Caller, filters: Filters) -> JSONResponse:
    """The visible cameras as a GeoJSON FeatureCollection (stream passwords masked)."""
    platform = platform_of(request)
    collection = camera_service.export_geojson(platform.uow(), caller, filters)
    return JSONResponse(collection, media_type="application/geo+json")


@router.post("/cameras", response_model=CameraOut, status_code=201, responses=ERRORS)
def register_camera(request: Request, caller: Caller, body: CameraIn) -> CameraOut:
    """Register a camera in one of the caller's agency's centres."""
    platform = platform_of(request)
    camera = platform.bus.handle(commands.RegisterCamera(caller, body.model_dump()))
    return CameraOut(**camera_service.public_view(camera, caller))


@router.get("/cameras/{camera_id}", response_model=CameraOut, responses=ERRORS)
def get_camera(request: Request, caller: Caller, camera_id: str) -> CameraOut:
    """One camera; 404 when it does not exist or is another agency's private camera."""
    platform = platform_of(request)
    camera = camera_service.get_camera(platform.uow(), caller, camera_id)
    return CameraOut(**camera_service.public_view(camera, caller))


@router.patch("/cameras/{camera_id}", response_model=CameraOut, responses=ERRORS)
def update_camera(request: Request, caller: Caller, camera_id: str,
                  body: CameraPatch) -> CameraOut:
    """Change some fields of an own camera."""
    platform = platform_of(request)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise InvalidInput("nothing to change: send at least one field")
    camera = platform.bus.handle(commands.UpdateCamera(caller, camera_id, changes))
    return CameraOut(**camera_service.public_view(camera, caller))


@router.post("/cameras/{camera_id}/retire", response_model=CameraOut, responses=ERRORS)
def retire_camera(request: Request, caller: Caller, camera_id: str) -> CameraOut:
    """Retire an own camera (kept in the registry, no longer streamed)."""
    platform = platform_of(request)
    camera = platform.bus.handle(commands.RetireCamera(caller, camera_id))
    return CameraOut(**camera_service.public_view(camera, caller))


@router.get("/cameras/{camera_id}/snapshot.jpg", responses={
    **ERRORS, 200: {"content": {"image/jpeg": {}}}, 503: {"model": ErrorResponse}})
def live_snapshot(request: Request, caller: Caller, camera_id: str) -> Response:
    """The camera's current picture, privacy masks blanked. Every view is audited."""
    platform = platform_of(request)
    camera, decision = camera_service.authorize_live_view(platform.uow(), caller, camera_id)
    jpeg = request.app.state.snapshots.snapshot(camera.id, camera.analytics_stream_url,
                                                camera.privacy_masks)
    # Overlay (user, time) for everyone; a partner agency's copy is also watermarked.
    marker = footage_release.live_marker(platform.uow(), caller, camera, decision,
                                         platform.settings.data_dir, platform.clock,
                                         kind=IssueKind.SNAPSHOT)
    return Response(marker.mark(jpeg), media_type="image/jpeg",
                    headers={"Cache-Control": "no-store"})


@router.post("/camera-imports", response_model=ImportReportOut, responses=ERRORS,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/csv": {"schema": {"type": "string"}},
                 "application/geo+json": {"schema": {"type": "object"}}}}})
async def import_cameras(
    request: Request, caller: Caller,
    format: Annotated[str | None, Query(pattern="^(csv|geojson)$")] = None,
    dry_run: bool = False,
) -> ImportReportOut:
    """Bulk import from a CSV or GeoJSON body: all rows or none, with a per-row report."""
    platform = platform_of(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    kind = format or {"text/csv": "csv", "application/geo+json": "geojson",
                      "application/json": "geojson"}.get(content_type)
    if kind is None:
        raise InvalidInput("send text/csv or application/geo+json, or name ?format=")
    rows = parse_camera_file(await request.body(), kind)
    report = await run_in_threadpool(
        platform.bus.handle, commands.ImportCameras(caller, rows, f"api:{kind}", dry_run))
    return ImportReportOut(**report.as_dict())
