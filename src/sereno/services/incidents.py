"""Incident use-cases: create (from an alert, a call-taker's form, a CAP message), the board,
the lifecycle, notes, alert links, merges, the type catalogue and the cameras around.

Every call is audited, refusals too. Changes are announced as ``IncidentCreated`` /
``IncidentChanged`` events: the console pushes them, the exchange forwards them. Units and
dispatch move incidents with ``advance`` inside their own transaction (ADR 0031).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from shapely.geometry import shape

from sereno.domain import events
from sereno.domain.access import Permission, Principal
from sereno.domain.alerts import ActionKind, Alert, AlertAction, AlertStatus
from sereno.domain.coverage import CameraView, cameras_covering
from sereno.domain.errors import Conflict, InvalidInput, NotFound, SerenoError
from sereno.domain.incidents import (
    Incident,
    IncidentEvent,
    IncidentSource,
    IncidentStatus,
    IncidentType,
    merge,
    number_prefix,
    parse_status,
    priority_for,
    type_for_alert,
)
from sereno.services import cap_exchange
from sereno.services.audit import Clock, record, refuse, require
from sereno.services.unit_of_work import UnitOfWork

OBJECT = "incident"
TYPE_OBJECT = "incident_type"
Publish = Callable[[events.Event], None]

#: The recordings linked around an incident: from a little before it was reported (what led
#: to it) to a while after (the response).
RECORDING_BEFORE = timedelta(minutes=5)
RECORDING_AFTER = timedelta(minutes=10)
MAX_RADIUS_M = 200.0


# ---- helpers --------------------------------------------------------------------------------


def _own_or_refuse(uow: UnitOfWork, who: Principal, incident_id: str, action: str,
                   permission: Permission) -> Incident:
    require(uow, who, who.can(permission), action, object_type=OBJECT, object_id=incident_id)
    incident = uow.incidents.get(incident_id)
    if incident is None or incident.agency_id != who.agency_id:
        refuse(uow, who, action, NotFound(f"no incident {incident_id!r}"), object_type=OBJECT,
               object_id=incident_id,
               internal_reason=None if incident is None else "incident of another agency")
    return incident


def _changed(uow: UnitOfWork, incident: Incident, made: IncidentEvent) -> None:
    uow.incidents.add_event(made)
    uow.emit(events.IncidentChanged(incident.id, incident.agency_id, made.kind.value,
                                    incident.status.value, incident.version, made.at))


def _finish(uow: UnitOfWork, publish: Publish | None) -> None:
    """Commit, then hand the events to the bus (outside the transaction)."""
    uow.commit()
    pending = list(uow.collect_new_events())
    if publish is not None:
        for event in pending:
            publish(event)


def _refusing(uow: UnitOfWork, who: Principal, action: str, error: SerenoError,
              incident: Incident | None = None, object_id: str | None = None) -> NoReturn:
    refuse(uow, who, action, error, object_type=OBJECT,
           object_id=incident.id if incident else object_id,
           object_agency_id=incident.agency_id if incident else None)


# ---- the type catalogue -----------------------------------------------------------------------


def list_types(uow: UnitOfWork, who: Principal, *, active_only: bool = False
               ) -> list[IncidentType]:
    """The caller's agency's incident types (audited)."""
    action = "incident_type.list"
    with uow:
        require(uow, who, who.can(Permission.INCIDENT_READ)
                or who.can(Permission.INCIDENT_TYPE_WRITE), action, object_type=TYPE_OBJECT)
        found = list(uow.incident_types.catalogue(who.agency_id, active_only=active_only))
        record(uow, who, action, object_type=TYPE_OBJECT, object_agency_id=who.agency_id,
               detail={"count": len(found)})
        uow.commit()
        return found


def save_type(uow: UnitOfWork, who: Principal, *, code: str, name_es: str, name_en: str,
              default_priority: int, category: str, active: bool = True,
              clock: Clock) -> tuple[IncidentType, bool]:
    """Create or update one type of the caller's agency (admins); returns it and whether it
    was created. Types are deactivated, never deleted: old incidents name them."""
    action = "incident_type.save"
    with uow:
        require(uow, who, who.can(Permission.INCIDENT_TYPE_WRITE), action,
                object_type=TYPE_OBJECT, object_id=code[:64])
        try:
            kind = IncidentType.define(agency_id=who.agency_id, code=code, name_es=name_es,
                                       name_en=name_en, default_priority=default_priority,
                                       category=category, active=active)
        except InvalidInput as error:
            refuse(uow, who, action, error, object_type=TYPE_OBJECT, object_id=code[:64])
        existing = uow.incident_types.get(who.agency_id, kind.code)
        if existing is None:
            uow.incident_types.add(kind)
        else:
            for name in ("name_es", "name_en", "default_priority", "category", "active"):
                setattr(existing, name, getattr(kind, name))
            kind = existing
        record(uow, who, action, object_type=TYPE_OBJECT, object_id=kind.code,
               object_agency_id=who.agency_id, now=clock(),
               detail={"created": existing is None, "priority": kind.default_priority,
                       "category": kind.category.value, "active": kind.active})
        uow.commit()
        return kind, existing is None


# ---- creation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewIncident:
    """What a call-taker's form (or the API) gives to open an incident."""

    type_code: str
    title: str
    latitude: float | None
    longitude: float | None
    description: str = ""
    address: str | None = None
    priority: int | None = None


def _open(uow: UnitOfWork, who: Principal, action: str, form: NewIncident,
          source: IncidentSource, now: datetime, **extra: Any) -> tuple[Incident, IncidentEvent]:
    kind = uow.incident_types.get(who.agency_id, (form.type_code or "").strip().lower())
    if kind is None:
        _refusing(uow, who, action, InvalidInput(
            f"{form.type_code!r} is not an incident type of your agency (see "
            "/api/v1/incident-types)"))
    try:
        incident, created = Incident.open_new(
            incident_id=str(uuid.uuid4()), agency_id=who.agency_id, number="", kind=kind,
            title=form.title, latitude=form.latitude, longitude=form.longitude,
            source=source, by=who.username, at=now, description=form.description,
            priority=form.priority, address=form.address, **extra)
    except SerenoError as error:
        _refusing(uow, who, action, error)
    try:
        uow.incidents.add_numbered(incident, number_prefix(who.agency_id, now.year))
    except Conflict as error:
        _refusing(uow, who, action, error)
    uow.incidents.add_event(created)
    return incident, created


def _created(uow: UnitOfWork, who: Principal, incident: Incident, detail: dict[str, Any]
             ) -> None:
    record(uow, who, "incident.create", object_type=OBJECT, object_id=incident.id,
           object_agency_id=incident.agency_id, reason=incident.title, now=incident.created_at,
           detail={"number": incident.number, "source": incident.source.value,
                   "type": incident.type_code, "priority": incident.priority, **detail})
    uow.emit(events.IncidentCreated(incident.id, incident.agency_id, incident.number,
                                    incident.type_code, incident.priority,
                                    incident.status.value, incident.title,
                                    incident.source.value, incident.created_at))


def create(uow: UnitOfWork, who: Principal, form: NewIncident, *, clock: Clock,
           publish: Publish | None = None) -> Incident:
    """A call-taker's incident (from the form)."""
    action = "incident.create"
    with uow:
        require(uow, who, who.can(Permission.INCIDENT_WRITE), action, object_type=OBJECT)
        incident, _ = _open(uow, who, action, form, IncidentSource.FORM, clock())
        _created(uow, who, incident, {})
        _finish(uow, publish)
        return incident


def create_from_alert(uow: UnitOfWork, who: Principal, alert_id: str, *, clock: Clock,
                      type_code: str | None = None, priority: int | None = None,
                      title: str | None = None, publish: Publish | None = None,
                      source: IncidentSource = IncidentSource.ALERT) -> Incident:
    """One click: an incident from one of the caller's agency's alerts, carrying its evidence
    (the alert is linked: its cameras, snapshot and clip stay reachable through it, behind
    their own door). The type is the one named, or the catalogue's reading of the alert; the
    priority the more urgent of the type's default and the alert's severity. An open alert is
    acknowledged by it."""
    action = "incident.create"
    with uow:
        require(uow, who, who.can(Permission.INCIDENT_WRITE), action, object_type=OBJECT)
        alert = uow.alerts.get(alert_id)
        if alert is None or alert.agency_id != who.agency_id:
            refuse(uow, who, action, NotFound(f"no alert {alert_id!r}"), object_type="alert",
                   object_id=alert_id,
                   internal_reason=None if alert is None else "alert of another agency")
        holder = uow.incidents.holding(alert.id)
        if holder is not None:
            _refusing(uow, who, action, Conflict(
                f"the alert is already part of incident {holder.number}"), holder)
        if type_code:
            kind = uow.incident_types.get(who.agency_id, type_code.strip().lower())
        else:
            kind = type_for_alert(uow.incident_types.catalogue(who.agency_id), alert.category,
                                  alert.event, alert.headline)
        if kind is None:
            _refusing(uow, who, action, InvalidInput(
                f"no incident type of your agency fits this {alert.category.value} alert: "
                "name one (type_code)" if not type_code else
                f"{type_code!r} is not an incident type of your agency"))
        latitude, longitude = _place_of(alert)
        now = clock()
        form = NewIncident(
            type_code=kind.code, title=title or alert.headline, latitude=latitude,
            longitude=longitude, description=alert.description,
            priority=priority if priority is not None else priority_for(kind, alert.severity))
        incident, created = _open(uow, who, action, form, source, now)
        evidence = {"alert_id": alert.id, "cameras": list(alert.camera_ids),
                    "snapshot": alert.snapshot_key is not None,
                    "clip": alert.clip_key is not None, "severity": alert.severity.value,
                    "category": alert.category.value}
        created.detail = {**created.detail, **evidence}
        uow.incidents.link_alert(incident.id, alert.id, who.username, now)
        _acknowledge_alert(uow, who, alert, incident, now)
        _created(uow, who, incident, evidence)
        _finish(uow, publish)
        return incident


def _place_of(alert: Alert) -> tuple[float | None, float | None]:
    if alert.latitude is not None and alert.longitude is not None:
        return alert.latitude, alert.longitude
    if alert.area:  # a CAP area: its centroid
        try:
            centre = shape(alert.area).centroid
            return float(centre.y), float(centre.x)
        except (ValueError, TypeError, AttributeError, KeyError):
            return None, None
    return None, None


def _acknowledge_alert(uow: UnitOfWork, who: Principal, alert: Alert, incident: Incident,
                       now: datetime) -> None:
    if alert.status is not AlertStatus.OPEN:
        return
    alert.acknowledge(who.username, now)
    uow.alerts.add_action(AlertAction(alert.id, ActionKind.ACKNOWLEDGED, who.username, now,
                                      f"incidente {incident.number}",
                                      {"incident": incident.number}))
    uow.emit(events.AlertChanged(alert.id, alert.agency_id, ActionKind.ACKNOWLEDGED.value,
                                 alert.status.value, alert.version, now))


@dataclass(frozen=True)
class CapIncident:
    """What importing a CAP message as an incident did."""

    incident: Incident
    created: bool
    cap: cap_exchange.ImportResult


def create_from_cap(uow: UnitOfWork, who: Principal, data: bytes, *, node: str, clock: Clock,
                    type_code: str | None = None, publish: Publish | None = None
                    ) -> CapIncident:
    """A CAP message as an incident: the message is imported as the CAP import does it (a
    registered source, its signature, deduplication; audited as ``cap.import``), the alert
    it raised becomes the incident. A message already imported answers the incident its alert
    already has."""
    result = cap_exchange.import_cap(uow, who, data, node=node, clock=clock, publish=publish)
    action = "incident.create"
    if result.alert_id is None:
        with uow:
            refuse(uow, who, action, InvalidInput(
                f"the CAP message ({result.msg_type}) raised no alert to open an incident "
                "from"), object_type=OBJECT)
    with uow:
        held = uow.incidents.holding(result.alert_id)
        if held is not None and held.agency_id == who.agency_id:
            record(uow, who, action, object_type=OBJECT, object_id=held.id,
                   object_agency_id=held.agency_id,
                   detail={"duplicate": True, "number": held.number, "source": "cap"})
            uow.commit()
            return CapIncident(held, False, result)
        if result.outcome == "cancelled":
            refuse(uow, who, action, InvalidInput(
                "the CAP message cancels an alert: there is no incident to open from it"),
                object_type=OBJECT, detail={"alert_id": result.alert_id})
    incident = create_from_alert(uow, who, result.alert_id, clock=clock, type_code=type_code,
                                 publish=publish, source=IncidentSource.CAP)
    return CapIncident(incident, True, result)


# ---- reading --------------------------------------------------------------------------------


def board(uow: UnitOfWork, who: Principal, *, status: str | None = None,
          type_code: str | None = None, max_priority: int | None = None,
          limit: int = 200) -> list[Incident]:
    """The caller's agency's incidents, most urgent first; ``status`` is ``open`` (the
    default board), ``all`` or one IncidentStatus."""
    action = "incident.list"
    with uow:
        require(uow, who, who.can(Permission.INCIDENT_READ), action, object_type=OBJECT)
        statuses: list[IncidentStatus] | None = None
        if status in (None, "", "open"):
            statuses = [s for s in IncidentStatus if s.open]
        elif status != "all":
            try:
                statuses = [parse_status(status)]
            except InvalidInput as error:
                refuse(uow, who, action, error, object_type=OBJECT)
        found = list(uow.incidents.board(who.agency_id, statuses=statuses, type_code=type_code,
                                         max_priority=max_priority,
                                         limit=min(max(limit, 1), 1000)))
        record(uow, who, action, object_type=OBJECT, object_agency_id=who.agency_id,
               detail={"count": len(found), "status": status or "open"})
        uow.commit()
        return found


@dataclass(frozen=True)
class IncidentFile:
    """One incident with its timeline and linked alerts."""

    incident: Incident
    timeline: list[IncidentEvent]
    alert_ids: list[str]


def get(uow: UnitOfWork, who: Principal, incident_id: str) -> IncidentFile:
    """One of the caller's agency's incidents with its timeline (audited)."""
    action = "incident.read"
    with uow:
        incident = _own_or_refuse(uow, who, incident_id, action, Permission.INCIDENT_READ)
        found = IncidentFile(incident, list(uow.incidents.events(incident.id)),
                             uow.incidents.alert_ids(incident.id))
        record(uow, who, action, object_type=OBJECT, object_id=incident.id,
               object_agency_id=incident.agency_id)
        uow.commit()
        return found


# ---- changes --------------------------------------------------------------------------------


def _permission_for(incident: Incident, to: IncidentStatus) -> Permission:
    """Operators take (acknowledge) a new incident; the rest of the response is dispatch."""
    if to is IncidentStatus.ACKNOWLEDGED and incident.status is IncidentStatus.NEW:
        return Permission.INCIDENT_WRITE
    return Permission.INCIDENT_DISPATCH


def transition(uow: UnitOfWork, who: Principal, incident_id: str, to: str, *,
               version: int | None, clock: Clock, note: str | None = None,
               publish: Publish | None = None) -> Incident:
    """Move an incident of the caller's agency to status ``to`` (audited; ``version`` is the
    one the caller saw)."""
    action = "incident.transition"
    with uow:
        incident = _own_or_refuse(uow, who, incident_id, action, Permission.INCIDENT_WRITE)
        try:
            target = parse_status(to)
        except InvalidInput as error:
            _refusing(uow, who, action, error, incident)
        require(uow, who, who.can(_permission_for(incident, target)), action,
                object_type=OBJECT, object_id=incident.id, object_agency_id=incident.agency_id)
        now = clock()
        before = incident.status
        try:
            incident.check_version(version)
            made = incident.transition(target, by=who.username, by_agency=who.agency_id,
                                       at=now, note=note)
            uow.incidents.save(incident)
        except SerenoError as error:
            _refusing(uow, who, action, error, incident)
        _changed(uow, incident, made)
        record(uow, who, action, object_type=OBJECT, object_id=incident.id,
               object_agency_id=incident.agency_id, reason=made.note, now=now,
               detail={"number": incident.number, "from": before.value, "to": target.value,
                       "version": incident.version})
        _finish(uow, publish)
        return incident


def add_note(uow: UnitOfWork, who: Principal, incident_id: str, text: str, *,
             clock: Clock, version: int | None = None, publish: Publish | None = None
             ) -> Incident:
    """A note on an incident's timeline."""
    action = "incident.note"
    with uow:
        incident = _own_or_refuse(uow, who, incident_id, action, Permission.INCIDENT_WRITE)
        now = clock()
        try:
            incident.check_version(version)
            made = incident.add_note(text, by=who.username, by_agency=who.agency_id, at=now)
            uow.incidents.save(incident)
        except SerenoError as error:
            _refusing(uow, who, action, error, incident)
        _changed(uow, incident, made)
        record(uow, who, action, object_type=OBJECT, object_id=incident.id,
               object_agency_id=incident.agency_id, now=now,
               detail={"number": incident.number, "length": len(made.note or "")})
        _finish(uow, publish)
        return incident


def set_priority(uow: UnitOfWork, who: Principal, incident_id: str, priority: int, *,
                 clock: Clock, version: int | None = None, publish: Publish | None = None
                 ) -> Incident:
    """Change an open incident's priority (dispatchers and supervisors)."""
    action = "incident.priority"
    with uow:
        incident = _own_or_refuse(uow, who, incident_id, action, Permission.INCIDENT_DISPATCH)
        now = clock()
        try:
            incident.check_version(version)
            made = incident.set_priority(priority, by=who.username, by_agency=who.agency_id,
                                         at=now)
            uow.incidents.save(incident)
        except SerenoError as error:
            _refusing(uow, who, action, error, incident)
        _changed(uow, incident, made)
        record(uow, who, action, object_type=OBJECT, object_id=incident.id,
               object_agency_id=incident.agency_id, now=now,
               detail={"number": incident.number, **made.detail})
        _finish(uow, publish)
        return incident


def link_alert(uow: UnitOfWork, who: Principal, incident_id: str, alert_id: str, *,
               clock: Clock, version: int | None = None, publish: Publish | None = None
               ) -> Incident:
    """Link a further alert of the caller's agency to an open incident (an alert belongs to
    one incident at most)."""
    action = "incident.link_alert"
    with uow:
        incident = _own_or_refuse(uow, who, incident_id, action, Permission.INCIDENT_WRITE)
        alert = uow.alerts.get(alert_id)
        if alert is None or alert.agency_id != who.agency_id:
            refuse(uow, who, action, NotFound(f"no alert {alert_id!r}"), object_type=OBJECT,
                   object_id=incident.id, object_agency_id=incident.agency_id,
                   internal_reason=f"alert {alert_id!r} "
                   + ("does not exist" if alert is None else "of another agency"))
        holder = uow.incidents.holding(alert.id)
        if holder is not None:
            _refusing(uow, who, action, Conflict(
                f"the alert is already part of incident {holder.number}"), incident)
        now = clock()
        try:
            incident.check_version(version)
            made = incident.link_alert(alert.id, by=who.username, by_agency=who.agency_id,
                                       at=now, detail={"cameras": list(alert.camera_ids),
                                                       "headline": alert.headline})
            uow.incidents.save(incident)
        except SerenoError as error:
            _refusing(uow, who, action, error, incident)
        uow.incidents.link_alert(incident.id, alert.id, who.username, now)
        _acknowledge_alert(uow, who, alert, incident, now)
        _changed(uow, incident, made)
        record(uow, who, action, object_type=OBJECT, object_id=incident.id,
               object_agency_id=incident.agency_id, now=now,
               detail={"number": incident.number, "alert_id": alert.id})
        _finish(uow, publish)
        return incident


def merge_into(uow: UnitOfWork, who: Principal, duplicate_id: str, target_id: str, *,
               clock: Clock, version: int | None = None, publish: Publish | None = None
               ) -> Incident:
    """Merge a duplicate into another incident of the caller's agency: the duplicate is
    cancelled (``merged_into``), its alerts and notes carried over. ``version`` is the
    duplicate's, as the caller saw it. Returns the incident it joined."""
    action = "incident.merge"
    with uow:
        duplicate = _own_or_refuse(uow, who, duplicate_id, action, Permission.INCIDENT_DISPATCH)
        target = uow.incidents.get(target_id)
        if target is None or target.agency_id != who.agency_id:
            refuse(uow, who, action, NotFound(f"no incident {target_id!r} to merge into"),
                   object_type=OBJECT, object_id=duplicate.id,
                   object_agency_id=duplicate.agency_id,
                   internal_reason=f"merge target {target_id!r} "
                   + ("does not exist" if target is None else "of another agency"))
        now = clock()
        notes = [e for e in uow.incidents.events(duplicate.id) if e.kind.value == "note"]
        carried = uow.incidents.alert_ids(duplicate.id)
        try:
            duplicate.check_version(version)
            made = merge(duplicate, target, by=who.username, by_agency=who.agency_id, at=now,
                         carried_notes=notes, carried_alerts=carried)
            uow.incidents.save(duplicate)
        except SerenoError as error:
            _refusing(uow, who, action, error, duplicate)
        uow.incidents.move_alerts(duplicate.id, target.id)
        for item in made:
            uow.incidents.add_event(item)
        for incident, kind in ((duplicate, "merged"), (target, "merged_from")):
            uow.emit(events.IncidentChanged(incident.id, incident.agency_id, kind,
                                            incident.status.value, incident.version, now))
        record(uow, who, action, object_type=OBJECT, object_id=duplicate.id,
               object_agency_id=duplicate.agency_id, now=now,
               detail={"number": duplicate.number, "into": target.id,
                       "into_number": target.number, "alerts": carried,
                       "notes": len(notes)})
        _finish(uow, publish)
        return target


# ---- units and dispatch move incidents ------------------------------------------------------

#: The forward order of the response: reaching a later one makes an earlier one a no-op.
_PROGRESS = (IncidentStatus.NEW, IncidentStatus.ACKNOWLEDGED, IncidentStatus.DISPATCHED,
             IncidentStatus.EN_ROUTE, IncidentStatus.ON_SCENE, IncidentStatus.RESOLVED,
             IncidentStatus.CLOSED)


def advance(uow: UnitOfWork, incident_id: str, to_status: IncidentStatus | str, by: str,
            by_agency: str, at: datetime, note: str | None = None,
            detail: dict[str, Any] | None = None) -> IncidentEvent | None:
    """Move an incident forward on behalf of a dispatch or a unit's report, inside the
    caller's open unit of work (no commit, no audit: the caller audits its own action).

    Returns the timeline event, or None when the incident is already at ``to_status`` or
    further along (a second unit reporting en route to an incident already on scene).
    ``NotFound`` for an unknown incident, ``Conflict`` when the move is not allowed (a closed
    or cancelled incident). ``IncidentChanged`` is emitted on ``uow``.
    """
    target = to_status if isinstance(to_status, IncidentStatus) else parse_status(to_status)
    incident = uow.incidents.get(incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id!r}")
    current = incident.status
    if current in _PROGRESS and target in _PROGRESS and target is not IncidentStatus.ACKNOWLEDGED \
            and _PROGRESS.index(current) >= _PROGRESS.index(target):
        return None
    made = incident.transition(target, by=by, by_agency=by_agency, at=at, note=note)
    if detail:
        made.detail = {**made.detail, **detail}
    uow.incidents.save(incident)
    _changed(uow, incident, made)
    return made


def advance_for_dispatch(uow: UnitOfWork, who: Principal, incident_id: str, to_status: str,
                         at: datetime, *, detail: dict[str, Any] | None = None,
                         note: str | None = None) -> None:
    """``advance`` in the shape ``services.dispatch`` calls it (``IncidentAdvance``): the
    dispatcher or the unit's terminal user is the actor, their agency the agency."""
    advance(uow, incident_id, to_status, who.username, who.agency_id, at, note=note,
            detail=detail)


def add_event(uow: UnitOfWork, incident_id: str, made: IncidentEvent) -> None:
    """Append a dispatch's own timeline event (``unit_assigned``, ``unit_status``) inside the
    caller's unit of work; bumps the incident's version so consoles refresh it."""
    incident = uow.incidents.get(incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id!r}")
    incident.version += 1
    incident.updated_at = made.at
    uow.incidents.save(incident)
    _changed(uow, incident, made)


# ---- cameras around -------------------------------------------------------------------------


@dataclass(frozen=True)
class CameraAround:
    """A camera that sees the incident's place, and its recording window around it."""

    view: CameraView
    start: datetime
    end: datetime


def cameras_around(uow: UnitOfWork, who: Principal, incident_id: str, *,
                   radius_m: float = 0.0) -> tuple[Incident, list[CameraAround]]:
    """The cameras the caller may see whose field of view covers the incident's place
    (within ``radius_m``), nearest first, with the window of their recordings around the
    incident's time. Listing them is audited; playing them goes through the policy door."""
    action = "incident.cameras"
    with uow:
        incident = _own_or_refuse(uow, who, incident_id, action, Permission.INCIDENT_READ)
        if not 0 <= radius_m <= MAX_RADIUS_M:
            _refusing(uow, who, action, InvalidInput(
                f"radius_m is 0 to {MAX_RADIUS_M:.0f}"), incident)
        visible = [c for c in uow.cameras.visible_to_agency(who.agency_id)
                   if not c.is_retired and c.visible_to(who)]
        views = cameras_covering(visible, incident.latitude, incident.longitude, radius_m)
        start = incident.created_at - RECORDING_BEFORE
        end = min(incident.closed_at or incident.cancelled_at or incident.resolved_at
                  or incident.created_at + RECORDING_AFTER,
                  incident.created_at + timedelta(hours=1) - RECORDING_BEFORE)
        end = max(end, incident.created_at + RECORDING_AFTER)
        found = [CameraAround(v, start, end) for v in views]
        record(uow, who, action, object_type=OBJECT, object_id=incident.id,
               object_agency_id=incident.agency_id,
               detail={"cameras": [v.camera.id for v in views], "radius_m": radius_m})
        uow.commit()
        return incident, found
