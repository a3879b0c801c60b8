"""Response units (police patrols, municipal agents): kind, status, position.

A unit belongs to one agency. Its status moves through the dispatch cycle::

    available ──assign──► assigned ──► en_route ──► on_scene ──clear──► available
        ▲  │                 │            │
        │  └─► out_of_service└── clear ───┘  (a dispatch called off before arrival)
        └──────── back in service

Positions (AVL) are accepted only in time order and inside the service area: a report older than
the last accepted one is a ``Conflict("stale position")`` (it arrived late over a slow mobile
link; applying it would move the unit backwards), and a point outside the city is refused as
``InvalidInput`` (a GPS fix of 0,0 or a unit that crossed the river is not something to route
from). See ADR 0032.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import shapely
from shapely.geometry import Polygon

from sereno.domain.errors import Conflict, InvalidInput


class UnitKind(StrEnum):
    """How the unit moves: it sets the speed of the ETA model."""

    PATROL_CAR = "patrol_car"
    MOTORCYCLE = "motorcycle"
    BICYCLE = "bicycle"
    FOOT = "foot"


class UnitStatus(StrEnum):
    """Where the unit is in the dispatch cycle."""

    AVAILABLE = "available"
    ASSIGNED = "assigned"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    OUT_OF_SERVICE = "out_of_service"


_ALLOWED: dict[UnitStatus, frozenset[UnitStatus]] = {
    UnitStatus.AVAILABLE: frozenset({UnitStatus.ASSIGNED, UnitStatus.OUT_OF_SERVICE}),
    UnitStatus.ASSIGNED: frozenset({UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE,
                                    UnitStatus.AVAILABLE}),
    UnitStatus.EN_ROUTE: frozenset({UnitStatus.ON_SCENE, UnitStatus.AVAILABLE}),
    UnitStatus.ON_SCENE: frozenset({UnitStatus.AVAILABLE}),
    UnitStatus.OUT_OF_SERVICE: frozenset({UnitStatus.AVAILABLE}),
}

UNIT_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
#: A device clock may run a little ahead of ours; further ahead is a bad fix, not a fast clock.
MAX_CLOCK_AHEAD = timedelta(seconds=60)


class ServiceArea:
    """The polygon units may report positions from and be routed in (lon/lat, WGS 84)."""

    def __init__(self, name: str, lonlat: tuple[tuple[float, float], ...]) -> None:
        self.name = name
        self.polygon = Polygon(lonlat)
        shapely.prepare(self.polygon)

    def contains(self, latitude: float, longitude: float) -> bool:
        """True when the point lies inside (or on the edge of) the area."""
        return bool(shapely.intersects_xy(self.polygon, longitude, latitude))


#: Guayaquil's urban service area: from Pascuales and the Perimetral in the north to the
#: Guasmo and Isla Trinitaria in the south, the Vía a la Costa (Chongón side) in the west to the
#: Guayas and Daule rivers in the east. Deliberately generous; Durán and Samborondón, across
#: the rivers, are other cantons.
GUAYAQUIL = ServiceArea("Guayaquil", (
    (-80.000, -2.050), (-79.935, -2.030), (-79.880, -2.060), (-79.862, -2.120),
    (-79.855, -2.170), (-79.862, -2.240), (-79.880, -2.300), (-79.950, -2.300),
    (-80.000, -2.230), (-80.030, -2.140), (-80.000, -2.050),
))


@dataclass(frozen=True)
class Position:
    """One accepted AVL fix."""

    latitude: float
    longitude: float
    at: datetime
    heading_deg: float | None = None
    speed_kmh: float | None = None


def check_position(latitude: float, longitude: float, *, at: datetime, now: datetime,
                   area: ServiceArea = GUAYAQUIL, heading_deg: float | None = None,
                   speed_kmh: float | None = None) -> Position:
    """Check one reported fix on its own (range, clock, service area); ``InvalidInput``."""
    if not (math.isfinite(latitude) and -90 <= latitude <= 90):
        raise InvalidInput("latitude must be between -90 and 90")
    if not (math.isfinite(longitude) and -180 <= longitude <= 180):
        raise InvalidInput("longitude must be between -180 and 180")
    if at.tzinfo is None:
        raise InvalidInput("position time must carry a time zone")
    if at > now + MAX_CLOCK_AHEAD:
        raise InvalidInput("position time is in the future")
    if heading_deg is not None and not (math.isfinite(heading_deg) and 0 <= heading_deg < 360):
        raise InvalidInput("heading_deg must be in [0, 360)")
    if speed_kmh is not None and not (math.isfinite(speed_kmh) and 0 <= speed_kmh <= 300):
        raise InvalidInput("speed_kmh must be between 0 and 300")
    if not area.contains(latitude, longitude):
        raise InvalidInput(f"position outside the service area ({area.name})")
    return Position(latitude, longitude, at, heading_deg, speed_kmh)


@dataclass(eq=False)
class Unit:
    """A police or municipal unit: a patrol car, a motorcycle, an agent on foot..."""

    id: str
    agency_id: str
    name: str
    kind: UnitKind
    status: UnitStatus = UnitStatus.AVAILABLE
    latitude: float | None = None
    longitude: float | None = None
    position_at: datetime | None = None
    heading_deg: float | None = None
    speed_kmh: float | None = None
    #: The incident the unit is assigned to (None when available or out of service).
    incident_id: str | None = None
    #: Optimistic lock: bumped on every status change, so two dispatchers cannot both assign.
    version: int = 1
    updated_at: datetime | None = None

    @classmethod
    def register(cls, unit_id: str, agency_id: str, name: str, kind: str,
                 *, now: datetime) -> Unit:
        """A new unit, available and not yet located; ``InvalidInput`` on a bad id or kind."""
        if not UNIT_ID_PATTERN.match(unit_id):
            raise InvalidInput("unit id (call sign): 1-32 letters, digits, '.', '_' or '-'")
        name = name.strip()
        if not 1 <= len(name) <= 120:
            raise InvalidInput("name must be 1-120 characters")
        return cls(unit_id, agency_id, name, parse_kind(kind), updated_at=now)

    @property
    def located(self) -> bool:
        """True once a position has been accepted."""
        return self.latitude is not None and self.longitude is not None

    def move_to(self, position: Position) -> None:
        """Accept a checked fix unless it is older than the last accepted one."""
        if self.position_at is not None and position.at < self.position_at:
            raise Conflict("stale position", details=[{
                "unit_id": self.id, "at": position.at.isoformat(),
                "last_accepted_at": self.position_at.isoformat()}])
        self.latitude, self.longitude = position.latitude, position.longitude
        self.position_at = position.at
        self.heading_deg, self.speed_kmh = position.heading_deg, position.speed_kmh

    def can_become(self, status: UnitStatus) -> bool:
        """True when the status machine allows the move."""
        return status in _ALLOWED[self.status]

    def become(self, status: UnitStatus, *, now: datetime) -> None:
        """Move through the status machine (bumping ``version``); ``Conflict`` if not allowed."""
        if status is self.status and status is not UnitStatus.ASSIGNED:
            return
        if not self.can_become(status):
            if status is UnitStatus.ASSIGNED:
                raise Conflict("unit already assigned" if self.status is not
                               UnitStatus.OUT_OF_SERVICE else "unit is out of service")
            raise Conflict(f"a unit {self.status.value} cannot become {status.value}")
        self.status = status
        self.version += 1
        self.updated_at = now
        if status in (UnitStatus.AVAILABLE, UnitStatus.OUT_OF_SERVICE):
            self.incident_id = None


def parse_kind(value: str) -> UnitKind:
    """``UnitKind`` from its name; ``InvalidInput`` naming the known kinds."""
    try:
        return UnitKind(value)
    except ValueError:
        known = ", ".join(k.value for k in UnitKind)
        raise InvalidInput(f"unknown unit kind {value!r} (known: {known})") from None


def parse_status(value: str) -> UnitStatus:
    """``UnitStatus`` from its name; ``InvalidInput`` naming the known ones."""
    try:
        return UnitStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in UnitStatus)
        raise InvalidInput(f"unknown unit status {value!r} (known: {known})") from None


class DispatchStatus(StrEnum):
    """A dispatch: one unit sent to one incident, as the unit reports it."""

    ASSIGNED = "assigned"
    ACKNOWLEDGED = "acknowledged"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    CLEARED = "cleared"
    CANCELLED = "cancelled"


#: The mobile terminal's reports, in the order they normally come; a report may skip steps
#: forward (a unit already on the corner reports on scene at once) but never go back.
_DISPATCH_ORDER = (DispatchStatus.ASSIGNED, DispatchStatus.ACKNOWLEDGED, DispatchStatus.EN_ROUTE,
                   DispatchStatus.ON_SCENE, DispatchStatus.CLEARED)
#: The unit status each dispatch report puts the unit in.
UNIT_STATUS_FOR: dict[DispatchStatus, UnitStatus] = {
    DispatchStatus.ASSIGNED: UnitStatus.ASSIGNED,
    DispatchStatus.ACKNOWLEDGED: UnitStatus.ASSIGNED,
    DispatchStatus.EN_ROUTE: UnitStatus.EN_ROUTE,
    DispatchStatus.ON_SCENE: UnitStatus.ON_SCENE,
    DispatchStatus.CLEARED: UnitStatus.AVAILABLE,
    DispatchStatus.CANCELLED: UnitStatus.AVAILABLE,
}


@dataclass(eq=False)
class Dispatch:
    """One unit assigned to one incident, stamped at every report."""

    id: str
    incident_id: str
    unit_id: str
    agency_id: str
    status: DispatchStatus
    assigned_by: str
    assigned_at: datetime
    acknowledged_at: datetime | None = None
    en_route_at: datetime | None = None
    on_scene_at: datetime | None = None
    cleared_at: datetime | None = None
    cancelled_at: datetime | None = None
    eta_s: float | None = None
    distance_m: float | None = None

    @property
    def active(self) -> bool:
        """True until cleared or cancelled."""
        return self.status not in (DispatchStatus.CLEARED, DispatchStatus.CANCELLED)

    def report(self, status: DispatchStatus, *, now: datetime) -> None:
        """Stamp a report from the unit; ``Conflict`` if it goes back or the dispatch is over."""
        if not self.active:
            raise Conflict(f"dispatch already {self.status.value}")
        if status is DispatchStatus.CANCELLED:
            self.status, self.cancelled_at = status, now
            return
        if _DISPATCH_ORDER.index(status) <= _DISPATCH_ORDER.index(self.status):
            raise Conflict(f"dispatch is already {self.status.value}")
        # Skipped steps get the same stamp, so every interval the indicators measure exists.
        for step in _DISPATCH_ORDER[_DISPATCH_ORDER.index(self.status) + 1:
                                    _DISPATCH_ORDER.index(status) + 1]:
            setattr(self, f"{step.value}_at", now)
        self.status = status


def parse_dispatch_report(value: str) -> DispatchStatus:
    """The mobile terminal's path word (``acknowledge``, ``en-route``, ``on-scene``, ``clear``)."""
    words = {"acknowledge": DispatchStatus.ACKNOWLEDGED, "en-route": DispatchStatus.EN_ROUTE,
             "on-scene": DispatchStatus.ON_SCENE, "clear": DispatchStatus.CLEARED}
    if value not in words:
        raise InvalidInput(f"unknown report {value!r} (known: {', '.join(words)})")
    return words[value]
