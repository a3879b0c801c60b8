"""Repositories of alerts, their actions, sharing agreements and accepted CAP messages.
Nothing here deletes: alerts are dismissed or closed, agreements revoked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from sereno.adapters.db.tables import alert_actions, alerts, cap_messages, sharing_agreements
from sereno.domain.agreements import AgreementStatus, SharingAgreement
from sereno.domain.alerts import Alert, AlertAction, AlertStatus

ACTIVE = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


class AlertRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, alert: Alert) -> None:
        self.session.add(alert)

    def get(self, alert_id: str) -> Alert | None:
        return self.session.get(Alert, alert_id)

    def correlated(self, agency_id: str, key: str) -> Alert | None:
        """The newest active alert of ``agency_id`` with correlation ``key``."""
        query = (select(Alert).where(alerts.c.agency_id == agency_id,
                                     alerts.c.correlation_key == key,
                                     alerts.c.status.in_(ACTIVE))
                 .order_by(alerts.c.raised_at.desc()).limit(1))
        return self.session.scalars(query).first()

    def queue(self, agency_id: str, *, statuses: Sequence[AlertStatus] | None = None,
              since: datetime | None = None, limit: int = 200) -> Sequence[Alert]:
        """The agency's alerts, newest first."""
        query = select(Alert).where(alerts.c.agency_id == agency_id)
        if statuses:
            query = query.where(alerts.c.status.in_(list(statuses)))
        if since is not None:
            query = query.where(alerts.c.raised_at >= since)
        query = query.order_by(alerts.c.raised_at.desc(), alerts.c.id).limit(limit)
        return self.session.scalars(query).all()

    def copies_of(self, origin_agency_id: str, origin_alert_id: str) -> Sequence[Alert]:
        """Every received copy of one alert (in partner agencies' queues on this node)."""
        query = select(Alert).where(alerts.c.origin_agency_id == origin_agency_id,
                                    alerts.c.origin_alert_id == origin_alert_id)
        return self.session.scalars(query).all()

    def received_copy(self, agency_id: str, origin_agency_id: str,
                      origin_alert_id: str) -> Alert | None:
        """``agency_id``'s copy of a partner's alert, if it has one."""
        query = select(Alert).where(alerts.c.agency_id == agency_id,
                                    alerts.c.origin_agency_id == origin_agency_id,
                                    alerts.c.origin_alert_id == origin_alert_id)
        return self.session.scalars(query).first()

    def by_cap(self, agency_id: str, sender: str, identifier: str) -> Alert | None:
        """The alert a CAP message (sender, identifier) created in ``agency_id``'s queue."""
        query = select(Alert).where(alerts.c.agency_id == agency_id,
                                    alerts.c.cap_sender == sender,
                                    alerts.c.cap_identifier == identifier)
        return self.session.scalars(query).first()

    def add_action(self, action: AlertAction) -> None:
        self.session.add(action)

    def actions(self, alert_id: str) -> Sequence[AlertAction]:
        """The alert's timeline, oldest first."""
        query = (select(AlertAction).where(alert_actions.c.alert_id == alert_id)
                 .order_by(alert_actions.c.at, alert_actions.c.id))
        return self.session.scalars(query).all()


class AgreementRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, agreement: SharingAgreement) -> None:
        self.session.add(agreement)

    def get(self, agreement_id: str) -> SharingAgreement | None:
        return self.session.get(SharingAgreement, agreement_id)

    def involving(self, agency_id: str) -> Sequence[SharingAgreement]:
        """Agreements ``agency_id`` gives or receives, newest first."""
        query = (select(SharingAgreement)
                 .where(or_(sharing_agreements.c.from_agency_id == agency_id,
                            sharing_agreements.c.to_agency_id == agency_id))
                 .order_by(sharing_agreements.c.created_at.desc()))
        return self.session.scalars(query).all()

    def active_from(self, agency_id: str) -> Sequence[SharingAgreement]:
        """Active (not revoked) agreements ``agency_id`` gives; the caller checks dates."""
        query = select(SharingAgreement).where(
            sharing_agreements.c.from_agency_id == agency_id,
            sharing_agreements.c.status == AgreementStatus.ACTIVE)
        return self.session.scalars(query).all()

    def active_to(self, agency_id: str) -> Sequence[SharingAgreement]:
        """Active (not revoked) agreements ``agency_id`` receives."""
        query = select(SharingAgreement).where(
            sharing_agreements.c.to_agency_id == agency_id,
            sharing_agreements.c.status == AgreementStatus.ACTIVE)
        return self.session.scalars(query).all()


class CapMessageRepository:
    """Every accepted CAP message, as received."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def seen(self, agency_id: str, sender: str, identifier: str,
             sent: str) -> dict[str, Any] | None:
        """The stored message with this key (CAP's deduplication), or None."""
        row = self.session.execute(
            select(cap_messages.c.id, cap_messages.c.alert_id, cap_messages.c.msg_type)
            .where(cap_messages.c.agency_id == agency_id, cap_messages.c.sender == sender,
                   cap_messages.c.identifier == identifier, cap_messages.c.sent == sent)
        ).first()
        return dict(row._mapping) if row else None

    def add(self, **values: Any) -> None:
        """Store one accepted message (columns of ``cap_messages``)."""
        self.session.execute(insert(cap_messages).values(**values))
