"""Commands: requests to change the system, each handled by exactly one use-case.

Every command carries ``by``, the verified caller it runs for, so that the handler can decide and
audit with the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sereno.domain.access import Principal


class Command:
    """Marker base class for commands."""


@dataclass(frozen=True)
class RegisterCamera(Command):
    by: Principal
    fields: dict[str, Any]


@dataclass(frozen=True)
class UpdateCamera(Command):
    by: Principal
    camera_id: str
    changes: dict[str, Any]


@dataclass(frozen=True)
class RetireCamera(Command):
    by: Principal
    camera_id: str


@dataclass(frozen=True)
class ImportCameras(Command):
    """All rows or none: ``rows`` are raw mappings from CSV or GeoJSON, numbered from 1."""

    by: Principal
    rows: list[dict[str, Any]]
    source_name: str = "upload"
    dry_run: bool = False


@dataclass(frozen=True)
class CreateUser(Command):
    by: Principal
    username: str
    display_name: str
    password: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class UpdateUser(Command):
    by: Principal
    user_id: str
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UnlockUser(Command):
    by: Principal
    user_id: str


@dataclass(frozen=True)
class ChangePassword(Command):
    """The caller changes their own password; their other sessions and tokens end (the
    credential in use, ``keep_session`` or ``keep_token_hash``, lives on)."""

    by: Principal
    current_password: str
    new_password: str
    keep_session: str | None = None
    keep_token_hash: str | None = None


@dataclass(frozen=True)
class ResetSecondFactor(Command):
    """An administrator removes a user's authenticator app (the user enrols a new one)."""

    by: Principal
    user_id: str


@dataclass(frozen=True)
class RecordStreamProbe(Command):
    """A worker's finding about one camera's stream (``error`` is None when it answered)."""

    camera_id: str
    error: str | None


@dataclass(frozen=True)
class CreateRule(Command):
    by: Principal
    camera_id: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class UpdateRule(Command):
    by: Principal
    camera_id: str
    rule_id: str
    changes: dict[str, Any]


@dataclass(frozen=True)
class DeleteRule(Command):
    by: Principal
    camera_id: str
    rule_id: str


@dataclass(frozen=True)
class RecordDetection(Command):
    """A video worker's rule match, to be stored and published."""

    camera_id: str
    rule_id: str | None
    rule_kind: str
    classes: tuple[str, ...]
    track_ids: tuple[int, ...]
    confidence: float
    box: tuple[float, float, float, float]
    at: float  # wall-clock seconds
    snapshot_jpeg: bytes | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AttachEventClip(Command):
    """The clip of a detection was cut from the recording and stored under ``clip_key``."""

    event_id: str
    clip_key: str


@dataclass(frozen=True)
class AddWatchlistEntry(Command):
    by: Principal
    plate: str
    reason: str
    expires_at: datetime | None = None
    tolerance: int | None = None
    published: bool = False  # matched on partners' cameras under their agreements too


@dataclass(frozen=True)
class RemoveWatchlistEntry(Command):
    by: Principal
    entry_id: str


@dataclass(frozen=True)
class PublishWatchlistEntry(Command):
    """Publish an entry to partners' cameras (``published`` false: take it back)."""

    by: Principal
    entry_id: str
    published: bool


@dataclass(frozen=True)
class SetRetentionPolicy(Command):
    """Set the agency's period for a data class (or one camera's recordings); ``period_days``
    None removes the line (the agency's or the default period applies again)."""

    by: Principal
    data_class: str
    period_days: int | None
    camera_id: str | None = None


@dataclass(frozen=True)
class PlaceLegalHold(Command):
    by: Principal
    case_reference: str
    reason: str
    camera_ids: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    detection_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReleaseLegalHold(Command):
    by: Principal
    hold_id: str
    reason: str


@dataclass(frozen=True)
class PurgeExpired(Command):
    """Delete the caller's agency's data past its retention period and not held.
    ``record_empty`` false: a run that deleted nothing leaves no audit record (scheduled runs)."""

    by: Principal
    dry_run: bool = False
    record_empty: bool = True


@dataclass(frozen=True)
class AcknowledgeSecurityAlert(Command):
    by: Principal
    alert_id: str
    note: str | None = None


@dataclass(frozen=True)
class CloseSecurityAlert(Command):
    by: Principal
    alert_id: str
    note: str


@dataclass(frozen=True)
class RegisterEgressDestination(Command):
    """Ask for an outbound destination to be allowed (it stays blocked until approved)."""

    by: Principal
    name: str
    purpose: str
    url: str
    note: str | None = None


@dataclass(frozen=True)
class ApproveEgressDestination(Command):
    by: Principal
    destination_id: str


@dataclass(frozen=True)
class RevokeEgressDestination(Command):
    by: Principal
    destination_id: str
    reason: str


@dataclass(frozen=True)
class OpenBreachCase(Command):
    """An auditor opens a breach case by hand (a suspected breach reported to them)."""

    by: Principal
    description: str
    data_classes: tuple[str, ...] = ()
    camera_ids: tuple[str, ...] = ()
    high_risk: bool | None = None
    detected_at: datetime | None = None


@dataclass(frozen=True)
class MarkBreachNotice(Command):
    """A breach notice (``authority`` or ``data_subjects``) was sent; ``reference`` names it."""

    by: Principal
    case_id: str
    kind: str
    reference: str


@dataclass(frozen=True)
class CloseBreachCase(Command):
    by: Principal
    case_id: str
    note: str


@dataclass(frozen=True)
class RecordImpactAssessment(Command):
    """A data-protection impact assessment for a monitoring centre's cameras (a draft)."""

    by: Principal
    centre_id: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class ApproveImpactAssessment(Command):
    by: Principal
    assessment_id: str
    note: str | None = None


# -- alerts (issue 5) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RaiseAlert(Command):
    """An operator raises an alert by hand (optionally on a camera: its place and snapshot)."""

    by: Principal
    category: str
    severity: str
    urgency: str
    certainty: str
    event: str
    headline: str
    description: str = ""
    camera_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class HandleAlert(Command):
    """An operator action on an alert: ``acknowledge``, ``escalate``, ``assign`` (``to`` a
    username of the agency), ``dismiss`` (``note`` = why it is a false alarm) or ``close``."""

    by: Principal
    alert_id: str
    action: str
    to: str | None = None
    note: str | None = None
