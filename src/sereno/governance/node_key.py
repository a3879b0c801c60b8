"""The node's Ed25519 signing key: tree heads, witness countersignatures, evidence manifests.

Kept as a PEM file readable only by the service account (``data_dir/keys``), made on first use.
Its public half is what the other agency registers as this node's pinned key.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from sereno.governance.transparency import b64


class NodeKey:
    """Signs on behalf of one node."""

    def __init__(self, node_id: str, private_key: Ed25519PrivateKey) -> None:
        self.node_id = node_id
        self._private = private_key

    @classmethod
    def load_or_create(cls, node_id: str, path: Path) -> NodeKey:
        """Read the key at ``path``, or make one there (mode 0600) when there is none."""
        if path.exists():
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                raise ValueError(f"{path.name} is not an Ed25519 private key")
            return cls(node_id, loaded)
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        return cls(node_id, key)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._private.public_key()

    @property
    def public_key_b64(self) -> str:
        """The raw 32-byte public key in base64 (what a peer registers)."""
        return b64(self.public_key.public_bytes(serialization.Encoding.Raw,
                                                serialization.PublicFormat.Raw))

    @property
    def key_id(self) -> str:
        """A short fingerprint of the public key."""
        return hashlib.sha256(self.public_key_b64.encode()).hexdigest()[:16]

    def sign(self, message: bytes) -> str:
        """The base64 Ed25519 signature of ``message``."""
        return b64(self._private.sign(message))
