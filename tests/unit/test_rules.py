"""Rule validation and the rule engine on hand-made tracks (pure logic, no video)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sereno.domain.errors import InvalidInput
from sereno.domain.rules import (
    CameraRule,
    Direction,
    RuleKind,
    parse_schedule,
    validate_rule,
)
from sereno.video.rules.engine import RuleEngine, TrackedObject

W, H = 1000, 500
NOON = datetime(2026, 11, 25, 17, 0, tzinfo=UTC).timestamp()  # 12:00 in Guayaquil (UTC-5)


def person(track: int, x: float, y: float, cls: str = "person") -> TrackedObject:
    """A 40x100 px box whose bottom centre is at normalised (x, y)."""
    cx, by = x * W, y * H
    return TrackedObject(track, cls, 0.9, (cx - 20, by - 100, cx + 20, by))


def rule(kind: RuleKind, points: list[list[float]], **values: object) -> CameraRule:
    made = CameraRule(id=f"r-{kind.value}", camera_id="CAM", name=kind.value, kind=kind,
                      points=points, **values)  # type: ignore[arg-type]
    validate_rule(made)
    return made


SQUARE = [[0.4, 0.4], [0.6, 0.4], [0.6, 0.6], [0.4, 0.6]]


@pytest.mark.parametrize(("kind", "points", "message"), [
    (RuleKind.ZONE, [[0, 0], [1, 1], [1, 0], [0, 1]], "intersects itself"),
    (RuleKind.ZONE, [[0, 0], [1.2, 0], [0, 1]], "inside the frame"),
    (RuleKind.ZONE, [[0, 0], [1, 0]], "at least three"),
    (RuleKind.LINE, [[0.5, 0.5], [0.5, 0.5]], "two distinct points"),
    (RuleKind.LINE, [[0, 0], [1, 0], [1, 1]], "two distinct points"),
])
def test_bad_geometry_is_refused(kind: RuleKind, points: list[list[float]], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        rule(kind, points)


def test_zone_fires_once_per_track_and_respects_cooldown() -> None:
    engine = RuleEngine("CAM", [rule(RuleKind.ZONE, SQUARE, cooldown_s=10)], (W, H))
    assert engine.evaluate([person(1, 0.2, 0.5)], NOON) == []
    first = engine.evaluate([person(1, 0.5, 0.5)], NOON + 1)
    assert len(first) == 1 and first[0].track_ids == (1,) and first[0].classes == ("person",)
    assert engine.evaluate([person(1, 0.5, 0.5)], NOON + 2) == []  # same track: once
    assert engine.evaluate([person(1, 0.5, 0.5), person(2, 0.45, 0.5)], NOON + 3) == []  # cool
    assert engine.evaluate([person(3, 0.5, 0.55)], NOON + 12)[0].track_ids == (3,)
    assert engine.evaluate([person(4, 0.5, 0.5, "dog")], NOON + 30) == []  # not its class


def test_line_crossing_direction_and_counters() -> None:
    line = rule(RuleKind.LINE, [[0.5, 0.0], [0.5, 1.0]], direction=Direction.LEFT_TO_RIGHT,
                cooldown_s=0)
    engine = RuleEngine("CAM", [line], (W, H))
    # A→B points down the image; walking from x=0.3 to x=0.7 crosses it right-to-left of A→B?
    # Seen along A→B (downwards), image-left (x<0.5) is on the direction's right-hand side.
    engine.evaluate([person(1, 0.3, 0.5)], NOON)
    crossing = engine.evaluate([person(1, 0.7, 0.5)], NOON + 1)
    engine.evaluate([person(2, 0.8, 0.5)], NOON + 2)
    back = engine.evaluate([person(2, 0.2, 0.5)], NOON + 3)
    fired = crossing + back
    assert len(fired) == 1
    assert engine.counters[line.id] == {"left_to_right": 1, "right_to_left": 1}
    assert fired[0].detail["counters"] == engine.counters[line.id]
    # Moving along the line, or beyond its ends, is no crossing.
    short = rule(RuleKind.LINE, [[0.5, 0.0], [0.5, 0.3]], cooldown_s=0)
    engine = RuleEngine("CAM", [short], (W, H))
    engine.evaluate([person(5, 0.3, 0.8)], NOON)
    assert engine.evaluate([person(5, 0.7, 0.8)], NOON + 1) == []


def test_loitering_needs_the_dwell_time_inside() -> None:
    engine = RuleEngine("CAM", [rule(RuleKind.LOITER, SQUARE, dwell_s=20)], (W, H))
    assert engine.evaluate([person(1, 0.5, 0.5)], NOON) == []
    assert engine.evaluate([person(1, 0.5, 0.5)], NOON + 15) == []
    assert engine.evaluate([person(1, 0.9, 0.5)], NOON + 16) == []  # stepped out: reset
    assert engine.evaluate([person(1, 0.5, 0.5)], NOON + 17) == []
    assert engine.evaluate([person(1, 0.5, 0.5)], NOON + 36) == []
    assert len(engine.evaluate([person(1, 0.5, 0.5)], NOON + 38)) == 1


def test_crowd_counts_objects_in_the_zone() -> None:
    engine = RuleEngine("CAM", [rule(RuleKind.CROWD, SQUARE, min_count=3, cooldown_s=0)],
                        (W, H))
    two = [person(1, 0.45, 0.5), person(2, 0.55, 0.5), person(3, 0.9, 0.9)]
    assert engine.evaluate(two, NOON) == []
    three = [*two, person(4, 0.5, 0.45)]
    match = engine.evaluate(three, NOON + 1)
    assert len(match) == 1 and set(match[0].track_ids) == {1, 2, 4}
    assert match[0].detail["count"] == 3


def test_schedules_arm_rules_only_in_their_windows() -> None:
    night = parse_schedule({"timezone": "America/Guayaquil", "windows": [
        {"days": [0, 1, 2, 3, 4, 5, 6], "start": "22:00", "end": "06:00"}]})
    engine = RuleEngine("CAM", [rule(RuleKind.ZONE, SQUARE, schedule=night)], (W, H))
    assert engine.evaluate([person(1, 0.5, 0.5)], NOON) == []  # noon: disarmed
    three_am = datetime(2026, 11, 26, 8, 0, tzinfo=UTC).timestamp()  # 03:00 local
    assert len(engine.evaluate([person(2, 0.5, 0.5)], three_am)) == 1
    with pytest.raises(InvalidInput, match="schedule"):
        parse_schedule({"windows": [{"days": [9], "start": "22:00", "end": "06:00"}]})
    with pytest.raises(InvalidInput, match="schedule"):
        parse_schedule({"timezone": "Mars/Olympus", "windows": []})
