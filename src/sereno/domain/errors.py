"""Errors the domain and service layer raise; the edges turn them into HTTP codes or exit codes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


class SerenoError(Exception):
    """Base of every expected, user-facing error. ``code`` is stable and machine-readable."""

    code = "error"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class InvalidInput(SerenoError):
    """The request is well-formed but its content breaks a rule (bad coordinates, bad URL...)."""

    code = "invalid_input"


class NotFound(SerenoError):
    """The object does not exist *or the caller may not know that it exists*."""

    code = "not_found"


class AccessDenied(SerenoError):
    """The caller is known but lacks the permission or scope for the action."""

    code = "forbidden"


class Conflict(SerenoError):
    """The change collides with existing state (duplicate id, retired object...)."""

    code = "conflict"


class AuthenticationFailed(SerenoError):
    """Missing, wrong, expired or revoked credentials."""

    code = "unauthenticated"


class AccountLocked(AuthenticationFailed):
    """Too many failed logins: the account is locked for a while."""

    code = "account_locked"


class SecondFactorRequired(AuthenticationFailed):
    """The password was right but the account also needs a one-time code (TOTP)."""

    code = "otp_required"


class SecondFactorEnrolmentRequired(AuthenticationFailed):
    """The account must enrol an authenticator app before it can log in through this channel."""

    code = "otp_enrolment_required"


class SecondFactorRejected(AuthenticationFailed):
    """The one-time code is wrong, already used, or from another time (device clock off)."""

    code = "otp_invalid"


@dataclass(frozen=True)
class RowError:
    """Why one row of a bulk import was rejected."""

    row: int
    camera_id: str | None
    field: str
    reason: str
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON reports."""
        return {"row": self.row, "camera_id": self.camera_id, "field": self.field,
                "reason": self.reason}
