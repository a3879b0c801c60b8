"""The message bus's transport: one port (``Transport``), two adapters, chosen by settings."""

from __future__ import annotations

from sereno.adapters.bus.transport import (
    Delivery,
    Handler,
    Subscription,
    Transport,
    TransportError,
    TransportUnavailable,
)
from sereno.config import BusSettings

__all__ = ["Delivery", "Handler", "Subscription", "Transport", "TransportError",
           "TransportUnavailable", "build_transport"]


def build_transport(settings: BusSettings) -> Transport:
    """The transport ``settings.kind`` names (the profile resolved ``None`` already: embedded →
    in-process, production → NATS JetStream at ``nats_url``, stream ``stream``)."""
    if settings.kind == "nats":
        from sereno.adapters.bus.jetstream import JetStreamTransport  # nats only when used

        return JetStreamTransport(settings.nats_url, settings.stream,
                                  (f"{settings.subject_root}.>",))
    if settings.kind == "inprocess":
        from sereno.adapters.bus.in_process import InProcessTransport

        return InProcessTransport(settings.stream, (f"{settings.subject_root}.>",))
    raise ValueError(f"bus.kind is {settings.kind!r}: load the settings through Settings, "
                     "which resolves it from the profile")
