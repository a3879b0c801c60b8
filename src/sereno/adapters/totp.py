"""The second factor: TOTP codes (RFC 6238: 6 digits, 30-second steps, HMAC-SHA-1, which every
authenticator app reads), provisioning URIs, and the sealing of the secrets at rest (AES-256-GCM
with a key kept outside the database, bound to the account it belongs to)."""

from __future__ import annotations

import base64
import hmac
import os
import secrets
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

DIGITS = 6
STEP_SECONDS = 30
SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends
KEY_BYTES = 32
_SEALED_PREFIX = "v1."


def step_at(at: datetime) -> int:
    """The TOTP time step (counter) of a moment."""
    return int(at.timestamp()) // STEP_SECONDS


def new_secret() -> str:
    """A fresh random secret, base32 without padding (what authenticator apps take)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


def _totp(secret: str) -> TOTP:
    padded = secret.upper() + "=" * (-len(secret) % 8)
    # SHA-1 on purpose: it is what authenticator apps implement (HMAC-SHA-1 is not weakened by
    # SHA-1's collisions).
    return TOTP(base64.b32decode(padded), DIGITS, SHA1(), STEP_SECONDS)  # noqa: S303


def code_at(secret: str, at: datetime) -> str:
    """The code an authenticator app shows at ``at``."""
    return _totp(secret).generate(step_at(at) * STEP_SECONDS).decode()


def normalise_code(code: str) -> str | None:
    """The code as six digits (apps show ``123 456``), or None when it cannot be one."""
    digits = "".join(code.split()).replace("-", "")
    return digits if len(digits) == DIGITS and digits.isascii() and digits.isdigit() else None


def load_or_create_key(path: Path) -> bytes:
    """The sealing key from ``path``, made (readable by the owner only) when missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(handle, "w") as out:
                out.write(base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode())
    return parse_key(path.read_text().strip())


def parse_key(text: str) -> bytes:
    """A sealing key from its url-safe base64 form; raises ``ValueError`` when it is not one."""
    try:
        key = base64.urlsafe_b64decode(text.encode())
    except (ValueError, TypeError) as error:
        raise ValueError("the TOTP key must be 32 bytes in url-safe base64") from error
    if len(key) != KEY_BYTES:
        raise ValueError("the TOTP key must be 32 bytes in url-safe base64")
    return key


class TotpAuthenticator:
    """Checks codes and seals secrets. ``match`` looks ``search_steps`` either side of now so
    that the use-case can tell a device whose clock is off from a wrong code (it accepts only
    the steps its policy allows)."""

    def __init__(self, key: bytes, issuer: str, search_steps: int = 10) -> None:
        self._aead = AESGCM(key)
        self.issuer = issuer
        self.search_steps = search_steps

    def new_secret(self) -> str:
        return new_secret()

    def step_at(self, at: datetime) -> int:
        return step_at(at)

    def match(self, secret: str, code: str, at: datetime) -> int | None:
        """The offset in steps (0, -1, +1, -2, …) of the step whose code ``code`` is, or None."""
        candidate = normalise_code(code)
        if candidate is None:
            return None
        totp = _totp(secret)
        now = step_at(at)
        for distance in range(self.search_steps + 1):
            for offset in ((0,) if distance == 0 else (-distance, distance)):
                expected = totp.generate((now + offset) * STEP_SECONDS).decode()
                if hmac.compare_digest(expected, candidate):
                    return offset
        return None

    def provisioning_uri(self, secret: str, account: str) -> str:
        """``otpauth://totp/…`` for a QR code or an app's "enter a setup key"."""
        return _totp(secret).get_provisioning_uri(account, self.issuer)

    def seal(self, user_id: str, secret: str) -> str:
        """Encrypt a secret for the database, bound to its account (a sealed secret copied to
        another account's row does not open)."""
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, secret.encode(), _aad(user_id))
        return _SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def unseal(self, user_id: str, sealed: str) -> str:
        """The secret back; ``ValueError`` when the key or the account does not match."""
        if not sealed.startswith(_SEALED_PREFIX):
            raise ValueError("unknown sealed-secret format")
        try:
            raw = base64.urlsafe_b64decode(sealed[len(_SEALED_PREFIX):].encode())
            return self._aead.decrypt(raw[:12], raw[12:], _aad(user_id)).decode()
        except (InvalidTag, ValueError) as error:
            raise ValueError("the sealed TOTP secret does not open with this key") from error


def _aad(user_id: str) -> bytes:
    return f"sereno-totp:{user_id}".encode()
