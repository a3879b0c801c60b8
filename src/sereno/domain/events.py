"""Domain events: facts that happened. Handlers on the message bus react to them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Event:
    """Marker base class for domain events."""


@dataclass(frozen=True)
class CameraRegistered(Event):
    camera_id: str
    owner_agency_id: str


@dataclass(frozen=True)
class CameraUpdated(Event):
    camera_id: str
    owner_agency_id: str
    changed: tuple[str, ...]


@dataclass(frozen=True)
class CameraRetired(Event):
    camera_id: str
    owner_agency_id: str


@dataclass(frozen=True)
class CameraStatusChanged(Event):
    camera_id: str
    owner_agency_id: str
    status: str
    reason: str


@dataclass(frozen=True)
class CamerasImported(Event):
    owner_agency_id: str
    camera_ids: tuple[str, ...]


@dataclass(frozen=True)
class UserLockedOut(Event):
    user_id: str
    agency_id: str
    username: str


@dataclass(frozen=True)
class DetectionEvent(Event):
    """A camera rule matched: what was seen, where in the picture, when, and the evidence."""

    event_id: str
    camera_id: str
    owner_agency_id: str
    rule_id: str | None
    rule_kind: str
    classes: tuple[str, ...]
    track_ids: tuple[int, ...]
    confidence: float
    box: tuple[float, float, float, float]  # normalised x1, y1, x2, y2
    snapshot_key: str | None
    at: datetime
    clip_key: str | None = None  # the event clip, cut from the recording once it exists
    detail: dict[str, Any] = field(default_factory=dict, compare=False)  # e.g. the plate read

    def shown_to(self, agency_id: str) -> bool:
        """A watchlist hit is personal data of the agency whose list matched: nobody else sees
        it, not even the camera's owner; any other detection follows the camera's visibility."""
        watching = self.detail.get("watching_agency")
        return self.rule_kind != "plate" or watching in (None, agency_id)


@dataclass(frozen=True)
class EventClipReady(Event):
    event_id: str
    camera_id: str
    clip_key: str


@dataclass(frozen=True)
class VideoQualityChanged(Event):
    """A tamper or quality condition started or ended on a camera (black, frozen, covered…)."""

    camera_id: str
    owner_agency_id: str
    kind: str
    active: bool
    value: float
    threshold: float
    at: datetime


@dataclass(frozen=True)
class CameraRulesChanged(Event):
    camera_id: str


@dataclass(frozen=True)
class WatchlistChanged(Event):
    agency_id: str


@dataclass(frozen=True)
class TracksUpdated(Event):
    """What a camera's tracker sees now (for boxes over live view; not stored)."""

    camera_id: str
    at: float
    tracks: tuple[tuple[int, str, float, float, float, float], ...]  # id, class, x1 y1 x2 y2 (0..1)


@dataclass(frozen=True)
class SecurityAlertRaised(Event):
    """A security alert for ``agency_id``'s auditors (consoles show it live)."""

    alert_id: str
    agency_id: str
    kind: str
    severity: str
    summary: str
    at: datetime


@dataclass(frozen=True)
class SecurityAlertChanged(Event):
    """An alert was acknowledged or closed."""

    alert_id: str
    agency_id: str
    status: str


@dataclass(frozen=True)
class BreachCaseOpened(Event):
    case_id: str
    agency_id: str
    trigger: str
    authority_due_at: datetime


@dataclass(frozen=True)
class EgressDestinationChanged(Event):
    """A destination was registered, approved or revoked (caches of the registry drop it)."""

    destination_id: str
    agency_id: str
    state: str


@dataclass(frozen=True)
class ImpactAssessmentChanged(Event):
    """An impact assessment was recorded or approved (the video workers reload)."""

    assessment_id: str
    agency_id: str
    centre_id: str
    status: str


@dataclass(frozen=True)
class AlertRaised(Event):
    """A new alert in ``agency_id``'s queue."""

    alert_id: str
    agency_id: str
    source: str
    category: str
    severity: str
    headline: str
    at: datetime


@dataclass(frozen=True)
class AlertChanged(Event):
    """An alert changed: ``action`` is an ``ActionKind`` value (repeated, acknowledged…)."""

    alert_id: str
    agency_id: str
    action: str
    status: str
    version: int
    at: datetime


@dataclass(frozen=True)
class IncidentCreated(Event):
    """A new incident of ``agency_id`` (ADR 0031)."""

    incident_id: str
    agency_id: str
    number: str
    type_code: str
    priority: int
    status: str
    title: str
    source: str
    at: datetime


@dataclass(frozen=True)
class IncidentChanged(Event):
    """An incident changed: ``action`` is the timeline event kind (transition, note…)."""

    incident_id: str
    agency_id: str
    action: str
    status: str
    version: int
    at: datetime
