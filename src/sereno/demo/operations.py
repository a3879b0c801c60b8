"""The demo's joint operation: "Operativo Malecón 2000 seguro", Segura EP with the National
Police around the Malecón, for the current week (Ecuador time). Seeded by ``sereno demo seed``
only (not by ``seed_demo_city``): an active operation raises the priority of the alerts inside
it, which the test suite's demo city must not do behind its tests' backs."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from sereno.bootstrap import Platform
from sereno.domain.audit import AuditRecord, Outcome
from sereno.domain.operations import JointOperation

ECUADOR = timezone(timedelta(hours=-5))
#: The Malecón Simón Bolívar from the Mercado Artesanal and La Bahía (south) to Las Peñas and
#: the Puerto Santa Ana (north), between the river and Av. Pichincha / Pedro Carbo (lon, lat).
MALECON_AREA: dict[str, Any] = {"type": "Polygon", "coordinates": [[
    [-79.8850, -2.2010], [-79.8790, -2.2010], [-79.8740, -2.1900], [-79.8740, -2.1800],
    [-79.8790, -2.1790], [-79.8830, -2.1890], [-79.8850, -2.2010]]]}
MALECON_CAMERAS = ["SEG-001", "SEG-002", "SEG-003", "SEG-004", "SEG-005"]


def demo_operation_code(now: datetime) -> str:
    """One demo operation per ISO week."""
    year, week, _ = now.astimezone(ECUADOR).isocalendar()
    return f"OP-MALECON-{year}W{week:02d}"


def seed_demo_operation(platform: Platform) -> str:
    """Create this week's demo operation (idempotent); returns its code."""
    now = platform.clock()
    local = now.astimezone(ECUADOR)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0,
                                                               microsecond=0)
    code = demo_operation_code(now)
    with platform.uow() as uow:
        if uow.operations.by_code(code) is not None:
            return code
        cameras = [c for c in MALECON_CAMERAS if uow.cameras.get(c) is not None]
        operation = JointOperation.draft(
            operation_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"sereno-demo:operation:{code}")),
            code=code, title="Operativo Malecón 2000 seguro", lead_agency_id="segura-ep",
            participants=["segura-ep", "policia-nacional"], area=MALECON_AREA,
            starts_at=monday.astimezone(now.tzinfo), ends_at=(monday + timedelta(days=7)
                                                              ).astimezone(now.tzinfo),
            objectives="Presencia disuasiva en el Malecón 2000 y La Bahía; respuesta "
                       "conjunta a riñas, hurtos y aglomeraciones; cámaras del Malecón en "
                       "el muro de ambos centros.",
            camera_ids=cameras, by="system:demo", at=now)
        uow.operations.add(operation)
        uow.audit.add(AuditRecord(at=now, action="demo.seed", outcome=Outcome.ALLOWED,
                                  channel="cli", actor_username="system",
                                  object_type="operation", object_id=operation.id,
                                  detail={"operation": code}))
        uow.commit()
    return code
