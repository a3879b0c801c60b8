"""The alert-integration sender (ADR 0029): webhooks through the egress client, MQTT through the
registry-checked MQTT client, from the outbox, in order per subscription.

``sereno serve`` runs it in a thread (``[integrations] in_server``). It wakes at once when a
message is enqueued in this process (``Platform.integration_wake``) and otherwise sweeps every
``sweep_seconds`` for due retries (and for what other processes enqueued).

Every message is the same JSON body whichever the channel: ``{"id", "event", "action",
"sent_at", "alert"}``, signed with the subscription's key as HMAC-SHA256 over
``<timestamp>.<body>``. A webhook gets it as an HTTP POST with the headers
``X-Sereno-Signature: sha256=<hex>``, ``X-Sereno-Timestamp`` and ``X-Sereno-Delivery`` (the
message id: a receiver drops what it has seen); an MQTT broker as an MQTT v5 PUBLISH (QoS 1)
with the same three as user properties.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime

from sereno.adapters.db.outbox_repositories import OutboxMessage
from sereno.bootstrap import Platform
from sereno.domain.access import Principal
from sereno.domain.egress import DataClass, EgressDestination, Target
from sereno.domain.integrations import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Subscription,
    SubscriptionKind,
    signature,
)
from sereno.governance.egress import EgressBlocked, EgressFailed
from sereno.services import integrations
from sereno.services.integrations import DeliveryFailed, DeliveryRefused, RetryPolicy

logger = logging.getLogger(__name__)
# Alerts name places, cameras and operators, and a plate hit's text names the plate: declared
# as personal data, so a blocked transfer opens a breach case.
DATA_CLASS = DataClass.PERSONAL_DATA.value


def signed_message(subscription: Subscription, message: OutboxMessage, secret: str,
                   now: datetime) -> tuple[bytes, dict[str, str]]:
    """The body and the three signature fields of one message."""
    body = json.dumps({"id": message.id, "event": message.kind,
                       "action": message.payload.get("action"),
                       "sent_at": now.isoformat(), "alert": message.payload.get("alert")},
                      ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = str(int(now.timestamp()))
    return body, {SIGNATURE_HEADER: signature(secret, timestamp, body),
                  TIMESTAMP_HEADER: timestamp, DELIVERY_HEADER: message.id}


class IntegrationSender:
    """Sends what the outbox holds for every subscription (one thread at a time)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        settings = platform.settings.integrations
        self.retry = RetryPolicy(settings.retry_base_seconds, settings.retry_cap_seconds)
        self._lock = threading.Lock()

    def run_once(self) -> integrations.DeliveryReport:
        """One pass over every subscription with something to send."""
        total = integrations.DeliveryReport()
        with self._lock:
            with self.platform.uow() as uow:
                due = integrations.due_subscriptions(uow)
            for subscription_id in due:
                report = integrations.deliver_pending(
                    self.platform.uow, subscription_id, self.send, clock=self.platform.clock,
                    retry=self.retry)
                total.delivered += report.delivered
                total.failed += report.failed
                total.stopped = total.stopped or report.stopped
        return total

    def send(self, subscription: Subscription, destination: EgressDestination,
             message: OutboxMessage) -> str:
        """Send one message by its subscription's channel (``integrations.Send``)."""
        secret = self.platform.integration_secrets.unseal(subscription.id, subscription.secret)
        body, fields = signed_message(subscription, message, secret, self.platform.clock())
        who = Principal.system(integrations.SYSTEM_COMPONENT, subscription.agency_id)
        records = [message.id]
        try:
            if subscription.kind is SubscriptionKind.WEBHOOK:
                response = self.platform.egress.send(
                    who, purpose="webhook", method="POST",
                    url=destination.target.origin + subscription.target, data_class=DATA_CLASS,
                    body=body, headers={"Content-Type": "application/json", **fields},
                    max_redirects=0, records=records,
                    timeout_s=self.platform.settings.integrations.timeout_seconds)
                if not 200 <= response.status < 300:
                    raise DeliveryFailed(f"HTTP {response.status} from {destination.url}")
                return f"HTTP {response.status}"
            broker = Target(destination.scheme, destination.host, destination.port)
            return self.platform.mqtt.publish(
                who, broker=broker, topic=subscription.target, payload=body,
                user_properties=list(fields.items()), data_class=DATA_CLASS, records=records)
        except EgressBlocked as blocked:
            raise DeliveryRefused(blocked.message) from None
        except EgressFailed as failed:
            raise DeliveryFailed(failed.message) from None


def run_forever(sender: IntegrationSender, stop: threading.Event) -> None:
    """Send, then sleep until woken or the sweep interval passes, until ``stop`` is set."""
    wake = sender.platform.integration_wake
    interval = sender.platform.settings.integrations.sweep_seconds
    while not stop.is_set():
        wake.clear()
        try:
            sender.run_once()
        except Exception:  # a database or network hiccup must not kill the sender
            logger.exception("integration delivery round failed")
        wake.wait(interval)


def start_in_thread(platform: Platform) -> threading.Event:
    """Run the sender in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    sender = IntegrationSender(platform)

    def stopper() -> None:
        stop.wait()
        platform.integration_wake.set()  # let the loop see the stop at once

    threading.Thread(target=run_forever, args=(sender, stop), name="integrations",
                     daemon=True).start()
    threading.Thread(target=stopper, name="integrations-stop", daemon=True).start()
    return stop
