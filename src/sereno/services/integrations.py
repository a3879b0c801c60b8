"""Alert integrations (ADR 0029): subscriptions of an agency's tools to its alerts, the
enqueueing of messages for them, and their delivery in order, signed, retried and audited.

* Subscriptions are managed by the agency's admins (``exchange:manage``); each names an
  approved egress destination *of the same agency* with the matching purpose (``webhook`` or
  ``mqtt``) and a target under its path prefix (URL path, MQTT topic). Its HMAC key is made
  here, shown once, and kept sealed.
* ``on_alert_event`` (``AlertRaised``/``AlertChanged``) adds one outbox message per matching
  active subscription, in one transaction with an ``integration.enqueue`` audit record each.
  Only the agency's own alerts go out: a partner's received copy was shared under an agreement
  that does not cover passing it on.
* ``deliver_pending`` sends a subscription's messages in ``seq`` order through a ``Send``
  callable (the worker's webhook or MQTT sender); a failure holds the line and retries with
  exponential backoff and jitter; a revoked destination or a blocked transfer stops the
  subscription. Every attempt is audited (``integration.deliver``).
"""

from __future__ import annotations

import logging
import random
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sereno.adapters.db.outbox_repositories import OutboxMessage
from sereno.adapters.secret_box import SecretBox
from sereno.domain import events
from sereno.domain.access import Permission, Principal
from sereno.domain.alerts import Alert
from sereno.domain.audit import Outcome
from sereno.domain.egress import DestinationState, EgressDestination, path_within
from sereno.domain.errors import AccessDenied, Conflict, InvalidInput, NotFound, SerenoError
from sereno.domain.integrations import Subscription, SubscriptionKind, target_path
from sereno.services.audit import Clock, record, refuse, require
from sereno.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

OBJECT = "alert_subscription"
SYSTEM_COMPONENT = "integrations"
KINDS = tuple(k.value for k in SubscriptionKind)
logger = logging.getLogger(__name__)


# ---- subscriptions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    """A new subscription and its signing key in clear (shown to the admin once)."""

    subscription: Subscription
    secret: str


def list_subscriptions(uow: UnitOfWork, who: Principal) -> list[Subscription]:
    """The caller's agency's subscriptions, active or not (admins)."""
    action = "integration.list"
    with uow:
        require(uow, who, who.can(Permission.EXCHANGE_MANAGE), action, object_type=OBJECT)
        found = uow.subscriptions.for_agency(who.agency_id)
        record(uow, who, action, object_type=OBJECT, object_agency_id=who.agency_id,
               detail={"count": len(found)})
        uow.commit()
        return found


def create_subscription(uow: UnitOfWork, who: Principal, *, kind: str, destination_id: str,
                        target: str, categories: list[str], min_severity: str,
                        box: SecretBox, clock: Clock) -> Created:
    """Subscribe one of the agency's approved destinations to its alerts (admins)."""
    action = "integration.create"
    asked = {"kind": kind, "destination_id": destination_id[:64], "target": target[:300],
             "categories": categories[:20], "min_severity": min_severity}
    with uow:
        require(uow, who, who.can(Permission.EXCHANGE_MANAGE), action, object_type=OBJECT)
        destination = uow.egress_destinations.get(destination_id)
        if destination is None or destination.agency_id != who.agency_id:
            refuse(uow, who, action, NotFound(f"no egress destination {destination_id!r}"),
                   object_type=OBJECT, detail=asked,
                   internal_reason=None if destination is None
                   else "another agency's destination")
        subscription_id = str(uuid.uuid4())
        secret = secrets.token_urlsafe(32)
        now = clock()
        try:
            subscription = Subscription.create(
                subscription_id=subscription_id, agency_id=who.agency_id, kind=kind,
                destination_id=destination.id, target=target, categories=categories,
                min_severity=min_severity, sealed_secret=box.seal(subscription_id, secret),
                by=who.username, at=now)
            _check_destination(subscription, destination)
        except SerenoError as error:
            refuse(uow, who, action, error, object_type=OBJECT, object_agency_id=who.agency_id,
                   detail={**asked, "destination_state": destination.state.value,
                           "destination_purpose": destination.purpose.value})
        uow.subscriptions.add(subscription)
        record(uow, who, action, object_type=OBJECT, object_id=subscription.id,
               object_agency_id=who.agency_id, now=now,
               detail={**_facts(subscription), "destination_url": destination.url})
        uow.commit()
        return Created(subscription, secret)


def _check_destination(subscription: Subscription, destination: EgressDestination) -> None:
    if destination.state is not DestinationState.APPROVED:
        raise Conflict(f"the egress destination {destination.name!r} is "
                       f"{destination.state.value}: only approved destinations receive alerts")
    purpose = subscription.kind.purpose
    if destination.purpose is not purpose:
        raise InvalidInput(f"a {subscription.kind.value} integration needs a destination "
                           f"registered for {purpose.value}, not {destination.purpose.value}")
    if not path_within(target_path(subscription.kind, subscription.target),
                       destination.path_prefix):
        raise InvalidInput(f"the target {subscription.target!r} is outside the destination's "
                           f"approved prefix {destination.path_prefix!r}")


def deactivate_subscription(uow: UnitOfWork, who: Principal, subscription_id: str,
                            clock: Clock) -> Subscription:
    """Stop a subscription for good (admins); what it has not delivered stays on record."""
    action = "integration.deactivate"
    with uow:
        require(uow, who, who.can(Permission.EXCHANGE_MANAGE), action, object_type=OBJECT,
                object_id=subscription_id)
        subscription = uow.subscriptions.get(subscription_id)
        if subscription is None or subscription.agency_id != who.agency_id:
            refuse(uow, who, action, NotFound(f"no integration {subscription_id!r}"),
                   object_type=OBJECT, object_id=subscription_id,
                   object_agency_id=subscription.agency_id if subscription else None,
                   internal_reason=None if subscription is None
                   else "another agency's integration")
        if not subscription.active:
            refuse(uow, who, action, Conflict("the integration is already inactive"),
                   object_type=OBJECT, object_id=subscription.id,
                   object_agency_id=subscription.agency_id)
        uow.subscriptions.set_inactive(subscription.id)
        subscription.active = False
        record(uow, who, action, object_type=OBJECT, object_id=subscription.id,
               object_agency_id=subscription.agency_id, now=clock(), detail=_facts(subscription))
        uow.commit()
        return subscription


def _facts(subscription: Subscription) -> dict[str, Any]:
    return {"kind": subscription.kind.value, "destination_id": subscription.destination_id,
            "target": subscription.target, "categories": subscription.categories,
            "min_severity": subscription.min_severity.value}


# ---- enqueueing -------------------------------------------------------------------------------


def alert_fields(alert: Alert, console_url: str = "") -> dict[str, Any]:
    """What a message says of an alert: the API's fields (``AlertOut``) as JSON values, and a
    link to it in the console. No media and no storage keys, only whether media exists."""
    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": alert.id, "agency": alert.agency_id, "source": alert.source.value,
        "category": alert.category.value, "severity": alert.severity.value,
        "urgency": alert.urgency.value, "certainty": alert.certainty.value,
        "event": alert.event, "headline": alert.headline, "description": alert.description,
        "status": alert.status.value, "raised_at": when(alert.raised_at),
        "raised_by": alert.raised_by, "latitude": alert.latitude,
        "longitude": alert.longitude, "cameras": list(alert.camera_ids), "count": alert.count,
        "last_seen_at": when(alert.last_seen_at), "has_snapshot": alert.snapshot_key is not None,
        "has_clip": alert.clip_key is not None, "acknowledged_by": alert.acknowledged_by,
        "acknowledged_at": when(alert.acknowledged_at),
        "escalation_level": alert.escalation_level, "escalated_at": when(alert.escalated_at),
        "assigned_to": alert.assigned_to, "assigned_at": when(alert.assigned_at),
        "dismissed_at": when(alert.dismissed_at), "dismiss_reason": alert.dismiss_reason,
        "closed_at": when(alert.closed_at), "closed_by": alert.closed_by,
        "origin_agency": alert.origin_agency_id, "origin_node": alert.origin_node,
        "redacted": alert.redacted, "media_withheld": alert.media_withheld,
        "version": alert.version,
        "link": f"{console_url.rstrip('/')}/alerts?alert={alert.id}",
    }


def on_alert_event(event: events.AlertRaised | events.AlertChanged, *,
                   uow_factory: UnitOfWorkFactory, clock: Clock,
                   wake: Callable[[], None] = lambda: None, console_url: str = "") -> None:
    """Bus event handler: ``enqueue_alert``, then ``wake`` the sender if anything was."""
    if enqueue_alert(event, uow_factory=uow_factory, clock=clock, console_url=console_url):
        wake()


def enqueue_alert(event: events.AlertRaised | events.AlertChanged, *,
                  uow_factory: UnitOfWorkFactory, clock: Clock, console_url: str = ""
                  ) -> list[str]:
    """Enqueue the alert for every matching active subscription of its agency, each with an
    ``integration.enqueue`` audit record in the same transaction; returns the message ids."""
    name = "alert.raised" if isinstance(event, events.AlertRaised) else "alert.changed"
    uow = uow_factory()
    with uow:
        alert = uow.alerts.get(event.alert_id)
        if alert is None or alert.origin_alert_id is not None:
            return []
        wanted = [s for s in uow.subscriptions.for_agency(alert.agency_id, active_only=True)
                  if s.wants(alert.category.value, alert.severity.value)]
        if not wanted:
            return []
        now = clock()
        system = Principal.system(SYSTEM_COMPONENT, alert.agency_id)
        fields = alert_fields(alert, console_url)
        action = event.action if isinstance(event, events.AlertChanged) else "raised"
        enqueued = []
        for subscription in wanted:
            message_id = uow.outbox.enqueue(
                destination_kind=subscription.kind.value, destination=subscription.id,
                source_agency_id=alert.agency_id, kind=name,
                payload={"event": name, "action": action, "alert": fields}, now=now)
            record(uow, system, "integration.enqueue", object_type=OBJECT,
                   object_id=subscription.id, object_agency_id=alert.agency_id, now=now,
                   detail={"message_id": message_id, "alert_id": alert.id, "event": name,
                           "action": action, "version": alert.version,
                           "kind": subscription.kind.value,
                           "destination_id": subscription.destination_id})
            enqueued.append(message_id)
        uow.commit()
    return enqueued


# ---- delivery ---------------------------------------------------------------------------------


class DeliveryFailed(SerenoError):
    """The destination did not take the message (an error answer, unreachable, timeout): it
    is retried."""

    code = "delivery_failed"


class DeliveryRefused(AccessDenied):
    """The transfer may not happen (the egress registry refused it): the subscription stops."""

    code = "delivery_refused"


Send = Callable[[Subscription, EgressDestination, OutboxMessage], str]
"""Sends one message; returns what the destination answered (``HTTP 204``, ``PUBACK``) or
raises ``DeliveryFailed`` / ``DeliveryRefused``."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: after the n-th failure wait between half and all of
    ``min(cap, base * 2**(n-1))`` (the jitter spreads receivers' recoveries)."""

    base_s: float = 2.0
    cap_s: float = 300.0
    rand: Callable[[], float] = random.random

    def delay(self, failures: int) -> timedelta:
        ceiling = min(self.cap_s, self.base_s * 2 ** max(failures - 1, 0))
        return timedelta(seconds=ceiling / 2 + self.rand() * ceiling / 2)


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    stopped: bool = False


def due_subscriptions(uow: UnitOfWork) -> list[str]:
    """Subscriptions with undelivered messages (call inside an open unit of work)."""
    found: list[str] = []
    for kind in KINDS:
        found += uow.outbox.destinations_with_pending(kind)
    return found


def deliver_pending(uow_factory: UnitOfWorkFactory, subscription_id: str, send: Send, *,
                    clock: Clock, retry: RetryPolicy, batch: int = 50) -> DeliveryReport:
    """Send a subscription's due messages in order; stop at the first failure (the rest wait
    for it, so order holds) or when the subscription may no longer send."""
    report = DeliveryReport()
    while True:
        with uow_factory() as uow:
            subscription = uow.subscriptions.get(subscription_id)
            if subscription is None or not subscription.active:
                return report
            destination = uow.egress_destinations.get(subscription.destination_id)
            queue = uow.outbox.pending(subscription.kind.value, subscription.id, limit=batch)
        if destination is None or destination.state is not DestinationState.APPROVED:
            state = destination.state.value if destination else "missing"
            _stop(uow_factory, subscription, queue[0] if queue else None, clock,
                  f"the egress destination is {state}")
            report.stopped = True
            return report
        for message in queue:
            if message.next_attempt_at > clock():
                return report
            try:
                answer = send(subscription, destination, message)
            except DeliveryRefused as refusal:
                _stop(uow_factory, subscription, message, clock, refusal.message)
                report.stopped = True
                return report
            except DeliveryFailed as failure:
                _failed(uow_factory, subscription, message, clock, retry, failure.message)
                report.failed += 1
                return report
            _delivered(uow_factory, subscription, message, clock, answer)
            report.delivered += 1
        if len(queue) < batch:
            return report


def _deliver_detail(subscription: Subscription, message: OutboxMessage) -> dict[str, Any]:
    return {"message_id": message.id, "seq": message.seq, "event": message.kind,
            "alert_id": (message.payload.get("alert") or {}).get("id"),
            "attempt": message.attempts + 1, "kind": subscription.kind.value,
            "destination_id": subscription.destination_id, "target": subscription.target}


def _delivered(uow_factory: UnitOfWorkFactory, subscription: Subscription,
               message: OutboxMessage, clock: Clock, answer: str) -> None:
    with uow_factory() as uow:
        now = clock()
        uow.outbox.mark_delivered([message.id], now)
        record(uow, Principal.system(SYSTEM_COMPONENT, subscription.agency_id),
               "integration.deliver", object_type=OBJECT, object_id=subscription.id,
               object_agency_id=subscription.agency_id, now=now,
               detail={**_deliver_detail(subscription, message), "answer": answer[:200]})
        uow.commit()


def _failed(uow_factory: UnitOfWorkFactory, subscription: Subscription,
            message: OutboxMessage, clock: Clock, retry: RetryPolicy, error: str) -> None:
    with uow_factory() as uow:
        now = clock()
        next_at = now + retry.delay(message.attempts + 1)
        uow.outbox.mark_failed([message.id], error, next_at)
        # "rejected": the destination did not take it (not a refusal of the caller's rights).
        record(uow, Principal.system(SYSTEM_COMPONENT, subscription.agency_id),
               "integration.deliver", outcome=Outcome.REJECTED, object_type=OBJECT,
               object_id=subscription.id, object_agency_id=subscription.agency_id, now=now,
               reason=error[:500], detail={**_deliver_detail(subscription, message),
                                           "next_attempt_at": next_at.isoformat()})
        uow.commit()
    logger.info("integration %s: %s (retry at %s)", subscription.id, error, next_at)


def _stop(uow_factory: UnitOfWorkFactory, subscription: Subscription,
          message: OutboxMessage | None, clock: Clock, reason: str) -> None:
    """The subscription may not send any more: deactivate it (its messages stay on record,
    undelivered) with a denied delivery and a deactivation in the audit log."""
    system = Principal.system(SYSTEM_COMPONENT, subscription.agency_id)
    with uow_factory() as uow:
        now = clock()
        detail = (_deliver_detail(subscription, message) if message is not None
                  else {"kind": subscription.kind.value,
                        "destination_id": subscription.destination_id})
        record(uow, system, "integration.deliver", outcome=Outcome.DENIED, object_type=OBJECT,
               object_id=subscription.id, object_agency_id=subscription.agency_id, now=now,
               reason=reason[:500], detail=detail)
        uow.subscriptions.set_inactive(subscription.id)
        record(uow, system, "integration.deactivate", object_type=OBJECT,
               object_id=subscription.id, object_agency_id=subscription.agency_id, now=now,
               reason=reason[:500], detail=_facts(subscription))
        uow.commit()
    logger.warning("integration %s stopped: %s", subscription.id, reason)
