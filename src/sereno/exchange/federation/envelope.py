"""The federation envelope: one outbox message, signed by the sending node.

An envelope names the message (``id``, the outbox id and idempotency key), what it is
(``kind``), where it sits in its stream (``seq``, and ``prev_seq``: the previous message of the
same source agency to the same node, 0 for the first), who sends it (``source_agency_id`` and
the ``sender`` node), to which node (``to``), when it was signed (``sent_at``, UTC, ISO 8601) and
the ``payload``. The signature is Ed25519 by the sender node's key over a domain-separated,
canonical JSON encoding (sorted keys, no spaces, UTF-8, no NaN) of every other field; the
receiver re-encodes what it parsed, so whitespace and key order on the wire do not matter.
Nothing here touches a database or the network.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sereno.governance.node_key import NodeKey
from sereno.governance.transparency import verify_signature

VERSION = 1
SIGNING_CONTEXT = b"sereno-federation-envelope/v1\n"
FIELDS = ("id", "kind", "seq", "prev_seq", "source_agency_id", "sender", "to", "sent_at",
          "payload")
MAX_TEXT = 64  # ids, kinds, agency and node names: the database columns are this wide


class MalformedEnvelope(ValueError):
    """The envelope is not one: a field is missing, of the wrong type or out of range."""


@dataclass(frozen=True)
class Envelope:
    """One signed message between two nodes (``signature`` empty until signed)."""

    id: str
    kind: str
    seq: int
    prev_seq: int
    source_agency_id: str
    sender: str
    to: str
    sent_at: str
    payload: dict[str, Any]
    signature: str = ""

    def signed_bytes(self) -> bytes:
        """What the sender signs: the context line, then the canonical JSON of every field
        but the signature (with the format version)."""
        body = {name: getattr(self, name) for name in FIELDS}
        body["v"] = VERSION
        return SIGNING_CONTEXT + canonical(body)

    def signed_by(self, key: NodeKey) -> Envelope:
        """This envelope with ``key``'s signature."""
        return replace(self, signature=key.sign(self.signed_bytes()))

    def verify(self, public_key: Ed25519PublicKey) -> bool:
        """True when the signature is ``public_key``'s over exactly these fields."""
        return bool(self.signature) and verify_signature(public_key, self.signature,
                                                         self.signed_bytes())

    def sent_time(self) -> datetime:
        """``sent_at`` as an aware UTC datetime (``MalformedEnvelope`` if it is not one)."""
        try:
            parsed = datetime.fromisoformat(self.sent_at)
        except ValueError:
            raise MalformedEnvelope(f"sent_at {self.sent_at[:40]!r} is not an ISO 8601 "
                                    "time") from None
        if parsed.tzinfo is None:
            raise MalformedEnvelope("sent_at must carry its UTC offset")
        return parsed.astimezone(UTC)

    def as_dict(self) -> dict[str, Any]:
        """The wire form (what ``from_dict`` reads back)."""
        return {**asdict(self), "v": VERSION}

    @classmethod
    def from_dict(cls, data: object) -> Envelope:
        """Parse the wire form; ``MalformedEnvelope`` naming the first thing wrong."""
        if not isinstance(data, Mapping):
            raise MalformedEnvelope("an envelope is a JSON object")
        if data.get("v", VERSION) != VERSION:
            raise MalformedEnvelope(f"unknown envelope version {data.get('v')!r} "
                                    f"(this node reads {VERSION})")
        missing = [name for name in (*FIELDS, "signature") if name not in data]
        if missing:
            raise MalformedEnvelope(f"the envelope lacks {', '.join(missing)}")
        texts = {name: data[name] for name in ("id", "kind", "source_agency_id", "sender",
                                                "to", "sent_at")}
        for name, value in texts.items():
            if not isinstance(value, str) or not value:
                raise MalformedEnvelope(f"{name} must be a non-empty string")
            if name != "sent_at" and len(value) > MAX_TEXT:
                raise MalformedEnvelope(f"{name} is longer than {MAX_TEXT} characters")
        if not isinstance(data["signature"], str) or len(data["signature"]) > 200:
            raise MalformedEnvelope("signature must be a base64 string (empty: unsigned)")
        for name in ("seq", "prev_seq"):
            value = data[name]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise MalformedEnvelope(f"{name} must be a whole number ≥ 0")
        if data["seq"] <= data["prev_seq"]:
            raise MalformedEnvelope("seq must come after prev_seq")
        if not isinstance(data["payload"], dict):
            raise MalformedEnvelope("payload must be a JSON object")
        envelope = cls(**{name: data[name] for name in (*FIELDS, "signature")})
        envelope.sent_time()
        return envelope


def canonical(value: Any) -> bytes:
    """The canonical JSON bytes of ``value`` (sorted keys, no spaces, UTF-8, no NaN)."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False).encode()
    except ValueError as error:
        raise MalformedEnvelope(f"not canonical JSON: {error}") from None


def batch_body(envelopes: list[Envelope]) -> bytes:
    """The body of one POST: the envelopes in ``seq`` order."""
    return json.dumps({"envelopes": [e.as_dict() for e in envelopes]}, ensure_ascii=False,
                      separators=(",", ":")).encode()


def timestamp(at: datetime) -> str:
    """``sent_at`` text for a time (UTC, milliseconds)."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds")
