"""Secrets kept in the database, sealed (AES-256-GCM) under a key kept outside it.

The node has one sealing key (``auth.totp_key``, or ``<data_dir>/secrets/totp.key`` on the
embedded profile: see ``bootstrap.sealing_key_from``). Each kind of secret gets its own key
derived from it with HKDF, and each sealed value is bound to the row it belongs to, so a sealed
value copied to another row, or read as another kind of secret, does not open.
"""

from __future__ import annotations

import base64
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_PREFIX = "v1."
NONCE_BYTES = 12


class SecretBox:
    """Seals and opens one kind (``purpose``) of secret."""

    def __init__(self, key: bytes, purpose: str) -> None:
        derived = HKDF(algorithm=SHA256(), length=32, salt=None,
                       info=f"sereno-secret-box:{purpose}".encode()).derive(key)
        self._aead = AESGCM(derived)
        self.purpose = purpose

    def seal(self, owner_id: str, secret: str) -> str:
        """``secret`` encrypted for the database, bound to ``owner_id`` (its row)."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.encode(), self._aad(owner_id))
        return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def unseal(self, owner_id: str, sealed: str) -> str:
        """The secret back; ``ValueError`` when the key, the kind or the row does not match."""
        if not sealed.startswith(_PREFIX):
            raise ValueError("unknown sealed-secret format")
        try:
            raw = base64.urlsafe_b64decode(sealed[len(_PREFIX):].encode())
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                      self._aad(owner_id)).decode()
        except (InvalidTag, ValueError) as error:
            raise ValueError(f"the sealed {self.purpose} secret does not open with this key"
                             ) from error

    def _aad(self, owner_id: str) -> bytes:
        return f"sereno-{self.purpose}:{owner_id}".encode()
