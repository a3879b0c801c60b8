"""Purpose-bound access to footage: purposes, case references, break-glass, policy versions.

Playback and export of recordings need a declared purpose from a closed list and the reference of
a case the agency has opened (an invented case is refused). In an emergency, designated roles may
break the glass instead: the access is allowed, flagged, and queued for a supervisor's review.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sereno.domain.errors import InvalidInput


class Purpose(StrEnum):
    """Why somebody looks at footage or personal data (LOPDP: purpose limitation)."""

    MONITORING = "monitoring"                # watching live cameras during a shift
    INCIDENT_RESPONSE = "incident_response"  # an incident in progress or just closed
    INVESTIGATION = "investigation"          # an open investigation case
    JUDICIAL_REQUEST = "judicial_request"    # a prosecutor's or judge's request
    AUDIT_REVIEW = "audit_review"            # an auditor checking a use of footage


# Purposes that justify replaying or exporting recorded footage (live monitoring does not).
RECORDED_FOOTAGE_PURPOSES = frozenset({Purpose.INCIDENT_RESPONSE, Purpose.INVESTIGATION,
                                       Purpose.JUDICIAL_REQUEST, Purpose.AUDIT_REVIEW})

# FGE: a Fiscalía General del Estado case number; INC: a Sereno incident; CASE: an agency's
# internal case. Footage access, evidence exports and legal holds all name cases this way.
CASE_REFERENCE = re.compile(r"^(FGE|INC|CASE)-(19|20)\d{2}-\d{3,8}$")
BREAK_GLASS_REVIEW_WITHIN = timedelta(hours=24)
MIN_JUSTIFICATION = 15


def parse_purpose(value: str | None) -> Purpose | None:
    """The purpose named by ``value`` or ``None`` when none was given; unknown → InvalidInput."""
    if value is None or not value.strip():
        return None
    try:
        return Purpose(value.strip().lower())
    except ValueError:
        known = ", ".join(p.value for p in Purpose)
        raise InvalidInput(f"unknown purpose {value.strip()[:60]!r} (known: {known})") from None


def validate_case_reference(value: str) -> str:
    """``FGE-2026-000123``, ``INC-2026-0042`` or ``CASE-2026-001`` (upper-cased); anything
    else → InvalidInput."""
    reference = value.strip().upper() if isinstance(value, str) else ""
    if not CASE_REFERENCE.match(reference):
        raise InvalidInput(f"{str(value).strip()[:60]!r} is not a case reference "
                           "(FGE-YYYY-NNNNNN for a prosecutor's case, INC-YYYY-NNNN for an "
                           "incident, CASE-YYYY-NNN for an internal case)")
    return reference


@dataclass(eq=False)
class InvestigationCase:
    """A case an agency opened; footage is replayed or exported only under an open case."""

    reference: str
    agency_id: str
    title: str
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class ReviewVerdict(StrEnum):
    """A supervisor's verdict on a break-glass access."""

    JUSTIFIED = "justified"
    UNJUSTIFIED = "unjustified"


@dataclass(eq=False)
class BreakGlassAccess:
    """An emergency access that skipped the purpose/case rule; a supervisor must review it."""

    id: str
    agency_id: str
    user_id: str
    username: str
    action: str
    object_type: str
    object_id: str
    justification: str
    at: datetime
    review_due: datetime
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    verdict: ReviewVerdict | None = None
    review_note: str | None = None

    def is_overdue(self, now: datetime) -> bool:
        return self.reviewed_at is None and now > self.review_due

    def review(self, reviewer_id: str, verdict: ReviewVerdict, note: str, now: datetime) -> None:
        """Record the verdict; nobody reviews their own access, and only once."""
        if reviewer_id == self.user_id:
            raise InvalidInput("nobody reviews their own break-glass access")
        if self.reviewed_at is not None:
            raise InvalidInput("this break-glass access was already reviewed")
        if len(note.strip()) < 5:
            raise InvalidInput("say why in the review note (5 characters or more)")
        self.reviewed_by, self.reviewed_at = reviewer_id, now
        self.verdict, self.review_note = verdict, note.strip()[:1000]


def validate_justification(text: str) -> str:
    """A break-glass justification long enough to mean something."""
    text = text.strip()
    if len(text) < MIN_JUSTIFICATION:
        raise InvalidInput(f"a break-glass justification says what the emergency is "
                           f"({MIN_JUSTIFICATION} characters or more)")
    return text[:500]


@dataclass(eq=False)
class PolicyVersion:
    """One published version of the access policies (Cedar text); exactly one is active."""

    version: int
    text: str
    sha256: str
    published_by: str
    published_at: datetime
    note: str = ""
    active: bool = True

    @staticmethod
    def digest(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(eq=False)
class AccessProfile:
    """What the policies know about a user beyond agency and roles: clearance and assignment.

    No profile means clearance 1 and no assignment (the whole agency)."""

    user_id: str
    clearance: int = 1
    centre_ids: list[str] = field(default_factory=list)
    camera_ids: list[str] = field(default_factory=list)
