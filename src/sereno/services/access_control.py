"""The one policy door: every read of footage or personal data asks ``authorize`` first.

It gathers the attributes (who: agency, roles, clearance, assignment; what: the camera's owner,
classification, sharing, masks; why: purpose, case, break-glass), asks the active version of the
Cedar policies, and either returns the decision (the caller records the access with
``decision.audit_detail()``) or refuses with the policy's reason, recorded in the audit log.
A break-glass access is allowed only through a policy and is queued for a supervisor's review.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sereno.domain.access import Permission, Principal
from sereno.domain.cameras import Camera, Classification
from sereno.domain.errors import AccessDenied, InvalidInput
from sereno.domain.governance import (
    BREAK_GLASS_REVIEW_WITHIN,
    BreakGlassAccess,
    PolicyVersion,
    parse_purpose,
    validate_case_reference,
    validate_justification,
)
from sereno.governance.policy.engine import (
    AccessContext,
    AlertShareResource,
    CameraResource,
    Decision,
    PolicyDecisionPoint,
    Resource,
    Subject,
    WatchlistResource,
    packaged_policies,
)
from sereno.services.audit import record, refuse, utcnow
from sereno.services.unit_of_work import UnitOfWork

# The token scope each action needs (sessions carry every scope their roles give).
ACTION_SCOPES = {
    "footage.live": Permission.FOOTAGE_LIVE, "footage.snapshot": Permission.FOOTAGE_LIVE,
    "footage.clip": Permission.FOOTAGE_LIVE, "footage.playback": Permission.FOOTAGE_LIVE,
    "footage.export": Permission.FOOTAGE_EXPORT,
    "personal_data.read": Permission.WATCHLIST_READ,
    "personal_data.write": Permission.WATCHLIST_WRITE,
}
SENSITIVITY_TAGS = {"restricted": 3, "sensitive": 2}

_decision_points: dict[str, PolicyDecisionPoint] = {}


def decision_point(uow: UnitOfWork) -> PolicyDecisionPoint:
    """The decision point of the active policy version (parsed once per version and process)."""
    active = uow.policies.active()
    if active is None:  # a node migrated but never bootstrapped: the shipped policies
        text, version, key = packaged_policies(), 0, "packaged"
    else:
        text, version, key = active.text, active.version, active.sha256
    if key not in _decision_points:
        _decision_points[key] = PolicyDecisionPoint(text, version)
    return _decision_points[key]


def camera_resource(uow: UnitOfWork, camera: Camera, now: datetime | None = None
                    ) -> CameraResource:
    """A camera as the policies see it. A camera classified ``shared`` is shared with the
    agencies an agreement in force from its owner gives footage to (``share_footage``; ADR
    0025, which replaced ADR 0004's "every other agency")."""
    shared_with: frozenset[str] = frozenset()
    if camera.classification is Classification.SHARED:
        at = now or utcnow()
        shared_with = frozenset(
            a.to_agency_id for a in uow.agreements.active_from(camera.owner_agency_id)
            if a.share_footage and a.in_force(at) and a.to_agency_id != camera.owner_agency_id)
    sensitivity = max([SENSITIVITY_TAGS.get(t, 1) for t in camera.tags] or [1])
    return CameraResource(
        id=camera.id, owner_agency_id=camera.owner_agency_id,
        classification=camera.classification.value, centre_id=camera.centre_id,
        sensitivity=sensitivity, masked=bool(camera.privacy_masks), shared_with=shared_with)


def _subject(uow: UnitOfWork, who: Principal) -> Subject:
    profile = uow.access_profiles.get(who.user_id)
    return Subject(
        user_id=who.user_id, agency_id=who.agency_id, roles=frozenset(r.value for r in who.roles),
        clearance=profile.clearance if profile else 1,
        centres=frozenset(profile.centre_ids) if profile else frozenset(),
        cameras=frozenset(profile.camera_ids) if profile else frozenset())


def _context(uow: UnitOfWork, who: Principal, action: str, audit: dict[str, Any]) -> AccessContext:
    """The request's purpose, case and break-glass, each checked (invented ones refused)."""
    purpose = parse_purpose(who.purpose)
    case, case_open = "", False
    if who.case_ref:
        case = validate_case_reference(who.case_ref)
        found = uow.cases.get(who.agency_id, case)
        if found is None:
            raise InvalidInput(f"your agency has no case {case} (open it first)")
        case_open = found.is_open
    scope = ACTION_SCOPES[action]
    audit.update(purpose=purpose.value if purpose else None, case=case or None)
    return AccessContext(
        purpose=purpose.value if purpose else "", case=case, case_open=case_open,
        break_glass=who.break_glass is not None,
        token_allows=who.scopes is None or scope.scope in who.scopes, channel=who.channel)


def authorize(uow: UnitOfWork, who: Principal, action: str, resource: Resource, *,
              object_type: str, object_id: str, object_agency_id: str,
              audit_action: str | None = None, now: datetime | None = None) -> Decision:
    """Ask the policies whether ``who`` may do ``action`` (a policy action such as
    ``footage.playback``); refuse (audited under ``audit_action``, with the reason) or return
    the allowing decision. Must run inside the caller's ``with uow`` block.
    """
    detail: dict[str, Any] = {}
    audited = audit_action or action
    target = {"object_type": object_type, "object_id": object_id,
              "object_agency_id": object_agency_id}
    try:
        context = _context(uow, who, action, detail)
        justification = (validate_justification(who.break_glass)
                         if who.break_glass is not None else None)
    except InvalidInput as error:
        refuse(uow, who, audited, error, detail=detail, **target)
    decision = decision_point(uow).decide(_subject(uow, who), action, resource, context)
    if not decision.allowed:
        refuse(uow, who, audited, AccessDenied(decision.reason),
               detail={**detail, **decision.audit_detail()}, **target)
    if justification is not None:
        _queue_break_glass(uow, who, action, justification, now or utcnow(), **target)
    return decision


def _queue_break_glass(uow: UnitOfWork, who: Principal, action: str, justification: str,
                       now: datetime, *, object_type: str, object_id: str,
                       object_agency_id: str) -> None:
    access = BreakGlassAccess(
        id=str(uuid.uuid4()), agency_id=who.agency_id, user_id=who.user_id,
        username=who.username, action=action, object_type=object_type, object_id=object_id,
        justification=justification, at=now, review_due=now + BREAK_GLASS_REVIEW_WITHIN)
    uow.break_glass.add(access)
    record(uow, who, "break_glass.used", object_type=object_type, object_id=object_id,
           object_agency_id=object_agency_id, reason=justification,
           detail={"break_glass_id": access.id, "for_action": action,
                   "review_due": access.review_due.isoformat()}, now=now)


def authorize_camera(uow: UnitOfWork, who: Principal, action: str, camera: Camera, *,
                     audit_action: str | None = None, object_type: str = "camera",
                     object_id: str | None = None, now: datetime | None = None) -> Decision:
    """``authorize`` for a camera's footage (``object_*`` name what the audit record is about,
    e.g. a detection whose clip is asked for)."""
    return authorize(uow, who, action, camera_resource(uow, camera, now),
                     object_type=object_type,
                     object_id=object_id or camera.id, object_agency_id=camera.owner_agency_id,
                     audit_action=audit_action, now=now)


def authorize_personal_data(uow: UnitOfWork, who: Principal, action: str, *,
                            audit_action: str | None = None,
                            object_type: str = "watchlist") -> Decision:
    """``authorize`` for the caller's agency's personal data (watchlist, plate hits)."""
    return authorize(uow, who, action, WatchlistResource(who.agency_id),
                     object_type=object_type, object_id=who.agency_id,
                     object_agency_id=who.agency_id, audit_action=audit_action)


SHARING_PRINCIPAL = "system:sharing"


def decide_share(uow: UnitOfWork, resource: AlertShareResource) -> Decision:
    """Ask the policies whether an alert may leave its agency for ``resource.recipient``
    (action ``alert.share``). The sharing component asks for the agency that raised the alert;
    it records the decision itself (every share and every refusal, ``alert.share``)."""
    subject = Subject(user_id=SHARING_PRINCIPAL, agency_id=resource.owner_agency_id,
                      roles=frozenset({"system"}))
    context = AccessContext(token_allows=True, channel="system")
    return decision_point(uow).decide(subject, "alert.share", resource, context)


def ensure_policies(uow: UnitOfWork, now: datetime) -> PolicyVersion:
    """Make the shipped policies version 1 of a node that has none yet (bootstrap)."""
    with uow:
        active = uow.policies.active()
        if active is not None:
            return active
        text = packaged_policies()
        version = PolicyVersion(version=uow.policies.next_version(), text=text,
                                sha256=PolicyVersion.digest(text),
                                published_by="system:bootstrap", published_at=now,
                                note="policies shipped with Sereno")
        uow.policies.publish(version)
        record(uow, Principal.system("bootstrap", "-"), "policy.publish",
               object_type="policy", object_id=str(version.version),
               detail={"sha256": version.sha256}, now=now)
        uow.commit()
        return version
