"""Sharing agreements of the caller's agency: list, read, create (the giver's administrators),
revoke (with a reason). What they let through is decided at the sharing enforcement point."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from sereno.domain.agreements import SharingAgreement
from sereno.entrypoints.api.context import Caller, platform_of
from sereno.entrypoints.api.schemas import ErrorResponse, Strict
from sereno.services import agreements
from sereno.services.unit_of_work import UnitOfWork

router = APIRouter(tags=["agreements"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422)}

CapCategory = Literal["Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env",
                      "Transport", "Infra", "CBRNE", "Other"]
CapSeverity = Literal["Extreme", "Severe", "Moderate", "Minor", "Unknown"]


class AgreementOut(BaseModel):
    id: str
    from_agency: str
    to_agency: str
    title: str
    categories: list[str]
    min_severity: str
    valid_from: datetime
    valid_until: datetime | None
    include_media: bool
    redact_faces: bool
    redact_plates: bool
    share_footage: bool
    share_watchlists: bool
    area: dict[str, Any] | None
    status: str
    created_by: str
    created_at: datetime
    revoked_by: str | None
    revoked_at: datetime | None
    revoke_reason: str | None


class AgreementIn(Strict):
    to_agency: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=3, max_length=160)
    categories: list[CapCategory] = Field(min_length=1, max_length=12)
    min_severity: CapSeverity = "Minor"
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    include_media: bool = False
    redact_faces: bool = True
    redact_plates: bool = True
    share_footage: bool = False
    share_watchlists: bool = False
    area: dict[str, Any] | None = Field(
        default=None, description="GeoJSON Polygon or MultiPolygon (longitude, latitude)")
    from_agency: str | None = Field(
        default=None, max_length=64, description="must be your own agency when given")


class RevokeIn(Strict):
    reason: str = Field(min_length=3, max_length=2000)


def agreement_out(agreement: SharingAgreement) -> AgreementOut:
    return AgreementOut(
        id=agreement.id, from_agency=agreement.from_agency_id,
        to_agency=agreement.to_agency_id, title=agreement.title,
        categories=list(agreement.categories), min_severity=agreement.min_severity.value,
        valid_from=agreement.valid_from, valid_until=agreement.valid_until,
        include_media=agreement.include_media, redact_faces=agreement.redact_faces,
        redact_plates=agreement.redact_plates, share_footage=agreement.share_footage,
        share_watchlists=agreement.share_watchlists, area=agreement.area,
        status=agreement.status.value, created_by=agreement.created_by,
        created_at=agreement.created_at, revoked_by=agreement.revoked_by,
        revoked_at=agreement.revoked_at, revoke_reason=agreement.revoke_reason)


@router.get("/agreements", response_model=list[AgreementOut], responses=ERRORS)
def list_agreements(request: Request, caller: Caller) -> list[AgreementOut]:
    """The agreements the caller's agency gives or receives, newest first."""
    return [agreement_out(a)
            for a in agreements.list_agreements(platform_of(request).uow(), caller)]


@router.post("/agreements", response_model=AgreementOut, status_code=201, responses=ERRORS)
def create_agreement(request: Request, caller: Caller, body: AgreementIn) -> AgreementOut:
    """A new agreement from the caller's agency (its administrators)."""
    platform = platform_of(request)
    uow = platform.uow()
    draft = agreements.AgreementDraft(
        to_agency_id=body.to_agency, title=body.title, categories=list(body.categories),
        min_severity=body.min_severity, valid_from=body.valid_from,
        valid_until=body.valid_until, include_media=body.include_media,
        redact_faces=body.redact_faces, redact_plates=body.redact_plates,
        share_footage=body.share_footage, share_watchlists=body.share_watchlists,
        area=body.area, from_agency_id=body.from_agency)
    created = agreements.create_agreement(uow, caller, draft, platform.clock)
    _announce(request, uow)
    return agreement_out(created)


@router.get("/agreements/{agreement_id}", response_model=AgreementOut, responses=ERRORS)
def read_agreement(request: Request, caller: Caller, agreement_id: str) -> AgreementOut:
    """One agreement the caller's agency is party to."""
    return agreement_out(agreements.get_agreement(platform_of(request).uow(), caller,
                                                  agreement_id))


@router.post("/agreements/{agreement_id}/revoke", response_model=AgreementOut,
             responses=ERRORS)
def revoke_agreement(request: Request, caller: Caller, agreement_id: str,
                     body: RevokeIn) -> AgreementOut:
    """End an agreement now (the giving agency's administrators); it stays on record."""
    platform = platform_of(request)
    uow = platform.uow()
    revoked = agreements.revoke_agreement(uow, caller, agreement_id, body.reason,
                                          platform.clock)
    _announce(request, uow)
    return agreement_out(revoked)


def _announce(request: Request, uow: UnitOfWork) -> None:
    """Publish what the use-case emitted (video workers reload shared watchlists)."""
    for event in list(uow.collect_new_events()):
        platform_of(request).bus.publish(event)
