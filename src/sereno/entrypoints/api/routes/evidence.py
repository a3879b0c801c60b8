"""Evidence exports: request, approve or reject (a second person), and the signed package."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from sereno.bootstrap import Platform
from sereno.domain.evidence import EvidenceExport
from sereno.entrypoints.api.context import Caller, platform_of
from sereno.entrypoints.api.schemas import ErrorResponse, Strict
from sereno.services import evidence
from sereno.services.footage_release import load_or_create_key, watermark_key_path

router = APIRouter(tags=["evidence"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422)}


class ItemIn(Strict):
    kind: str = Field(max_length=16, examples=["snapshot"],
                      description="snapshot or clip (of a detection), or recording (a range of "
                                  "a camera's recording, at most 5 min)")
    detection_id: str | None = Field(default=None, max_length=36)
    camera_id: str | None = Field(default=None, max_length=64)
    start: datetime | None = None
    end: datetime | None = None


class RecipientIn(Strict):
    name: str = Field(max_length=200, examples=["Ab. María Torres"])
    organisation: str = Field(max_length=200, examples=["Fiscalía Provincial del Guayas"])


class ExportIn(Strict):
    """Purpose and case may also come in the ``X-Sereno-Purpose`` / ``X-Sereno-Case``
    headers; when both are given they must agree."""

    items: list[ItemIn] = Field(min_length=1, max_length=50)
    recipient: RecipientIn
    justification: str = Field(max_length=1000, description="why the recipient needs it")
    purpose: str | None = Field(default=None, max_length=32, examples=["judicial_request"])
    case: str | None = Field(default=None, max_length=32, examples=["FGE-2026-000123"])


class DecisionIn(Strict):
    note: str | None = Field(default=None, max_length=1000)


class RejectIn(Strict):
    note: str = Field(max_length=1000, description="why the export is refused")


class ExportOut(BaseModel):
    id: str
    agency: str
    status: str
    purpose: str
    case: str
    justification: str
    recipient: dict[str, str]
    items: list[dict[str, Any]]
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    exported_by: str | None
    exported_at: datetime | None
    package_sha256: str | None
    package_size: int | None
    custody: list[dict[str, Any]]


def export_out(export: EvidenceExport) -> ExportOut:
    return ExportOut(
        id=export.id, agency=export.agency_id, status=export.status.value,
        purpose=export.purpose, case=export.case_reference, justification=export.justification,
        recipient={"name": export.recipient_name,
                   "organisation": export.recipient_organisation},
        items=[{k: v for k, v in i.items() if k != "media_key"} for i in export.items],
        requested_by=export.requested_by_username, requested_at=export.requested_at,
        decided_by=export.decided_by_username, decided_at=export.decided_at,
        decision_note=export.decision_note, exported_by=export.exported_by_username,
        exported_at=export.exported_at, package_sha256=export.package_sha256,
        package_size=export.package_size, custody=export.custody)


def package_tools(platform: Platform) -> evidence.PackageTools:
    return evidence.PackageTools(
        media=platform.media, audit_log=platform.audit_log,
        watermark_key=load_or_create_key(watermark_key_path(platform.settings.data_dir)),
        clock=platform.clock, publish=platform.bus.publish)


@router.post("/evidence-exports", response_model=ExportOut, status_code=201, responses=ERRORS)
def request_export(request: Request, caller: Caller, body: ExportIn) -> ExportOut:
    """Request an evidence export (analysts and supervisors of the cameras' agency), for a
    purpose and an open case of the agency; a custodian must approve it."""
    platform = platform_of(request)
    export = evidence.request_export(
        platform.uow(), caller,
        items=[evidence.ItemRequest(i.kind, i.detection_id, i.camera_id, i.start, i.end)
               for i in body.items],
        recipient=evidence.Recipient(body.recipient.name, body.recipient.organisation),
        justification=body.justification, media=platform.media,
        recordings_root=platform.settings.recordings_root, clock=platform.clock,
        purpose=body.purpose, case=body.case)
    return export_out(export)


@router.get("/evidence-exports", response_model=list[ExportOut], responses=ERRORS)
def list_exports(request: Request, caller: Caller,
                 status: Annotated[str | None, Query(max_length=16)] = None) -> list[ExportOut]:
    """The agency's exports (custodians, auditors) or the caller's own requests."""
    found = evidence.list_exports(platform_of(request).uow(), caller, status=status)
    return [export_out(e) for e in found]


@router.get("/evidence-exports/{export_id}", response_model=ExportOut, responses=ERRORS)
def get_export(request: Request, caller: Caller, export_id: str) -> ExportOut:
    return export_out(evidence.get_export(platform_of(request).uow(), caller, export_id))


@router.post("/evidence-exports/{export_id}/approve", response_model=ExportOut,
             responses=ERRORS)
def approve_export(request: Request, caller: Caller, export_id: str,
                   body: DecisionIn | None = None) -> ExportOut:
    """Approve (an evidence custodian of the agency who is not the requester)."""
    platform = platform_of(request)
    return export_out(evidence.approve_export(platform.uow(), caller, export_id,
                                              body.note if body else None, platform.clock))


@router.post("/evidence-exports/{export_id}/reject", response_model=ExportOut,
             responses=ERRORS)
def reject_export(request: Request, caller: Caller, export_id: str,
                  body: RejectIn) -> ExportOut:
    """Reject, saying why (an evidence custodian of the agency who is not the requester)."""
    platform = platform_of(request)
    return export_out(evidence.reject_export(platform.uow(), caller, export_id, body.note,
                                             platform.clock))


@router.get("/evidence-exports/{export_id}/package.zip", responses={
    **ERRORS, 200: {"content": {"application/zip": {}}}})
def export_package(request: Request, caller: Caller, export_id: str) -> Response:
    """The signed package of an approved export (its requester or a custodian); built and
    watermarked for the recipient the first time, the same bytes afterwards. Audited."""
    platform = platform_of(request)
    export, data = evidence.export_package(platform.uow, caller, export_id,
                                           package_tools(platform))
    return Response(data, media_type="application/zip", headers={
        "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="sereno-evidence-{export.id}.zip"',
        "X-Sereno-Package-SHA256": export.package_sha256 or ""})
