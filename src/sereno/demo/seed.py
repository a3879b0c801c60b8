"""Seed (or refresh) the demo city into a database; safe to run again."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sereno.bootstrap import Platform
from sereno.demo.city import AGENCIES, CAMERAS, CENTRES, RULES, USERS, demo_totp_secret
from sereno.demo.fleet import seed_demo_units
from sereno.demo.incident_types import seed_incident_types
from sereno.demo.media import prepare_sources
from sereno.demo.shifts import seed_demo_shifts
from sereno.domain.agencies import Agency, MonitoringCentre
from sereno.domain.agreements import SharingAgreement
from sereno.domain.audit import AuditRecord, Outcome
from sereno.domain.cameras import Camera, CameraStatus, Classification, validate_camera
from sereno.domain.governance import InvestigationCase
from sereno.domain.impact import ImpactAssessment
from sereno.domain.rules import CameraRule, Direction, RuleKind, validate_rule
from sereno.domain.users import User


@dataclass(frozen=True)
class SeedReport:
    agencies: int
    centres: int
    cameras: int
    users: int
    clips: tuple[str, ...]


def seed_demo_city(platform: Platform) -> SeedReport:
    """Create what is missing and bring the demo cameras' sources up to date."""
    sources = platform.settings.media.allowed_file_roots[0]
    clips = prepare_sources(sources)
    now = platform.clock()
    with platform.uow() as uow:
        for a in AGENCIES:
            if uow.agencies.get(a.id) is None:
                uow.agencies.add(Agency(a.id, a.name, a.kind))
        uow.commit()
    with platform.uow() as uow:  # centres and cameras reference agencies: later transactions
        for c in CENTRES:
            if uow.centres.get(c.id) is None:
                uow.centres.add(MonitoringCentre(c.id, c.agency_id, c.name, c.latitude,
                                                 c.longitude))
        uow.commit()
    with platform.uow() as uow:
        for d in CAMERAS:
            url = d.broken_url or clips[d.clip_index % len(clips)].resolve().as_uri()
            camera = uow.cameras.get(d.id)
            if camera is None:
                camera = Camera(
                    id=d.id, owner_agency_id=d.agency_id, centre_id=d.centre_id, name=d.name,
                    latitude=d.latitude, longitude=d.longitude, heading_deg=d.heading_deg,
                    fov_deg=d.fov_deg, range_m=d.range_m, main_stream_url=url,
                    sub_stream_url=url, status=CameraStatus(d.status),
                    classification=Classification(d.classification), tags=list(d.tags),
                    created_at=now, updated_at=now)
                validate_camera(camera)
                uow.cameras.add(camera)
            elif camera.main_stream_url != url and not camera.is_retired:
                camera.main_stream_url = camera.sub_stream_url = url
                camera.updated_at = now
        uow.commit()
    with platform.uow() as uow:  # rules reference the cameras committed above
        for r in RULES:
            rule_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sereno-demo:{r.camera_id}:{r.name}"))
            if uow.rules.get(rule_id) is None:
                rule = CameraRule(id=rule_id, camera_id=r.camera_id, name=r.name,
                                  kind=RuleKind(r.kind), points=[list(p) for p in r.points],
                                  classes=list(r.classes), direction=Direction(r.direction),
                                  dwell_s=r.dwell_s, min_count=r.min_count,
                                  cooldown_s=r.cooldown_s)
                validate_rule(rule)
                uow.rules.add(rule)
        factor = platform.second_factor
        for u in USERS:
            user = uow.users.by_username(u.username)
            if user is None:
                user = User(
                    id=str(uuid.uuid4()), agency_id=u.agency_id, username=u.username,
                    display_name=u.display_name, password_hash=platform.hasher.hash(u.password),
                    roles=list(u.roles), created_at=now, password_changed_at=now)
                uow.users.add(user)
            if u.needs_second_factor and not _second_factor_opens(platform, user):
                # Enrolled with the public demo secret, so that the demo is usable at once.
                user.totp_secret = factor.seal(user.id, demo_totp_secret(u.username))
                user.totp_enrolled_at = now
        uow.audit.add(AuditRecord(at=now, action="demo.seed", outcome=Outcome.ALLOWED,
                                  channel="cli", actor_username="system",
                                  detail={"cameras": len(CAMERAS), "users": len(USERS)}))
        uow.commit()
    _seed_impact_assessments(platform)
    seed_demo_shifts(platform)
    _seed_cases(platform)
    _seed_agreements(platform)
    seed_incident_types(platform)
    seed_demo_units(platform.uow, platform.clock())
    return SeedReport(len(AGENCIES), len(CENTRES), len(CAMERAS), len(USERS),
                      tuple(p.name for p in clips))


def _second_factor_opens(platform: Platform, user: User) -> bool:
    """True when ``user`` has a TOTP secret this node's key opens."""
    if user.totp_secret is None:
        return False
    try:
        platform.second_factor.unseal(user.id, user.totp_secret)
    except ValueError:
        return False
    return True


DEMO_ASSESSMENT = {
    "processing": "Videovigilancia del espacio público con cámaras fijas: visualización en vivo, "
                  "detección automática de personas y vehículos, lectura de placas contra listas "
                  "de búsqueda y grabación continua con retención limitada.",
    "necessity": "Prevención y respuesta a emergencias y delitos en zonas de alta afluencia; "
                 "no existe un medio menos invasivo con la misma cobertura.",
    "risks": "Observación sistemática de personas identificables; acceso indebido o "
             "transferencia no autorizada de imágenes; uso con fines distintos.",
    "measures": "Máscaras de privacidad, retención limitada, acceso por roles y propósito, "
                "registro de auditoría a prueba de manipulación, salidas solo a destinos "
                "aprobados, registro de brechas.",
    "legal_basis": "Competencias de seguridad ciudadana del GAD y de la Policía Nacional; "
                   "LOPDP arts. 7 y 42 (datos de demostración).",
}


DEMO_CASES = {"segura-ep": ("INC-2026-0001", "Demostración: revisión de un incidente"),
              "policia-nacional": ("FGE-2026-000001", "Demostración: pedido de la Fiscalía")}


def _seed_cases(platform: Platform) -> None:
    """One open case per agency, so that playback and exports can be tried in the demo
    (they need a purpose and an open case)."""
    now = platform.clock()
    with platform.uow() as uow:
        made = []
        for agency_id, (reference, title) in DEMO_CASES.items():
            if uow.cases.get(agency_id, reference) is None:
                uow.cases.add(InvestigationCase(reference, agency_id, title, "system:demo", now))
                made.append(reference)
        if made:
            uow.audit.add(AuditRecord(at=now, action="demo.seed", outcome=Outcome.ALLOWED,
                                      channel="cli", actor_username="system",
                                      object_type="case", detail={"cases": made}))
        uow.commit()


def _seed_impact_assessments(platform: Platform) -> None:
    """An approved impact assessment for every demo centre, so that its cameras are analysed
    and recorded (recorded by the agency's administrator, approved by its auditor)."""
    now = platform.clock()
    with platform.uow() as uow:
        covered = {a.centre_id for a in uow.impact_assessments.approved() if a.in_force(now)}
        made = 0
        for c in CENTRES:
            if c.id in covered:
                continue
            admin = next(u for u in USERS if u.agency_id == c.agency_id and "admin" in u.roles)
            auditor = next(u for u in USERS
                           if u.agency_id == c.agency_id and "auditor" in u.roles)
            author = uow.users.by_username(admin.username)
            approver = uow.users.by_username(auditor.username)
            assert author is not None and approver is not None
            assessment = ImpactAssessment.draft(
                assessment_id=str(uuid.uuid4()), agency_id=c.agency_id, centre_id=c.id,
                fields={"title": f"EIPD {c.name}", **DEMO_ASSESSMENT}, by_id=author.id,
                by=author.username, at=now)
            assessment.approve(by_id=approver.id, by=approver.username, at=now,
                               note="demo city")
            uow.impact_assessments.add(assessment)
            made += 1
        if made:
            uow.audit.add(AuditRecord(at=now, action="demo.seed", outcome=Outcome.ALLOWED,
                                      channel="cli", actor_username="system",
                                      object_type="impact_assessment",
                                      detail={"impact_assessments": made}))
        uow.commit()


#: The demo's sharing agreements (ADR 0025): Segura EP gives the police its alerts of every
#: field it watches, with redacted pictures, and its shared cameras; the police give Segura EP
#: their security alerts from Moderate up, and their shared cameras.
DEMO_AGREEMENTS: tuple[dict[str, Any], ...] = (
    {"from_agency_id": "segura-ep", "to_agency_id": "policia-nacional",
     "title": "Segura EP → Policía Nacional: alertas y cámaras compartidas",
     "categories": ["Security", "Safety", "Rescue", "Fire", "Transport", "Infra"],
     "min_severity": "Minor", "include_media": True, "redact_faces": True,
     "redact_plates": True, "share_footage": True},
    {"from_agency_id": "policia-nacional", "to_agency_id": "segura-ep",
     "title": "Policía Nacional → Segura EP: alertas de seguridad",
     "categories": ["Security"], "min_severity": "Moderate", "include_media": False,
     "redact_faces": True, "redact_plates": True, "share_footage": True},
)
DEMO_AGREEMENTS_FROM = datetime(2025, 1, 1, tzinfo=UTC)


def _seed_agreements(platform: Platform) -> None:
    """The demo agreements, once (a revoked one stays revoked)."""
    now = platform.clock()
    with platform.uow() as uow:
        made = []
        for terms in DEMO_AGREEMENTS:
            agreement_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "sereno-demo:agreement:"
                                          f"{terms['from_agency_id']}>{terms['to_agency_id']}"))
            if uow.agreements.get(agreement_id) is None:
                uow.agreements.add(SharingAgreement.draft(
                    agreement_id=agreement_id, valid_from=DEMO_AGREEMENTS_FROM,
                    valid_until=None, by="system:demo", at=now, **terms))
                made.append(agreement_id)
        if made:
            uow.audit.add(AuditRecord(at=now, action="demo.seed", outcome=Outcome.ALLOWED,
                                      channel="cli", actor_username="system",
                                      object_type="agreement", detail={"agreements": made}))
        uow.commit()
