"""Joint operations (plan operativo): planned, changed and cancelled by the supervisors and
administrators of the lead agency; read by the users of every participant agency. Every call
audited (``operation.*``), refusals too.

While an operation is active its cameras are offered on the wall (``active_operations``) and
the alerts raised inside its area by a participant get one level more severity and reach every
participant (``on_alert_raised``, a bus handler). After it, ``summary`` tells what happened in
it; the summary is stored the first time it is read after the operation ended. ADR 0033.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from statistics import median
from typing import Any

from sereno.adapters.media_store import LocalMediaStore
from sereno.domain import events
from sereno.domain.access import Permission, Principal
from sereno.domain.alerts import ActionKind, Alert, AlertAction, AlertSource, Severity
from sereno.domain.cameras import Camera
from sereno.domain.errors import AccessDenied, Conflict, InvalidInput, NotFound, SerenoError
from sereno.domain.operations import JointOperation, OperationStatus
from sereno.services import sharing
from sereno.services.agreements import known_agencies
from sereno.services.audit import Clock, record, refuse, require
from sereno.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger(__name__)

OBJECT = "operation"
COMPONENT = "operations"
#: One level up; Extreme stays Extreme, and an Unknown severity becomes Minor.
RAISED = {Severity.UNKNOWN: Severity.MINOR, Severity.MINOR: Severity.MODERATE,
          Severity.MODERATE: Severity.SEVERE, Severity.SEVERE: Severity.EXTREME,
          Severity.EXTREME: Severity.EXTREME}

Publish = Callable[[events.Event], None]


@dataclass(frozen=True)
class OperationDraft:
    """What a supervisor plans. The lead is always the caller's agency."""

    title: str
    participants: list[str]
    area: dict[str, Any]
    starts_at: datetime
    ends_at: datetime
    objectives: str = ""
    unit_ids: list[str] = field(default_factory=list)
    camera_ids: list[str] = field(default_factory=list)
    code: str | None = None


@dataclass(frozen=True)
class OperationChanges:
    """A change of plan; None leaves a field as it is."""

    title: str | None = None
    participants: list[str] | None = None
    area: dict[str, Any] | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    objectives: str | None = None
    unit_ids: list[str] | None = None
    camera_ids: list[str] | None = None


# ---- planning -----------------------------------------------------------------------------


def create_operation(uow: UnitOfWork, who: Principal, draft: OperationDraft,
                     clock: Clock) -> JointOperation:
    """A new operation led by the caller's agency."""
    action = "operation.create"
    with uow:
        require(uow, who, who.can(Permission.OPERATION_WRITE), action, object_type=OBJECT)
        now = clock()
        try:
            operation = JointOperation.draft(
                operation_id=str(uuid.uuid4()),
                code=draft.code or f"OP-{now:%Y%m%d}-{uuid.uuid4().hex[:6].upper()}",
                title=draft.title, lead_agency_id=who.agency_id,
                participants=list(draft.participants), area=draft.area,
                starts_at=draft.starts_at, ends_at=draft.ends_at, objectives=draft.objectives,
                unit_ids=list(draft.unit_ids), camera_ids=list(draft.camera_ids),
                by=who.username, at=now)
            _check_resources(uow, operation)
            if uow.operations.by_code(operation.code) is not None:
                raise Conflict(f"an operation with code {operation.code!r} exists already")
        except SerenoError as error:
            refuse(uow, who, action, error, object_type=OBJECT, object_agency_id=who.agency_id)
        uow.operations.add(operation)
        record(uow, who, action, object_type=OBJECT, object_id=operation.id,
               object_agency_id=who.agency_id, reason=operation.title,
               detail=audit_summary(operation), now=now)
        uow.commit()
        return operation


def update_operation(uow: UnitOfWork, who: Principal, operation_id: str,
                     changes: OperationChanges, clock: Clock) -> JointOperation:
    """Change the plan of an operation the caller's agency leads (not once it ended)."""
    action = "operation.update"
    with uow:
        operation = _led_or_refuse(uow, who, operation_id, action)
        now = clock()
        operation.refresh(now)
        try:
            changed = operation.revise(
                title=changes.title, participants=changes.participants, area=changes.area,
                starts_at=changes.starts_at, ends_at=changes.ends_at,
                objectives=changes.objectives, unit_ids=changes.unit_ids,
                camera_ids=changes.camera_ids)
            _check_resources(uow, operation)
        except SerenoError as error:
            refuse(uow, who, action, error, object_type=OBJECT, object_id=operation_id,
                   object_agency_id=who.agency_id)
        operation.refresh(now)
        uow.operations.save(operation)
        record(uow, who, action, object_type=OBJECT, object_id=operation.id,
               object_agency_id=who.agency_id,
               detail={"changed": changed, **audit_summary(operation)}, now=now)
        uow.commit()
        return operation


def cancel_operation(uow: UnitOfWork, who: Principal, operation_id: str, reason: str,
                     clock: Clock) -> JointOperation:
    """Call off an operation the caller's agency leads (with a reason)."""
    action = "operation.cancel"
    with uow:
        operation = _led_or_refuse(uow, who, operation_id, action)
        now = clock()
        text = " ".join((reason or "").split())
        try:
            if len(text) < 3:
                raise InvalidInput("cancelling an operation needs a reason")
            operation.cancel(now)
        except SerenoError as error:
            refuse(uow, who, action, error, object_type=OBJECT, object_id=operation_id,
                   object_agency_id=who.agency_id)
        uow.operations.save(operation)
        record(uow, who, action, object_type=OBJECT, object_id=operation.id,
               object_agency_id=who.agency_id, reason=text[:500],
               detail=audit_summary(operation), now=now)
        uow.commit()
        return operation


def _check_resources(uow: UnitOfWork, operation: JointOperation) -> None:
    """Participants are known agencies; units and cameras exist and belong to participants."""
    known = known_agencies(uow)
    unknown = [a for a in operation.participants if a not in known]
    if unknown:
        raise InvalidInput(f"unknown agencies {unknown} (neither on this node nor on a "
                           "registered peer node)")
    for unit_id in operation.unit_ids:
        unit = uow.units.get(unit_id)
        if unit is None or unit.agency_id not in operation.participants:
            raise InvalidInput(f"no unit {unit_id!r} of a participant agency")
    for camera_id in operation.camera_ids:
        camera = uow.cameras.get(camera_id)
        if camera is None or camera.is_retired or \
                camera.owner_agency_id not in operation.participants:
            raise InvalidInput(f"no camera {camera_id!r} of a participant agency")


def _led_or_refuse(uow: UnitOfWork, who: Principal, operation_id: str,
                   action: str) -> JointOperation:
    operation = _involved_or_refuse(uow, who, operation_id, action, Permission.OPERATION_WRITE)
    if operation.lead_agency_id != who.agency_id:
        refuse(uow, who, action, AccessDenied(
            "only the lead agency's supervisors and administrators change an operation"),
            object_type=OBJECT, object_id=operation.id,
            object_agency_id=operation.lead_agency_id)
    return operation


def _involved_or_refuse(uow: UnitOfWork, who: Principal, operation_id: str, action: str,
                        permission: Permission) -> JointOperation:
    require(uow, who, who.can(permission), action, object_type=OBJECT, object_id=operation_id)
    operation = uow.operations.get(operation_id)
    if operation is None or not operation.involves(who.agency_id):
        refuse(uow, who, action, NotFound(f"no operation {operation_id!r}"),
               object_type=OBJECT, object_id=operation_id,
               internal_reason=None if operation is None else "operation of other agencies")
    return operation


def audit_summary(operation: JointOperation) -> dict[str, Any]:
    """What the audit log keeps of an operation."""
    return {"code": operation.code, "participants": list(operation.participants),
            "starts_at": operation.starts_at.isoformat(),
            "ends_at": operation.ends_at.isoformat(), "units": len(operation.unit_ids),
            "cameras": len(operation.camera_ids), "status": operation.status.value}


# ---- reading ------------------------------------------------------------------------------


def list_operations(uow: UnitOfWork, who: Principal, clock: Clock) -> list[JointOperation]:
    """The operations the caller's agency takes part in, newest window first."""
    action = "operation.list"
    with uow:
        require(uow, who, who.can(Permission.OPERATION_READ), action, object_type=OBJECT)
        now = clock()
        found = [o for o in uow.operations.all() if o.involves(who.agency_id)]
        for operation in found:
            if operation.refresh(now):
                uow.operations.save(operation)
        record(uow, who, action, object_type=OBJECT, object_agency_id=who.agency_id,
               detail={"count": len(found)})
        uow.commit()
        return found


def get_operation(uow: UnitOfWork, who: Principal, operation_id: str,
                  clock: Clock) -> JointOperation:
    """One operation the caller's agency takes part in."""
    action = "operation.read"
    with uow:
        operation = _involved_or_refuse(uow, who, operation_id, action,
                                        Permission.OPERATION_READ)
        if operation.refresh(clock()):
            uow.operations.save(operation)
        record(uow, who, action, object_type=OBJECT, object_id=operation.id,
               object_agency_id=operation.lead_agency_id)
        uow.commit()
        return operation


@dataclass(frozen=True)
class ActiveOperation:
    """An operation running now and the cameras of it the caller may see (to offer on the
    wall; the live view itself still passes the policy door)."""

    operation: JointOperation
    cameras: list[Camera]


def active_operations(uow: UnitOfWork, who: Principal, clock: Clock) -> list[ActiveOperation]:
    """The operations active now in which the caller's agency takes part, with their
    cameras the caller may see."""
    action = "operation.active"
    with uow:
        require(uow, who, who.can(Permission.OPERATION_READ), action, object_type=OBJECT)
        now = clock()
        found: list[ActiveOperation] = []
        for operation in uow.operations.running_at(now):
            if not operation.involves(who.agency_id):
                continue
            if operation.refresh(now):
                uow.operations.save(operation)
            cameras = [c for c in (uow.cameras.get(i) for i in operation.camera_ids)
                       if c is not None and not c.is_retired and c.visible_to(who)]
            found.append(ActiveOperation(operation, cameras))
        record(uow, who, action, object_type=OBJECT, object_agency_id=who.agency_id,
               detail={"count": len(found),
                       "cameras": sum(len(a.cameras) for a in found)})
        uow.commit()
        return found


# ---- alerts inside an active operation ----------------------------------------------------


def on_alert_raised(event: events.AlertRaised, *, uow_factory: UnitOfWorkFactory,
                    publish: Publish, clock: Clock, store: LocalMediaStore, data_dir: Path,
                    node_name: str) -> None:
    """Bus handler: an alert raised inside an active operation by a participant gets one level
    more severity and reaches every participant."""
    pending = prioritise_alert(uow_factory(), event.alert_id, clock=clock, store=store,
                               data_dir=data_dir, node_name=node_name)
    for item in pending:
        publish(item)


def prioritise_alert(uow: UnitOfWork, alert_id: str, *, clock: Clock, store: LocalMediaStore,
                     data_dir: Path, node_name: str) -> list[events.Event]:
    """Apply the operations covering ``alert_id`` (see ``on_alert_raised``); returns the events
    to publish. The first covering operation (by code) raises the severity once; each
    participant without an agreement that shares the alert gets it under the operation
    (``sharing.share_under_operation``); participants with one get it from the sharing point,
    which forwards the raised severity as an update."""
    with uow:
        alert = uow.alerts.get(alert_id)
        if alert is None or alert.source is AlertSource.PARTNER or alert.origin_alert_id:
            return []  # a received copy was prioritised by its origin
        now = clock()
        covering = sorted((o for o in uow.operations.running_at(now)
                           if o.involves(alert.agency_id)
                           and o.covers(alert.latitude, alert.longitude, now)),
                          key=lambda o: o.code)
        if not covering:
            return []
        first = covering[0]
        before = alert.severity
        after = RAISED[before]
        system = Principal.system(COMPONENT, alert.agency_id)
        if after is not before:
            alert.update_from_source(now, severity=after)
        uow.alerts.add_action(AlertAction(alert.id, ActionKind.UPDATED, system.username, now,
                                          None, {"operation": first.code,
                                                 "operation_id": first.id,
                                                 "severity": [before.value, after.value]}))
        record(uow, system, "alert.prioritise", object_type="alert", object_id=alert.id,
               object_agency_id=alert.agency_id, reason=first.title,
               detail={"operations": [o.code for o in covering],
                       "severity": [before.value, after.value]}, now=now)
        uow.emit(events.AlertChanged(alert.id, alert.agency_id, ActionKind.UPDATED.value,
                                     alert.status.value, alert.version, now))
        routed: set[str] = set()
        for operation in covering:
            for agency in operation.participants:
                if agency == alert.agency_id or agency in routed:
                    continue
                routed.add(agency)
                if _agreement_shares(uow, alert, agency, now):
                    continue  # the sharing point delivers it (and forwards the new severity)
                sharing.share_under_operation(
                    uow, alert, agency, operation_id=operation.id,
                    operation_code=operation.code, clock=clock, store=store,
                    data_dir=data_dir, node_name=node_name)
        uow.commit()
        return list(uow.collect_new_events())


def on_alert_changed(event: events.AlertChanged, *, uow_factory: UnitOfWorkFactory,
                     publish: Publish, clock: Clock, store: LocalMediaStore, data_dir: Path,
                     node_name: str) -> None:
    """Bus handler: a source's later change of an alert an operation routed (repeated,
    updated, cancelled) follows to the participants that got it under the operation (those
    with an agreement get it from the sharing point)."""
    if event.action not in sharing.FORWARDED:
        return
    pending = forward_change(uow_factory(), event.alert_id, event.action, clock=clock,
                             store=store, data_dir=data_dir, node_name=node_name)
    for item in pending:
        publish(item)


def forward_change(uow: UnitOfWork, alert_id: str, change: str, *, clock: Clock,
                   store: LocalMediaStore, data_dir: Path, node_name: str
                   ) -> list[events.Event]:
    """See ``on_alert_changed``; returns the events to publish."""
    with uow:
        alert = uow.alerts.get(alert_id)
        if alert is None or alert.source is AlertSource.PARTNER or alert.origin_alert_id:
            return []
        timeline = list(uow.alerts.actions(alert.id))
        routed = [a for a in timeline if a.detail.get("operation_id")]
        if not routed or timeline[-1] is routed[-1]:
            return []  # no operation routed it, or this is the raise itself (already sent)
        operation = uow.operations.get(str(routed[0].detail["operation_id"]))
        if operation is None:
            return []
        now = clock()
        for agency in operation.participants:
            if agency == alert.agency_id or _agreement_shares(uow, alert, agency, now) \
                    or not sharing.holds_copy(uow, alert, agency):
                continue
            sharing.share_under_operation(
                uow, alert, agency, operation_id=operation.id, operation_code=operation.code,
                clock=clock, store=store, data_dir=data_dir, node_name=node_name,
                change=change)
        uow.commit()
        return list(uow.collect_new_events())


def _agreement_shares(uow: UnitOfWork, alert: Alert, to_agency: str, now: datetime) -> bool:
    """Whether an agreement from the alert's agency to ``to_agency`` covers it (the sharing
    point then decides and delivers)."""
    return any(a.from_agency_id == alert.agency_id and a.to_agency_id == to_agency
               and a.terms_for(alert, now) is not None
               for a in uow.agreements.involving(alert.agency_id))


# ---- afterwards ---------------------------------------------------------------------------


def operation_summary(uow: UnitOfWork, who: Principal, operation_id: str,
                      clock: Clock) -> dict[str, Any]:
    """What happened in an operation the caller's agency takes part in (so far, while it
    runs; stored once it has ended)."""
    action = "operation.summary"
    with uow:
        operation = _involved_or_refuse(uow, who, operation_id, action,
                                        Permission.OPERATION_READ)
        now = clock()
        changed = operation.refresh(now)
        ended = operation.status in (OperationStatus.FINISHED, OperationStatus.CANCELLED) \
            and now >= operation.ends_at
        if ended and operation.summary is not None:
            result = operation.summary
        else:
            result = compute_summary(uow, operation, now)
            if ended:
                operation.summary = result
                changed = True
        if changed:
            uow.operations.save(operation)
        record(uow, who, action, object_type=OBJECT, object_id=operation.id,
               object_agency_id=operation.lead_agency_id,
               detail={"stored": ended, "alerts": result["alerts"]["total"],
                       "incidents": result["incidents"]["total"]})
        uow.commit()
        return result


def summarise_finished(uow: UnitOfWork, clock: Clock) -> list[str]:
    """Store the summary of every operation that ended without one (a worker's round);
    returns their codes."""
    with uow:
        now = clock()
        done = []
        for operation in uow.operations.unsummarised_before(now):
            operation.refresh(now)
            operation.summary = compute_summary(uow, operation, now)
            uow.operations.save(operation)
            done.append(operation.code)
        uow.commit()
        return done


def compute_summary(uow: UnitOfWork, operation: JointOperation,
                    now: datetime) -> dict[str, Any]:
    """Alerts raised inside the operation (by severity, by status), incidents inside it (or
    linked to it) with their time to on-scene, the units that took part (planned and
    dispatched) and the cameras used (planned and those that raised alerts)."""
    # The whole window: nothing is raised after now, and a cancel cut the window at its time.
    start, end = operation.starts_at, operation.ends_at
    agencies = list(operation.participants)
    alerts = [a for a in uow.operations.alerts_in_window(agencies, start, end)
              if operation.contains(a["latitude"], a["longitude"])]
    incidents = [i for i in uow.operations.incidents_in_window(agencies, start, end,
                                                               operation.id)
                 if i["operation_id"] == operation.id
                 or operation.contains(i["latitude"], i["longitude"])]
    on_scene = [(i["on_scene_at"] - i["created_at"]).total_seconds() for i in incidents
                if i["on_scene_at"] is not None]
    dispatched = uow.operations.dispatched_units([i["id"] for i in incidents])
    alert_cameras = {c for a in alerts for c in (a["camera_ids"] or [])}
    return {
        "operation": operation.code, "status": operation.status.value,
        "window": {"starts_at": start.isoformat(), "ends_at": end.isoformat()},
        "computed_at": now.isoformat(),
        "alerts": {"total": len(alerts),
                   "by_severity": dict(Counter(str(a["severity"]) for a in alerts)),
                   "by_status": dict(Counter(str(a["status"]) for a in alerts)),
                   "by_agency": dict(Counter(str(a["agency_id"]) for a in alerts))},
        "incidents": {
            "total": len(incidents),
            "by_status": dict(Counter(str(i["status"]) for i in incidents)),
            "reached_on_scene": len(on_scene),
            "on_scene_median_s": round(median(on_scene), 1) if on_scene else None,
            "on_scene_max_s": round(max(on_scene), 1) if on_scene else None,
            "numbers": sorted(str(i["number"]) for i in incidents)[:200]},
        "units": {"planned": list(operation.unit_ids),
                  "dispatched": sorted({str(d["unit_id"]) for d in dispatched})},
        "cameras": {"planned": list(operation.camera_ids),
                    "with_alerts": sorted(alert_cameras)},
    }
