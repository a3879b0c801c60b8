"""The audit log as a transparency log: leaf encoding, signed tree heads, forks.

Leaf ``i`` of a node's log is the canonical encoding of the ``i``-th audit record it sealed
(UTF-8 JSON, sorted keys, no spaces), hashed as RFC 9162 says (``merkle.leaf_hash``). A tree head
is signed by the node's Ed25519 key over a fixed text form; a witness (the other agency's node)
countersigns the same text prefixed with its own name. Nothing here touches a database.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

LEAF_FIELDS = ("id", "at", "action", "outcome", "actor_user_id", "actor_username",
               "actor_agency_id", "actor_roles", "channel", "address", "object_type",
               "object_id", "object_agency_id", "purpose", "reason", "detail")


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              default=str)
_LEAF_VALUES = itemgetter(*LEAF_FIELDS)
_AT = 1 + LEAF_FIELDS.index("at")


def leaf_bytes(record: Mapping[Any, Any]) -> bytes:
    """The canonical bytes of one audit record (a row mapping with ``LEAF_FIELDS``): a JSON
    array, version first, then the fields in ``LEAF_FIELDS`` order (nested keys sorted).
    ``at`` and ``detail`` may come as stored text or as parsed values, as the database gives."""
    return leaf_bytes_of_values(_LEAF_VALUES(record))


def leaf_bytes_of_values(values: Sequence[Any]) -> bytes:
    """``leaf_bytes`` of the record's values given in ``LEAF_FIELDS`` order."""
    leaf = [1, *values]
    if isinstance(leaf[_AT], datetime):
        leaf[_AT] = leaf[_AT].astimezone(UTC).isoformat(timespec="microseconds")
    return _CANONICAL.encode(leaf).encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


def public_key_from_b64(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key from its raw 32 bytes in base64."""
    return Ed25519PublicKey.from_public_bytes(unb64(text))


def verify_signature(public_key: Ed25519PublicKey, signature_b64: str, message: bytes) -> bool:
    """True when ``signature_b64`` is ``public_key``'s signature of ``message``."""
    try:
        public_key.verify(unb64(signature_b64), message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class TreeHead:
    """A node's signed statement: "my log had ``tree_size`` records with this root then"."""

    node_id: str
    tree_size: int
    root_hash: str  # hex
    timestamp_ms: int
    signature: str = ""  # base64 Ed25519 over ``signed_bytes``

    def signed_bytes(self) -> bytes:
        return (f"sereno-tree-head/v1\n{self.node_id}\n{self.tree_size}\n{self.root_hash}\n"
                f"{self.timestamp_ms}\n").encode()

    def countersigned_bytes(self, witness_node_id: str) -> bytes:
        """What a witness signs: its own name, then the head it saw."""
        return f"sereno-witness/v1\n{witness_node_id}\n".encode() + self.signed_bytes()

    def verify(self, public_key: Ed25519PublicKey) -> bool:
        return verify_signature(public_key, self.signature, self.signed_bytes())

    def as_dict(self) -> dict[str, Any]:
        return {"node_id": self.node_id, "tree_size": self.tree_size,
                "root_hash": self.root_hash, "timestamp_ms": self.timestamp_ms,
                "signature": self.signature}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TreeHead:
        """Parse a tree head; ``ValueError`` naming what is wrong."""
        try:
            head = cls(node_id=str(data["node_id"]), tree_size=int(data["tree_size"]),
                       root_hash=str(data["root_hash"]), timestamp_ms=int(data["timestamp_ms"]),
                       signature=str(data["signature"]))
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"malformed tree head: {error}") from None
        if head.tree_size < 0 or len(bytes.fromhex(head.root_hash)) != 32:
            raise ValueError("malformed tree head: negative size or root not 32 bytes of hex")
        return head


def first_difference(expected: Sequence[bytes], actual: Sequence[bytes]) -> int | None:
    """The first index where two leaf-hash lists differ (a shorter list differs where it
    ends), or ``None`` when they are equal."""
    for index, (a, b) in enumerate(zip(expected, actual, strict=False)):
        if a != b:
            return index
    if len(expected) != len(actual):
        return min(len(expected), len(actual))
    return None
