"""Alerts: something in the city needs an operator now.

An alert lives in one agency's queue (``agency_id``). It is raised from a detection (and then
*correlated*: repeated detections of the same camera and rule within a window update it with a
count instead of raising new ones), by an operator by hand, from an external CAP feed, or by a
partner agency under a sharing agreement (a received copy that points back at its origin).

Its vocabulary is CAP 1.2's (category, severity, urgency, certainty), so it exports to CAP
without loss. Every operator action (acknowledge, escalate, assign, dismiss as a false alarm,
close) is timestamped on the alert and kept as an ``AlertAction``: the indicators measure time to
acknowledge and the false-alarm rate from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sereno.domain.errors import Conflict, InvalidInput


class Category(StrEnum):
    """CAP 1.2 ``category``."""

    GEO = "Geo"
    MET = "Met"
    SAFETY = "Safety"
    SECURITY = "Security"
    RESCUE = "Rescue"
    FIRE = "Fire"
    HEALTH = "Health"
    ENV = "Env"
    TRANSPORT = "Transport"
    INFRA = "Infra"
    CBRNE = "CBRNE"
    OTHER = "Other"


class Severity(StrEnum):
    """CAP 1.2 ``severity``; ``rank`` orders them (Unknown lowest)."""

    EXTREME = "Extreme"
    SEVERE = "Severe"
    MODERATE = "Moderate"
    MINOR = "Minor"
    UNKNOWN = "Unknown"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.UNKNOWN: 0, Severity.MINOR: 1, Severity.MODERATE: 2,
                  Severity.SEVERE: 3, Severity.EXTREME: 4}


class Urgency(StrEnum):
    """CAP 1.2 ``urgency``."""

    IMMEDIATE = "Immediate"
    EXPECTED = "Expected"
    FUTURE = "Future"
    PAST = "Past"
    UNKNOWN = "Unknown"


class Certainty(StrEnum):
    """CAP 1.2 ``certainty`` (``Very Likely`` of CAP 1.0 is read as Likely)."""

    OBSERVED = "Observed"
    LIKELY = "Likely"
    POSSIBLE = "Possible"
    UNLIKELY = "Unlikely"
    UNKNOWN = "Unknown"


class AlertSource(StrEnum):
    DETECTION = "detection"
    MANUAL = "manual"
    EXTERNAL = "external"  # a CAP message from an outside system
    PARTNER = "partner"  # shared by another agency under an agreement


class AlertStatus(StrEnum):
    """``open`` → ``acknowledged`` → ``closed``; or ``dismissed`` (false alarm, with a reason);
    ``cancelled`` when its source withdrew it (CAP Cancel, partner cancel)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    DISMISSED = "dismissed"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        return self in (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


class ActionKind(StrEnum):
    RAISED = "raised"
    REPEATED = "repeated"  # a correlated detection
    UPDATED = "updated"  # by its source (CAP Update, partner update)
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    ASSIGNED = "assigned"
    DISMISSED = "dismissed"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    PARTNER_ACKNOWLEDGED = "partner_acknowledged"  # a partner's operator took it


E = TypeVar("E", bound=StrEnum)

HEADLINE_MAX = 160
TEXT_MAX = 2000
REASON_MIN = 3
MAX_ESCALATION = 3
CORRELATION_WINDOW = timedelta(minutes=2)


def parse_enum(kind: type[E], value: str, what: str) -> E:
    """``value`` as a member of ``kind``; ``InvalidInput`` naming the known values otherwise."""
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(m.value for m in kind)
        raise InvalidInput(f"unknown {what} {value!r} (known: {known})") from None


@dataclass(eq=False)
class AlertAction:
    """One timestamped thing that happened to an alert."""

    alert_id: str
    kind: ActionKind
    by: str
    at: datetime
    note: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class Alert:
    """One alert in one agency's queue."""

    id: str
    agency_id: str
    source: AlertSource
    category: Category
    severity: Severity
    urgency: Urgency
    certainty: Certainty
    event: str  # what, in a few words (CAP ``event``)
    headline: str
    raised_at: datetime
    raised_by: str
    description: str = ""
    status: AlertStatus = AlertStatus.OPEN
    latitude: float | None = None
    longitude: float | None = None
    area: dict[str, Any] | None = None  # GeoJSON Polygon (lon, lat), when wider than a point
    camera_ids: list[str] = field(default_factory=list)
    detection_ids: list[str] = field(default_factory=list)
    snapshot_key: str | None = None
    clip_key: str | None = None
    rule_id: str | None = None
    correlation_key: str | None = None
    count: int = 1
    last_seen_at: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    escalation_level: int = 0
    escalated_at: datetime | None = None
    assigned_to: str | None = None
    assigned_at: datetime | None = None
    dismissed_at: datetime | None = None
    dismiss_reason: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    close_note: str | None = None
    # A received alert: who raised it first, where, under which id; what the agreement did.
    origin_agency_id: str | None = None
    origin_node: str | None = None
    origin_alert_id: str | None = None
    redacted: bool = False
    media_withheld: bool = False
    # An alert imported from CAP: the message that created it (deduplication key).
    cap_sender: str | None = None
    cap_identifier: str | None = None
    cap_sent: str | None = None
    version: int = 1
    updated_at: datetime | None = None

    # ---- creation -------------------------------------------------------------------------

    @classmethod
    def raise_new(cls, *, alert_id: str, agency_id: str, source: AlertSource, category: str,
                  severity: str, urgency: str, certainty: str, event: str, headline: str,
                  at: datetime, by: str, description: str = "", **extra: Any) -> Alert:
        """A new open alert; ``InvalidInput`` for an unknown CAP value or an empty headline."""
        text = " ".join(headline.split())
        what = " ".join(event.split())
        if not text or not what:
            raise InvalidInput("an alert needs an event and a headline")
        if len(text) > HEADLINE_MAX:
            raise InvalidInput(f"the headline is longer than {HEADLINE_MAX} characters")
        if len(description) > TEXT_MAX:
            raise InvalidInput(f"the description is longer than {TEXT_MAX} characters")
        _check_position(extra.get("latitude"), extra.get("longitude"))
        return cls(
            id=alert_id, agency_id=agency_id, source=source,
            category=parse_enum(Category, category, "category"),
            severity=parse_enum(Severity, severity, "severity"),
            urgency=parse_enum(Urgency, urgency, "urgency"),
            certainty=parse_enum(Certainty, certainty, "certainty"),
            event=what[:HEADLINE_MAX], headline=text, description=description.strip(),
            raised_at=at, raised_by=by, last_seen_at=at, updated_at=at, **extra)

    # ---- correlation ----------------------------------------------------------------------

    def correlates(self, key: str, at: datetime, window: timedelta = CORRELATION_WINDOW) -> bool:
        """Whether a new detection with correlation ``key`` at ``at`` repeats this alert:
        same camera and rule, still active, last seen within ``window``."""
        last = self.last_seen_at or self.raised_at
        return (self.correlation_key == key and self.status.active
                and timedelta(0) <= at - last <= window)

    def repeat(self, at: datetime, detection_id: str, snapshot_key: str | None) -> None:
        """Count one more correlated detection (the newest snapshot becomes the alert's)."""
        self.count += 1
        self.last_seen_at = at
        if detection_id not in self.detection_ids:
            self.detection_ids = [*self.detection_ids[-49:], detection_id]
        if snapshot_key:
            self.snapshot_key = snapshot_key
        self._touch(at)

    # ---- operator actions -----------------------------------------------------------------

    def acknowledge(self, by: str, at: datetime) -> None:
        """Someone has it. Only an open alert can be acknowledged."""
        if self.status is not AlertStatus.OPEN:
            raise Conflict(f"the alert is {self.status.value}, not open")
        self.status = AlertStatus.ACKNOWLEDGED
        self.acknowledged_by, self.acknowledged_at = by, at
        self._touch(at)

    def escalate(self, by: str, at: datetime) -> None:
        """Raise it one level (to the supervisor, then the centre chief…); acknowledges it."""
        self._require_active("escalate")
        if self.escalation_level >= MAX_ESCALATION:
            raise Conflict(f"the alert is already at the highest escalation level "
                           f"({MAX_ESCALATION})")
        if self.acknowledged_at is None:
            self.acknowledged_by, self.acknowledged_at = by, at
            self.status = AlertStatus.ACKNOWLEDGED
        self.escalation_level += 1
        self.escalated_at = at
        self._touch(at)

    def assign(self, to: str, at: datetime) -> None:
        """Give it to a named user of the agency (the caller checks the user exists)."""
        self._require_active("assign")
        if to == self.assigned_to:
            raise Conflict(f"the alert is already assigned to {to}")
        self.assigned_to, self.assigned_at = to, at
        self._touch(at)

    def dismiss(self, by: str, at: datetime, reason: str) -> None:
        """A false alarm: ``reason`` says why (it feeds the false-alarm indicators)."""
        self._require_active("dismiss")
        text = " ".join((reason or "").split())
        if len(text) < REASON_MIN:
            raise InvalidInput("dismissing an alert as a false alarm needs a reason")
        if self.acknowledged_at is None:
            self.acknowledged_by, self.acknowledged_at = by, at
        self.status = AlertStatus.DISMISSED
        self.dismissed_at, self.dismiss_reason = at, text[:TEXT_MAX]
        self._touch(at)

    def close(self, by: str, at: datetime, note: str | None = None) -> None:
        """Dealt with."""
        self._require_active("close")
        if self.acknowledged_at is None:
            self.acknowledged_by, self.acknowledged_at = by, at
        self.status = AlertStatus.CLOSED
        self.closed_by, self.closed_at = by, at
        self.close_note = (note or "").strip()[:TEXT_MAX] or None
        self._touch(at)

    def cancel(self, at: datetime) -> None:
        """Withdrawn by its source. Cancelling a finished alert changes nothing."""
        if self.status.active:
            self.status = AlertStatus.CANCELLED
            self._touch(at)

    def update_from_source(self, at: datetime, **changes: Any) -> list[str]:
        """Apply a newer version from the alert's source (CAP Update, partner update); returns
        the names of the fields that changed. Operator-side state is left alone."""
        allowed = {"category", "severity", "urgency", "certainty", "event", "headline",
                   "description", "latitude", "longitude", "area", "count", "last_seen_at",
                   "snapshot_key", "clip_key", "redacted", "media_withheld"}
        changed = []
        for name, value in changes.items():
            if name not in allowed:
                raise ValueError(f"{name} is not updated by the alert's source")
            if getattr(self, name) != value:
                setattr(self, name, value)
                changed.append(name)
        if changed:
            self._touch(at)
        return changed

    def note_partner_action(self, at: datetime) -> None:
        """A partner agency acted on its copy: the alert's state is unchanged, its version not
        (whoever shows it must show the partner's action too)."""
        self._touch(at)

    def _require_active(self, verb: str) -> None:
        if not self.status.active:
            raise Conflict(f"cannot {verb} an alert that is {self.status.value}")

    def _touch(self, at: datetime) -> None:
        self.version += 1
        self.updated_at = at


def correlation_key(camera_id: str, rule_id: str | None, rule_kind: str) -> str:
    """Detections of one camera and rule correlate into one alert."""
    return f"{camera_id}/{rule_id or rule_kind}"


def _check_position(latitude: object, longitude: object) -> None:
    if (latitude is None) != (longitude is None):
        raise InvalidInput("give both latitude and longitude, or neither")
    if isinstance(latitude, int | float) and not -90 <= latitude <= 90:
        raise InvalidInput("latitude must be between -90 and 90")
    if isinstance(longitude, int | float) and not -180 <= longitude <= 180:
        raise InvalidInput("longitude must be between -180 and 180")


# ---- the shared form --------------------------------------------------------------------------

WIRE_FIELDS = ("category", "severity", "urgency", "certainty", "event", "headline",
               "description", "status", "latitude", "longitude", "area", "count", "version")


def to_wire(alert: Alert) -> dict[str, Any]:
    """What a partner agency receives of ``alert`` (no media, no operator names, no internal
    keys): the JSON body of ``alert.raised`` / ``alert.updated`` messages."""
    wire: dict[str, Any] = {name: getattr(alert, name) for name in WIRE_FIELDS}
    for name in ("category", "severity", "urgency", "certainty", "status"):
        wire[name] = wire[name].value
    wire.update(id=alert.id, agency_id=alert.agency_id, source=alert.source.value,
                raised_at=alert.raised_at.isoformat(),
                last_seen_at=(alert.last_seen_at or alert.raised_at).isoformat(),
                cameras=list(alert.camera_ids))
    return wire


def copy_from_wire(wire: dict[str, Any], *, alert_id: str, agency_id: str,
                   origin_node: str | None, at: datetime, redacted: bool,
                   media_withheld: bool) -> Alert:
    """``agency_id``'s received copy of a partner's alert (``InvalidInput`` if malformed)."""
    try:
        raised_at = datetime.fromisoformat(str(wire["raised_at"]))
        copy = Alert.raise_new(
            alert_id=alert_id, agency_id=agency_id, source=AlertSource.PARTNER,
            category=str(wire["category"]), severity=str(wire["severity"]),
            urgency=str(wire["urgency"]), certainty=str(wire["certainty"]),
            event=str(wire["event"]), headline=str(wire["headline"]),
            description=str(wire.get("description") or ""), at=raised_at,
            by=f"partner:{wire['agency_id']}", latitude=wire.get("latitude"),
            longitude=wire.get("longitude"), area=wire.get("area"),
            camera_ids=[str(c) for c in wire.get("cameras") or []][:20],
            origin_agency_id=str(wire["agency_id"]), origin_node=origin_node,
            origin_alert_id=str(wire["id"]), redacted=redacted, media_withheld=media_withheld)
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidInput(f"malformed shared alert: {error}") from None
    copy.count = int(wire.get("count") or 1)
    copy.updated_at = at
    return copy


def update_from_wire(copy: Alert, wire: dict[str, Any], at: datetime) -> list[str]:
    """Apply a partner's newer version to its received copy; returns the changed fields.
    A cancelled or finished original cancels the copy (operators' own state stays)."""
    copied = ("event", "headline", "description", "latitude", "longitude", "area", "count")
    changes: dict[str, Any] = {name: wire[name] for name in copied if name in wire}
    try:
        for name, kind in (("category", Category), ("severity", Severity),
                           ("urgency", Urgency), ("certainty", Certainty)):
            if name in wire:
                changes[name] = parse_enum(kind, str(wire[name]), name)
        if "last_seen_at" in wire:
            changes["last_seen_at"] = datetime.fromisoformat(str(wire["last_seen_at"]))
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"malformed shared alert update: {error}") from None
    changed = copy.update_from_source(at, **changes)
    if wire.get("status") in (AlertStatus.CANCELLED.value,) and copy.status.active:
        copy.cancel(at)
        changed.append("status")
    return changed
