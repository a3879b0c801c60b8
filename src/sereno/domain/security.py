"""Security alerts: something happened that an agency's auditors must look at now.

An alert is raised by Sereno itself (a blocked outbound transfer, a forked or tampered audit log,
an access anomaly, a traced leak, a break-glass access…), never by a user. It belongs to one
agency: the agency whose data or system was concerned. Its auditors acknowledge it (someone is
looking) and close it (with a note saying what was found and done). Nothing deletes an alert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sereno.domain.errors import Conflict, InvalidInput


class AlertKind(StrEnum):
    """What happened. Add a member when a new part of Sereno raises a new kind of alert."""

    EGRESS_BLOCKED = "egress_blocked"
    AUDIT_FORK = "audit_fork"
    AUDIT_TAMPERED = "audit_tampered"
    ACCESS_ANOMALY = "access_anomaly"
    LEAK_TRACED = "leak_traced"
    BREAK_GLASS = "break_glass"
    BREACH_OPENED = "breach_opened"
    BREACH_DEADLINE = "breach_deadline"
    IMPACT_ASSESSMENT_MISSING = "impact_assessment_missing"
    FEDERATION_FORGED = "federation_forged"  # a peer node signed wrongly or claimed another agency


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class AlertStatus(StrEnum):
    """``open`` → ``acknowledged`` (someone is on it) → ``closed`` (with a note)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


SUMMARY_MAX = 300
NOTE_MAX = 2000


def parse_kind(value: str) -> AlertKind:
    """``value`` as an ``AlertKind``; ``ValueError`` naming the known kinds otherwise."""
    try:
        return AlertKind(value)
    except ValueError:
        known = ", ".join(k.value for k in AlertKind)
        raise ValueError(f"unknown security alert kind {value!r} (known: {known})") from None


def parse_severity(value: str) -> Severity:
    """``value`` as a ``Severity``; ``ValueError`` otherwise."""
    try:
        return Severity(value)
    except ValueError:
        known = ", ".join(s.value for s in Severity)
        raise ValueError(f"unknown severity {value!r} (known: {known})") from None


@dataclass(eq=False)
class SecurityAlert:
    """One alert. ``detail`` holds the facts (destination, camera, audit index…), never media."""

    id: str
    agency_id: str
    kind: AlertKind
    severity: Severity
    summary: str
    raised_at: datetime
    detail: dict[str, Any] = field(default_factory=dict)
    status: AlertStatus = AlertStatus.OPEN
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    acknowledge_note: str | None = None
    closed_by: str | None = None
    closed_at: datetime | None = None
    close_note: str | None = None

    @classmethod
    def raise_new(cls, *, alert_id: str, agency_id: str, kind: str, severity: str, summary: str,
                  detail: dict[str, Any] | None, at: datetime) -> SecurityAlert:
        """A new open alert; ``ValueError`` for an unknown kind or severity or no summary."""
        text = summary.strip()
        if not text:
            raise ValueError("a security alert needs a summary")
        return cls(id=alert_id, agency_id=agency_id, kind=parse_kind(kind),
                   severity=parse_severity(severity), summary=text[:SUMMARY_MAX],
                   raised_at=at, detail=dict(detail or {}))

    def acknowledge(self, by: str, at: datetime, note: str | None = None) -> None:
        """Somebody is looking into it. Only an open alert can be acknowledged."""
        if self.status is not AlertStatus.OPEN:
            raise Conflict(f"the alert is already {self.status.value}")
        self.status = AlertStatus.ACKNOWLEDGED
        self.acknowledged_by, self.acknowledged_at = by, at
        self.acknowledge_note = _note(note, required=False)

    def close(self, by: str, at: datetime, note: str) -> None:
        """Done: what was found and what was done is in ``note`` (required)."""
        if self.status is AlertStatus.CLOSED:
            raise Conflict("the alert is already closed")
        if self.acknowledged_at is None:  # closing directly also acknowledges
            self.acknowledged_by, self.acknowledged_at = by, at
        self.status = AlertStatus.CLOSED
        self.closed_by, self.closed_at = by, at
        self.close_note = _note(note, required=True)


def _note(note: str | None, *, required: bool) -> str | None:
    text = (note or "").strip()
    if required and not text:
        raise InvalidInput("closing an alert needs a note saying what was found and done")
    if len(text) > NOTE_MAX:
        raise InvalidInput(f"the note is longer than {NOTE_MAX} characters")
    return text or None
