"""Agencies, monitoring centres and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from sereno.entrypoints.api.context import Caller, platform_of
from sereno.entrypoints.api.schemas import (
    AgencyOut,
    AuditList,
    AuditOut,
    CentreOut,
    ErrorResponse,
)
from sereno.services import directory

router = APIRouter(tags=["directory"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 422)}


@router.get("/agencies", response_model=list[AgencyOut], responses=ERRORS)
def list_agencies(request: Request, caller: Caller) -> list[AgencyOut]:
    """The agencies on this platform."""
    return [AgencyOut(id=a.id, name=a.name, kind=a.kind.value)
            for a in directory.list_agencies(platform_of(request).uow(), caller)]


@router.get("/centres", response_model=list[CentreOut], responses=ERRORS)
def list_centres(request: Request, caller: Caller) -> list[CentreOut]:
    """The caller's agency's monitoring centres."""
    return [CentreOut(id=c.id, agency_id=c.agency_id, name=c.name, latitude=c.latitude,
                      longitude=c.longitude)
            for c in directory.list_centres(platform_of(request).uow(), caller)]


@router.get("/audit", response_model=AuditList, responses=ERRORS)
def read_audit(
    request: Request, caller: Caller,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: Annotated[int | None, Query(ge=1)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
) -> AuditList:
    """Audit records concerning the caller's agency, newest first (auditors)."""
    records = directory.read_audit_log(platform_of(request).uow(), caller, limit=limit,
                                       before_id=before_id, action_filter=action)
    items = [AuditOut.model_validate(r, from_attributes=True) for r in records]
    return AuditList(items=items, next_before_id=items[-1].id if len(items) == limit else None)
