"""The demo's incident type catalogue (ADR 0031): the same codes for both agencies, with the
default priority a Guayaquil dispatcher would give them (1 = highest)."""

from __future__ import annotations

from sereno.bootstrap import Platform
from sereno.demo.city import AGENCIES
from sereno.domain.audit import AuditRecord, Outcome
from sereno.domain.incidents import IncidentType

#: code, Spanish name, English name, default priority, CAP category
DEMO_INCIDENT_TYPES: tuple[tuple[str, str, str, int, str], ...] = (
    ("asalto", "Asalto", "Assault", 1, "Security"),
    ("robo", "Robo", "Robbery", 2, "Security"),
    ("rina", "Riña", "Fight", 3, "Security"),
    ("persona_sospechosa", "Persona sospechosa", "Suspicious person", 4, "Security"),
    ("vehiculo_sospechoso", "Vehículo sospechoso", "Suspicious vehicle", 3, "Security"),
    ("vehiculo_vigilancia", "Vehículo en lista de vigilancia", "Watch-listed vehicle", 2,
     "Security"),
    ("accidente_transito", "Accidente de tránsito", "Traffic accident", 2, "Transport"),
    ("incendio", "Incendio", "Fire", 1, "Fire"),
    ("emergencia_medica", "Emergencia médica", "Medical emergency", 1, "Health"),
    ("aglomeracion", "Aglomeración", "Crowd", 3, "Safety"),
    ("otro", "Otro", "Other", 5, "Other"),
)


def seed_incident_types(platform: Platform) -> int:
    """Add the demo types an agency does not have yet (an administrator's edits stay)."""
    now = platform.clock()
    made = 0
    with platform.uow() as uow:
        for agency in AGENCIES:
            for code, name_es, name_en, priority, category in DEMO_INCIDENT_TYPES:
                if uow.incident_types.get(agency.id, code) is None:
                    uow.incident_types.add(IncidentType.define(
                        agency_id=agency.id, code=code, name_es=name_es, name_en=name_en,
                        default_priority=priority, category=category))
                    made += 1
        if made:
            uow.audit.add(AuditRecord(at=now, action="demo.seed", outcome=Outcome.ALLOWED,
                                      channel="cli", actor_username="system",
                                      object_type="incident_type",
                                      detail={"incident_types": made}))
        uow.commit()
    return made
