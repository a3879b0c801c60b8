"""Test setup for units and dispatch: units straight into the register, incident rows."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import insert

from sereno.adapters.db.tables import incidents
from sereno.bootstrap import Platform
from sereno.domain.units import Unit

CENTRE = (-2.1921, -79.8862)


def add_unit(platform: Platform, unit_id: str, agency: str, kind: str = "patrol_car",
             at: tuple[float, float] | None = None) -> None:
    """A unit straight into the register (test setup), located at ``at`` if given."""
    now = platform.clock()
    unit = Unit.register(unit_id, agency, f"Unidad {unit_id}", kind, now=now)
    if at is not None:
        unit.latitude, unit.longitude = at
        unit.position_at = now - timedelta(minutes=1)
    with platform.uow() as uow:
        uow.units.add(unit)
        uow.commit()


def add_incident(platform: Platform, agency: str = "segura-ep",
                 place: tuple[float, float] = CENTRE, status: str = "new") -> str:
    """An open incident row (test setup; the incidents service makes real ones)."""
    incident_id = str(uuid.uuid4())
    now = platform.clock()
    with platform.engine.begin() as connection:
        connection.execute(insert(incidents).values(
            id=incident_id, agency_id=agency, number=f"T-{incident_id[:8]}", type_code="robo",
            priority=2, status=status, title="Robo", description="", latitude=place[0],
            longitude=place[1], source="form", created_by="operator.segura", created_at=now,
            updated_at=now, version=1))
    return incident_id
