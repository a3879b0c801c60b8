"""Security alerts: raised by Sereno's own parts, read and handled by the agency's auditors.

``raise_security_alert`` is the one way to raise an alert. It adds the alert and its audit record
to the caller's *current* transaction and queues a ``SecurityAlertRaised`` event; it neither
commits nor opens a transaction. Call it inside ``with uow:`` and commit. Inside a command handler
the bus delivers the event after the commit; elsewhere hand ``uow.collect_new_events()`` to
``bus.publish`` after committing (the egress client does).

Least privilege: only auditors (``security:read`` / ``security:handle``) see and handle alerts.
Administrators do not: an alert may concern what an administrator did (a destination they
registered, a break-glass access), and the people it watches should not be the ones who close it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sereno.domain import commands, events
from sereno.domain.access import Permission, Principal
from sereno.domain.errors import InvalidInput, NotFound, SerenoError
from sereno.domain.security import AlertStatus, SecurityAlert, parse_kind
from sereno.services.audit import Clock, record, refuse, require, utcnow
from sereno.services.unit_of_work import UnitOfWork

OBJECT = "security_alert"
SYSTEM_COMPONENT = "security"


def raise_security_alert(
    uow: UnitOfWork, *, agency_id: str, kind: str, severity: str, summary: str,
    detail: dict[str, Any] | None = None, now: datetime | None = None,
) -> SecurityAlert:
    """Raise an alert for ``agency_id``'s auditors in the current transaction (no commit).

    ``kind`` is an ``AlertKind`` value (``egress_blocked``, ``audit_fork``, ``audit_tampered``,
    ``access_anomaly``, ``leak_traced``, ``break_glass``, …) and ``severity`` one of ``low``,
    ``medium``, ``high``, ``critical``; anything else raises ``ValueError`` (a programming error,
    caught by the caller's tests). ``detail`` must be JSON-serialisable facts, never media.
    """
    at = now or utcnow()
    alert = SecurityAlert.raise_new(alert_id=str(uuid.uuid4()), agency_id=agency_id, kind=kind,
                                    severity=severity, summary=summary, detail=detail, at=at)
    uow.security_alerts.add(alert)
    record(uow, Principal.system(SYSTEM_COMPONENT, agency_id), "security.alert.raise",
           object_type=OBJECT, object_id=alert.id, object_agency_id=agency_id,
           reason=alert.summary[:500],
           detail={**(detail or {}), "kind": alert.kind.value,
                   "severity": alert.severity.value}, now=at)
    uow.emit(events.SecurityAlertRaised(alert.id, agency_id, alert.kind.value,
                                        alert.severity.value, alert.summary, at))
    return alert


def list_alerts(uow: UnitOfWork, who: Principal, *, status: str | None = None,
                kind: str | None = None, limit: int = 200) -> list[SecurityAlert]:
    """The caller's agency's alerts, newest first (auditors)."""
    action = "security.alert.list"
    with uow:
        require(uow, who, who.can(Permission.SECURITY_READ), action, object_type=OBJECT)
        try:
            wanted_status = AlertStatus(status) if status else None
            wanted_kind = parse_kind(kind).value if kind else None
        except ValueError as error:
            refuse(uow, who, action, InvalidInput(str(error)), object_type=OBJECT)
        found = list(uow.security_alerts.for_agency(who.agency_id, status=wanted_status,
                                                    kind=wanted_kind, limit=limit))
        record(uow, who, action, object_type=OBJECT, object_agency_id=who.agency_id,
               detail={"count": len(found), "status": status, "kind": kind})
        uow.commit()
        return found


def _handle(uow: UnitOfWork, who: Principal, action: str, alert_id: str) -> SecurityAlert:
    require(uow, who, who.can(Permission.SECURITY_HANDLE), action, object_type=OBJECT,
            object_id=alert_id)
    alert = uow.security_alerts.get(alert_id)
    if alert is None or alert.agency_id != who.agency_id:
        refuse(uow, who, action, NotFound(f"no security alert {alert_id!r}"),
               object_type=OBJECT, object_id=alert_id,
               object_agency_id=alert.agency_id if alert else None,
               internal_reason=None if alert is None else "another agency's alert")
    return alert


def acknowledge_alert(cmd: commands.AcknowledgeSecurityAlert, uow: UnitOfWork,
                      clock: Clock) -> SecurityAlert:
    """Somebody is looking into the alert."""
    who, action = cmd.by, "security.alert.acknowledge"
    with uow:
        alert = _handle(uow, who, action, cmd.alert_id)
        now = clock()
        try:
            alert.acknowledge(who.username, now, cmd.note)
        except SerenoError as error:
            refuse(uow, who, action, error, object_type=OBJECT, object_id=alert.id,
                   object_agency_id=alert.agency_id)
        record(uow, who, action, object_type=OBJECT, object_id=alert.id,
               object_agency_id=alert.agency_id, detail={"note": alert.acknowledge_note},
               now=now)
        uow.emit(events.SecurityAlertChanged(alert.id, alert.agency_id, alert.status.value))
        uow.commit()
        return alert


def close_alert(cmd: commands.CloseSecurityAlert, uow: UnitOfWork, clock: Clock) -> SecurityAlert:
    """The alert is dealt with; the note says what was found and done."""
    who, action = cmd.by, "security.alert.close"
    with uow:
        alert = _handle(uow, who, action, cmd.alert_id)
        now = clock()
        try:
            alert.close(who.username, now, cmd.note)
        except SerenoError as error:
            refuse(uow, who, action, error, object_type=OBJECT, object_id=alert.id,
                   object_agency_id=alert.agency_id)
        record(uow, who, action, object_type=OBJECT, object_id=alert.id,
               object_agency_id=alert.agency_id, detail={"note": alert.close_note}, now=now)
        uow.emit(events.SecurityAlertChanged(alert.id, alert.agency_id, alert.status.value))
        uow.commit()
        return alert
