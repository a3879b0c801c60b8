"""Alert events across processes, through the bus transport (ADR 0024).

Inside one process the message bus hands events to their handlers directly. The events other
processes of the same node must see — a new or changed alert, for every console open on any API
process — are also published to the transport (``sereno.events.<agency>.<Event>``): in memory on
the embedded profile, NATS JetStream on production. Each ``sereno serve`` relays what *other*
processes published into its own console stream; what it published itself is already there.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sereno.adapters.bus.transport import Delivery, Subscription, Transport, TransportError
from sereno.domain import events
from sereno.services.event_stream import EventStream

logger = logging.getLogger(__name__)

RELAYED: dict[str, type[events.Event]] = {
    "AlertRaised": events.AlertRaised,
    "AlertChanged": events.AlertChanged,
    # The live incident board (ADR 0031): every console sees every process's incident changes.
    "IncidentCreated": events.IncidentCreated,
    "IncidentChanged": events.IncidentChanged,
}


def subject_of(event: events.Event, root: str = "sereno") -> str:
    """``<root>.events.<agency>.<EventName>``: consumers may filter by agency."""
    agency = getattr(event, "agency_id", "node")
    return f"{root}.events.{agency}.{type(event).__name__}"


def message_id(event: events.Event) -> str:
    """The transport's dedupe key: an alert's raise once, each of its versions once."""
    if isinstance(event, events.AlertChanged):
        return f"AlertChanged:{event.alert_id}:{event.version}"
    if isinstance(event, events.AlertRaised):
        return f"AlertRaised:{event.alert_id}"
    if isinstance(event, events.IncidentChanged):
        return f"IncidentChanged:{event.incident_id}:{event.version}:{event.action}"
    if isinstance(event, events.IncidentCreated):
        return f"IncidentCreated:{event.incident_id}"
    return f"{type(event).__name__}:{uuid.uuid4()}"


def encode(event: events.Event, origin: str) -> bytes:
    """JSON of ``event`` with its type and the publishing process."""
    body = {k: v.isoformat() if isinstance(v, datetime) else v
            for k, v in asdict(event).items()}  # type: ignore[call-overload]
    return json.dumps({"type": type(event).__name__, "origin": origin, "event": body},
                      ensure_ascii=False).encode()


def decode(data: bytes) -> tuple[str, events.Event]:
    """(origin, event) of a relayed message; ``ValueError`` if it is not one."""
    message = json.loads(data)
    kind = RELAYED.get(str(message.get("type")))
    if kind is None:
        raise ValueError(f"not a relayed event type: {message.get('type')!r}")
    values: dict[str, Any] = dict(message["event"])
    if isinstance(values.get("at"), str):
        values["at"] = datetime.fromisoformat(values["at"])
    return str(message["origin"]), kind(**values)


class EventRelay:
    """Publishes this process's alert events and feeds other processes' into ``stream``."""

    def __init__(self, transport: Transport, stream: EventStream, *, group: str,
                 root: str = "sereno", origin: str | None = None) -> None:
        self.transport = transport
        self.root = root
        self.stream = stream
        self.group = group
        self.origin = origin or f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._subscription: Subscription | None = None

    def forward(self, event: events.Event) -> None:
        """Bus handler: publish ``event``. A transport outage is logged, never raised into the
        use-case (the database already holds the alert; consoles reload their queue)."""
        try:
            self.transport.publish(subject_of(event, self.root), encode(event, self.origin),
                                   msg_id=message_id(event))
        except TransportError:
            logger.warning("bus transport unavailable: %s not relayed", type(event).__name__)

    def start(self) -> None:
        """Consume what other processes publish (durable group ``group``)."""
        self._subscription = self.transport.subscribe(f"{self.root}.events.>", self.group,
                                                      self._receive)

    def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None

    def _receive(self, delivery: Delivery) -> None:
        try:
            origin, event = decode(delivery.data)
        except (ValueError, KeyError, TypeError):
            logger.error("unreadable relayed event %s dropped to dead letters", delivery.msg_id)
            raise
        if origin != self.origin:
            self.stream.publish(event)
