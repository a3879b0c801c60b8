"""Argon2id password hashing (argon2-cffi)."""

from __future__ import annotations

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2PasswordHasher:
    """Hashes and checks passwords; costs come from the settings."""

    def __init__(self, time_cost: int = 3, memory_kib: int = 65_536) -> None:
        self._argon2 = _Argon2(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        # A real hash to verify against when the username is unknown, so that a wrong username
        # costs as much time as a wrong password and does not reveal which accounts exist.
        self._decoy = self._argon2.hash("decoy password, never valid")

    def hash(self, password: str) -> str:
        """An Argon2id PHC string."""
        return self._argon2.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; spends the same effort when there is no hash."""
        try:
            return self._argon2.verify(password_hash or self._decoy, password) and (
                password_hash is not None)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the stored hash used weaker parameters than the current ones."""
        return self._argon2.check_needs_rehash(password_hash)
