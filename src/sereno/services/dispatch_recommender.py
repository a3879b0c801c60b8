"""The per-process index of unit positions and the nearest-by-ETA search over it (ADR 0032).

A uniform grid of square cells (``CELL_M`` metres in a local equirectangular projection about
the city) maps each cell to the units in it. An accepted position moves a unit between two
dict entries (O(1), so 5,000 updates/s cost nothing); a search walks square rings of cells
outwards from the scene and stops as soon as no unit outside the rings walked could beat the
k-th best ETA found (the bound uses the fastest suitable kind), so the answer is exact: the same
units, in the same order, as computing every unit's ETA (``brute_force``, the baseline).
"""

from __future__ import annotations

import heapq
import math
import threading
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sereno.domain.eta import (
    DETOUR,
    EARTH_RADIUS_M,
    SPEED_MS,
    TURNOUT_S,
    eta_seconds,
    great_circle_m,
)
from sereno.domain.units import UnitKind, UnitStatus

CELL_M = 500.0
#: The projection is exact at the reference latitude; over a city it is off by far less.
_PROJECTION_SLACK = 0.995


@dataclass
class IndexedUnit:
    """What the index keeps of a unit."""

    unit_id: str
    agency_id: str
    name: str
    kind: UnitKind
    status: UnitStatus
    latitude: float
    longitude: float
    cell: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Candidate:
    """A unit the search found, with its distance and ETA to the scene."""

    unit_id: str
    agency_id: str
    name: str
    kind: UnitKind
    latitude: float
    longitude: float
    distance_m: float
    eta_s: float


class UnitIndex:
    """Unit positions of this process, in a grid; thread-safe."""

    def __init__(self, reference_latitude: float = -2.19, cell_m: float = CELL_M) -> None:
        self._lock = threading.Lock()
        self._cell_m = cell_m
        self._m_per_deg_lat = math.pi * EARTH_RADIUS_M / 180
        self._m_per_deg_lon = self._m_per_deg_lat * math.cos(math.radians(reference_latitude))
        self._units: dict[str, IndexedUnit] = {}
        self._cells: dict[tuple[int, int], dict[str, IndexedUnit]] = {}
        self._synced: dict[str, datetime] = {}

    def __len__(self) -> int:
        return len(self._units)

    def _cell(self, latitude: float, longitude: float) -> tuple[int, int]:
        return (math.floor(longitude * self._m_per_deg_lon / self._cell_m),
                math.floor(latitude * self._m_per_deg_lat / self._cell_m))

    def synced_at(self, agency_id: str) -> datetime | None:
        """When the agency's units were last read from the database (None: never)."""
        return self._synced.get(agency_id)

    def load(self, agency_id: str, units: Iterable[IndexedUnit],
             at: datetime | None = None) -> None:
        """Replace the agency's entries with ``units`` (from the database, read ``at``)."""
        with self._lock:
            for entry in [u for u in self._units.values() if u.agency_id == agency_id]:
                self._remove(entry.unit_id)
            for unit in units:
                self._put(unit)
            if at is not None:
                self._synced[agency_id] = at

    def upsert(self, unit: IndexedUnit) -> None:
        """Add or move one unit (after an accepted position or status change)."""
        with self._lock:
            self._put(unit)

    def update_many(self, units: Iterable[IndexedUnit], at: datetime | None = None,
                    agency_id: str | None = None) -> None:
        """Add or move several units under one lock (``at``: the agency's re-read time)."""
        with self._lock:
            for unit in units:
                self._put(unit)
            if at is not None and agency_id is not None:
                self._synced[agency_id] = at

    def set_status(self, unit_id: str, status: UnitStatus) -> None:
        """Change a unit's status in place (no move)."""
        with self._lock:
            entry = self._units.get(unit_id)
            if entry is not None:
                entry.status = status

    def remove(self, unit_id: str) -> None:
        """Forget a unit."""
        with self._lock:
            self._remove(unit_id)

    def _put(self, unit: IndexedUnit) -> None:
        unit.cell = self._cell(unit.latitude, unit.longitude)
        old = self._units.get(unit.unit_id)
        if old is not None and old.cell != unit.cell:
            bucket = self._cells[old.cell]
            del bucket[unit.unit_id]
            if not bucket:
                del self._cells[old.cell]
        self._units[unit.unit_id] = unit
        self._cells.setdefault(unit.cell, {})[unit.unit_id] = unit

    def _remove(self, unit_id: str) -> None:
        old = self._units.pop(unit_id, None)
        if old is not None:
            bucket = self._cells[old.cell]
            bucket.pop(unit_id, None)
            if not bucket:
                del self._cells[old.cell]

    def all_units(self) -> list[IndexedUnit]:
        """A copy of every entry (for the baseline and tests)."""
        with self._lock:
            return list(self._units.values())

    def nearest(self, latitude: float, longitude: float, *, limit: int = 5,
                agencies: Collection[str] | None = None,
                kinds: Collection[UnitKind] | None = None,
                exclude: Collection[str] = ()) -> list[Candidate]:
        """The ``limit`` available units of ``agencies``/``kinds`` with the lowest ETA."""
        wanted = frozenset(kinds) if kinds else frozenset(UnitKind)
        if limit <= 0 or not wanted:
            return []
        # The best ETA any unit at ``d`` metres or more could have: the quickest suitable kind.
        best_turnout = min(TURNOUT_S[k] for k in wanted)
        best_speed = max(SPEED_MS[k] for k in wanted)
        cx, cy = self._cell(latitude, longitude)
        heap: list[tuple[float, str, Candidate]] = []  # max-heap on ETA via negation
        with self._lock:
            if not self._cells:
                return []
            xs = [c[0] for c in self._cells]
            ys = [c[1] for c in self._cells]
            max_ring = max(abs(cx - min(xs)), abs(cx - max(xs)), abs(cy - min(ys)),
                           abs(cy - max(ys)))
            for ring in range(max_ring + 1):
                if len(heap) >= limit:
                    floor_m = max(0.0, ring - 1) * self._cell_m * _PROJECTION_SLACK
                    if -heap[0][0] <= best_turnout + floor_m * DETOUR / best_speed:
                        break
                for cell in _ring(cx, cy, ring):
                    bucket = self._cells.get(cell)
                    if not bucket:
                        continue
                    for unit in bucket.values():
                        if (unit.status is not UnitStatus.AVAILABLE or unit.kind not in wanted
                                or (agencies is not None and unit.agency_id not in agencies)
                                or unit.unit_id in exclude):
                            continue
                        distance = great_circle_m(latitude, longitude, unit.latitude,
                                                  unit.longitude)
                        eta = eta_seconds(unit.kind, distance)
                        key = (-eta, unit.unit_id)
                        if len(heap) < limit:
                            heapq.heappush(heap, (*key, _candidate(unit, distance, eta)))
                        elif key > heap[0][:2]:
                            heapq.heapreplace(heap, (*key, _candidate(unit, distance, eta)))
        return [c for _, _, c in sorted(heap, key=lambda item: (-item[0], item[1]))]


def _ring(cx: int, cy: int, ring: int) -> Iterable[tuple[int, int]]:
    """The cells at Chebyshev distance ``ring`` from (cx, cy)."""
    if ring == 0:
        yield (cx, cy)
        return
    for dx in range(-ring, ring + 1):
        yield (cx + dx, cy - ring)
        yield (cx + dx, cy + ring)
    for dy in range(-ring + 1, ring):
        yield (cx - ring, cy + dy)
        yield (cx + ring, cy + dy)


def _candidate(unit: IndexedUnit, distance: float, eta: float) -> Candidate:
    return Candidate(unit.unit_id, unit.agency_id, unit.name, unit.kind, unit.latitude,
                     unit.longitude, round(distance, 1), round(eta, 1))


def brute_force(units: Iterable[IndexedUnit], latitude: float, longitude: float, *,
                limit: int = 5, agencies: Collection[str] | None = None,
                kinds: Collection[UnitKind] | None = None) -> list[Candidate]:
    """Every unit's ETA, sorted: the plain baseline the index must agree with."""
    wanted = frozenset(kinds) if kinds else frozenset(UnitKind)
    found: list[tuple[float, str, Candidate]] = []
    for unit in units:
        if (unit.status is not UnitStatus.AVAILABLE or unit.kind not in wanted
                or (agencies is not None and unit.agency_id not in agencies)):
            continue
        distance = great_circle_m(latitude, longitude, unit.latitude, unit.longitude)
        eta = eta_seconds(unit.kind, distance)
        found.append((eta, unit.unit_id, _candidate(unit, distance, eta)))
    found.sort(key=lambda item: (item[0], item[1]))
    return [c for _, _, c in found[:limit]]
