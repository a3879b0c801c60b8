"""Units: the fleet register, AVL position reports and the per-process position index.

Position reports are audited per batch, not per fix (ADR 0032): one ``unit.position`` record
names the unit(s), the number of fixes and their time span; a refused batch is recorded with
its reason like every refusal. At thousands of fixes a second a record per fix would make the
audit log mostly a copy of ``unit_positions`` without telling an auditor anything more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sereno.domain.access import Permission, Principal
from sereno.domain.errors import Conflict, InvalidInput, NotFound, SerenoError
from sereno.domain.units import (
    GUAYAQUIL,
    Position,
    ServiceArea,
    Unit,
    UnitStatus,
    check_position,
    parse_status,
)
from sereno.services.audit import Clock, record, refuse, require
from sereno.services.dispatch_recommender import IndexedUnit, UnitIndex
from sereno.services.unit_of_work import UnitOfWork

OBJECT = "unit"
MAX_FIXES = 1000
#: How often a process re-reads the units other processes changed (positions, statuses).
RESYNC = timedelta(seconds=2)


@dataclass(frozen=True)
class Fix:
    """One reported AVL fix, as received."""

    latitude: float
    longitude: float
    at: datetime
    heading_deg: float | None = None
    speed_kmh: float | None = None


@dataclass(frozen=True)
class PositionReport:
    """What a batch of fixes did."""

    units: int
    accepted: int
    last: dict[str, Position]


def indexed(unit: Unit) -> IndexedUnit | None:
    """The index entry of a located unit (None if it never reported a position)."""
    if unit.latitude is None or unit.longitude is None:
        return None
    return IndexedUnit(unit.id, unit.agency_id, unit.name, unit.kind, unit.status,
                       unit.latitude, unit.longitude)


def sync_index(uow: UnitOfWork, index: UnitIndex, agency_ids: Sequence[str],
               now: datetime) -> None:
    """Load the agencies' units into ``index`` the first time, then what changed since."""
    for agency_id in agency_ids:
        since = index.synced_at(agency_id)
        if since is None:
            units = uow.units.of_agencies([agency_id])
            index.load(agency_id, [e for e in map(indexed, units) if e is not None], at=now)
        elif now - since >= RESYNC:
            # updated_at is written by whichever process changed the unit: a margin covers
            # clocks of other processes and transactions that committed a little late.
            changed = uow.units.of_agencies([agency_id], changed_since=since - RESYNC)
            index.update_many([e for e in map(indexed, changed) if e is not None], at=now,
                              agency_id=agency_id)


def register_unit(uow: UnitOfWork, who: Principal, unit_id: str, name: str, kind: str, *,
                  clock: Clock) -> Unit:
    """Add a unit to the caller's agency's fleet (administrators); available, not located."""
    action = "unit.register"
    with uow:
        require(uow, who, who.can(Permission.UNIT_WRITE), action, object_type=OBJECT,
                object_id=unit_id[:64])
        try:
            unit = Unit.register(unit_id, who.agency_id, name, kind, now=clock())
        except InvalidInput as error:
            refuse(uow, who, action, error, object_type=OBJECT, object_id=unit_id[:64])
        if uow.units.get(unit.id) is not None:
            refuse(uow, who, action, Conflict(f"unit {unit.id} already exists"),
                   object_type=OBJECT, object_id=unit.id)
        uow.units.add(unit)
        record(uow, who, action, object_type=OBJECT, object_id=unit.id,
               object_agency_id=unit.agency_id, detail={"kind": unit.kind.value,
                                                        "name": unit.name})
        uow.commit()
        return unit


def list_units(uow: UnitOfWork, who: Principal, *, status: str | None = None) -> list[Unit]:
    """The caller's agency's units (a partner's fleet is not shown: ADR 0032)."""
    action = "unit.list"
    with uow:
        require(uow, who, who.can(Permission.UNIT_READ), action, object_type=OBJECT)
        wanted: UnitStatus | None = None
        if status is not None:
            try:
                wanted = parse_status(status)
            except InvalidInput as error:
                refuse(uow, who, action, error, object_type=OBJECT)
        found = [u for u in uow.units.of_agencies([who.agency_id])
                 if wanted is None or u.status is wanted]
        record(uow, who, action, object_type=OBJECT, object_agency_id=who.agency_id,
               detail={"count": len(found), "status": status})
        uow.commit()
        return found


def own_unit_or_refuse(uow: UnitOfWork, who: Principal, unit_id: str, action: str) -> Unit:
    """The unit if it belongs to the caller's agency; otherwise a refused, audited 404."""
    unit = uow.units.get(unit_id)
    if unit is None or unit.agency_id != who.agency_id:
        refuse(uow, who, action, NotFound(f"unknown unit {unit_id[:64]!r}"),
               object_type=OBJECT, object_id=unit_id[:64],
               object_agency_id=unit.agency_id if unit else None,
               internal_reason="unit of another agency" if unit else None)
    return unit


def report_positions(uow: UnitOfWork, who: Principal, unit_id: str, fixes: Sequence[Fix], *,
                     clock: Clock, index: UnitIndex,
                     area: ServiceArea = GUAYAQUIL) -> PositionReport:
    """Fixes of one unit of the caller's agency (the mobile terminal): all or none."""
    return report_fleet(uow, who, [(unit_id, fixes)], clock=clock, index=index, area=area)


def report_fleet(uow: UnitOfWork, who: Principal, batch: Sequence[tuple[str, Sequence[Fix]]],
                 *, clock: Clock, index: UnitIndex,
                 area: ServiceArea = GUAYAQUIL) -> PositionReport:
    """Fixes of several units of the caller's agency in one transaction (an AVL gateway, the
    simulated fleet, the benchmark): all accepted or, on the first bad fix, none."""
    action = "unit.position"
    single = batch[0][0][:64] if len(batch) == 1 else None
    with uow:
        require(uow, who, who.can(Permission.UNIT_REPORT), action, object_type=OBJECT,
                object_id=single)
        total = sum(len(fixes) for _, fixes in batch)
        if not batch or total == 0 or total > MAX_FIXES * max(1, len(batch)):
            refuse(uow, who, action, InvalidInput(
                f"send 1 to {MAX_FIXES} fixes per unit"), object_type=OBJECT, object_id=single)
        now = clock()
        units = uow.units.many(unit_id for unit_id, _ in batch)
        moved: list[tuple[Unit, Sequence[Position]]] = []
        for unit_id, fixes in batch:
            unit = units.get(unit_id)
            if unit is None or unit.agency_id != who.agency_id:
                refuse(uow, who, action, NotFound(f"unknown unit {unit_id[:64]!r}"),
                       object_type=OBJECT, object_id=unit_id[:64],
                       object_agency_id=unit.agency_id if unit else None,
                       internal_reason="unit of another agency" if unit else None)
            try:
                checked = sorted((_check(fix, n, now, area) for n, fix in enumerate(fixes)),
                                 key=lambda p: p.at)
                for position in checked:
                    unit.move_to(position)
            except (InvalidInput, Conflict) as error:
                _refuse_positions(uow, who, action, unit, error)
            moved.append((unit, checked))
        uow.units.save_positions(moved, now=now)
        stamps = [p.at for _, fixes in moved for p in fixes]
        record(uow, who, action, object_type=OBJECT, object_id=single,
               object_agency_id=who.agency_id, now=now,
               detail={"units": len(moved), "fixes": total, "first_at": min(stamps).isoformat(),
                       "last_at": max(stamps).isoformat()})
        uow.commit()
    index.update_many([e for e in (indexed(u) for u, _ in moved) if e is not None])
    return PositionReport(len(moved), total, {u.id: fixes[-1] for u, fixes in moved})


def _check(fix: Fix, n: int, now: datetime, area: ServiceArea) -> Position:
    try:
        return check_position(fix.latitude, fix.longitude, at=fix.at, now=now, area=area,
                              heading_deg=fix.heading_deg, speed_kmh=fix.speed_kmh)
    except InvalidInput as error:
        raise InvalidInput(error.message, details=[{"fix": n, "at": fix.at.isoformat()}]) \
            from None


def _refuse_positions(uow: UnitOfWork, who: Principal, action: str, unit: Unit,
                      error: SerenoError) -> None:
    refuse(uow, who, action, error, object_type=OBJECT, object_id=unit.id,
           object_agency_id=unit.agency_id)


def set_service(uow: UnitOfWork, who: Principal, unit_id: str, status: str, *, clock: Clock,
                index: UnitIndex) -> Unit:
    """Take a unit of the caller's agency out of service (refuelling, end of shift) or back
    (the terminal or the dispatch room); a unit on a dispatch must clear first (409)."""
    action = "unit.service"
    with uow:
        require(uow, who, who.can(Permission.UNIT_REPORT), action, object_type=OBJECT,
                object_id=unit_id[:64])
        unit = own_unit_or_refuse(uow, who, unit_id, action)
        try:
            wanted = parse_status(status)
            if wanted not in (UnitStatus.AVAILABLE, UnitStatus.OUT_OF_SERVICE):
                raise InvalidInput("status must be available or out_of_service (dispatch "
                                   "statuses come from the dispatch reports)")
        except InvalidInput as error:
            refuse(uow, who, action, error, object_type=OBJECT, object_id=unit.id,
                   object_agency_id=unit.agency_id)
        before, seen = unit.status, unit.version
        try:
            unit.become(wanted, now=clock())
        except Conflict as error:
            refuse(uow, who, action, error, object_type=OBJECT, object_id=unit.id,
                   object_agency_id=unit.agency_id)
        if unit.version != seen and not uow.units.save_status(unit, seen_version=seen):
            refuse(uow, who, action, Conflict("the unit changed meanwhile; try again"),
                   object_type=OBJECT, object_id=unit.id, object_agency_id=unit.agency_id)
        record(uow, who, action, object_type=OBJECT, object_id=unit.id,
               object_agency_id=unit.agency_id,
               detail={"from": before.value, "to": unit.status.value})
        uow.commit()
    index.set_status(unit.id, unit.status)
    return unit
