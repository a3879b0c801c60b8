"""Repositories of the security side of governance: alerts, egress destinations, breach cases
and data-protection impact assessments. None of them has a delete path: these are records."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from sereno.adapters.db.tables import security_alerts
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
