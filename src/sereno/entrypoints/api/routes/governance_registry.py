"""Egress destinations, the breach register and data-protection impact assessments of the
caller's agency."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from sereno.domain import commands
from sereno.domain.breaches import BreachCase, NoticeKind
from sereno.domain.egress import DestinationPurpose, EgressDestination
from sereno.domain.impact import ImpactAssessment
from sereno.entrypoints.api.context import Caller, platform_of
from sereno.entrypoints.api.schemas import ErrorResponse, Strict
from sereno.services import breaches, egress, impact

router = APIRouter()
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422)}


# -- egress destinations ------------------------------------------------------------------------

class DestinationIn(Strict):
    name: str = Field(min_length=1, max_length=120)
    purpose: DestinationPurpose
    url: str = Field(min_length=8, max_length=600, examples=["https://nodo.policia.gob.ec/api"])
    note: str | None = Field(default=None, max_length=500)


class RevokeIn(Strict):
    reason: str = Field(min_length=1, max_length=500)


class DestinationOut(BaseModel):
    id: str
    agency: str
    name: str
    purpose: str
    url: str
    state: str
    note: str | None
    registered_by: str
    registered_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    revoked_by: str | None
    revoked_at: datetime | None
    revoke_reason: str | None


def destination_out(d: EgressDestination) -> DestinationOut:
    return DestinationOut(
        id=d.id, agency=d.agency_id, name=d.name, purpose=d.purpose.value, url=d.url,
        state=d.state.value, note=d.note, registered_by=d.registered_by,
        registered_at=d.registered_at, approved_by=d.approved_by, approved_at=d.approved_at,
        revoked_by=d.revoked_by, revoked_at=d.revoked_at, revoke_reason=d.revoke_reason)


@router.get("/egress/destinations", response_model=list[DestinationOut], responses=ERRORS,
            tags=["egress"])
def list_destinations(request: Request, caller: Caller) -> list[DestinationOut]:
    """The agency's outbound destinations in every state (administrators, auditors)."""
    return [destination_out(d)
            for d in egress.list_destinations(platform_of(request).uow(), caller)]


@router.post("/egress/destinations", response_model=DestinationOut, status_code=201,
             responses=ERRORS, tags=["egress"])
def register_destination(request: Request, caller: Caller, body: DestinationIn
                         ) -> DestinationOut:
    """Register a destination (administrators); nothing may go there until an auditor
    approves it."""
    return destination_out(platform_of(request).bus.handle(commands.RegisterEgressDestination(
        caller, body.name, body.purpose.value, body.url, body.note)))


@router.post("/egress/destinations/{destination_id}/approve", response_model=DestinationOut,
             responses=ERRORS, tags=["egress"])
def approve_destination(request: Request, caller: Caller, destination_id: str
                        ) -> DestinationOut:
    """Approve a pending destination (auditors; not the person who registered it)."""
    return destination_out(platform_of(request).bus.handle(
        commands.ApproveEgressDestination(caller, destination_id)))


@router.post("/egress/destinations/{destination_id}/revoke", response_model=DestinationOut,
             responses=ERRORS, tags=["egress"])
def revoke_destination(request: Request, caller: Caller, destination_id: str, body: RevokeIn
                       ) -> DestinationOut:
    """Revoke a destination for good (administrators, auditors)."""
    return destination_out(platform_of(request).bus.handle(
        commands.RevokeEgressDestination(caller, destination_id, body.reason)))


# -- breach register ----------------------------------------------------------------------------

class BreachIn(Strict):
    description: str = Field(min_length=1, max_length=4000)
    data_classes: list[Literal["media", "personal_data", "operational"]] = Field(
        default_factory=list, max_length=3)
    camera_ids: list[str] = Field(default_factory=list, max_length=500)
    high_risk: bool | None = None
    detected_at: datetime | None = None


class NoticeIn(Strict):
    reference: str = Field(min_length=1, max_length=200,
                           description="the notice's number or the authority's receipt")


class CloseCaseIn(Strict):
    note: str = Field(min_length=1, max_length=4000)


class NoticeOut(BaseModel):
    kind: str
    due_at: datetime
    sent_at: datetime | None
    sent_by: str | None
    reference: str | None
    overdue: bool
    draft: dict[str, str] = Field(description="the notice text to adapt and send, es and en")


class BreachOut(BaseModel):
    id: str
    agency: str
    trigger: str
    description: str
    detected_at: datetime
    opened_at: datetime
    opened_by: str
    high_risk: bool
    data_classes: list[str]
    camera_ids: list[str]
    records: list[str]
    detail: dict[str, Any]
    status: str
    overdue: bool
    notices: list[NoticeOut]
    closed_at: datetime | None
    closed_by: str | None
    close_note: str | None


def breach_out(case: BreachCase, now: datetime, agency_name: str, *, drafts: bool
               ) -> BreachOut:
    overdue = case.overdue(now)
    notices = [NoticeOut(
        kind=n.kind.value, due_at=n.due_at, sent_at=n.sent_at, sent_by=n.sent_by,
        reference=n.reference, overdue=n.kind in overdue,
        draft={lang: case.notice_draft(n.kind, agency_name=agency_name, language=lang)
               for lang in ("es", "en")} if drafts else {})
        for n in case.notices()]
    return BreachOut(
        id=case.id, agency=case.agency_id, trigger=case.trigger.value,
        description=case.description, detected_at=case.detected_at, opened_at=case.opened_at,
        opened_by=case.opened_by, high_risk=case.high_risk, data_classes=case.data_classes,
        camera_ids=case.camera_ids, records=case.records, detail=case.detail,
        status=case.status.value, overdue=bool(overdue), notices=notices,
        closed_at=case.closed_at, closed_by=case.closed_by, close_note=case.close_note)


def _agency_name(request: Request, agency_id: str) -> str:
    with platform_of(request).uow() as uow:
        agency = uow.agencies.get(agency_id)
    return agency.name if agency else agency_id


def _detailed(request: Request, case: BreachCase) -> BreachOut:
    return breach_out(case, platform_of(request).clock(),
                      _agency_name(request, case.agency_id), drafts=True)


@router.get("/breaches", response_model=list[BreachOut], responses=ERRORS, tags=["breaches"])
def list_breaches(request: Request, caller: Caller,
                  status: Annotated[str | None, Query(max_length=16)] = None
                  ) -> list[BreachOut]:
    """The agency's breach register, newest first, with deadlines and overdue flags
    (auditors)."""
    found = breaches.list_breaches(platform_of(request).uow(), caller, status=status)
    now = platform_of(request).clock()
    return [breach_out(c, now, "", drafts=False) for c in found]


@router.post("/breaches", response_model=BreachOut, status_code=201, responses=ERRORS,
             tags=["breaches"])
def open_breach(request: Request, caller: Caller, body: BreachIn) -> BreachOut:
    """Open a breach case by hand (auditors); the deadlines run from ``detected_at``
    (default: now)."""
    case = platform_of(request).bus.handle(commands.OpenBreachCase(
        caller, body.description, tuple(body.data_classes), tuple(body.camera_ids),
        body.high_risk, body.detected_at))
    return _detailed(request, case)


@router.get("/breaches/{case_id}", response_model=BreachOut, responses=ERRORS,
            tags=["breaches"])
def get_breach(request: Request, caller: Caller, case_id: str) -> BreachOut:
    """One case with the drafts of its notices (auditors)."""
    return _detailed(request, breaches.get_breach(platform_of(request).uow(), caller, case_id))


@router.post("/breaches/{case_id}/notices/{kind}", response_model=BreachOut,
             responses=ERRORS, tags=["breaches"])
def mark_notice(request: Request, caller: Caller, case_id: str, kind: NoticeKind,
                body: NoticeIn) -> BreachOut:
    """Record that the notice (``authority`` or ``data_subjects``) was sent (auditors)."""
    case = platform_of(request).bus.handle(
        commands.MarkBreachNotice(caller, case_id, kind.value, body.reference))
    return _detailed(request, case)


@router.post("/breaches/{case_id}/close", response_model=BreachOut, responses=ERRORS,
             tags=["breaches"])
def close_breach(request: Request, caller: Caller, case_id: str, body: CloseCaseIn
                 ) -> BreachOut:
    """Close a case with a note of what was established (auditors)."""
    case = platform_of(request).bus.handle(commands.CloseBreachCase(caller, case_id, body.note))
    return _detailed(request, case)


# -- impact assessments -------------------------------------------------------------------------

class AssessmentIn(Strict):
    centre_id: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=200)
    processing: str = Field(min_length=1, max_length=8000)
    necessity: str = Field(min_length=1, max_length=8000)
    risks: str = Field(min_length=1, max_length=8000)
    measures: str = Field(min_length=1, max_length=8000)
    legal_basis: str = Field(min_length=1, max_length=8000)
    valid_until: datetime | None = None


class ApproveAssessmentIn(Strict):
    note: str | None = Field(default=None, max_length=2000)


class AssessmentOut(BaseModel):
    id: str
    agency: str
    centre_id: str
    title: str
    processing: str
    necessity: str
    risks: str
    measures: str
    legal_basis: str
    status: str
    in_force: bool
    recorded_by: str
    recorded_at: datetime
    valid_until: datetime
    approved_by: str | None
    approved_at: datetime | None
    approval_note: str | None


def assessment_out(a: ImpactAssessment, now: datetime) -> AssessmentOut:
    return AssessmentOut(
        id=a.id, agency=a.agency_id, centre_id=a.centre_id, title=a.title,
        processing=a.processing, necessity=a.necessity, risks=a.risks, measures=a.measures,
        legal_basis=a.legal_basis, status=a.status.value, in_force=a.in_force(now),
        recorded_by=a.recorded_by, recorded_at=a.recorded_at, valid_until=a.valid_until,
        approved_by=a.approved_by, approved_at=a.approved_at, approval_note=a.approval_note)


@router.get("/impact-assessments", response_model=list[AssessmentOut], responses=ERRORS,
            tags=["impact assessments"])
def list_assessments(request: Request, caller: Caller) -> list[AssessmentOut]:
    """The agency's data-protection impact assessments (administrators, auditors)."""
    now = platform_of(request).clock()
    return [assessment_out(a, now)
            for a in impact.list_assessments(platform_of(request).uow(), caller)]


@router.post("/impact-assessments", response_model=AssessmentOut, status_code=201,
             responses=ERRORS, tags=["impact assessments"])
def record_assessment(request: Request, caller: Caller, body: AssessmentIn) -> AssessmentOut:
    """Draft an assessment for a monitoring centre (administrators)."""
    fields = body.model_dump(exclude={"centre_id"})
    assessment = platform_of(request).bus.handle(
        commands.RecordImpactAssessment(caller, body.centre_id, fields))
    return assessment_out(assessment, platform_of(request).clock())


@router.post("/impact-assessments/{assessment_id}/approve", response_model=AssessmentOut,
             responses=ERRORS, tags=["impact assessments"])
def approve_assessment(request: Request, caller: Caller, assessment_id: str,
                       body: ApproveAssessmentIn | None = None) -> AssessmentOut:
    """Approve a draft (auditors, not its author): the centre's cameras may then be analysed
    and recorded."""
    assessment = platform_of(request).bus.handle(commands.ApproveImpactAssessment(
        caller, assessment_id, body.note if body else None))
    return assessment_out(assessment, platform_of(request).clock())
