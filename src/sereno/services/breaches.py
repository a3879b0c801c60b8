"""The breach register: cases opened by Sereno (blocked egress, traced leaks) or by auditors,
their LOPDP deadlines and notices. Only the agency's auditors read and handle them.

``open_breach_case`` is what other parts call (the egress client, ``sereno trace-leak``): it adds
the case, its audit record and (unless told not to) a ``breach_opened`` security alert to the
caller's *current* transaction, without committing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sereno.domain import commands, events
from sereno.domain.access import Permission, Principal
from sereno.domain.breaches import BreachCase, BreachStatus
from sereno.domain.errors import InvalidInput, NotFound, SerenoError
from sereno.services.audit import Clock, record, refuse, require, utcnow
from sereno.services.security import SYSTEM_COMPONENT, raise_security_alert
from sereno.services.unit_of_work import UnitOfWork

OBJECT = "breach_case"


def open_breach_case(
    uow: UnitOfWork, *, agency_id: str, trigger: str, description: str,
    detail: dict[str, Any] | None = None, now: datetime | None = None,
    detected_at: datetime | None = None, data_classes: Sequence[str] = (),
    camera_ids: Sequence[str] = (), records: Sequence[str] = (),
    high_risk: bool | None = None, opened_by: Principal | None = None,
    raise_alert: bool = True,
) -> BreachCase:
    """Open a breach case for ``agency_id`` in the current transaction (no commit).

    ``trigger`` is ``egress_blocked``, ``leak_traced`` or ``manual``; ``detected_at`` (default
    ``now``) starts the legal deadlines. ``data_classes`` (``media``, ``personal_data`` …),
    ``camera_ids`` and ``records`` (audit record ids, export ids, clip keys) say what is
    affected; ``detail`` holds any other facts. ``high_risk`` defaults to true for a traced
    leak only. ``opened_by`` is the auditor for a manual case (Sereno itself otherwise).
    A ``breach_opened`` alert (severity high, critical when high risk) goes to the agency's
    auditors unless ``raise_alert`` is false (when the caller raised its own alert).
    Raises ``InvalidInput`` for an unknown trigger or an empty description.
    """
    at = now or utcnow()
    who = opened_by or Principal.system(SYSTEM_COMPONENT, agency_id)
    case = BreachCase.open(
        case_id=str(uuid.uuid4()), agency_id=agency_id, trigger=trigger,
        description=description, detected_at=detected_at or at, opened_at=at,
        opened_by=who.username, high_risk=high_risk, data_classes=list(data_classes),
        camera_ids=list(camera_ids), records=[str(r) for r in records], detail=detail)
    uow.breaches.add(case)
    record(uow, who, "breach.open", object_type=OBJECT, object_id=case.id,
           object_agency_id=agency_id, reason=case.description[:500],
           detail={"trigger": case.trigger.value, "high_risk": case.high_risk,
                   "data_classes": case.data_classes, "camera_ids": case.camera_ids,
                   "authority_due_at": case.authority_due_at.isoformat()}, now=at)
    if raise_alert:
        raise_security_alert(
            uow, agency_id=agency_id, kind="breach_opened",
            severity="critical" if case.high_risk else "high",
            summary=f"breach case opened ({case.trigger.value}): {case.description[:200]}",
            detail={"breach_case_id": case.id,
                    "authority_due_at": case.authority_due_at.isoformat()}, now=at)
    uow.emit(events.BreachCaseOpened(case.id, agency_id, case.trigger.value,
                                     case.authority_due_at))
    return case


def list_breaches(uow: UnitOfWork, who: Principal, *, status: str | None = None
                  ) -> list[BreachCase]:
    """The caller's agency's breach cases, newest first (auditors)."""
    action = "breach.list"
    with uow:
        require(uow, who, who.can(Permission.SECURITY_READ), action, object_type=OBJECT)
        try:
            wanted = BreachStatus(status) if status else None
        except ValueError:
            refuse(uow, who, action, InvalidInput(f"unknown status {status!r} (open, closed)"),
                   object_type=OBJECT)
        found = list(uow.breaches.for_agency(who.agency_id, status=wanted))
        record(uow, who, action, object_type=OBJECT, object_agency_id=who.agency_id,
               detail={"count": len(found), "status": status})
        uow.commit()
        return found


def _own_case(uow: UnitOfWork, who: Principal, action: str, case_id: str,
              permission: Permission) -> BreachCase:
    require(uow, who, who.can(permission), action, object_type=OBJECT, object_id=case_id)
    case = uow.breaches.get(case_id)
    if case is None or case.agency_id != who.agency_id:
        refuse(uow, who, action, NotFound(f"no breach case {case_id!r}"), object_type=OBJECT,
               object_id=case_id, object_agency_id=case.agency_id if case else None,
               internal_reason=None if case is None else "another agency's breach case")
    return case


def get_breach(uow: UnitOfWork, who: Principal, case_id: str) -> BreachCase:
    """One of the caller's agency's cases (auditors)."""
    action = "breach.read"
    with uow:
        case = _own_case(uow, who, action, case_id, Permission.SECURITY_READ)
        record(uow, who, action, object_type=OBJECT, object_id=case.id,
               object_agency_id=case.agency_id)
        uow.commit()
        return case


def open_manual_case(cmd: commands.OpenBreachCase, uow: UnitOfWork, clock: Clock
                     ) -> BreachCase:
    """An auditor records a suspected breach reported to them."""
    who, action = cmd.by, "breach.open"
    with uow:
        require(uow, who, who.can(Permission.SECURITY_HANDLE), action, object_type=OBJECT)
        now = clock()
        if cmd.detected_at is not None and cmd.detected_at > now:
            refuse(uow, who, action, InvalidInput("detected_at is in the future"),
                   object_type=OBJECT)
        for camera_id in cmd.camera_ids:
            camera = uow.cameras.get(camera_id)
            if camera is None or not camera.visible_to(who):
                refuse(uow, who, action, NotFound(f"no camera {camera_id!r}"),
                       object_type="camera", object_id=camera_id,
                       object_agency_id=camera.owner_agency_id if camera else None)
        try:
            case = open_breach_case(
                uow, agency_id=who.agency_id, trigger="manual", description=cmd.description,
                now=now, detected_at=cmd.detected_at, data_classes=cmd.data_classes,
                camera_ids=cmd.camera_ids, high_risk=cmd.high_risk, opened_by=who,
                raise_alert=False)
        except SerenoError as error:
            refuse(uow, who, action, error, object_type=OBJECT)
        uow.commit()
        return case


def mark_notice_sent(cmd: commands.MarkBreachNotice, uow: UnitOfWork, clock: Clock
                     ) -> BreachCase:
    """Record that the notice to the authority or to the data subjects was sent."""
    who, action = cmd.by, "breach.notice"
    with uow:
        case = _own_case(uow, who, action, cmd.case_id, Permission.SECURITY_HANDLE)
        now = clock()
        try:
            notice = case.mark_notice_sent(cmd.kind, by=who.username, at=now,
                                           reference=cmd.reference)
        except SerenoError as error:
            refuse(uow, who, action, error, object_type=OBJECT, object_id=case.id,
                   object_agency_id=case.agency_id)
        record(uow, who, action, object_type=OBJECT, object_id=case.id,
               object_agency_id=case.agency_id, now=now,
               detail={"notice": notice.kind.value, "reference": notice.reference,
                       "due_at": notice.due_at.isoformat(), "late": now > notice.due_at})
        uow.commit()
        return case


def close_case(cmd: commands.CloseBreachCase, uow: UnitOfWork, clock: Clock) -> BreachCase:
    """Close a case with a note of what was established."""
    who, action = cmd.by, "breach.close"
    with uow:
        case = _own_case(uow, who, action, cmd.case_id, Permission.SECURITY_HANDLE)
        now = clock()
        unsent = [n.kind.value for n in case.notices() if n.sent_at is None]
        try:
            case.close(by=who.username, at=now, note=cmd.note)
        except SerenoError as error:
            refuse(uow, who, action, error, object_type=OBJECT, object_id=case.id,
                   object_agency_id=case.agency_id)
        record(uow, who, action, object_type=OBJECT, object_id=case.id,
               object_agency_id=case.agency_id, now=now,
               detail={"note": case.close_note, "notices_not_sent": unsent})
        uow.commit()
        return case
