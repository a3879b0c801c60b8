"""Alert integration subscriptions (``alert_subscriptions``, ADR 0029)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from sereno.adapters.db.tables import alert_subscriptions
from sereno.domain.alerts import Severity
from sereno.domain.integrations import Subscription, SubscriptionKind


def _subscription(row: Any) -> Subscription:
    data = dict(row._mapping)
    return Subscription(
        id=data["id"], agency_id=data["agency_id"], kind=SubscriptionKind(data["kind"]),
        destination_id=data["destination_id"], target=data["target"],
        categories=list(data["categories"] or []), min_severity=Severity(data["min_severity"]),
        secret=data["secret"], active=bool(data["active"]), created_by=data["created_by"],
        created_at=data["created_at"])


class SubscriptionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, subscription: Subscription) -> None:
        self.session.execute(insert(alert_subscriptions).values(
            id=subscription.id, agency_id=subscription.agency_id,
            kind=subscription.kind.value, destination_id=subscription.destination_id,
            target=subscription.target, categories=list(subscription.categories),
            min_severity=subscription.min_severity.value, secret=subscription.secret,
            active=subscription.active, created_by=subscription.created_by,
            created_at=subscription.created_at))

    def get(self, subscription_id: str) -> Subscription | None:
        row = self.session.execute(select(alert_subscriptions).where(
            alert_subscriptions.c.id == subscription_id)).first()
        return _subscription(row) if row else None

    def for_agency(self, agency_id: str, *, active_only: bool = False) -> list[Subscription]:
        """An agency's subscriptions, oldest first."""
        query = select(alert_subscriptions).where(alert_subscriptions.c.agency_id == agency_id)
        if active_only:
            query = query.where(alert_subscriptions.c.active.is_(True))
        query = query.order_by(alert_subscriptions.c.created_at, alert_subscriptions.c.id)
        return [_subscription(row) for row in self.session.execute(query)]

    def set_inactive(self, subscription_id: str) -> None:
        self.session.execute(update(alert_subscriptions)
                             .where(alert_subscriptions.c.id == subscription_id)
                             .values(active=False))
