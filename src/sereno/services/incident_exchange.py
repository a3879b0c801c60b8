"""Incidents between agencies (issue 6 point 6, ADR 0033): an agency's incident creation and
every change travel to the agencies it shares with, so both see the same incident state.

Who receives an incident: the agencies an agreement of its owner covers it for (in force, its
type's CAP category among the agreement's, its place inside the agreement's area), and the
other participants of a joint operation active over its place (the operation is an agreement
between them for its area and window). A partner on this node gets its copy at once; a
partner on a peer node through the outbox (``incident.created`` / ``incident.changed``).
The copy is an incident of the receiving agency (source ``partner``, own number, ``origin_*``
naming the original) that mirrors the original's status, priority and timestamps; received
copies are never shared on. Each share is audited (``incident.share``), each receipt too
(``incident.receive``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sereno.domain import events
from sereno.domain.access import Principal
from sereno.domain.errors import InvalidInput, NotFound
from sereno.domain.incidents import (
    STAMPS,
    EventKind,
    Incident,
    IncidentEvent,
    IncidentSource,
    IncidentStatus,
    check_location,
    check_priority,
    number_prefix,
)
from sereno.services.audit import Clock, record
from sereno.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

COMPONENT = "exchange"
OBJECT = "incident"
CREATED, CHANGED = "incident.created", "incident.changed"
_UUID_NS = uuid.UUID("0a3e2d5c-6b1f-4d8e-9c33-0033e1c1de07")
_MIRRORED = ("priority", "title", "description", "address", *STAMPS.values())

Publish = Callable[[events.Event], None]


def to_wire(incident: Incident) -> dict[str, Any]:
    """What a partner receives of an incident (no operator names, no internal links)."""
    wire: dict[str, Any] = {
        "id": incident.id, "agency_id": incident.agency_id, "number": incident.number,
        "type_code": incident.type_code, "priority": incident.priority,
        "status": incident.status.value, "title": incident.title,
        "description": incident.description, "address": incident.address,
        "latitude": incident.latitude, "longitude": incident.longitude,
        "version": incident.version, "created_at": incident.created_at.isoformat(),
        "updated_at": incident.updated_at.isoformat()}
    for stamp in STAMPS.values():
        value = getattr(incident, stamp)
        wire[stamp] = value.isoformat() if value is not None else None
    return wire


# ---- the sending side -------------------------------------------------------------------


def subscribe(platform: Any) -> None:
    """Forward every incident creation and change on ``platform``'s bus (bootstrap does)."""
    from functools import partial

    forward = partial(on_incident_event, uow_factory=platform.uow, publish=platform.bus.publish,
                      clock=platform.clock, node_name=platform.settings.node_name)
    platform.bus.subscribe(events.IncidentCreated, forward)
    platform.bus.subscribe(events.IncidentChanged, forward)


def on_incident_event(event: events.IncidentCreated | events.IncidentChanged, *,
                      uow_factory: UnitOfWorkFactory, publish: Publish, clock: Clock,
                      node_name: str) -> None:
    """Bus handler: forward an incident's creation or change to its partners."""
    for item in share_incident(uow_factory(), event.incident_id, clock=clock,
                               node_name=node_name):
        publish(item)


def recipients(uow: UnitOfWork, incident: Incident, now: datetime) -> dict[str, str]:
    """The agencies that receive ``incident`` now, each with the basis (``agreement:<id>`` or
    ``operation:<code>``)."""
    kind = uow.incident_types.get(incident.agency_id, incident.type_code)
    category = kind.category.value if kind is not None else "Other"
    found: dict[str, str] = {}
    for agreement in uow.agreements.involving(incident.agency_id):
        if (agreement.from_agency_id == incident.agency_id and agreement.in_force(now)
                and category in agreement.categories
                and agreement.covers(incident.latitude, incident.longitude)):
            found.setdefault(agreement.to_agency_id, f"agreement:{agreement.id}")
    for operation in uow.operations.running_at(now):
        if operation.involves(incident.agency_id) and (
                operation.id == incident.operation_id
                or operation.covers(incident.latitude, incident.longitude, now)):
            for agency in operation.participants:
                found.setdefault(agency, f"operation:{operation.code}")
    found.pop(incident.agency_id, None)
    return found


def share_incident(uow: UnitOfWork, incident_id: str, *, clock: Clock,
                   node_name: str) -> list[events.Event]:
    """Deliver the incident's current state to each recipient (this node) or queue it for the
    recipient's peer node; audit each. Returns the events to publish."""
    with uow:
        incident = uow.incidents.get(incident_id)
        if incident is None or incident.origin_incident_id is not None \
                or incident.source is IncidentSource.PARTNER:
            return []  # a received copy is never shared on
        now = clock()
        system = Principal.system(COMPONENT, incident.agency_id)
        remote = {str(p["agency_id"]): str(p["node_id"]) for p in uow.peers.list()}
        wire = to_wire(incident)
        for to_agency, basis in sorted(recipients(uow, incident, now).items()):
            detail: dict[str, Any] = {"to_agency": to_agency, "basis": basis,
                                      "version": incident.version,
                                      "status": incident.status.value}
            if uow.agencies.get(to_agency) is not None:
                copy = accept_partner_incident(uow, to_agency, wire, origin_node=node_name,
                                               clock=clock)
                detail.update(delivery="local", copy_id=copy.id)
            elif to_agency in remote:
                first = _message_id(incident.id, to_agency, "created")
                message_id = first if uow.outbox.get(first) is None else \
                    _message_id(incident.id, to_agency, f"v{incident.version}")
                if uow.outbox.get(message_id) is None:
                    uow.outbox.enqueue(destination_kind="peer", destination=remote[to_agency],
                                       source_agency_id=incident.agency_id,
                                       kind=CREATED if message_id == first else CHANGED,
                                       payload={"to_agency_id": to_agency, "incident": wire},
                                       now=now, message_id=message_id)
                detail.update(delivery="peer", peer_node=remote[to_agency],
                              message_id=message_id)
            else:
                continue  # an agreement with an agency not reachable: nothing to deliver
            record(uow, system, "incident.share", object_type=OBJECT, object_id=incident.id,
                   object_agency_id=incident.agency_id, detail=detail, now=now)
        uow.commit()
        return list(uow.collect_new_events())


def _message_id(incident_id: str, to_agency: str, what: str) -> str:
    """Deterministic envelope ids: a handler run twice queues nothing twice."""
    return str(uuid.uuid5(_UUID_NS, f"{incident_id}/{to_agency}/{what}"))


# ---- the receiving side -----------------------------------------------------------------


def _when(wire: Mapping[str, Any], name: str) -> datetime | None:
    value = wire.get(name)
    if value is None:
        return None
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"{name} has no time zone")
    return moment


def accept_partner_incident(uow: UnitOfWork, to_agency: str, wire: Mapping[str, Any], *,
                            origin_node: str | None, clock: Clock) -> Incident:
    """Create or bring up to date ``to_agency``'s copy of a partner's incident (``wire``, the
    ``to_wire`` form). An older or equal version than the one held changes nothing. Runs in
    the caller's transaction; emits ``IncidentCreated`` / ``IncidentChanged`` for the
    recipient's board. ``InvalidInput`` when malformed, ``NotFound`` for an agency this node
    does not host."""
    if uow.agencies.get(to_agency) is None:
        raise NotFound(f"this node hosts no agency {to_agency!r}")
    try:
        origin_agency, origin_id = str(wire["agency_id"]), str(wire["id"])
        status = IncidentStatus(str(wire["status"]))
        version = int(wire["version"])
        latitude, longitude = check_location(wire.get("latitude"), wire.get("longitude"))
        mirrored: dict[str, Any] = {
            "priority": check_priority(int(wire["priority"])),
            "title": " ".join(str(wire["title"]).split())[:160],
            "description": str(wire.get("description") or "")[:4000],
            "address": (str(wire["address"])[:200] if wire.get("address") else None)}
        for stamp in STAMPS.values():
            mirrored[stamp] = _when(wire, stamp)
        created_at, updated_at = _when(wire, "created_at"), _when(wire, "updated_at")
        type_code, number = str(wire["type_code"])[:32], str(wire["number"])[:32]
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidInput(f"malformed shared incident: {error}") from None
    if origin_agency == to_agency:
        raise InvalidInput("an agency does not receive its own incidents")
    if not mirrored["title"] or created_at is None or updated_at is None:
        raise InvalidInput("malformed shared incident: no title or times")
    now = clock()
    system = Principal.system(COMPONENT, to_agency)
    detail = {"origin_agency": origin_agency, "origin_incident_id": origin_id,
              "origin_number": number, "origin_node": origin_node, "origin_version": version,
              "status": status.value}
    copy = uow.incidents.partner_copy(to_agency, origin_agency, origin_id)
    if copy is None:
        copy = Incident(id=str(uuid.uuid4()), agency_id=to_agency, number="",
                        type_code=type_code, latitude=latitude, longitude=longitude,
                        source=IncidentSource.PARTNER, created_by=f"partner:{origin_agency}",
                        created_at=created_at, updated_at=now, status=status,
                        origin_agency_id=origin_agency, origin_node=origin_node,
                        origin_incident_id=origin_id, **mirrored)
        uow.incidents.add_numbered(copy, number_prefix(to_agency, now.year))
        uow.incidents.add_event(IncidentEvent(copy.id, EventKind.CREATED, system.username,
                                              to_agency, now, to_status=status,
                                              detail={"source": "partner", **detail}))
        record(uow, system, "incident.receive", object_type=OBJECT, object_id=copy.id,
               object_agency_id=to_agency, reason=copy.title,
               detail={"kind": "created", **detail}, now=now)
        uow.emit(events.IncidentCreated(copy.id, to_agency, copy.number, copy.type_code,
                                        copy.priority, copy.status.value, copy.title,
                                        copy.source.value, copy.created_at))
        return copy
    held = _held_version(uow, copy)
    if version <= held:
        return copy  # a duplicate or an older message that overtook a newer one
    before = copy.status
    changed = [name for name in _MIRRORED if getattr(copy, name) != mirrored[name]]
    for name in changed:
        setattr(copy, name, mirrored[name])
    if (copy.latitude, copy.longitude) != (latitude, longitude):
        copy.latitude, copy.longitude = latitude, longitude
        changed.append("place")
    copy.status = status
    copy.version += 1
    copy.updated_at = now
    uow.incidents.add_event(IncidentEvent(copy.id, EventKind.PARTNER, system.username,
                                          to_agency, now, before, status, None,
                                          {"changed": changed, **detail}))
    uow.incidents.save(copy)
    record(uow, system, "incident.receive", object_type=OBJECT, object_id=copy.id,
           object_agency_id=to_agency, detail={"kind": "changed", "changed": changed,
                                               **detail}, now=now)
    uow.emit(events.IncidentChanged(copy.id, to_agency, EventKind.PARTNER.value,
                                    copy.status.value, copy.version, now))
    return copy


def _held_version(uow: UnitOfWork, copy: Incident) -> int:
    """The origin's version the copy mirrors (from its timeline)."""
    held = 0
    for item in uow.incidents.events(copy.id):
        if item.detail.get("origin_version") is not None:
            held = max(held, int(item.detail["origin_version"]))
    return held


def register_incident_receivers(federation: Any, *, clock: Clock) -> None:
    """``incident.created`` / ``incident.changed`` from a peer → the partner copy here."""
    from sereno.services.federation import Inbound, hosted_here

    def shared_incident(uow: UnitOfWork, inbound: Inbound) -> dict[str, Any]:
        payload = inbound.envelope.payload
        to_agency = payload.get("to_agency_id")
        if not isinstance(to_agency, str) or not hosted_here(uow, to_agency):
            raise InvalidInput(f"agency {str(to_agency)[:64]!r} is not hosted on this node")
        wire = payload.get("incident")
        if not isinstance(wire, dict):
            raise InvalidInput("malformed shared incident message: no incident")
        if wire.get("agency_id") != inbound.envelope.source_agency_id:
            raise InvalidInput("the incident is not of the sending agency")
        copy = accept_partner_incident(uow, to_agency, wire, origin_node=inbound.peer.node_id,
                                       clock=clock)
        return {"to_agency_id": to_agency, "copy_id": copy.id,
                "origin_incident_id": copy.origin_incident_id}

    federation.register_receiver(CREATED, shared_incident)
    federation.register_receiver(CHANGED, shared_incident)
