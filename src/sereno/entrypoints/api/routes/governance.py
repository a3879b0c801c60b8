"""Cases, break-glass reviews, access policies, access profiles and peer nodes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from sereno.domain.governance import BreakGlassAccess, InvestigationCase, PolicyVersion
from sereno.entrypoints.api.context import Caller, platform_of
from sereno.entrypoints.api.schemas import ErrorResponse, Strict
from sereno.services import governance

router = APIRouter(tags=["governance"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422)}


class CaseIn(Strict):
    reference: str = Field(max_length=64, examples=["FGE-2026-000123"])
    title: str = Field(max_length=200)


class CaseOut(BaseModel):
    reference: str
    title: str
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None


def _case(case: InvestigationCase) -> CaseOut:
    return CaseOut(reference=case.reference, title=case.title, opened_by=case.opened_by,
                   opened_at=case.opened_at, closed_at=case.closed_at)


@router.get("/cases", response_model=list[CaseOut], responses=ERRORS)
def list_cases(request: Request, caller: Caller) -> list[CaseOut]:
    """The caller's agency's cases (footage is replayed and exported only under an open one)."""
    return [_case(c) for c in governance.list_cases(platform_of(request).uow(), caller)]


@router.post("/cases", response_model=CaseOut, status_code=201, responses=ERRORS)
def open_case(request: Request, caller: Caller, body: CaseIn) -> CaseOut:
    """Open a case (supervisors, analysts, dispatchers, auditors)."""
    platform = platform_of(request)
    return _case(governance.open_case(platform.uow(), caller, body.reference, body.title,
                                      platform.clock))


@router.post("/cases/{reference}/close", response_model=CaseOut, responses=ERRORS)
def close_case(request: Request, caller: Caller, reference: str) -> CaseOut:
    """Close a case."""
    platform = platform_of(request)
    return _case(governance.close_case(platform.uow(), caller, reference, platform.clock))


class BreakGlassOut(BaseModel):
    id: str
    username: str
    action: str
    object_type: str
    object_id: str
    justification: str
    at: datetime
    review_due: datetime
    overdue: bool
    verdict: str | None
    reviewed_at: datetime | None
    review_note: str | None


class ReviewIn(Strict):
    verdict: Literal["justified", "unjustified"]
    note: str = Field(max_length=1000)


def _glass(access: BreakGlassAccess, now: datetime) -> BreakGlassOut:
    return BreakGlassOut(
        id=access.id, username=access.username, action=access.action,
        object_type=access.object_type, object_id=access.object_id,
        justification=access.justification, at=access.at, review_due=access.review_due,
        overdue=access.is_overdue(now), verdict=access.verdict.value if access.verdict else None,
        reviewed_at=access.reviewed_at, review_note=access.review_note)


@router.get("/break-glass", response_model=list[BreakGlassOut], responses=ERRORS)
def list_break_glass(request: Request, caller: Caller,
                     pending: bool = False) -> list[BreakGlassOut]:
    """Emergency accesses of the caller's agency, for review (supervisors, auditors)."""
    platform = platform_of(request)
    now = platform.clock()
    return [_glass(a, now) for a in
            governance.list_break_glass(platform.uow(), caller, pending_only=pending)]


@router.post("/break-glass/{access_id}/review", response_model=BreakGlassOut, responses=ERRORS)
def review_break_glass(request: Request, caller: Caller, access_id: str,
                       body: ReviewIn) -> BreakGlassOut:
    """A supervisor's verdict on someone else's emergency access."""
    platform = platform_of(request)
    access = governance.review_break_glass(platform.uow(), caller, access_id, body.verdict,
                                           body.note, platform.clock)
    return _glass(access, platform.clock())


class PolicyOut(BaseModel):
    version: int
    sha256: str
    published_by: str
    published_at: datetime
    note: str
    active: bool
    text: str


class PolicyIn(Strict):
    text: str = Field(max_length=200_000)
    note: str = Field(max_length=500)


def _policy(version: PolicyVersion) -> PolicyOut:
    return PolicyOut(version=version.version, sha256=version.sha256,
                     published_by=version.published_by, published_at=version.published_at,
                     note=version.note, active=version.active, text=version.text)


@router.get("/policies", response_model=list[PolicyOut], responses=ERRORS)
def list_policies(request: Request, caller: Caller) -> list[PolicyOut]:
    """Every published version of the access policies, newest first (admins, auditors)."""
    return [_policy(v) for v in governance.policy_history(platform_of(request).uow(), caller)]


@router.post("/policies", response_model=PolicyOut, status_code=201, responses=ERRORS)
def publish_policies(request: Request, caller: Caller, body: PolicyIn) -> PolicyOut:
    """Validate and activate a new version of the Cedar policies (admins)."""
    platform = platform_of(request)
    return _policy(governance.publish_policies(platform.uow(), caller, body.text, body.note,
                                               platform.clock,
                                               platform.settings.node_agency_id))


class AccessProfileIn(Strict):
    clearance: int = Field(1, ge=1, le=3)
    centre_ids: list[str] = Field(default_factory=list, max_length=50)
    camera_ids: list[str] = Field(default_factory=list, max_length=500)


@router.put("/users/{user_id}/access-profile", response_model=AccessProfileIn,
            responses=ERRORS)
def set_access_profile(request: Request, caller: Caller, user_id: str,
                       body: AccessProfileIn) -> AccessProfileIn:
    """A user's clearance and assigned centres/cameras (admins of the user's agency)."""
    profile = governance.set_access_profile(platform_of(request).uow(), caller, user_id,
                                            body.clearance, body.centre_ids, body.camera_ids)
    return AccessProfileIn(clearance=profile.clearance, centre_ids=profile.centre_ids,
                           camera_ids=profile.camera_ids)


class PeerIn(Strict):
    node_id: str = Field(min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]+$")
    agency_id: str = Field(min_length=2, max_length=64)
    public_key: str = Field(min_length=40, max_length=64)
    base_url: str = Field(min_length=10, max_length=500)


class PeerOut(PeerIn):
    registered_by: str
    registered_at: datetime


@router.get("/peers", response_model=list[PeerOut], responses=ERRORS)
def list_peers(request: Request, caller: Caller) -> list[PeerOut]:
    """Other agencies' nodes this node knows, with their pinned keys (admins, auditors)."""
    return [PeerOut(**p) for p in governance.list_peers(platform_of(request).uow(), caller)]


@router.post("/peers", response_model=PeerOut, status_code=201, responses=ERRORS)
def register_peer(request: Request, caller: Caller, body: PeerIn) -> PeerOut:
    """Register another agency's node and pin its key (admins)."""
    platform = platform_of(request)
    return PeerOut(**governance.register_peer(platform.uow(), caller, body.node_id,
                                              body.agency_id, body.public_key, body.base_url,
                                              platform.clock, platform.settings.node_agency_id))
