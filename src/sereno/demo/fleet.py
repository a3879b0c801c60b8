"""The demo fleet and its simulation (ADR 0032): twelve police units and six Segura EP units
around Guayaquil's centre, moved by ``entrypoints/workers/fleet_sim.py``.

Without a street graph offline (no road data we may ship), a simulated unit drives in straight
segments through the corners of a Manhattan staircase between where it is and where it goes
(along a meridian, then a parallel, twice), at its kind's urban speed. Idle units wander within a
few hundred metres of their post at walking pace.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sereno.domain.eta import SPEED_MS, great_circle_m
from sereno.domain.units import Unit, UnitKind, check_position
from sereno.services.unit_of_work import UnitOfWork

_M_PER_DEG = 111_195.0


@dataclass(frozen=True)
class DemoUnit:
    id: str
    agency_id: str
    name: str
    kind: str
    latitude: float
    longitude: float


UNITS = (
    DemoUnit("PN-PAT-01", "policia-nacional", "Patrullero 1 — UPC Centro", "patrol_car",
             -2.1905, -79.8840),
    DemoUnit("PN-PAT-02", "policia-nacional", "Patrullero 2 — UPC Bahía", "patrol_car",
             -2.1975, -79.8850),
    DemoUnit("PN-PAT-03", "policia-nacional", "Patrullero 3 — UPC Centenario", "patrol_car",
             -2.1880, -79.8935),
    DemoUnit("PN-PAT-04", "policia-nacional", "Patrullero 4 — UPC Las Peñas", "patrol_car",
             -2.1830, -79.8780),
    DemoUnit("PN-PAT-05", "policia-nacional", "Patrullero 5 — UPC Garay", "patrol_car",
             -2.2040, -79.8960),
    DemoUnit("PN-PAT-06", "policia-nacional", "Patrullero 6 — UPC Kennedy", "patrol_car",
             -2.1620, -79.9000),
    DemoUnit("PN-PAT-07", "policia-nacional", "Patrullero 7 — UPC Urdesa", "patrol_car",
             -2.1710, -79.9100),
    DemoUnit("PN-PAT-08", "policia-nacional", "Patrullero 8 — UPC Guasmo", "patrol_car",
             -2.2270, -79.8900),
    DemoUnit("PN-MOT-01", "policia-nacional", "Motorizado 1 — Centro", "motorcycle",
             -2.1935, -79.8800),
    DemoUnit("PN-MOT-02", "policia-nacional", "Motorizado 2 — 9 de Octubre", "motorcycle",
             -2.1915, -79.8900),
    DemoUnit("PN-MOT-03", "policia-nacional", "Motorizado 3 — Terminal", "motorcycle",
             -2.1420, -79.8930),
    DemoUnit("PN-MOT-04", "policia-nacional", "Motorizado 4 — Aeropuerto", "motorcycle",
             -2.1590, -79.8860),
    DemoUnit("SEG-PAT-01", "segura-ep", "Segura 1 — Centro", "patrol_car",
             -2.1940, -79.8870),
    DemoUnit("SEG-PAT-02", "segura-ep", "Segura 2 — Norte", "patrol_car",
             -2.1450, -79.8980),
    DemoUnit("SEG-MOT-01", "segura-ep", "Segura moto 1 — Malecón", "motorcycle",
             -2.1960, -79.8815),
    DemoUnit("SEG-MOT-02", "segura-ep", "Segura moto 2 — Bahía", "motorcycle",
             -2.1990, -79.8840),
    DemoUnit("SEG-AGT-01", "segura-ep", "Agente 1 — Malecón 2000", "foot",
             -2.1948, -79.8803),
    DemoUnit("SEG-AGT-02", "segura-ep", "Agente 2 — Parque Seminario", "foot",
             -2.1958, -79.8830),
)

#: Idle units stroll around their post: radius and pace.
WANDER_RADIUS_M = 300.0
WANDER_SPEED_MS = 1.5
ARRIVED_M = 25.0


def staircase(start: tuple[float, float], end: tuple[float, float]) -> list[tuple[float, float]]:
    """Waypoints from ``start`` to ``end`` (excluded start) on a Manhattan grid: half the
    northing, the easting, the rest of the northing."""
    mid_lat = start[0] + (end[0] - start[0]) / 2
    return [(mid_lat, start[1]), (mid_lat, end[1]), end]


def advance(position: tuple[float, float], route: list[tuple[float, float]],
            metres: float) -> tuple[tuple[float, float], list[tuple[float, float]]]:
    """Move ``metres`` along ``route``; the new position and what is left of the route."""
    lat, lon = position
    route = list(route)
    while route and metres > 0:
        target = route[0]
        gap = great_circle_m(lat, lon, *target)
        if gap <= metres:
            lat, lon = target
            metres -= gap
            route.pop(0)
        else:
            share = metres / gap
            lat, lon = lat + (target[0] - lat) * share, lon + (target[1] - lon) * share
            metres = 0
    return (lat, lon), route


def heading(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Compass heading from ``a`` to ``b`` in [0, 360)."""
    north = b[0] - a[0]
    east = (b[1] - a[1]) * math.cos(math.radians(a[0]))
    return math.degrees(math.atan2(east, north)) % 360


def wander_target(home: tuple[float, float], rng: random.Random) -> tuple[float, float]:
    """A point within ``WANDER_RADIUS_M`` of ``home``."""
    radius = rng.uniform(0, WANDER_RADIUS_M) / _M_PER_DEG
    angle = rng.uniform(0, 2 * math.pi)
    return (home[0] + radius * math.sin(angle),
            home[1] + radius * math.cos(angle) / math.cos(math.radians(home[0])))


@dataclass
class SimState:
    """What the simulator remembers of one unit between steps."""

    home: tuple[float, float]
    route: list[tuple[float, float]] = field(default_factory=list)
    dispatch_id: str | None = None
    on_scene_since: datetime | None = None


def speed_ms(kind: UnitKind, speedup: float) -> float:
    """How fast a simulated unit of ``kind`` drives to a scene."""
    return SPEED_MS[kind] * speedup


def on_scene_long_enough(state: SimState, now: datetime, clear_after: timedelta) -> bool:
    """True when the unit has been on scene for ``clear_after``."""
    return state.on_scene_since is not None and now - state.on_scene_since >= clear_after


def seed_demo_units(uow_factory: Callable[[], UnitOfWork], now: datetime) -> int:
    """Register the demo units that are missing, located at their posts; how many were added."""
    added = 0
    with uow_factory() as uow:
        for d in UNITS:
            if uow.units.get(d.id) is not None:
                continue
            unit = Unit.register(d.id, d.agency_id, d.name, d.kind, now=now)
            unit.move_to(check_position(d.latitude, d.longitude, at=now, now=now))
            uow.units.add(unit)
            added += 1
        uow.commit()
    return added
