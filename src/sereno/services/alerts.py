"""Alert use-cases: raise (from detections, by hand), correlate, and the operators' actions.

Detections become alerts through ``on_detection`` (an event handler): repeated detections of
one camera and rule within ``CORRELATION_WINDOW`` update one alert with a count. A plate
watchlist hit goes to the queue of the agency whose list matched (it is that agency's personal
data), any other detection to the camera owner's. Every change is audited and announced as an
``AlertRaised`` / ``AlertChanged`` event: the console pushes it, sharing forwards it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sereno.domain import commands, events
from sereno.domain.access import Permission, Principal
from sereno.domain.alerts import (
    ActionKind,
    Alert,
    AlertAction,
    AlertSource,
    AlertStatus,
    correlation_key,
    parse_enum,
)
from sereno.domain.errors import Conflict, InvalidInput, NotFound, SerenoError
from sereno.services import video
from sereno.services.audit import Clock, record, refuse, require
from sereno.services.cameras import visible_or_refuse
from sereno.services.unit_of_work import UnitOfWork, UnitOfWorkFactory
from sereno.services.video import MediaRelease

OBJECT = "alert"
SYSTEM_COMPONENT = "alerts"


@dataclass(frozen=True)
class DetectionProfile:
    """How a kind of detection reads as an alert (CAP vocabulary, Spanish texts)."""

    category: str
    severity: str
    urgency: str
    certainty: str
    event: str


DETECTION_PROFILES: dict[str, DetectionProfile] = {
    "plate": DetectionProfile("Security", "Severe", "Immediate", "Observed",
                              "Vehículo en lista de vigilancia"),
    "zone": DetectionProfile("Security", "Moderate", "Immediate", "Likely", "Intrusión en zona"),
    "line": DetectionProfile("Security", "Minor", "Immediate", "Likely", "Cruce de línea"),
    "loiter": DetectionProfile("Security", "Minor", "Expected", "Possible", "Merodeo"),
    "crowd": DetectionProfile("Safety", "Moderate", "Expected", "Likely", "Aglomeración"),
}
FALLBACK_PROFILE = DetectionProfile("Other", "Minor", "Expected", "Possible", "Detección")

Publish = Callable[[events.Event], None]


# ---- raising ------------------------------------------------------------------------------


def on_detection(event: events.DetectionEvent, *, uow_factory: UnitOfWorkFactory,
                 publish: Publish, clock: Clock) -> None:
    """Raise or repeat the alert for a detection (bus event handler)."""
    alert_for_detection(event, uow_factory(), publish)


def alert_for_detection(event: events.DetectionEvent, uow: UnitOfWork,
                        publish: Publish) -> Alert | None:
    """The alert ``event`` raised or repeated (None: its camera is gone)."""
    with uow:
        camera = uow.cameras.get(event.camera_id)
        if camera is None:
            return None
        agency_id = str(event.detail.get("watching_agency") or camera.owner_agency_id)
        key = correlation_key(camera.id, event.rule_id, event.rule_kind)
        system = Principal.system(SYSTEM_COMPONENT, agency_id)
        existing = uow.alerts.correlated(agency_id, key)
        if existing is not None and existing.correlates(key, event.at):
            existing.repeat(event.at, event.event_id, event.snapshot_key)
            _act(uow, existing, ActionKind.REPEATED, system.username, event.at,
                 detail={"detection_id": event.event_id, "count": existing.count})
            uow.emit(events.AlertChanged(existing.id, agency_id, ActionKind.REPEATED.value,
                                         existing.status.value, existing.version, event.at))
            alert = existing
        else:
            profile = DETECTION_PROFILES.get(event.rule_kind, FALLBACK_PROFILE)
            alert = Alert.raise_new(
                alert_id=str(uuid.uuid4()), agency_id=agency_id, source=AlertSource.DETECTION,
                category=profile.category, severity=profile.severity, urgency=profile.urgency,
                certainty=profile.certainty, event=profile.event,
                headline=f"{profile.event}: {camera.name}"[:160],
                description=_detection_text(event), at=event.at, by=system.username,
                latitude=camera.latitude, longitude=camera.longitude, camera_ids=[camera.id],
                detection_ids=[event.event_id], snapshot_key=event.snapshot_key,
                clip_key=event.clip_key, rule_id=event.rule_id, correlation_key=key)
            uow.alerts.add(alert)
            _raised(uow, alert, system)
        uow.commit()
        pending = list(uow.collect_new_events())
    for item in pending:
        publish(item)
    return alert


def on_clip_ready(event: events.EventClipReady, *, uow_factory: UnitOfWorkFactory,
                  publish: Publish, clock: Clock) -> None:
    """Attach a detection's clip, once cut, to the alert it raised (if it has none yet)."""
    uow = uow_factory()
    with uow:
        detection = uow.detections.get(event.event_id)
        if detection is None:
            return
        agency_id = str(detection.detail.get("watching_agency") or detection.owner_agency_id)
        key = correlation_key(detection.camera_id, detection.rule_id, detection.rule_kind)
        alert = uow.alerts.correlated(agency_id, key)
        if alert is None or event.event_id not in alert.detection_ids or alert.clip_key:
            return
        alert.update_from_source(clock(), clip_key=event.clip_key)
        uow.emit(events.AlertChanged(alert.id, alert.agency_id, ActionKind.UPDATED.value,
                                     alert.status.value, alert.version, clock()))
        uow.commit()
        pending = list(uow.collect_new_events())
    for item in pending:
        publish(item)


def raise_manual(cmd: commands.RaiseAlert, uow: UnitOfWork, clock: Clock) -> Alert:
    """An operator's alert; on a camera it takes the camera's place and latest detection."""
    who, action = cmd.by, "alert.raise"
    with uow:
        require(uow, who, who.can(Permission.ALERT_RAISE), action, object_type=OBJECT)
        place: dict[str, Any] = {"latitude": cmd.latitude, "longitude": cmd.longitude}
        cameras: list[str] = []
        if cmd.camera_id is not None:
            camera = visible_or_refuse(uow, who, cmd.camera_id, action)
            place = {"latitude": camera.latitude, "longitude": camera.longitude}
            cameras = [camera.id]
        now = clock()
        try:
            alert = Alert.raise_new(
                alert_id=str(uuid.uuid4()), agency_id=who.agency_id, source=AlertSource.MANUAL,
                category=cmd.category, severity=cmd.severity, urgency=cmd.urgency,
                certainty=cmd.certainty, event=cmd.event, headline=cmd.headline,
                description=cmd.description, at=now, by=who.username, camera_ids=cameras,
                **place)
        except SerenoError as error:
            refuse(uow, who, action, error, object_type=OBJECT)
        uow.alerts.add(alert)
        _raised(uow, alert, who)
        uow.commit()
        return alert


def _raised(uow: UnitOfWork, alert: Alert, who: Principal) -> None:
    _act(uow, alert, ActionKind.RAISED, who.username, alert.raised_at,
         detail={"source": alert.source.value})
    record(uow, who, "alert.raise", object_type=OBJECT, object_id=alert.id,
           object_agency_id=alert.agency_id, reason=alert.headline,
           detail={"source": alert.source.value, "category": alert.category.value,
                   "severity": alert.severity.value, "cameras": alert.camera_ids},
           now=alert.raised_at)
    uow.emit(events.AlertRaised(alert.id, alert.agency_id, alert.source.value,
                                alert.category.value, alert.severity.value, alert.headline,
                                alert.raised_at))


def _act(uow: UnitOfWork, alert: Alert, kind: ActionKind, by: str, at: datetime,
         note: str | None = None, detail: dict[str, Any] | None = None) -> None:
    uow.alerts.add_action(AlertAction(alert.id, kind, by, at, note, dict(detail or {})))


def _detection_text(event: events.DetectionEvent) -> str:
    parts = [f"Regla {event.rule_kind}", f"clases: {', '.join(event.classes) or '-'}",
             f"confianza {event.confidence:.2f}"]
    if event.rule_kind == "plate" and event.detail.get("watched_plate"):
        parts.append(f"placa {event.detail['watched_plate']}")
    return "; ".join(parts)


# ---- reading ------------------------------------------------------------------------------


def list_queue(uow: UnitOfWork, who: Principal, *, status: str | None = None,
               limit: int = 200) -> list[Alert]:
    """The caller's agency's alerts, newest first; ``status`` = ``active`` or an AlertStatus."""
    action = "alert.list"
    with uow:
        require(uow, who, who.can(Permission.ALERT_READ), action, object_type=OBJECT)
        statuses: list[AlertStatus] | None = None
        if status == "active":
            statuses = [AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED]
        elif status:
            try:
                statuses = [parse_enum(AlertStatus, status, "status")]
            except InvalidInput as error:
                refuse(uow, who, action, error, object_type=OBJECT)
        found = list(uow.alerts.queue(who.agency_id, statuses=statuses,
                                      limit=min(max(limit, 1), 1000)))
        record(uow, who, action, object_type=OBJECT, object_agency_id=who.agency_id,
               detail={"count": len(found), "status": status})
        uow.commit()
        return found


def get_alert(uow: UnitOfWork, who: Principal, alert_id: str
              ) -> tuple[Alert, list[AlertAction]]:
    """One of the caller's agency's alerts and its timeline (audited)."""
    action = "alert.read"
    with uow:
        alert = _own_or_refuse(uow, who, alert_id, action, Permission.ALERT_READ)
        timeline = list(uow.alerts.actions(alert.id))
        record(uow, who, action, object_type=OBJECT, object_id=alert.id,
               object_agency_id=alert.agency_id)
        uow.commit()
        return alert, timeline


def _own_or_refuse(uow: UnitOfWork, who: Principal, alert_id: str, action: str,
                   permission: Permission) -> Alert:
    require(uow, who, who.can(permission), action, object_type=OBJECT, object_id=alert_id)
    alert = uow.alerts.get(alert_id)
    if alert is None or alert.agency_id != who.agency_id:
        refuse(uow, who, action, NotFound(f"no alert {alert_id!r}"), object_type=OBJECT,
               object_id=alert_id,
               internal_reason=None if alert is None else "alert of another agency")
    return alert


# ---- operator actions ---------------------------------------------------------------------

_ACTIONS = {"acknowledge": ActionKind.ACKNOWLEDGED, "escalate": ActionKind.ESCALATED,
            "assign": ActionKind.ASSIGNED, "dismiss": ActionKind.DISMISSED,
            "close": ActionKind.CLOSED}


def handle(cmd: commands.HandleAlert, uow: UnitOfWork, clock: Clock) -> Alert:
    """Apply an operator action (timestamped, audited, announced)."""
    who = cmd.by
    kind = _ACTIONS.get(cmd.action)
    action = f"alert.{cmd.action}" if kind else "alert.handle"
    with uow:
        if kind is None:
            refuse(uow, who, action, InvalidInput(
                f"unknown alert action {cmd.action!r} (known: {', '.join(_ACTIONS)})"),
                object_type=OBJECT, object_id=cmd.alert_id)
        alert = _own_or_refuse(uow, who, cmd.alert_id, action, Permission.ALERT_HANDLE)
        now = clock()
        detail: dict[str, Any] = {}
        try:
            if kind is ActionKind.ACKNOWLEDGED:
                alert.acknowledge(who.username, now)
            elif kind is ActionKind.ESCALATED:
                alert.escalate(who.username, now)
                detail["level"] = alert.escalation_level
            elif kind is ActionKind.ASSIGNED:
                assignee = uow.users.by_username(cmd.to or "")
                if assignee is None or assignee.agency_id != who.agency_id:
                    raise InvalidInput(f"no user {cmd.to!r} in your agency to assign it to")
                alert.assign(assignee.username, now)
                detail["to"] = assignee.username
            elif kind is ActionKind.DISMISSED:
                alert.dismiss(who.username, now, cmd.note or "")
            else:
                alert.close(who.username, now, cmd.note)
        except (Conflict, InvalidInput) as error:
            refuse(uow, who, action, error, object_type=OBJECT, object_id=alert.id,
                   object_agency_id=alert.agency_id)
        _act(uow, alert, kind, who.username, now, cmd.note, detail)
        record(uow, who, action, object_type=OBJECT, object_id=alert.id,
               object_agency_id=alert.agency_id, reason=cmd.note,
               detail={**detail, "status": alert.status.value}, now=now)
        uow.emit(events.AlertChanged(alert.id, alert.agency_id, kind.value, alert.status.value,
                                     alert.version, now))
        uow.commit()
        return alert


# ---- evidence -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertMedia:
    """An alert's media granted to a caller. ``release`` (the detection's camera and the policy
    decision) is set when the media is footage of a camera on this node, whose obligations
    (watermark) the caller honours; a received copy's media was marked when it was shared."""

    key: str
    release: MediaRelease | None


def release_media(uow: UnitOfWork, who: Principal, alert_id: str, which: str) -> AlertMedia:
    """The key of an alert's ``snapshot`` or ``clip``, through the policy door (audited)."""
    action = f"alert.{which}"
    with uow:
        alert = _own_or_refuse(uow, who, alert_id, action, Permission.ALERT_READ)
        key = alert.snapshot_key if which == "snapshot" else alert.clip_key
        if key is None:
            refuse(uow, who, action, NotFound(f"this alert has no {which}"),
                   object_type=OBJECT, object_id=alert.id, object_agency_id=alert.agency_id)
        detection_id = _detection_with(uow, alert, which, key)
    if detection_id is not None:  # footage of this node's camera: the detection's own door
        if which == "snapshot":
            release = video.release_detection_snapshot(uow, who, detection_id)
        else:
            release = video.release_detection_clip(uow, who, detection_id)
        return AlertMedia(release.key, release)
    return received_media(uow, who, alert_id, which, key)


def _detection_with(uow: UnitOfWork, alert: Alert, which: str, key: str) -> str | None:
    if alert.origin_alert_id is not None:
        return None
    for detection_id in reversed(alert.detection_ids):
        detection = uow.detections.get(detection_id)
        if detection is not None and key in (detection.snapshot_key, detection.clip_key):
            return detection_id
    return None


def received_media(uow: UnitOfWork, who: Principal, alert_id: str, which: str,
                   key: str) -> AlertMedia:
    """Media that came with a partner's alert (already redacted and marked as the agreement
    said): the holding agency's watch roles may see it; audited as footage."""
    action = f"alert.{which}"
    with uow:
        alert = _own_or_refuse(uow, who, alert_id, action, Permission.FOOTAGE_LIVE)
        record(uow, who, action, object_type=OBJECT, object_id=alert.id,
               object_agency_id=alert.origin_agency_id or alert.agency_id,
               detail={"key": key, "redacted": alert.redacted,
                       "origin_alert_id": alert.origin_alert_id})
        uow.commit()
    return AlertMedia(key, None)
