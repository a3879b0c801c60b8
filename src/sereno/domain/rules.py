"""Analytics rules of a camera: zone intrusion, line crossing, loitering, crowd — and when they
are active. Geometry is in image coordinates normalised to 0..1 (x right, y down)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shapely.geometry import LineString, Polygon

from sereno.domain.errors import InvalidInput

MAX_POINTS = 64


class RuleKind(StrEnum):
    ZONE = "zone"  # an object of the classes inside the polygon
    LINE = "line"  # an object's path crosses the line (optionally in one direction)
    LOITER = "loiter"  # an object stays inside the polygon at least dwell_s
    CROWD = "crowd"  # at least min_count objects inside the polygon at once


class Direction(StrEnum):
    """For lines from point A to point B: ``left`` is left of A→B as seen in the image."""

    ANY = "any"
    LEFT_TO_RIGHT = "left_to_right"
    RIGHT_TO_LEFT = "right_to_left"


@dataclass(frozen=True)
class ScheduleWindow:
    """Active on ``days`` (0 = Monday) from ``start`` to ``end`` local time (may wrap midnight)."""

    days: frozenset[int]
    start: time
    end: time

    def contains(self, local: datetime) -> bool:
        now, weekday = local.time(), local.weekday()
        if self.start <= self.end:
            return weekday in self.days and self.start <= now < self.end
        # Across midnight: the evening belongs to the listed day, the small hours to the next.
        return ((weekday in self.days and now >= self.start)
                or ((weekday - 1) % 7 in self.days and now < self.end))


@dataclass(frozen=True)
class Schedule:
    """When a rule is armed. No windows: always."""

    windows: tuple[ScheduleWindow, ...] = ()
    timezone: str = "America/Guayaquil"

    def active_at(self, moment: datetime) -> bool:
        if not self.windows:
            return True
        local = moment.astimezone(ZoneInfo(self.timezone))
        return any(window.contains(local) for window in self.windows)


@dataclass(eq=False)
class CameraRule:
    """One rule on one camera."""

    id: str
    camera_id: str
    name: str
    kind: RuleKind
    points: list[list[float]]
    classes: list[str] = field(default_factory=lambda: ["person"])
    direction: Direction = Direction.ANY
    dwell_s: float = 30.0
    min_count: int = 5
    cooldown_s: float = 30.0
    schedule: Schedule = Schedule()
    enabled: bool = True

    def polygon(self) -> Polygon:
        return Polygon(self.points)

    def line(self) -> LineString:
        return LineString(self.points)


def parse_schedule(data: dict[str, Any] | None) -> Schedule:
    """``{"timezone": "...", "windows": [{"days": [0..6], "start": "HH:MM", "end": "HH:MM"}]}``."""
    if not data:
        return Schedule()
    try:
        timezone = str(data.get("timezone", "America/Guayaquil"))
        ZoneInfo(timezone)
        windows = tuple(
            ScheduleWindow(frozenset(int(d) for d in w["days"]),
                           time.fromisoformat(w["start"]), time.fromisoformat(w["end"]))
            for w in data.get("windows", []))
    except (KeyError, TypeError, ValueError, ZoneInfoNotFoundError) as error:
        raise InvalidInput(f"invalid schedule: {error}") from None
    if any(not w.days or not w.days <= set(range(7)) for w in windows):
        raise InvalidInput("schedule days are 0 (Monday) to 6 (Sunday)")
    return Schedule(windows, timezone)


def schedule_to_dict(schedule: Schedule) -> dict[str, Any]:
    """The JSON form of a schedule (inverse of ``parse_schedule``)."""
    return {"timezone": schedule.timezone, "windows": [
        {"days": sorted(w.days), "start": w.start.strftime("%H:%M"),
         "end": w.end.strftime("%H:%M")} for w in schedule.windows]}


def validate_rule(rule: CameraRule) -> None:
    """Geometry inside the frame and well formed; parameters in range."""
    if not rule.name or len(rule.name) > 120:
        raise InvalidInput("rule name must be 1 to 120 characters")
    points = rule.points
    if not isinstance(points, list) or len(points) > MAX_POINTS:
        raise InvalidInput(f"points must be a list of at most {MAX_POINTS} [x, y] pairs")
    try:
        pairs = [(float(x), float(y)) for x, y in points]
    except (TypeError, ValueError):
        raise InvalidInput("points must be [x, y] pairs of numbers") from None
    if any(not (0 <= x <= 1 and 0 <= y <= 1) for x, y in pairs):
        raise InvalidInput("rule points must lie inside the frame (0..1 image fractions)")
    rule.points = [[x, y] for x, y in pairs]
    if rule.kind is RuleKind.LINE:
        if len(pairs) != 2 or pairs[0] == pairs[1]:
            raise InvalidInput("a line rule needs exactly two distinct points")
    else:
        if len(pairs) >= 2 and pairs[0] == pairs[-1]:
            rule.points = rule.points[:-1]
        if len(rule.points) < 3:
            raise InvalidInput("a zone needs at least three points")
        polygon = rule.polygon()
        if not polygon.is_valid or polygon.area <= 0:
            raise InvalidInput("the zone polygon intersects itself or has no area")
    if not rule.classes or any(not isinstance(c, str) or not 0 < len(c) <= 40
                               for c in rule.classes):
        raise InvalidInput("classes must be a non-empty list of class names")
    if rule.kind is RuleKind.LOITER and not 1 <= rule.dwell_s <= 86_400:
        raise InvalidInput("dwell_s must be between 1 and 86400 seconds")
    if rule.kind is RuleKind.CROWD and not 1 <= rule.min_count <= 10_000:
        raise InvalidInput("min_count must be between 1 and 10000")
    if not 0 <= rule.cooldown_s <= 86_400:
        raise InvalidInput("cooldown_s must be between 0 and 86400 seconds")
