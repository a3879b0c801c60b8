"""User accounts, their credentials, the lockout rule, the second factor and the password
policy."""

from __future__ import annotations

import itertools
import re
import string
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sereno.domain.access import Role
from sereno.domain.errors import InvalidInput

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")

#: Holders of these roles prove a second factor (a TOTP code) at every login: they manage
#: accounts, read the audit log or release evidence.
SECOND_FACTOR_ROLES = frozenset({Role.ADMIN, Role.AUDITOR, Role.APPROVER})


@dataclass(frozen=True)
class LockoutPolicy:
    """After ``max_failures`` failed logins (wrong password or wrong code) within ``window`` the
    account locks for ``lock_for``."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lock_for: timedelta = timedelta(minutes=10)


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
    #: The TOTP secret, sealed (encrypted) by the adapter; ``None`` until enrolment.
    totp_secret: str | None = None
    #: A sealed secret shown to the user and waiting for a first code to confirm it.
    totp_pending: str | None = None
    #: The last TOTP time step accepted: a code of that step or an earlier one is a replay.
    totp_last_step: int | None = None
    totp_enrolled_at: datetime | None = None
    password_changed_at: datetime | None = None

    @property
    def role_set(self) -> frozenset[Role]:
        """Roles as enum values."""
        return frozenset(Role(r) for r in self.roles)

    @property
    def second_factor_required(self) -> bool:
        """True when a role of the user demands a second factor."""
        return bool(self.role_set & SECOND_FACTOR_ROLES)

    @property
    def has_second_factor(self) -> bool:
        """True once a TOTP secret is enrolled (required or voluntary)."""
        return self.totp_secret is not None

    def accept_code_step(self, step: int) -> bool:
        """Take a verified code's time step; False (a replay) when that step or a later one has
        already been used."""
        if self.totp_last_step is not None and step <= self.totp_last_step:
            return False
        self.totp_last_step = step
        return True

    def enrol_second_factor(self, sealed_secret: str, step: int, now: datetime) -> None:
        """The pending secret was confirmed with a code of ``step``: it is the secret now."""
        self.totp_secret = sealed_secret
        self.totp_pending = None
        self.totp_last_step = step
        self.totp_enrolled_at = now

    def reset_second_factor(self) -> None:
        """Forget the secret: the next login enrols again (when a role requires it)."""
        self.totp_secret = None
        self.totp_pending = None
        self.totp_last_step = None
        self.totp_enrolled_at = None

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
        """A complete login (password, and code when needed) clears the failure count."""
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


_TRAILING_JUNK = string.digits + string.punctuation + " "


@dataclass(frozen=True)
class PasswordPolicy:
    """NIST SP 800-63B: length counts, composition rules do not. A password is refused when it
    is too short or too long, is (or is a common password with digits or symbols added at the
    end) in the list of common passwords, contains the username, or is one character repeated
    or a plain sequence. Reusing the current password is checked by the use-case (it needs the
    hasher)."""

    min_length: int = 12
    max_length: int = 128
    common: frozenset[str] = frozenset()

    def problems(self, password: str, *, username: str | None = None) -> list[tuple[str, str]]:
        """``(code, message)`` for every rule ``password`` breaks; empty when it is acceptable."""
        text = unicodedata.normalize("NFKC", password)
        found: list[tuple[str, str]] = []
        if len(text) < self.min_length:
            found.append(("too_short", f"the password needs at least {self.min_length} "
                                       "characters"))
        if len(text) > self.max_length:
            found.append(("too_long", f"the password may have at most {self.max_length} "
                                      "characters"))
        lowered = text.casefold()
        if username and username.casefold() in lowered:
            found.append(("contains_username", "the password must not contain the username"))
        if lowered in self.common or lowered.rstrip(_TRAILING_JUNK) in self.common:
            found.append(("common", "this password is too common: it appears in lists of "
                                    "leaked passwords"))
        elif text and _trivial(lowered):
            found.append(("trivial", "the password must not be one character repeated or a "
                                     "plain sequence"))
        return found

    def check(self, password: Any, *, username: str | None = None,
              field: str = "password") -> str:
        """Return ``password`` or raise ``InvalidInput`` naming every rule it breaks."""
        if not isinstance(password, str):
            raise InvalidInput(f"{field} must be a string")
        found = self.problems(password, username=username)
        if found:
            raise InvalidInput("; ".join(message for _, message in found), details=[
                {"field": field, "code": f"password.{code}", "problem": message}
                for code, message in found])
        return password


def _trivial(text: str) -> bool:
    if len(set(text)) < 4:  # "aaaaaaaaaaaa", "abababababab", "111122223333"
        return True
    steps = set()
    for a, b in itertools.pairwise(text):
        step = ord(b) - ord(a)
        if a.isdigit() and b.isdigit():
            step = (step + 10) % 10  # 8-9-0-1 runs on
            step = step - 10 if step > 5 else step
        steps.add(step)
    return len(steps) == 1 and steps <= {-1, 1}  # "abcdefghijkl", "123456789012", "zyxw…"


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


@dataclass(eq=False)
class LoginChallenge:
    """A console login half done: the password was right, the one-time code (or the enrolment
    of an authenticator app) is still to come. Only the browser's value's SHA-256 is stored."""

    id: str
    user_id: str
    token_hash: str
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        """Not ended and not expired."""
        return self.ended_at is None and now < self.expires_at
