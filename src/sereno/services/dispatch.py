"""Dispatch: recommend the units that arrive first, assign them, and take the units' reports.

Concurrency (ADR 0032): assigning writes ``units`` with ``WHERE version = :seen``. Of two
dispatchers assigning the same unit at once exactly one row update succeeds; the other
transaction is rolled back and refused with 409 "unit already assigned". On SQLite the
transactions are serialised by ``BEGIN IMMEDIATE`` and the loser reads the unit already
assigned; on PostgreSQL the loser's UPDATE waits for the winner's commit and then matches no
row. Either way nothing of the loser's request stays but its audit record.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sereno.adapters.db.unit_repositories import IncidentPlace
from sereno.domain.access import Permission, Principal
from sereno.domain.errors import Conflict, InvalidInput, NotFound, SerenoError
from sereno.domain.eta import eta_seconds, great_circle_m
from sereno.domain.events import Event
from sereno.domain.incidents import EventKind, IncidentEvent
from sereno.domain.units import (
    UNIT_STATUS_FOR,
    Dispatch,
    DispatchStatus,
    UnitKind,
    UnitStatus,
    parse_dispatch_report,
    parse_kind,
)
from sereno.services import incidents
from sereno.services.audit import Clock, record, refuse, require
from sereno.services.dispatch_recommender import Candidate, UnitIndex
from sereno.services.unit_of_work import UnitOfWork
from sereno.services.units import OBJECT as UNIT_OBJECT
from sereno.services.units import own_unit_or_refuse, sync_index

OBJECT = "incident"
DISPATCH_OBJECT = "dispatch"
OPEN_STATUSES = frozenset({"new", "acknowledged", "dispatched", "en_route", "on_scene"})
MAX_UNITS_PER_DISPATCH = 20

#: Moves the incident inside the caller's transaction (``incidents.advance_for_dispatch``:
#: ``advance(uow, who, incident_id, to_status, at, detail=...)``; ADR 0031).
IncidentAdvance = Callable[..., None]
Publish = Callable[[Event], None]


@dataclass(frozen=True)
class Recommendation:
    """The incident and the units that would arrive first, quickest first."""

    incident: IncidentPlace
    units: list[Candidate]


def _incident_or_refuse(uow: UnitOfWork, who: Principal, incident_id: str,
                        action: str) -> IncidentPlace:
    incident = uow.dispatches.incident(incident_id)
    if incident is None or incident.agency_id != who.agency_id:
        refuse(uow, who, action, NotFound(f"unknown incident {incident_id[:64]!r}"),
               object_type=OBJECT, object_id=incident_id[:64],
               object_agency_id=incident.agency_id if incident else None,
               internal_reason="incident of another agency" if incident else None)
    return incident


def recommend(uow: UnitOfWork, who: Principal, incident_id: str, *, clock: Clock,
              index: UnitIndex, limit: int = 5,
              kinds: Sequence[str] | None = None) -> Recommendation:
    """The ``limit`` available units of the caller's agency with the lowest ETA to the
    incident (of ``kinds`` if given), checked against the database before answering."""
    action = "incident.recommend"
    with uow:
        require(uow, who, who.can(Permission.INCIDENT_DISPATCH), action, object_type=OBJECT,
                object_id=incident_id[:64])
        incident = _incident_or_refuse(uow, who, incident_id, action)
        wanted: set[UnitKind] | None = None
        try:
            if not 1 <= limit <= 50:
                raise InvalidInput("limit must be between 1 and 50")
            wanted = {parse_kind(k) for k in kinds} if kinds else None
        except InvalidInput as error:
            refuse(uow, who, action, error, object_type=OBJECT, object_id=incident.id)
        now = clock()
        sync_index(uow, index, [who.agency_id], now)
        found: list[Candidate] = []
        excluded: set[str] = set()
        # The index may lag another process's assignment by up to the resync period: drop
        # candidates the database says are busy and ask again (rarely more than once).
        for _ in range(3):
            candidates = index.nearest(incident.latitude, incident.longitude,
                                       limit=limit - len(found), kinds=wanted,
                                       agencies={who.agency_id}, exclude=excluded)
            if not candidates:
                break
            rows = uow.units.many(c.unit_id for c in candidates)
            for candidate in candidates:
                unit = rows.get(candidate.unit_id)
                if unit is not None and unit.status is UnitStatus.AVAILABLE:
                    found.append(candidate)
                else:
                    if unit is not None:
                        index.set_status(unit.id, unit.status)
                # each round's units come after the last round's: no re-sorting
                excluded.add(candidate.unit_id)
            if len(found) >= limit:
                break
        record(uow, who, action, object_type=OBJECT, object_id=incident.id,
               object_agency_id=incident.agency_id, now=now,
               detail={"units": [c.unit_id for c in found], "kinds": sorted(wanted or [])})
        uow.commit()
        return Recommendation(incident, found)


def dispatch_units(uow: UnitOfWork, who: Principal, incident_id: str, unit_ids: Sequence[str],
                   *, clock: Clock, index: UnitIndex,
                   advance: IncidentAdvance = incidents.advance_for_dispatch,
                   publish: Publish | None = None) -> list[Dispatch]:
    """Assign units of the caller's agency to an open incident; all or none. The incident
    becomes dispatched and its timeline names each unit, in the same transaction."""
    action = "incident.dispatch"
    with uow:
        require(uow, who, who.can(Permission.INCIDENT_DISPATCH), action, object_type=OBJECT,
                object_id=incident_id[:64])
        incident = _incident_or_refuse(uow, who, incident_id, action)
        if not unit_ids or len(unit_ids) > MAX_UNITS_PER_DISPATCH or \
                len(set(unit_ids)) != len(unit_ids):
            refuse(uow, who, action, InvalidInput(
                f"name 1 to {MAX_UNITS_PER_DISPATCH} different units"), object_type=OBJECT,
                object_id=incident.id)
        if incident.status not in OPEN_STATUSES:
            refuse(uow, who, action, Conflict(f"incident is {incident.status}"),
                   object_type=OBJECT, object_id=incident.id)
        now = clock()
        made: list[Dispatch] = []
        assigned = []
        for unit_id in unit_ids:
            unit = own_unit_or_refuse(uow, who, unit_id, action)
            seen = unit.version
            try:
                unit.become(UnitStatus.ASSIGNED, now=now)
            except Conflict as error:
                refuse(uow, who, action, error, object_type=UNIT_OBJECT, object_id=unit.id,
                       object_agency_id=unit.agency_id, detail={"incident": incident.id})
            unit.incident_id = incident.id
            if not uow.units.save_status(unit, seen_version=seen):
                refuse(uow, who, action, Conflict("unit already assigned"),
                       object_type=UNIT_OBJECT, object_id=unit.id,
                       object_agency_id=unit.agency_id, detail={"incident": incident.id})
            distance = eta = None
            if unit.latitude is not None and unit.longitude is not None:
                distance = round(great_circle_m(incident.latitude, incident.longitude,
                                                unit.latitude, unit.longitude), 1)
                eta = round(eta_seconds(unit.kind, distance), 1)
            dispatch = Dispatch(str(uuid.uuid4()), incident.id, unit.id, who.agency_id,
                                DispatchStatus.ASSIGNED, who.username, now, eta_s=eta,
                                distance_m=distance)
            uow.dispatches.add(dispatch)
            made.append(dispatch)
            assigned.append(unit)
        try:
            advance(uow, who, incident.id, "dispatched", now,
                    detail={"units": [u.id for u in assigned]})
            for made_one in made:
                incidents.add_event(uow, incident.id, IncidentEvent(
                    incident.id, EventKind.UNIT_ASSIGNED, who.username, who.agency_id, now,
                    detail={"unit": made_one.unit_id, "dispatch": made_one.id,
                            "eta_s": made_one.eta_s, "distance_m": made_one.distance_m}))
        except SerenoError as error:
            refuse(uow, who, action, error, object_type=OBJECT, object_id=incident.id,
                   object_agency_id=incident.agency_id)
        record(uow, who, action, object_type=OBJECT, object_id=incident.id,
               object_agency_id=incident.agency_id, now=now,
               detail={"units": [u.id for u in assigned],
                       "dispatches": [d.id for d in made],
                       "eta_s": [d.eta_s for d in made]})
        _commit(uow, publish)
    for unit in assigned:
        index.set_status(unit.id, unit.status)
    return made


#: The incident status a unit's report moves the incident to (never backwards: the incident
#: service ignores a move to an earlier state, e.g. a second unit reporting en route).
INCIDENT_STATUS_FOR = {DispatchStatus.EN_ROUTE: "en_route",
                       DispatchStatus.ON_SCENE: "on_scene"}


def report(uow: UnitOfWork, who: Principal, dispatch_id: str, word: str, *, clock: Clock,
           index: UnitIndex, advance: IncidentAdvance = incidents.advance_for_dispatch,
           publish: Publish | None = None) -> Dispatch:
    """The unit acknowledges, is en route, on scene, or clears (the mobile terminal): stamped
    on the dispatch, the unit's status, the incident's (en route, on scene) and timeline."""
    action = f"dispatch.{word[:16]}"
    with uow:
        require(uow, who, who.can(Permission.UNIT_REPORT), action,
                object_type=DISPATCH_OBJECT, object_id=dispatch_id[:64])
        try:
            status = parse_dispatch_report(word)
        except InvalidInput as error:
            refuse(uow, who, action, error, object_type=DISPATCH_OBJECT,
                   object_id=dispatch_id[:64])
        dispatch = uow.dispatches.get(dispatch_id)
        unit = uow.units.get(dispatch.unit_id) if dispatch is not None else None
        if dispatch is None or unit is None or unit.agency_id != who.agency_id:
            refuse(uow, who, action, NotFound(f"unknown dispatch {dispatch_id[:64]!r}"),
                   object_type=DISPATCH_OBJECT, object_id=dispatch_id[:64],
                   object_agency_id=unit.agency_id if unit else None,
                   internal_reason="dispatch of another agency's unit" if unit else None)
        now = clock()
        seen = unit.version
        target = UNIT_STATUS_FOR[status]
        try:
            dispatch.report(status, now=now)
            if unit.incident_id != dispatch.incident_id:
                raise Conflict("the unit is no longer on this dispatch")
            if target is not unit.status:
                unit.become(target, now=now)
        except Conflict as error:
            refuse(uow, who, action, error, object_type=DISPATCH_OBJECT, object_id=dispatch.id,
                   object_agency_id=unit.agency_id)
        if unit.version != seen and not uow.units.save_status(unit, seen_version=seen):
            refuse(uow, who, action, Conflict("the unit changed meanwhile; report again"),
                   object_type=DISPATCH_OBJECT, object_id=dispatch.id,
                   object_agency_id=unit.agency_id)
        uow.dispatches.save(dispatch)
        try:
            if status in INCIDENT_STATUS_FOR:
                advance(uow, who, dispatch.incident_id, INCIDENT_STATUS_FOR[status], now,
                        detail={"unit": unit.id, "dispatch": dispatch.id})
            incidents.add_event(uow, dispatch.incident_id, IncidentEvent(
                dispatch.incident_id, EventKind.UNIT_STATUS, who.username, who.agency_id, now,
                detail={"unit": unit.id, "dispatch": dispatch.id,
                        "status": dispatch.status.value}))
        except SerenoError as error:
            refuse(uow, who, action, error, object_type=DISPATCH_OBJECT, object_id=dispatch.id,
                   object_agency_id=unit.agency_id)
        record(uow, who, action, object_type=DISPATCH_OBJECT, object_id=dispatch.id,
               object_agency_id=unit.agency_id, now=now,
               detail={"unit": unit.id, "incident": dispatch.incident_id,
                       "status": dispatch.status.value})
        _commit(uow, publish)
    index.set_status(unit.id, unit.status)
    return dispatch


def list_dispatches(uow: UnitOfWork, who: Principal, incident_id: str) -> list[Dispatch]:
    """The incident's dispatches with every stamp (readers of the agency's incidents)."""
    action = "incident.dispatches"
    with uow:
        require(uow, who, who.can(Permission.INCIDENT_READ), action, object_type=OBJECT,
                object_id=incident_id[:64])
        incident = _incident_or_refuse(uow, who, incident_id, action)
        found = uow.dispatches.of_incident(incident.id)
        record(uow, who, action, object_type=OBJECT, object_id=incident.id,
               object_agency_id=incident.agency_id, detail={"count": len(found)})
        uow.commit()
        return found


def _commit(uow: UnitOfWork, publish: Publish | None) -> None:
    """Commit, then hand the incident events to the bus (outside the transaction)."""
    uow.commit()
    pending = list(uow.collect_new_events())
    if publish is not None:
        for event in pending:
            publish(event)
