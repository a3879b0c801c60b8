"""Imperative mapping: SQLAlchemy learns the domain classes without the domain knowing."""

from __future__ import annotations

from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import registry

from sereno.adapters.db import tables
from sereno.domain.agencies import Agency, AgencyKind, MonitoringCentre
from sereno.domain.agreements import AgreementStatus, SharingAgreement
from sereno.domain.alerts import (
    ActionKind,
    Alert,
    AlertAction,
    AlertSource,
    Category,
    Certainty,
    Urgency,
)
from sereno.domain.alerts import AlertStatus as CityAlertStatus
from sereno.domain.alerts import Severity as CapSeverity
from sereno.domain.audit import AuditRecord, Outcome
from sereno.domain.breaches import BreachCase, BreachStatus, BreachTrigger
from sereno.domain.cameras import Camera, CameraStatus, Classification
from sereno.domain.egress import DestinationPurpose, EgressDestination
from sereno.domain.evidence import EvidenceExport, ExportStatus, IssueKind, WatermarkIssue
from sereno.domain.governance import (
    AccessProfile,
    BreakGlassAccess,
    InvestigationCase,
    PolicyVersion,
    ReviewVerdict,
)
from sereno.domain.impact import AssessmentStatus, ImpactAssessment
from sereno.domain.incidents import (
    EventKind,
    Incident,
    IncidentEvent,
    IncidentSource,
    IncidentStatus,
    IncidentType,
)
from sereno.domain.rules import CameraRule, Direction, RuleKind
from sereno.domain.security import AlertKind, AlertStatus, SecurityAlert, Severity
from sereno.domain.users import ApiToken, LoginChallenge, User, WebSession

mapper_registry = registry(metadata=tables.metadata)
_mapped = False


def _enum_column(column_type: type, length: int) -> SAEnum:
    # Stored as plain strings (native_enum=False) so adding a value needs no ALTER TYPE.
    return SAEnum(column_type, native_enum=False, length=length, validate_strings=True,
                  values_callable=lambda e: [m.value for m in e], create_constraint=False)


def start_mappers() -> None:
    """Map every domain class once per process (idempotent)."""
    global _mapped
    if _mapped:
        return
    tables.agencies.c.kind.type = _enum_column(AgencyKind, 32)
    tables.cameras.c.status.type = _enum_column(CameraStatus, 16)
    tables.cameras.c.classification.type = _enum_column(Classification, 16)
    tables.audit_records.c.outcome.type = _enum_column(Outcome, 16)
    mapper_registry.map_imperatively(Agency, tables.agencies)
    mapper_registry.map_imperatively(MonitoringCentre, tables.monitoring_centres)
    mapper_registry.map_imperatively(Camera, tables.cameras)
    mapper_registry.map_imperatively(User, tables.users)
    mapper_registry.map_imperatively(ApiToken, tables.api_tokens)
    mapper_registry.map_imperatively(WebSession, tables.web_sessions)
    mapper_registry.map_imperatively(LoginChallenge, tables.login_challenges)
    mapper_registry.map_imperatively(AuditRecord, tables.audit_records)
    tables.camera_rules.c.kind.type = _enum_column(RuleKind, 16)
    tables.camera_rules.c.direction.type = _enum_column(Direction, 16)
    mapper_registry.map_imperatively(CameraRule, tables.camera_rules)
    tables.security_alerts.c.kind.type = _enum_column(AlertKind, 32)
    tables.security_alerts.c.severity.type = _enum_column(Severity, 16)
    tables.security_alerts.c.status.type = _enum_column(AlertStatus, 16)
    mapper_registry.map_imperatively(SecurityAlert, tables.security_alerts)
    tables.egress_destinations.c.purpose.type = _enum_column(DestinationPurpose, 32)
    mapper_registry.map_imperatively(EgressDestination, tables.egress_destinations)
    tables.breach_cases.c.trigger.type = _enum_column(BreachTrigger, 32)
    tables.breach_cases.c.status.type = _enum_column(BreachStatus, 16)
    mapper_registry.map_imperatively(BreachCase, tables.breach_cases)
    tables.impact_assessments.c.status.type = _enum_column(AssessmentStatus, 16)
    mapper_registry.map_imperatively(ImpactAssessment, tables.impact_assessments)
    _map_governance()
    _map_evidence()
    _map_exchange()
    _map_incidents()
    _mapped = True


def _map_governance() -> None:
    tables.break_glass_accesses.c.verdict.type = _enum_column(ReviewVerdict, 16)
    mapper_registry.map_imperatively(PolicyVersion, tables.policy_versions)
    mapper_registry.map_imperatively(AccessProfile, tables.access_profiles)
    mapper_registry.map_imperatively(InvestigationCase, tables.investigation_cases)
    mapper_registry.map_imperatively(BreakGlassAccess, tables.break_glass_accesses)


def _map_evidence() -> None:
    tables.evidence_exports.c.status.type = _enum_column(ExportStatus, 16)
    tables.watermark_issues.c.kind.type = _enum_column(IssueKind, 32)
    mapper_registry.map_imperatively(EvidenceExport, tables.evidence_exports)
    mapper_registry.map_imperatively(WatermarkIssue, tables.watermark_issues)


def _map_exchange() -> None:
    columns = tables.alerts.c
    columns.source.type = _enum_column(AlertSource, 16)
    columns.category.type = _enum_column(Category, 16)
    columns.severity.type = _enum_column(CapSeverity, 16)
    columns.urgency.type = _enum_column(Urgency, 16)
    columns.certainty.type = _enum_column(Certainty, 16)
    columns.status.type = _enum_column(CityAlertStatus, 16)
    mapper_registry.map_imperatively(Alert, tables.alerts)
    tables.alert_actions.c.kind.type = _enum_column(ActionKind, 32)
    mapper_registry.map_imperatively(AlertAction, tables.alert_actions)
    tables.sharing_agreements.c.min_severity.type = _enum_column(CapSeverity, 16)
    tables.sharing_agreements.c.status.type = _enum_column(AgreementStatus, 16)
    mapper_registry.map_imperatively(SharingAgreement, tables.sharing_agreements)


def _map_incidents() -> None:
    tables.incident_types.c.category.type = _enum_column(Category, 16)
    mapper_registry.map_imperatively(IncidentType, tables.incident_types)
    columns = tables.incidents.c
    columns.status.type = _enum_column(IncidentStatus, 16)
    columns.source.type = _enum_column(IncidentSource, 16)
    # Optimistic concurrency (ADR 0031): the domain bumps ``version``; the UPDATE names the
    # version it read, so a concurrent change makes it match no row (StaleDataError).
    mapper_registry.map_imperatively(Incident, tables.incidents,
                                     version_id_col=columns.version,
                                     version_id_generator=False)
    events = tables.incident_events.c
    events.kind.type = _enum_column(EventKind, 32)
    events.from_status.type = _enum_column(IncidentStatus, 16)
    events.to_status.type = _enum_column(IncidentStatus, 16)
    mapper_registry.map_imperatively(IncidentEvent, tables.incident_events)
