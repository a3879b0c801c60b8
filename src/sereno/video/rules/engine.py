"""The rule engine: tracked objects in, rule matches out, with per-rule cooldown.

Objects are judged by their anchor point — the bottom centre of the box, where a person's feet or
a vehicle's wheels touch the ground — which is what a zone drawn on the ground means.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shapely.geometry import Point, Polygon

from sereno.domain.rules import CameraRule, Direction, RuleKind


@dataclass(frozen=True)
class TrackedObject:
    """One object this frame, with the tracker's id (stable across frames)."""

    track_id: int
    class_name: str
    confidence: float
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels

    def anchor(self, width: int, height: int) -> tuple[float, float]:
        """Bottom centre, normalised to 0..1."""
        x1, _y1, x2, y2 = self.box
        return ((x1 + x2) / 2 / width, y2 / height)


@dataclass(frozen=True)
class RuleMatch:
    """A rule fired: what the ``DetectionEvent`` is made of."""

    rule_id: str
    rule_kind: str
    camera_id: str
    classes: tuple[str, ...]
    track_ids: tuple[int, ...]
    confidence: float
    box: tuple[float, float, float, float]  # normalised union box of the objects
    at: float  # wall-clock seconds
    detail: dict[str, Any] = field(default_factory=dict)


def _side(a: tuple[float, float], b: tuple[float, float], p: tuple[float, float]) -> float:
    # Sign of the cross product (b - a) x (p - a); image y grows downwards, so > 0 is "right".
    return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])


def _segments_cross(p1: tuple[float, float], p2: tuple[float, float], a: tuple[float, float],
                    b: tuple[float, float]) -> bool:
    d1, d2 = _side(a, b, p1), _side(a, b, p2)
    d3, d4 = _side(p1, p2, a), _side(p1, p2, b)
    return d1 * d2 < 0 and d3 * d4 < 0


class RuleEngine:
    """Evaluates one camera's rules frame after frame; remembers tracks between frames."""

    def __init__(self, camera_id: str, rules: list[CameraRule], frame_size: tuple[int, int]
                 ) -> None:
        self.camera_id = camera_id
        self.rules = [r for r in rules if r.enabled]
        self.width, self.height = frame_size
        self._polygons: dict[str, Polygon] = {r.id: r.polygon() for r in self.rules
                                              if r.kind is not RuleKind.LINE}
        self._last_anchor: dict[int, tuple[float, float]] = {}
        self._entered: dict[tuple[str, int], float] = {}  # (rule, track) -> first seen inside
        self._fired_tracks: dict[str, set[int]] = defaultdict(set)
        self._last_fired: dict[str, float] = {}
        self.counters: dict[str, dict[str, int]] = {
            r.id: {"left_to_right": 0, "right_to_left": 0} for r in self.rules
            if r.kind is RuleKind.LINE}

    def evaluate(self, objects: list[TrackedObject], now: float) -> list[RuleMatch]:
        """Matches for this frame. ``now`` is wall-clock seconds (schedules, cooldown)."""
        moment = datetime.fromtimestamp(now, UTC)
        matches: list[RuleMatch] = []
        anchors = {o.track_id: o.anchor(self.width, self.height) for o in objects}
        for rule in self.rules:
            if not rule.schedule.active_at(moment):
                continue
            relevant = [o for o in objects if o.class_name in rule.classes]
            found = self._evaluate_rule(rule, relevant, anchors, now)
            if found and now - self._last_fired.get(rule.id, -1e18) >= rule.cooldown_s:
                self._last_fired[rule.id] = now
                matches.append(self._match(rule, found, now))
        self._last_anchor = anchors
        live = set(anchors)
        self._entered = {k: v for k, v in self._entered.items() if k[1] in live}
        return matches

    def _evaluate_rule(self, rule: CameraRule, objects: list[TrackedObject],
                       anchors: dict[int, tuple[float, float]], now: float
                       ) -> list[TrackedObject]:
        if rule.kind is RuleKind.LINE:
            return self._crossing(rule, objects, anchors)
        polygon = self._polygons[rule.id]
        inside = [o for o in objects if polygon.contains(Point(anchors[o.track_id]))]
        if rule.kind is RuleKind.ZONE:
            fresh = [o for o in inside if o.track_id not in self._fired_tracks[rule.id]]
            self._fired_tracks[rule.id].update(o.track_id for o in fresh)
            return fresh
        if rule.kind is RuleKind.CROWD:
            return inside if len(inside) >= rule.min_count else []
        dwelling = []  # loitering
        for o in inside:
            since = self._entered.setdefault((rule.id, o.track_id), now)
            if now - since >= rule.dwell_s and o.track_id not in self._fired_tracks[rule.id]:
                dwelling.append(o)
        inside_ids = {o.track_id for o in inside}
        for key in [k for k in self._entered if k[0] == rule.id and k[1] not in inside_ids]:
            del self._entered[key]  # left the zone: the clock starts again
        self._fired_tracks[rule.id].update(o.track_id for o in dwelling)
        return dwelling

    def _crossing(self, rule: CameraRule, objects: list[TrackedObject],
                  anchors: dict[int, tuple[float, float]]) -> list[TrackedObject]:
        a = (rule.points[0][0], rule.points[0][1])
        b = (rule.points[1][0], rule.points[1][1])
        crossed = []
        for o in objects:
            before = self._last_anchor.get(o.track_id)
            after = anchors[o.track_id]
            if before is None or not _segments_cross(before, after, a, b):
                continue
            direction = "left_to_right" if _side(a, b, before) < 0 else "right_to_left"
            self.counters[rule.id][direction] += 1
            if rule.direction is Direction.ANY or rule.direction.value == direction:
                crossed.append(o)
        return crossed

    def _match(self, rule: CameraRule, objects: list[TrackedObject], now: float) -> RuleMatch:
        x1 = min(o.box[0] for o in objects) / self.width
        y1 = min(o.box[1] for o in objects) / self.height
        x2 = max(o.box[2] for o in objects) / self.width
        y2 = max(o.box[3] for o in objects) / self.height
        detail: dict[str, Any] = {"count": len(objects)}
        if rule.kind is RuleKind.LINE:
            detail["counters"] = dict(self.counters[rule.id])
        return RuleMatch(rule.id, rule.kind.value, self.camera_id,
                         tuple(sorted({o.class_name for o in objects})),
                         tuple(o.track_id for o in objects),
                         round(max(o.confidence for o in objects), 3),
                         (round(x1, 4), round(y1, 4), round(x2, 4), round(y2, 4)), now, detail)
