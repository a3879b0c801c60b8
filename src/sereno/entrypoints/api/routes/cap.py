"""OASIS CAP 1.2: an alert as a CAP message, importing CAP messages, an agency's Atom feed,
and the registered CAP sources (ADR 0027)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sereno.domain.cap_sources import CapSource
from sereno.entrypoints.api.context import Caller, platform_of
from sereno.entrypoints.api.errors import error_response
from sereno.entrypoints.api.schemas import ErrorResponse, Strict
from sereno.exchange.cap.atom import CAP_MEDIA_TYPE
from sereno.services import cap_exchange

router = APIRouter(tags=["cap"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 404, 413, 415, 422)}
XML_TYPES = frozenset({"application/xml", "application/cap+xml", "text/xml"})


class ImportOut(BaseModel):
    sender: str
    identifier: str
    sent: str
    msg_type: str
    outcome: str = Field(description="created, updated, cancelled, acknowledged, recorded or "
                                     "duplicate")
    alert_id: str | None
    duplicate: bool
    signed_by: str | None = Field(description="SHA-256 fingerprint of the pinned certificate "
                                              "the signature verified with")
    warnings: list[str]


class SourceIn(Strict):
    sender: str = Field(min_length=1, max_length=255)
    name: str = Field(min_length=3, max_length=200)
    certificate_pem: str | None = Field(default=None, max_length=20_000,
                                        description="the sender's signing certificate (PEM)")
    require_signature: bool = False


class SourceOut(BaseModel):
    id: str
    sender: str
    name: str
    fingerprint: str | None
    require_signature: bool
    registered_by: str
    registered_at: datetime


def _source_out(source: CapSource) -> SourceOut:
    return SourceOut(id=source.id, sender=source.sender, name=source.name,
                     fingerprint=source.fingerprint,
                     require_signature=source.require_signature,
                     registered_by=source.registered_by, registered_at=source.registered_at)


@router.get("/alerts/{alert_id}/cap", responses={
    **ERRORS, 200: {"content": {CAP_MEDIA_TYPE: {}}}})
def export_alert(request: Request, caller: Caller, alert_id: str) -> Response:
    """The alert as a CAP 1.2 message: one of the caller's agency (scope Private), or a
    partner's that an agreement in force lets through (scope Restricted)."""
    platform = platform_of(request)
    xml = cap_exchange.export_cap(platform.uow(), caller, alert_id,
                                  node=platform.settings.node_name,
                                  console_url=str(request.base_url), clock=platform.clock)
    return Response(xml, media_type=CAP_MEDIA_TYPE, headers={"Cache-Control": "no-store"})


@router.post("/cap", response_model=ImportOut, responses={**ERRORS, 201: {"model": ImportOut}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/cap+xml": {"schema": {"type": "string"}},
                 "application/xml": {"schema": {"type": "string"}}}}})
async def import_cap(request: Request, caller: Caller) -> Response:
    """Import one CAP 1.2 message from a registered source (201 when it raised an alert, 200
    otherwise; a message already received answers 200 with ``duplicate: true``)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in XML_TYPES:
        return error_response(415, "unsupported_media_type",
                              "send the CAP message as application/cap+xml or application/xml")
    platform = platform_of(request)
    body = await request.body()
    try:
        result = await run_in_threadpool(
            cap_exchange.import_cap, platform.uow(), caller, body,
            node=platform.settings.node_name, clock=platform.clock,
            publish=platform.bus.publish)
    except cap_exchange.MessageTooLarge as error:
        return error_response(413, "payload_too_large", error.message)
    created = result.outcome == "created" and not result.duplicate
    out = ImportOut(sender=result.sender, identifier=result.identifier, sent=result.sent,
                    msg_type=result.msg_type, outcome=result.outcome, alert_id=result.alert_id,
                    duplicate=result.duplicate, signed_by=result.signed_by,
                    warnings=result.warnings)
    return JSONResponse(out.model_dump(), status_code=201 if created else 200)


@router.get("/cap/feeds/{agency_id}.atom", responses={
    **ERRORS, 200: {"content": {"application/atom+xml": {}}}})
def agency_feed(request: Request, caller: Caller, agency_id: str) -> Response:
    """Atom feed of an agency's alerts that reach the caller's agency (all of its own; a
    partner's as its agreements in force let them through), newest first."""
    platform = platform_of(request)
    document = cap_exchange.agency_feed(platform.uow(), caller, agency_id,
                                        node=platform.settings.node_name,
                                        base_url=str(request.base_url), clock=platform.clock)
    return Response(document, media_type="application/atom+xml",
                    headers={"Cache-Control": "no-store"})


@router.get("/cap/sources", response_model=list[SourceOut], responses=ERRORS)
def list_sources(request: Request, caller: Caller) -> list[SourceOut]:
    """The caller's agency's registered CAP sources (administrators)."""
    found = cap_exchange.list_sources(platform_of(request).uow(), caller)
    return [_source_out(s) for s in found]


@router.post("/cap/sources", response_model=SourceOut, status_code=201, responses=ERRORS)
def add_source(request: Request, caller: Caller, body: SourceIn) -> SourceOut:
    """Register a CAP sender, optionally pinning its signing certificate (administrators);
    registering a sender again replaces its entry (a new certificate)."""
    platform = platform_of(request)
    return _source_out(cap_exchange.add_source(
        platform.uow(), caller, sender=body.sender, name=body.name,
        certificate_pem=body.certificate_pem, require_signature=body.require_signature,
        clock=platform.clock))
