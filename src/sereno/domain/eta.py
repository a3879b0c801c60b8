"""Estimated time of arrival without a road graph (ADR 0032).

``eta = turnout(kind) + great-circle distance × DETOUR / speed(kind)``

No street graph of Guayaquil can be had offline with a licence we may ship, so the model is a
straight line stretched by a detour factor: on a street grid the road distance between two
random points is the Manhattan distance, on average 4/π ≈ 1.27 times the straight line; real
streets (one-way streets, the Estero Salado, few bridges) add to that, so 1.35. Speeds are urban
averages with lights and traffic, not limits; the turnout is the time from the dispatch to the
wheels turning (or the agent walking).
"""

from __future__ import annotations

import math

from sereno.domain.units import UnitKind

EARTH_RADIUS_M = 6_371_008.8
DETOUR = 1.35
#: Urban average speed, km/h.
SPEED_KMH: dict[UnitKind, float] = {
    UnitKind.PATROL_CAR: 35.0,
    UnitKind.MOTORCYCLE: 40.0,
    UnitKind.BICYCLE: 15.0,
    UnitKind.FOOT: 5.0,
}
#: Seconds from the dispatch to moving.
TURNOUT_S: dict[UnitKind, float] = {
    UnitKind.PATROL_CAR: 60.0,
    UnitKind.MOTORCYCLE: 45.0,
    UnitKind.BICYCLE: 30.0,
    UnitKind.FOOT: 15.0,
}
SPEED_MS: dict[UnitKind, float] = {kind: kmh / 3.6 for kind, kmh in SPEED_KMH.items()}


def great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def eta_seconds(kind: UnitKind, distance_m: float) -> float:
    """ETA of a unit of ``kind`` at ``distance_m`` (great circle) from the scene."""
    return TURNOUT_S[kind] + distance_m * DETOUR / SPEED_MS[kind]
