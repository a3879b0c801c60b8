"""Searching the audit log (auditors, their own agency's records)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from sereno.domain.audit import MAX_PAGE, AuditQuery, Outcome
from sereno.entrypoints.api.context import Caller, platform_of
from sereno.entrypoints.api.schemas import AuditList, AuditOut, ErrorResponse
from sereno.services import audit_review

router = APIRouter(tags=["audit"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 422)}


@router.get("/audit/records", response_model=AuditList, responses=ERRORS)
def search_records(
    request: Request, caller: Caller,
    user: Annotated[str | None, Query(max_length=64, description="actor username or id")] = None,
    action: Annotated[str | None, Query(max_length=64,
                                        description="exact, or a prefix ending in *")] = None,
    outcome: Outcome | None = None,
    object_id: Annotated[str | None, Query(alias="object", max_length=128)] = None,
    object_type: Annotated[str | None, Query(max_length=32)] = None,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
    text: Annotated[str | None, Query(alias="q", max_length=100)] = None,
    before_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> AuditList:
    """The caller's agency's audit records matching every filter given, newest first
    (auditors). Page backwards with ``before_id`` = the previous page's ``next_before_id``."""
    query = AuditQuery(user=user or None, action=action or None, outcome=outcome,
                       object_id=object_id or None, object_type=object_type or None,
                       start=start, end=end, text=text or None, before_id=before_id,
                       limit=limit)
    records = audit_review.search_audit(platform_of(request).uow(), caller, query)
    items = [AuditOut.model_validate(r, from_attributes=True) for r in records]
    return AuditList(items=items, next_before_id=items[-1].id if len(items) == limit else None)
