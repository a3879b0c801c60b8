"""Alert integrations: an agency's existing tools (a webhook receiver, an MQTT broker) told of
its alerts (ADR 0029).

A subscription names one approved egress destination of the agency (a ``webhook`` destination
for an HTTP receiver, an ``mqtt`` one for a broker), a target under it (a URL path, or an MQTT
topic), which alerts it wants (categories, a minimum severity) and an HMAC key that signs every
message. Messages carry the alert's fields and a link to the console, never media.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sereno.domain.alerts import Category, Severity, parse_enum
from sereno.domain.egress import DestinationPurpose, normalise_path
from sereno.domain.errors import InvalidInput

SIGNATURE_HEADER = "X-Sereno-Signature"
TIMESTAMP_HEADER = "X-Sereno-Timestamp"
DELIVERY_HEADER = "X-Sereno-Delivery"
TOPIC_MAX = 200
TARGET_MAX = 500


class SubscriptionKind(StrEnum):
    WEBHOOK = "webhook"
    MQTT = "mqtt"

    @property
    def purpose(self) -> DestinationPurpose:
        """The egress purpose its destination must be registered for."""
        return DestinationPurpose.WEBHOOK if self is SubscriptionKind.WEBHOOK \
            else DestinationPurpose.MQTT


def normalise_target(kind: SubscriptionKind, target: str) -> str:
    """A webhook's URL path (``/hooks/sereno``) or an MQTT topic (``sereno/alerts``), checked;
    ``InvalidInput`` otherwise."""
    text = target.strip()
    if kind is SubscriptionKind.WEBHOOK:
        if not text.startswith("/") or len(text) > TARGET_MAX or "?" in text or "#" in text:
            raise InvalidInput("a webhook target is a URL path starting with / (no query, at "
                               f"most {TARGET_MAX} characters)")
        return normalise_path(text)
    if not 0 < len(text) <= TOPIC_MAX:
        raise InvalidInput(f"an MQTT topic has 1 to {TOPIC_MAX} characters")
    if re.search(r"[+#\x00-\x20]", text) or text.startswith(("$", "/")) or "//" in text:
        # Wildcards are for subscribers; $-topics belong to the broker.
        raise InvalidInput("an MQTT topic to publish to has no wildcards (+ #), spaces, "
                           "leading / or $, or empty levels")
    if any(level in (".", "..") for level in text.split("/")):
        raise InvalidInput("an MQTT topic has no . or .. levels")
    return text


def target_path(kind: SubscriptionKind, target: str) -> str:
    """The path matched against the destination's path prefix (an MQTT topic as ``/topic``)."""
    return target if kind is SubscriptionKind.WEBHOOK else "/" + target


@dataclass(eq=False)
class Subscription:
    """One agency's integration: which alerts go where."""

    id: str
    agency_id: str
    kind: SubscriptionKind
    destination_id: str
    target: str
    categories: list[str] = field(default_factory=list)  # empty: every category
    min_severity: Severity = Severity.UNKNOWN
    secret: str = ""  # the HMAC key, sealed
    active: bool = True
    created_by: str = ""
    created_at: datetime | None = None

    @classmethod
    def create(cls, *, subscription_id: str, agency_id: str, kind: str, destination_id: str,
               target: str, categories: list[str], min_severity: str, sealed_secret: str,
               by: str, at: datetime) -> Subscription:
        """A new active subscription; ``InvalidInput`` for an unknown kind, category or
        severity, or an unusable target."""
        which = parse_enum(SubscriptionKind, kind, "integration kind")
        wanted = sorted({parse_enum(Category, c, "category").value for c in categories})
        return cls(id=subscription_id, agency_id=agency_id, kind=which,
                   destination_id=destination_id, target=normalise_target(which, target),
                   categories=wanted,
                   min_severity=parse_enum(Severity, min_severity, "severity"),
                   secret=sealed_secret, active=True, created_by=by, created_at=at)

    def wants(self, category: str, severity: str) -> bool:
        """Whether an alert of ``category`` and ``severity`` goes to this subscription."""
        if not self.active or (self.categories and category not in self.categories):
            return False
        try:
            return Severity(severity).rank >= self.min_severity.rank
        except ValueError:
            return False


def signature(key: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``timestamp.body`` (the timestamp is signed so that a
    receiver can refuse an old message replayed)."""
    mac = hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signature_valid(key: str, timestamp: str, body: bytes, given: str) -> bool:
    """What a receiver does: compare in constant time."""
    return hmac.compare_digest(signature(key, timestamp, body), given)
