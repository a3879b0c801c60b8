"""Data-protection impact assessments (evaluación de impacto, LOPDP art. 42).

The camera group is the monitoring centre: it is the unit that is planned, staffed and governed
together, and every camera belongs to exactly one. The rule Sereno enforces:

    A camera is analysed automatically (detection of people or vehicles, plate reading) or
    recorded only while its centre has an approved, unexpired impact assessment.

A city's camera network watching streets is systematic observation of publicly accessible areas
at large scale, which is where LOPDP art. 42 makes the assessment mandatory. No camera-count
threshold is applied: a threshold would invite splitting centres to stay below it, and one
analysed camera already feeds the same platform-wide processing. Live viewing alone (analytics and
recording both switched off for a camera) is ordinary monitoring and is not held back.

An assessment is drafted by an administrator and approved by an auditor (acting as the data
protection officer), never by the person who drafted it. It is valid until ``valid_until``
(at most three years; one year by default): reviewing it is part of the duty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sereno.domain.errors import AccessDenied, Conflict, InvalidInput

DEFAULT_VALIDITY = timedelta(days=365)
MAX_VALIDITY = timedelta(days=3 * 365 + 1)
TEXT_FIELDS = ("title", "processing", "necessity", "risks", "measures", "legal_basis")
TEXT_MAX = 8000


class AssessmentStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"


def camera_needs_assessment(video: dict[str, Any]) -> bool:
    """True when a camera with these video settings is analysed or recorded (the defaults of
    both are on)."""
    return bool(video.get("analytics", True)) or bool(video.get("record", True))


@dataclass(eq=False)
class ImpactAssessment:
    """One assessment of one monitoring centre's processing."""

    id: str
    agency_id: str
    centre_id: str
    title: str
    processing: str   # what is processed, how, by whom (detection, plates, recording, sharing)
    necessity: str    # necessity and proportionality
    risks: str        # risks to the rights and freedoms of the people filmed
    measures: str     # the measures that address them (masks, retention, access, egress…)
    legal_basis: str
    recorded_by_id: str
    recorded_by: str
    recorded_at: datetime
    valid_until: datetime
    status: AssessmentStatus = AssessmentStatus.DRAFT
    approved_by: str | None = None
    approved_at: datetime | None = None
    approval_note: str | None = None

    @classmethod
    def draft(cls, *, assessment_id: str, agency_id: str, centre_id: str,
              fields: dict[str, Any], by_id: str, by: str, at: datetime) -> ImpactAssessment:
        """A draft; ``InvalidInput`` listing every missing or too long text."""
        problems = []
        texts: dict[str, str] = {}
        for name in TEXT_FIELDS:
            value = fields.get(name)
            text = value.strip() if isinstance(value, str) else ""
            if not text:
                problems.append({"field": name, "reason": "required"})
            elif len(text) > TEXT_MAX:
                problems.append({"field": name, "reason": f"longer than {TEXT_MAX} characters"})
            texts[name] = text
        valid_until = fields.get("valid_until") or at + DEFAULT_VALIDITY
        if not isinstance(valid_until, datetime) or valid_until.tzinfo is None:
            problems.append({"field": "valid_until", "reason": "a date and time with a zone"})
        elif not at < valid_until <= at + MAX_VALIDITY:
            problems.append({"field": "valid_until",
                             "reason": "must be in the future and at most three years away"})
        if problems:
            raise InvalidInput("the impact assessment is incomplete", details=problems)
        return cls(id=assessment_id, agency_id=agency_id, centre_id=centre_id,
                   title=texts["title"], processing=texts["processing"],
                   necessity=texts["necessity"], risks=texts["risks"],
                   measures=texts["measures"], legal_basis=texts["legal_basis"],
                   recorded_by_id=by_id, recorded_by=by, recorded_at=at,
                   valid_until=valid_until)

    def approve(self, *, by_id: str, by: str, at: datetime, note: str | None = None) -> None:
        """Approve the draft (four eyes: not its author; not once it has expired)."""
        if self.status is not AssessmentStatus.DRAFT:
            raise Conflict(f"the assessment is already {self.status.value}")
        if by_id == self.recorded_by_id:
            raise AccessDenied("an impact assessment must be approved by someone other than "
                               "its author")
        if at >= self.valid_until:
            raise Conflict("the assessment has expired; record a new one")
        self.status, self.approved_by, self.approved_at = AssessmentStatus.APPROVED, by, at
        self.approval_note = (note or "").strip()[:2000] or None

    def in_force(self, now: datetime) -> bool:
        """Approved and not expired."""
        return self.status is AssessmentStatus.APPROVED and now < self.valid_until
