"""Units, their AVL history and dispatches, in SQLAlchemy Core (ADR 0032).

Core rather than the ORM mapping: position updates are the hottest write of the platform
(thousands a second on one node) and go as one ``executemany`` UPDATE plus one INSERT per batch;
status changes are compare-and-set on ``units.version`` so that of two dispatchers assigning
the same unit exactly one row update succeeds, on both engines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from sereno.adapters.db.tables import dispatches, incidents, unit_positions, units
from sereno.domain.units import Dispatch, DispatchStatus, Position, Unit, UnitKind, UnitStatus


@dataclass(frozen=True)
class IncidentPlace:
    """What dispatch needs of an incident: owner, state and place."""

    id: str
    agency_id: str
    number: str
    status: str
    type_code: str
    latitude: float
    longitude: float
    version: int


def _unit(row: RowMapping) -> Unit:
    return Unit(id=row["id"], agency_id=row["agency_id"], name=row["name"],
                kind=UnitKind(row["kind"]), status=UnitStatus(row["status"]),
                latitude=row["latitude"], longitude=row["longitude"],
                position_at=row["position_at"], heading_deg=row["heading_deg"],
                speed_kmh=row["speed_kmh"], incident_id=row["incident_id"],
                version=row["version"], updated_at=row["updated_at"])


def _dispatch(row: RowMapping) -> Dispatch:
    values = dict(row)
    values["status"] = DispatchStatus(values["status"])
    return Dispatch(**values)


class UnitRepository:
    """The ``units`` and ``unit_positions`` tables."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, unit: Unit) -> None:
        """Insert a new unit."""
        self.session.execute(insert(units).values(
            id=unit.id, agency_id=unit.agency_id, kind=unit.kind.value, name=unit.name,
            status=unit.status.value, latitude=unit.latitude, longitude=unit.longitude,
            position_at=unit.position_at, speed_kmh=unit.speed_kmh,
            heading_deg=unit.heading_deg, incident_id=unit.incident_id, version=unit.version,
            updated_at=unit.updated_at))

    def get(self, unit_id: str) -> Unit | None:
        """One unit, or None."""
        row = self.session.execute(select(units).where(units.c.id == unit_id)).mappings().first()
        return _unit(row) if row is not None else None

    def many(self, unit_ids: Iterable[str]) -> dict[str, Unit]:
        """The units among ``unit_ids`` that exist, by id."""
        ids = list(set(unit_ids))
        found: dict[str, Unit] = {}
        for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
            rows = self.session.execute(
                select(units).where(units.c.id.in_(ids[start:start + 500]))).mappings()
            found.update((row["id"], _unit(row)) for row in rows)
        return found

    def of_agencies(self, agency_ids: Sequence[str], *,
                    changed_since: datetime | None = None) -> list[Unit]:
        """The agencies' units by id (only those changed since ``changed_since`` if given)."""
        query = select(units).where(units.c.agency_id.in_(list(agency_ids)))
        if changed_since is not None:
            query = query.where(units.c.updated_at >= changed_since)
        return [_unit(r) for r in self.session.execute(query.order_by(units.c.id)).mappings()]

    def save_status(self, unit: Unit, *, seen_version: int) -> bool:
        """Write the unit's status if nobody changed it since ``seen_version``; False if lost."""
        result = self.session.execute(
            update(units).where(units.c.id == unit.id, units.c.version == seen_version)
            .values(status=unit.status.value, incident_id=unit.incident_id,
                    version=unit.version, updated_at=unit.updated_at))
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def save_positions(self, moved: Sequence[tuple[Unit, Sequence[Position]]],
                       *, now: datetime) -> int:
        """Each unit's last fix on its row and every fix in the history, in two statements.

        The row update keeps the time order itself (``position_at`` not newer than the fix),
        so a concurrent writer of a newer fix is never overwritten; returns rows updated.
        """
        if not moved:
            return 0
        history = [{"unit_id": unit.id, "at": p.at, "latitude": p.latitude,
                    "longitude": p.longitude, "speed_kmh": p.speed_kmh,
                    "heading_deg": p.heading_deg} for unit, fixes in moved for p in fixes]
        self.session.execute(insert(unit_positions), history)
        statement = (
            update(units)
            .where(units.c.id == bindparam("uid"),
                   or_(units.c.position_at.is_(None), units.c.position_at <= bindparam("at")))
            .values(latitude=bindparam("lat"), longitude=bindparam("lon"),
                    position_at=bindparam("at"), speed_kmh=bindparam("speed"),
                    heading_deg=bindparam("heading"), updated_at=bindparam("now")))
        rows = [{"uid": unit.id, "lat": unit.latitude, "lon": unit.longitude,
                 "at": unit.position_at, "speed": unit.speed_kmh,
                 "heading": unit.heading_deg, "now": now} for unit, _ in moved]
        result = self.session.connection().execute(statement, rows)
        return int(result.rowcount)

    def track(self, unit_id: str, *, since: datetime, limit: int = 1000) -> list[Position]:
        """The unit's fixes since ``since``, oldest first."""
        query = (select(unit_positions).where(unit_positions.c.unit_id == unit_id,
                                              unit_positions.c.at >= since)
                 .order_by(unit_positions.c.at).limit(limit))
        return [Position(r["latitude"], r["longitude"], r["at"], r["heading_deg"],
                         r["speed_kmh"]) for r in self.session.execute(query).mappings()]


class DispatchRepository:
    """The ``dispatches`` table and the incident fields dispatch reads."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, dispatch: Dispatch) -> None:
        """Insert a new dispatch."""
        self.session.execute(insert(dispatches).values(**_dispatch_values(dispatch)))

    def get(self, dispatch_id: str) -> Dispatch | None:
        """One dispatch, or None."""
        row = self.session.execute(
            select(dispatches).where(dispatches.c.id == dispatch_id)).mappings().first()
        return _dispatch(row) if row is not None else None

    def of_incident(self, incident_id: str) -> list[Dispatch]:
        """The incident's dispatches, oldest first."""
        query = (select(dispatches).where(dispatches.c.incident_id == incident_id)
                 .order_by(dispatches.c.assigned_at, dispatches.c.id))
        return [_dispatch(r) for r in self.session.execute(query).mappings()]

    def active_of_unit(self, unit_id: str) -> Dispatch | None:
        """The unit's dispatch that is not yet cleared or cancelled, if any."""
        done = (DispatchStatus.CLEARED.value, DispatchStatus.CANCELLED.value)
        row = self.session.execute(
            select(dispatches).where(dispatches.c.unit_id == unit_id,
                                     dispatches.c.status.not_in(done))
            .order_by(dispatches.c.assigned_at.desc()).limit(1)).mappings().first()
        return _dispatch(row) if row is not None else None

    def save(self, dispatch: Dispatch) -> None:
        """Write the dispatch's status and stamps."""
        values = _dispatch_values(dispatch)
        del values["id"]
        self.session.execute(update(dispatches).where(dispatches.c.id == dispatch.id)
                             .values(**values))

    def incident(self, incident_id: str) -> IncidentPlace | None:
        """The incident's owner, status and place, or None."""
        row = self.session.execute(
            select(incidents.c.id, incidents.c.agency_id, incidents.c.number,
                   incidents.c.status, incidents.c.type_code, incidents.c.latitude,
                   incidents.c.longitude, incidents.c.version)
            .where(incidents.c.id == incident_id)).mappings().first()
        return IncidentPlace(**row) if row is not None else None


def _dispatch_values(dispatch: Dispatch) -> dict[str, Any]:
    return {"id": dispatch.id, "incident_id": dispatch.incident_id,
            "unit_id": dispatch.unit_id, "agency_id": dispatch.agency_id,
            "status": dispatch.status.value, "assigned_by": dispatch.assigned_by,
            "assigned_at": dispatch.assigned_at, "acknowledged_at": dispatch.acknowledged_at,
            "en_route_at": dispatch.en_route_at, "on_scene_at": dispatch.on_scene_at,
            "cleared_at": dispatch.cleared_at, "cancelled_at": dispatch.cancelled_at,
            "eta_s": dispatch.eta_s, "distance_m": dispatch.distance_m}
