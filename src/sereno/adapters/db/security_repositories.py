"""Repositories of the security side of governance: alerts, egress destinations, breach cases
and data-protection impact assessments. None of them has a delete path: these are records."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from sereno.adapters.db.tables import (
    breach_cases,
    egress_destinations,
    impact_assessments,
    security_alerts,
)
from sereno.domain.breaches import BreachCase, BreachStatus
from sereno.domain.egress import DestinationPurpose, EgressDestination
from sereno.domain.impact import AssessmentStatus, ImpactAssessment
from sereno.domain.security import AlertStatus, SecurityAlert


class SecurityAlertRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, alert: SecurityAlert) -> None:
        self.session.add(alert)

    def get(self, alert_id: str) -> SecurityAlert | None:
        return self.session.get(SecurityAlert, alert_id)

    def for_agency(self, agency_id: str, *, status: AlertStatus | None = None,
                   kind: str | None = None, limit: int = 200) -> Sequence[SecurityAlert]:
        """Newest first."""
        query = select(SecurityAlert).where(security_alerts.c.agency_id == agency_id)
        if status is not None:
            query = query.where(security_alerts.c.status == status)
        if kind is not None:
            query = query.where(security_alerts.c.kind == kind)
        query = query.order_by(security_alerts.c.raised_at.desc(),
                               security_alerts.c.id).limit(limit)
        return self.session.scalars(query).all()


class EgressDestinationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, destination: EgressDestination) -> None:
        self.session.add(destination)

    def get(self, destination_id: str) -> EgressDestination | None:
        return self.session.get(EgressDestination, destination_id)

    def for_agency(self, agency_id: str) -> Sequence[EgressDestination]:
        query = (select(EgressDestination)
                 .where(egress_destinations.c.agency_id == agency_id)
                 .order_by(egress_destinations.c.registered_at, egress_destinations.c.id))
        return self.session.scalars(query).all()

    def candidates(self, agency_id: str | None, purpose: DestinationPurpose, scheme: str,
                   host: str, port: int) -> Sequence[EgressDestination]:
        """Approved, unrevoked destinations of the origin (any agency when ``agency_id`` is
        None); the path prefix is checked by the domain."""
        query = select(EgressDestination).where(
            egress_destinations.c.purpose == purpose,
            egress_destinations.c.scheme == scheme,
            egress_destinations.c.host == host,
            egress_destinations.c.port == port,
            egress_destinations.c.approved_at.is_not(None),
            egress_destinations.c.revoked_at.is_(None))
        if agency_id is not None:
            query = query.where(egress_destinations.c.agency_id == agency_id)
        return self.session.scalars(query).all()


class BreachRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, case: BreachCase) -> None:
        self.session.add(case)

    def get(self, case_id: str) -> BreachCase | None:
        return self.session.get(BreachCase, case_id)

    def for_agency(self, agency_id: str, *, status: BreachStatus | None = None,
                   limit: int = 500) -> Sequence[BreachCase]:
        """Newest first."""
        query = select(BreachCase).where(breach_cases.c.agency_id == agency_id)
        if status is not None:
            query = query.where(breach_cases.c.status == status)
        query = query.order_by(breach_cases.c.opened_at.desc(), breach_cases.c.id).limit(limit)
        return self.session.scalars(query).all()


class ImpactAssessmentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, assessment: ImpactAssessment) -> None:
        self.session.add(assessment)

    def get(self, assessment_id: str) -> ImpactAssessment | None:
        return self.session.get(ImpactAssessment, assessment_id)

    def for_agency(self, agency_id: str) -> Sequence[ImpactAssessment]:
        query = (select(ImpactAssessment)
                 .where(impact_assessments.c.agency_id == agency_id)
                 .order_by(impact_assessments.c.recorded_at.desc(), impact_assessments.c.id))
        return self.session.scalars(query).all()

    def approved(self) -> Sequence[ImpactAssessment]:
        """Every approved assessment (the video workers pick those in force)."""
        query = select(ImpactAssessment).where(
            impact_assessments.c.status == AssessmentStatus.APPROVED)
        return self.session.scalars(query).all()
