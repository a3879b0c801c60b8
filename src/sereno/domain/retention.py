"""Retention of data by class, and legal holds that suspend it.

Every piece of data Sereno keeps belongs to one *data class*; each agency has a retention period
per class (the defaults below, documented against Ecuador's LOPDP in
``docs/governance/retention.md``), and recordings may have a period per camera. Data older than
its period is purged, unless a *legal hold* covers it: a hold names a case (a prosecutor's case
number or an incident) and covers cameras over a time range and/or specific detections. Held
data is never purged, whatever the period or the disk budget says.

Pure: no clock, no I/O. Times are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sereno.domain.errors import InvalidInput


class DataClass(StrEnum):
    """What kind of data a retention period applies to."""

    RECORDING = "recording"  # continuous recording segments
    EVENT_CLIP = "event_clip"  # clips cut around detections
    SNAPSHOT = "snapshot"  # annotated detection snapshots
    ALERT = "alert"  # stored detection events (the alert queue joins this class later)
    PERSONAL_DATA = "personal_data"  # plate hits, watchlist entries, ended sessions and tokens
    AUDIT = "audit"  # the audit log: sealed, never deleted by the purge


#: Default periods in days (LOPDP art. 10: purpose, minimisation, and keeping data no longer
#: than its purpose needs; the reasoning per class is in docs/governance/retention.md).
DEFAULT_PERIOD_DAYS: dict[DataClass, int] = {
    DataClass.RECORDING: 30,
    DataClass.EVENT_CLIP: 90,
    DataClass.SNAPSHOT: 90,
    DataClass.ALERT: 365,
    DataClass.PERSONAL_DATA: 30,
    DataClass.AUDIT: 1825,
}
MAX_PERIOD_DAYS = 3650
#: The audit log proves what was done with the data: an administrator cannot shorten it below a
#: year (the log's own pruning, if any, is the sealed log's business).
MIN_PERIOD_DAYS: dict[DataClass, int] = {c: (365 if c is DataClass.AUDIT else 1)
                                         for c in DataClass}
AUDIT_KEPT_NOTE = "kept (sealed log; pruning handled by the audit log)"


def parse_data_class(value: str) -> DataClass:
    """The data class named ``value``; an unknown name → InvalidInput listing the known ones."""
    try:
        return DataClass(value.strip().lower())
    except ValueError:
        known = ", ".join(c.value for c in DataClass)
        raise InvalidInput(f"unknown data class {value.strip()[:40]!r} (known: {known})") from None


def validate_period(data_class: DataClass, period_days: int) -> int:
    """A whole number of days within the class's bounds."""
    if isinstance(period_days, bool) or not isinstance(period_days, int):
        raise InvalidInput("period_days must be a whole number of days")
    low, high = MIN_PERIOD_DAYS[data_class], MAX_PERIOD_DAYS
    if not low <= period_days <= high:
        raise InvalidInput(f"the {data_class.value} period must be {low} to {high} days "
                           f"(got {period_days})")
    return period_days


@dataclass(frozen=True)
class RetentionPolicy:
    """An agency's period for one data class, or for one camera's recordings."""

    agency_id: str
    data_class: DataClass
    period_days: int
    camera_id: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None  # username

    @property
    def period(self) -> timedelta:
        return timedelta(days=self.period_days)


@dataclass(frozen=True)
class EffectivePolicies:
    """The periods that apply to one agency: its own choices over the defaults."""

    agency_id: str
    policies: tuple[RetentionPolicy, ...] = ()

    def period_days(self, data_class: DataClass, camera_id: str | None = None) -> int:
        """A camera's own recording period, else the agency's, else the default."""
        if camera_id is not None:
            for policy in self.policies:
                if policy.data_class is data_class and policy.camera_id == camera_id:
                    return policy.period_days
        for policy in self.policies:
            if policy.data_class is data_class and policy.camera_id is None:
                return policy.period_days
        return DEFAULT_PERIOD_DAYS[data_class]

    def period(self, data_class: DataClass, camera_id: str | None = None) -> timedelta:
        return timedelta(days=self.period_days(data_class, camera_id))

    def listing(self) -> list[RetentionPolicy]:
        """One line per class (default or the agency's) and the per-camera recording lines."""
        lines: list[RetentionPolicy] = []
        for data_class in DataClass:
            own = next((p for p in self.policies
                        if p.data_class is data_class and p.camera_id is None), None)
            lines.append(own or RetentionPolicy(self.agency_id, data_class,
                                                DEFAULT_PERIOD_DAYS[data_class]))
        lines.extend(sorted((p for p in self.policies if p.camera_id is not None),
                            key=lambda p: (p.data_class.value, p.camera_id or "")))
        return lines


# -- legal holds ---------------------------------------------------------------------------------

MAX_HOLD_CAMERAS = 50
MAX_HOLD_DETECTIONS = 500
MAX_HOLD_SPAN = timedelta(days=366)
MIN_REASON = 5


def validate_reason(value: str, what: str = "reason") -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not MIN_REASON <= len(text) <= 500:
        raise InvalidInput(f"the {what} must be {MIN_REASON} to 500 characters")
    return text


@dataclass(eq=False)
class LegalHold:
    """Data of one agency kept whatever its retention says, for a case.

    Scope: ``camera_ids`` over [``start``, ``end``) (recordings, clips, snapshots and detection
    events of those cameras in that range) and/or ``detection_ids`` (those detections, their
    snapshots and clips)."""

    id: str
    agency_id: str
    case_reference: str
    reason: str
    placed_by: str  # user id
    placed_by_username: str
    placed_at: datetime
    camera_ids: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    detection_ids: list[str] = field(default_factory=list)
    released_at: datetime | None = None
    released_by: str | None = None
    released_by_username: str | None = None
    release_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.released_at is None

    def covers_range(self, camera_id: str, start: datetime, end: datetime) -> bool:
        """Does the hold cover any part of ``camera_id``'s footage over [start, end)?"""
        return (self.active and self.start is not None and self.end is not None
                and camera_id in self.camera_ids and start < self.end and end > self.start)

    def covers_event(self, event_id: str, camera_id: str, at: datetime) -> bool:
        """Does the hold cover this detection (by id, or by camera and time)?"""
        if not self.active:
            return False
        if event_id in self.detection_ids:
            return True
        return (self.start is not None and self.end is not None
                and camera_id in self.camera_ids and self.start <= at < self.end)

    def release(self, user_id: str, username: str, reason: str, now: datetime) -> None:
        if not self.active:
            raise InvalidInput("this legal hold was already released")
        self.released_at, self.released_by = now, user_id
        self.released_by_username, self.release_reason = username, validate_reason(reason)


def validate_hold_scope(camera_ids: list[str], start: datetime | None, end: datetime | None,
                        detection_ids: list[str]) -> None:
    """A hold covers something, and its range makes sense."""
    if not camera_ids and not detection_ids:
        raise InvalidInput("a legal hold covers cameras over a time range, detections, or both")
    if len(camera_ids) > MAX_HOLD_CAMERAS or len(detection_ids) > MAX_HOLD_DETECTIONS:
        raise InvalidInput(f"a legal hold covers at most {MAX_HOLD_CAMERAS} cameras and "
                           f"{MAX_HOLD_DETECTIONS} detections")
    if camera_ids and (start is None or end is None):
        raise InvalidInput("cameras are held over a time range: give start and end")
    if not camera_ids and (start is not None or end is not None):
        raise InvalidInput("a time range is held on cameras: name the cameras")
    if start is not None and end is not None:
        if start.tzinfo is None or end.tzinfo is None:
            raise InvalidInput("start and end need a time zone (e.g. 2026-11-25T10:00:00Z)")
        if end <= start:
            raise InvalidInput("end must be after start")
        if end - start > MAX_HOLD_SPAN:
            raise InvalidInput("a legal hold spans at most 366 days; place several holds")


@dataclass(frozen=True)
class HoldSet:
    """The active holds of one agency, asked about one item at a time."""

    holds: tuple[LegalHold, ...] = ()

    def holds_range(self, camera_id: str, start: datetime, end: datetime) -> bool:
        return any(h.covers_range(camera_id, start, end) for h in self.holds)

    def holds_event(self, event_id: str, camera_id: str, at: datetime) -> bool:
        return any(h.covers_event(event_id, camera_id, at) for h in self.holds)
