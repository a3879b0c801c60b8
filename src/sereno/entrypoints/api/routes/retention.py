"""Retention periods, the purge and its reports, legal holds — always the caller's agency's."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from sereno.domain import commands
from sereno.domain.audit import AuditRecord
from sereno.domain.retention import LegalHold, RetentionPolicy
from sereno.entrypoints.api.context import Caller, platform_of
from sereno.entrypoints.api.schemas import ErrorResponse, Strict
from sereno.services import retention
from sereno.services.retention import PurgeReport

router = APIRouter(tags=["retention"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422)}


class PolicyOut(BaseModel):
    agency: str
    data_class: str
    camera_id: str | None
    period_days: int
    source: str  # "default" or "agency"
    updated_at: datetime | None
    updated_by: str | None


class PolicyIn(Strict):
    """``period_days`` null removes the agency's line (the default applies again)."""

    period_days: int | None = Field(description="whole days; recordings 1-3650, audit at "
                                                "least 365")
    camera_id: str | None = Field(default=None, max_length=64,
                                  description="only for recordings: one camera's own period")


class PurgeIn(Strict):
    dry_run: bool = False


class HoldIn(Strict):
    case_reference: str = Field(max_length=64, examples=["FGE-2026-000123"])
    reason: str = Field(max_length=500)
    camera_ids: list[str] = Field(default_factory=list, max_length=50)
    start: datetime | None = None
    end: datetime | None = None
    detection_ids: list[str] = Field(default_factory=list, max_length=500)


class ReleaseIn(Strict):
    reason: str = Field(max_length=500)


class HoldOut(BaseModel):
    id: str
    agency: str
    case_reference: str
    reason: str
    active: bool
    placed_by: str
    placed_at: datetime
    camera_ids: list[str]
    start: datetime | None
    end: datetime | None
    detection_ids: list[str]
    released_at: datetime | None
    released_by: str | None
    release_reason: str | None


class PurgeRecordOut(BaseModel):
    agency: str | None
    audit_id: int | None
    at: datetime
    actor: str | None
    report: dict[str, Any]


def _policy(line: RetentionPolicy) -> PolicyOut:
    return PolicyOut(agency=line.agency_id, data_class=line.data_class.value,
                     camera_id=line.camera_id, period_days=line.period_days,
                     source="default" if line.updated_at is None else "agency",
                     updated_at=line.updated_at, updated_by=line.updated_by)


def _hold(hold: LegalHold) -> HoldOut:
    return HoldOut(id=hold.id, agency=hold.agency_id, case_reference=hold.case_reference,
                   reason=hold.reason, active=hold.active, placed_by=hold.placed_by_username,
                   placed_at=hold.placed_at, camera_ids=hold.camera_ids, start=hold.start,
                   end=hold.end, detection_ids=hold.detection_ids,
                   released_at=hold.released_at, released_by=hold.released_by_username,
                   release_reason=hold.release_reason)


def _purge_record(item: AuditRecord) -> PurgeRecordOut:
    return PurgeRecordOut(agency=item.object_agency_id, audit_id=item.id, at=item.at,
                          actor=item.actor_username, report=dict(item.detail))


@router.get("/retention/policies", response_model=list[PolicyOut], responses=ERRORS)
def list_policies(request: Request, caller: Caller) -> list[PolicyOut]:
    """The retention period of every data class for the caller's agency, and the per-camera
    recording periods."""
    return [_policy(p) for p in retention.list_policies(platform_of(request).uow(), caller)]


@router.put("/retention/policies/{data_class}", response_model=PolicyOut, responses=ERRORS)
def set_policy(request: Request, caller: Caller, data_class: str, body: PolicyIn) -> PolicyOut:
    """Change a period (administrators; audited with the old and new value)."""
    return _policy(platform_of(request).bus.handle(commands.SetRetentionPolicy(
        caller, data_class, body.period_days, body.camera_id)))


@router.post("/retention/purge", responses=ERRORS)
def run_purge(request: Request, caller: Caller, body: PurgeIn | None = None) -> dict[str, Any]:
    """Delete the agency's data past its period and not held, now (administrators); the
    report is also the audit record's detail."""
    report: PurgeReport = platform_of(request).bus.handle(commands.PurgeExpired(
        caller, dry_run=body.dry_run if body else False))
    return {"agency": report.agency_id, **report.as_detail()}


@router.get("/retention/purges", response_model=list[PurgeRecordOut], responses=ERRORS)
def list_purges(request: Request, caller: Caller,
                limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[PurgeRecordOut]:
    """The agency's last purge reports (from the audit log), newest first."""
    found = retention.purge_reports(platform_of(request).uow(), caller, limit=limit)
    return [_purge_record(r) for r in found]


@router.get("/legal-holds", response_model=list[HoldOut], responses=ERRORS)
def list_holds(request: Request, caller: Caller, active: bool = False) -> list[HoldOut]:
    """The agency's legal holds, newest first (``active=true``: not yet released)."""
    return [_hold(h) for h in retention.list_holds(platform_of(request).uow(), caller,
                                                   active_only=active)]


@router.post("/legal-holds", response_model=HoldOut, status_code=201, responses=ERRORS)
def place_hold(request: Request, caller: Caller, body: HoldIn) -> HoldOut:
    """Keep the agency's footage and detections for a case (supervisors, custodians)."""
    return _hold(platform_of(request).bus.handle(commands.PlaceLegalHold(
        caller, body.case_reference, body.reason, tuple(body.camera_ids), body.start,
        body.end, tuple(body.detection_ids))))


@router.get("/legal-holds/{hold_id}", response_model=HoldOut, responses=ERRORS)
def get_hold(request: Request, caller: Caller, hold_id: str) -> HoldOut:
    """One legal hold of the agency."""
    return _hold(retention.get_hold(platform_of(request).uow(), caller, hold_id))


@router.post("/legal-holds/{hold_id}/release", response_model=HoldOut, responses=ERRORS)
def release_hold(request: Request, caller: Caller, hold_id: str, body: ReleaseIn) -> HoldOut:
    """Release a hold (evidence custodians), saying why."""
    return _hold(platform_of(request).bus.handle(commands.ReleaseLegalHold(
        caller, hold_id, body.reason)))
