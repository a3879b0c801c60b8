"""User accounts, their credentials and the lockout rule."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sereno.domain.access import Role
from sereno.domain.errors import InvalidInput

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True)
class LockoutPolicy:
    """After ``max_failures`` failed logins within ``window`` the account locks for ``lock_for``."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lock_for: timedelta = timedelta(minutes=15)


@dataclass(eq=False)
class User:
    """A person's account in one agency. ``password_hash`` is an Argon2 PHC string."""

    id: str
    agency_id: str
    username: str
    display_name: str
    password_hash: str
    roles: list[str] = field(default_factory=list)
    disabled: bool = False
    failed_logins: int = 0
    first_failure_at: datetime | None = None
    locked_until: datetime | None = None
    created_at: datetime | None = None

    @property
    def role_set(self) -> frozenset[Role]:
        """Roles as enum values."""
        return frozenset(Role(r) for r in self.roles)

    def is_locked(self, now: datetime) -> bool:
        """True while a lockout is running."""
        return self.locked_until is not None and now < self.locked_until

    def record_failed_login(self, now: datetime, policy: LockoutPolicy) -> bool:
        """Count a failure; returns True when this failure locks the account."""
        if self.first_failure_at is None or now - self.first_failure_at > policy.window:
            self.first_failure_at = now
            self.failed_logins = 0
        self.failed_logins += 1
        if self.failed_logins >= policy.max_failures:
            self.locked_until = now + policy.lock_for
            self.failed_logins = 0
            self.first_failure_at = None
            return True
        return False

    def record_successful_login(self) -> None:
        """A good password clears the failure count."""
        self.failed_logins = 0
        self.first_failure_at = None

    def unlock(self) -> None:
        """An administrator lifts a lockout early."""
        self.locked_until = None
        self.failed_logins = 0
        self.first_failure_at = None


def validate_username(value: str) -> str:
    """Lower-case login names of 3 to 64 characters."""
    if not isinstance(value, str) or not USERNAME_PATTERN.match(value):
        raise InvalidInput("username must be 3-64 lower-case letters, digits, '_', '.', '-'")
    return value


def validate_password(value: str) -> str:
    """A minimum length; composition rules only annoy people into weaker passwords."""
    if not isinstance(value, str) or len(value) < MIN_PASSWORD_LENGTH or len(value) > 256:
        raise InvalidInput(f"password must be {MIN_PASSWORD_LENGTH} to 256 characters")
    return value


@dataclass(eq=False)
class ApiToken:
    """A bearer token. Only its SHA-256 is stored; the token itself is shown once."""

    id: str
    user_id: str
    token_hash: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        """Not expired and not revoked."""
        return self.revoked_at is None and now < self.expires_at


@dataclass(eq=False)
class WebSession:
    """A console login. Only the cookie's SHA-256 is stored; ``csrf_token`` guards the forms."""

    id: str
    user_id: str
    token_hash: str
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None

    def usable(self, now: datetime, idle_timeout: timedelta) -> bool:
        """Not ended, not past its absolute expiry, not idle too long."""
        return (
            self.ended_at is None
            and now < self.expires_at
            and now - self.last_seen_at < idle_timeout
        )
