"""Access anomalies: per-user baselines of footage access, shifts, and the four detectors.

Everything here is pure: the scan (``services/anomalies.py``) reads the audit log, hands the
facts to these functions and raises a security alert per finding. See ADR 0015.

* **Categories.** Live views (``footage.live``: streams and camera snapshots), playbacks
  (``footage.playback``), exports (``footage.export`` and evidence exports/downloads) and
  downloads of detection media (``footage.snapshot``, ``footage.clip``).
* **Baselines.** For each user and category, the daily counts of the last ``lookback_days``
  local days (today excluded) on which the user was active at all: mean and spread. A user with
  fewer than ``min_history_days`` such days is *new* and gets the category's floor instead.
* **Bulk pull.** More records of one category within ``window`` than
  ``max(floor, mean + sigma × spread)`` of a whole day: more in an hour than the user normally
  does in a day, by a margin, and never fewer than the floor.
* **Outside shift.** A footage access by a user whose shift (their own, else their roles') does
  not cover the moment, with ``shift_grace`` on either side. A user without any shift is not
  checked.
* **Outside assignment.** Footage of a camera that is neither assigned to the user nor in one of
  their assigned centres (users with an assignment only). The policies refuse this to operators;
  supervisors and analysts are allowed, and flagged.
* **Many denials.** ``denials`` or more refused requests of one user within ``denial_window``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sereno.domain.errors import InvalidInput
from sereno.domain.governance import AccessProfile
from sereno.domain.rules import Schedule, ScheduleWindow

LOCAL_TIMEZONE = "America/Guayaquil"


def local_zone(name: str = LOCAL_TIMEZONE) -> tzinfo:
    """The zone shifts and daily baselines are counted in (Guayaquil: UTC-5 all year, which is
    also the fallback where the system has no time-zone database)."""
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        return timezone(timedelta(hours=-5), "ECT")


class Category(StrEnum):
    """What kind of footage access a record is."""

    VIEW = "view"          # live pictures: streams and camera snapshots
    PLAYBACK = "playback"  # replaying a recording
    EXPORT = "export"      # evidence exports and their downloads
    DOWNLOAD = "download"  # a detection's snapshot or clip


FOOTAGE_ACTIONS: dict[str, Category] = {
    "footage.live": Category.VIEW,
    "footage.playback": Category.PLAYBACK,
    "footage.export": Category.EXPORT,
    "footage.snapshot": Category.DOWNLOAD,
    "footage.clip": Category.DOWNLOAD,
}
EVIDENCE_EXPORT_SUFFIXES = (".export", ".download", ".package")


def category_of(action: str) -> Category | None:
    """The footage category of an audit action, or ``None`` for anything else."""
    found = FOOTAGE_ACTIONS.get(action)
    if found is not None:
        return found
    if action.startswith("evidence.") and action.endswith(EVIDENCE_EXPORT_SUFFIXES):
        return Category.EXPORT
    return None


class Detector(StrEnum):
    BULK_PULL = "bulk_pull"
    OFF_SHIFT = "off_shift"
    OUTSIDE_ASSIGNMENT = "outside_assignment"
    MANY_DENIALS = "many_denials"


SEVERITY = {Detector.BULK_PULL: "high", Detector.OFF_SHIFT: "medium",
            Detector.OUTSIDE_ASSIGNMENT: "medium", Detector.MANY_DENIALS: "medium"}
MAX_EVIDENCE_IDS = 50  # record ids kept in an alert; the count says how many there were


@dataclass(frozen=True)
class Thresholds:
    """The detectors' parameters (``[anomalies]`` in the settings)."""

    lookback_days: int = 14
    min_history_days: int = 3
    sigma: float = 3.0
    window: timedelta = timedelta(minutes=60)
    floors: Mapping[Category, int] = field(default_factory=lambda: {
        # A video wall of 16 tiles refreshes ~9 000 snapshots an hour: views need a high floor.
        Category.VIEW: 20_000, Category.PLAYBACK: 30, Category.EXPORT: 10,
        Category.DOWNLOAD: 150})
    denials: int = 5
    denial_window: timedelta = timedelta(minutes=10)
    shift_grace: timedelta = timedelta(minutes=30)
    assignment_quiet: timedelta = timedelta(hours=24)  # one alert per user and camera a day
    #: Records older than this when first scanned only feed the baselines (a first scan of a
    #: long history must not raise alerts about last year).
    stale_after: timedelta = timedelta(hours=24)
    #: Records younger than this wait for the next scan (a transaction that took an id earlier
    #: may not have committed yet).
    settle: timedelta = timedelta(seconds=5)


# -- baselines --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Baseline:
    """One user's usual daily volume of one category."""

    category: Category
    mean: float
    spread: float
    days: int  # active days it was computed from
    new_user: bool

    def threshold(self, thresholds: Thresholds) -> int:
        """How many records of the category in one window make a bulk pull."""
        floor = thresholds.floors[self.category]
        if self.new_user:
            return floor
        return max(floor, math.ceil(self.mean + thresholds.sigma * self.spread))

    def as_dict(self) -> dict[str, Any]:
        return {"mean": round(self.mean, 2), "spread": round(self.spread, 2), "days": self.days,
                "new_user": self.new_user}


def baseline(category: Category, daily: Mapping[date, Mapping[Category, int]], day: date,
             thresholds: Thresholds) -> Baseline:
    """The baseline of ``category`` on ``day`` from a user's daily counts (any days given;
    only the ``lookback_days`` before ``day`` count, and only days with any activity)."""
    first = day - timedelta(days=thresholds.lookback_days)
    active = [counts.get(category, 0) for d, counts in daily.items()
              if first <= d < day and any(counts.values())]
    if not active:
        return Baseline(category, 0.0, 0.0, 0, True)
    mean = sum(active) / len(active)
    spread = math.sqrt(sum((n - mean) ** 2 for n in active) / len(active))
    return Baseline(category, mean, spread, len(active),
                    len(active) < thresholds.min_history_days)


# -- sliding windows --------------------------------------------------------------------------

@dataclass(frozen=True)
class Peak:
    """The busiest window ending at one of the newly scanned records."""

    count: int
    record_ids: tuple[int, ...]
    start: datetime
    end: datetime


def peak_window(records: Sequence[tuple[int, datetime]], new_ids: set[int],
                window: timedelta) -> Peak | None:
    """Slide ``window`` over ``records`` (id, at — any order) and return the busiest window
    that *ends* at a record in ``new_ids`` (older windows were judged by earlier scans)."""
    ordered = sorted(records, key=lambda r: (r[1], r[0]))
    best: Peak | None = None
    left = 0
    for right, (record_id, at) in enumerate(ordered):
        while ordered[left][1] <= at - window:
            left += 1
        if record_id not in new_ids:
            continue
        count = right - left + 1
        if best is None or count > best.count:
            inside = ordered[left:right + 1]
            best = Peak(count, tuple(r[0] for r in inside), inside[0][1], at)
    return best


# -- shifts -----------------------------------------------------------------------------------

class ShiftSubject(StrEnum):
    ROLE = "role"
    USER = "user"


@dataclass(eq=False)
class ShiftAssignment:
    """A weekly schedule for every user of a role of an agency, or for one user (which then
    replaces their roles' schedules)."""

    agency_id: str
    subject_type: ShiftSubject
    subject: str  # a role name or a user id
    schedule: Schedule
    updated_by: str
    updated_at: datetime


def effective_shift(user_id: str, roles: Iterable[str],
                    assignments: Iterable[ShiftAssignment]) -> Schedule | None:
    """The user's own schedule, else the union of their roles' schedules, else ``None``
    (no shift: never judged off-shift). A schedule without windows means "always"."""
    role_names = set(roles)
    own: Schedule | None = None
    by_role: list[Schedule] = []
    for a in assignments:
        if a.subject_type is ShiftSubject.USER and a.subject == user_id:
            own = a.schedule
        elif a.subject_type is ShiftSubject.ROLE and a.subject in role_names:
            by_role.append(a.schedule)
    if own is not None:
        return own
    if not by_role:
        return None
    if any(not s.windows for s in by_role):
        return Schedule((), by_role[0].timezone)
    return Schedule(tuple(w for s in by_role for w in s.windows), by_role[0].timezone)


def _active(schedule: Schedule, moment: datetime) -> bool:
    if not schedule.windows:
        return True
    local = moment.astimezone(local_zone(schedule.timezone))
    return any(w.contains(local) for w in schedule.windows)


def on_shift(schedule: Schedule, moment: datetime, grace: timedelta) -> bool:
    """True when ``moment`` is within a shift window or ``grace`` before or after one."""
    return any(_active(schedule, moment + delta) for delta in (timedelta(0), -grace, grace))


def shift_resumes(schedule: Schedule, moment: datetime, grace: timedelta,
                  limit: timedelta = timedelta(hours=24)) -> datetime:
    """When the user is next on shift after ``moment`` (in 5-minute steps, at most ``limit``
    later): the end of the off-shift period an alert stands for."""
    step = timedelta(minutes=5)
    probe = moment + step
    while probe < moment + limit:
        if on_shift(schedule, probe, grace):
            return probe
        probe += step
    return moment + limit


DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(r"^\s*(?P<days>[a-z,\-]+)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*"
                   r"(?P<end>\d{1,2}:\d{2})\s*$")


def _days(text: str) -> frozenset[int]:
    if text in ("daily", "every"):
        return frozenset(range(7))
    days: set[int] = set()
    for piece in text.split(","):
        if "-" in piece:
            first, last = (DAY_NAMES.index(p) for p in piece.split("-", 1))
            span = (last - first) % 7
            days.update((first + i) % 7 for i in range(span + 1))
        else:
            days.add(DAY_NAMES.index(piece))
    return frozenset(days)


def parse_shift(text: str, timezone_name: str = LOCAL_TIMEZONE) -> Schedule:
    """``"mon-fri 07:00-19:00; sat 08:00-13:00"``, ``"daily 19:00-07:00"`` (across midnight)
    or ``"always"``, in local time; anything else → InvalidInput."""
    cleaned = text.strip().lower()
    if cleaned == "always":
        return Schedule((), timezone_name)
    windows: list[ScheduleWindow] = []
    for part in filter(None, (p.strip() for p in cleaned.split(";"))):
        match = _PART.match(part)
        try:
            if match is None:
                raise ValueError(part)
            start = time.fromisoformat(match["start"].zfill(5))
            end = time.fromisoformat(match["end"].zfill(5))
            days = _days(match["days"])
        except ValueError:
            raise InvalidInput(
                f"{part[:60]!r} is not a shift: write days and hours like "
                "'mon-fri 07:00-19:00; sat 08:00-13:00', 'daily 19:00-07:00' or 'always'"
            ) from None
        if start == end:
            raise InvalidInput(f"{part[:60]!r}: a shift starts and ends at different times")
        windows.append(ScheduleWindow(days, start, end))
    if not windows:
        raise InvalidInput("a shift needs at least one 'days HH:MM-HH:MM' part, or 'always'")
    return Schedule(tuple(windows), timezone_name)


def shift_text(schedule: Schedule) -> str:
    """The text form of a schedule (inverse of ``parse_shift``)."""
    if not schedule.windows:
        return "always"
    parts = []
    for w in schedule.windows:
        days = ("daily" if w.days == frozenset(range(7))
                else ",".join(DAY_NAMES[d] for d in sorted(w.days)))
        parts.append(f"{days} {w.start:%H:%M}-{w.end:%H:%M}")
    return "; ".join(parts)


# -- assignment -------------------------------------------------------------------------------

def has_assignment(profile: AccessProfile | None) -> bool:
    return profile is not None and bool(profile.centre_ids or profile.camera_ids)


def in_assignment(profile: AccessProfile | None, camera_id: str,
                  centre_id: str | None) -> bool:
    """True when the camera is the user's (no assignment at all: the whole agency is)."""
    if profile is None or not has_assignment(profile):
        return True
    return camera_id in profile.camera_ids or (centre_id is not None
                                               and centre_id in profile.centre_ids)


# -- findings ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """One anomaly about one user; becomes one security alert of the user's agency.

    A later finding with one of the same ``keys`` before ``until`` is the same finding and is
    not raised again.
    """

    detector: Detector
    agency_id: str
    user_id: str
    username: str
    subjects: tuple[str, ...]  # the category, the cameras or "": one deduplication key each
    at: datetime
    until: datetime
    summary: str
    evidence: dict[str, Any]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f"{self.detector.value}:{self.user_id}:{s}"[:200] for s in self.subjects)

    @property
    def severity(self) -> str:
        return SEVERITY[self.detector]

    def alert_detail(self) -> dict[str, Any]:
        return {"detector": self.detector.value, "user": self.username,
                "user_id": self.user_id, "at": self.at.astimezone(UTC).isoformat(),
                **self.evidence}


def evidence_ids(ids: Sequence[int]) -> dict[str, Any]:
    """The record ids an alert keeps (the first ``MAX_EVIDENCE_IDS``) and how many there were."""
    return {"count": len(ids), "record_ids": list(ids[:MAX_EVIDENCE_IDS])}
