"""Data-protection impact assessments per monitoring centre (LOPDP art. 42), and the rule the
video workers obey: a camera is analysed or recorded only while its centre has one in force.

Administrators draft (``impact:write``); auditors approve (``impact:approve``), never their own
draft. Both read their agency's assessments.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sereno.domain import commands, events
from sereno.domain.access import Permission, Principal
from sereno.domain.cameras import Camera
from sereno.domain.errors import NotFound, SerenoError
from sereno.domain.impact import ImpactAssessment, camera_needs_assessment
from sereno.services.audit import Clock, record, refuse, require
from sereno.services.unit_of_work import UnitOfWork

OBJECT = "impact_assessment"


def _may_read(who: Principal) -> bool:
    return who.can(Permission.IMPACT_WRITE) or who.can(Permission.IMPACT_APPROVE)


def list_assessments(uow: UnitOfWork, who: Principal) -> list[ImpactAssessment]:
    """The caller's agency's assessments, newest first."""
    action = "impact.list"
    with uow:
        require(uow, who, _may_read(who), action, object_type=OBJECT)
        found = list(uow.impact_assessments.for_agency(who.agency_id))
        record(uow, who, action, object_type=OBJECT, object_agency_id=who.agency_id,
               detail={"count": len(found)})
        uow.commit()
        return found


def record_assessment(cmd: commands.RecordImpactAssessment, uow: UnitOfWork, clock: Clock
                      ) -> ImpactAssessment:
    """Draft an assessment for one of the caller's agency's centres (administrators)."""
    who, action = cmd.by, "impact.record"
    with uow:
        require(uow, who, who.can(Permission.IMPACT_WRITE), action, object_type=OBJECT)
        centre = uow.centres.get(cmd.centre_id)
        if centre is None or centre.agency_id != who.agency_id:
            refuse(uow, who, action, NotFound(f"no monitoring centre {cmd.centre_id!r}"),
                   object_type="centre", object_id=cmd.centre_id,
                   object_agency_id=centre.agency_id if centre else None,
                   internal_reason=None if centre is None else "another agency's centre")
        now = clock()
        try:
            assessment = ImpactAssessment.draft(
                assessment_id=str(uuid.uuid4()), agency_id=who.agency_id,
                centre_id=centre.id, fields=cmd.fields, by_id=who.user_id, by=who.username,
                at=now)
        except SerenoError as error:
            refuse(uow, who, action, error, object_type=OBJECT, object_agency_id=who.agency_id)
        uow.impact_assessments.add(assessment)
        record(uow, who, action, object_type=OBJECT, object_id=assessment.id,
               object_agency_id=who.agency_id, now=now,
               detail={"centre_id": centre.id, "title": assessment.title,
                       "valid_until": assessment.valid_until.isoformat()})
        uow.emit(events.ImpactAssessmentChanged(assessment.id, who.agency_id, centre.id,
                                                assessment.status.value))
        uow.commit()
        return assessment


def approve_assessment(cmd: commands.ApproveImpactAssessment, uow: UnitOfWork, clock: Clock
                       ) -> ImpactAssessment:
    """Approve a draft (auditors, not its author): the centre's cameras may then be analysed
    and recorded."""
    who, action = cmd.by, "impact.approve"
    with uow:
        require(uow, who, who.can(Permission.IMPACT_APPROVE), action, object_type=OBJECT,
                object_id=cmd.assessment_id)
        assessment = uow.impact_assessments.get(cmd.assessment_id)
        if assessment is None or assessment.agency_id != who.agency_id:
            refuse(uow, who, action, NotFound(f"no impact assessment {cmd.assessment_id!r}"),
                   object_type=OBJECT, object_id=cmd.assessment_id,
                   object_agency_id=assessment.agency_id if assessment else None,
                   internal_reason=None if assessment is None else "another agency's")
        now = clock()
        try:
            assessment.approve(by_id=who.user_id, by=who.username, at=now, note=cmd.note)
        except SerenoError as error:
            refuse(uow, who, action, error, object_type=OBJECT, object_id=assessment.id,
                   object_agency_id=assessment.agency_id)
        record(uow, who, action, object_type=OBJECT, object_id=assessment.id,
               object_agency_id=assessment.agency_id, now=now,
               detail={"centre_id": assessment.centre_id, "recorded_by": assessment.recorded_by,
                       "valid_until": assessment.valid_until.isoformat()})
        uow.emit(events.ImpactAssessmentChanged(assessment.id, assessment.agency_id,
                                                assessment.centre_id, assessment.status.value))
        uow.commit()
        return assessment


def centres_in_force(uow: UnitOfWork, now: datetime) -> set[str]:
    """Centres with an approved, unexpired assessment (call inside an open unit of work)."""
    return {a.centre_id for a in uow.impact_assessments.approved() if a.in_force(now)}


def held_back(cameras: Iterable[Camera], covered: set[str]) -> set[str]:
    """The cameras that may not be analysed or recorded: they would be, and their centre has no
    assessment in force."""
    return {c.id for c in cameras
            if camera_needs_assessment(c.video) and c.centre_id not in covered}
