"""Joint operations (plan operativo): agencies working one area together for a time window.

A lead agency plans the operation: an area (a GeoJSON Polygon inside the service area), a time
window, the participating agencies (at least two, the lead among them), objectives, and the
units and cameras it brings. Its status follows the clock: ``planned`` before the window,
``active`` inside it, ``finished`` after it; ``cancelled`` is the only status set by hand and
it is final. While active, the operation ``covers`` the alerts raised inside its area (they get
a raised priority and reach every participant). See ADR 0033.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from sereno.domain.errors import Conflict, InvalidInput
from sereno.domain.units import GUAYAQUIL, ServiceArea


class OperationStatus(StrEnum):
    """Where the operation is in its window (``cancelled``: called off by its lead)."""

    PLANNED = "planned"
    ACTIVE = "active"
    FINISHED = "finished"
    CANCELLED = "cancelled"


CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,31}$")
TITLE_MAX = 160
OBJECTIVES_MAX = 4000
#: A plan operativo covers an event or a campaign, not a standing arrangement (that is what a
#: sharing agreement is for): its window is bounded.
MAX_WINDOW = timedelta(days=31)
MAX_VERTICES = 500
MAX_PARTICIPANTS = 20
MAX_RESOURCES = 200  # units, cameras


@dataclass(eq=False)
class JointOperation:
    """One plan operativo."""

    id: str
    code: str
    title: str
    lead_agency_id: str
    participants: list[str]
    area: dict[str, Any]
    starts_at: datetime
    ends_at: datetime
    objectives: str
    unit_ids: list[str]
    camera_ids: list[str]
    status: OperationStatus
    created_by: str
    created_at: datetime
    summary: dict[str, Any] | None = None
    _geometry: BaseGeometry | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def draft(cls, *, operation_id: str, code: str, title: str, lead_agency_id: str,
              participants: list[str], area: dict[str, Any], starts_at: datetime,
              ends_at: datetime, objectives: str = "", unit_ids: list[str] | None = None,
              camera_ids: list[str] | None = None, by: str, at: datetime,
              service_area: ServiceArea = GUAYAQUIL) -> JointOperation:
        """A checked operation; ``InvalidInput`` says what is wrong."""
        operation = cls(id=operation_id, code=check_code(code), title="",
                        lead_agency_id=lead_agency_id, participants=[], area={},
                        starts_at=starts_at, ends_at=ends_at,
                        objectives="", unit_ids=[], camera_ids=[],
                        status=OperationStatus.PLANNED, created_by=by, created_at=at)
        operation.revise(title=title, participants=participants, area=area, starts_at=starts_at,
                         ends_at=ends_at, objectives=objectives, unit_ids=unit_ids or [],
                         camera_ids=camera_ids or [], service_area=service_area)
        operation.refresh(at)
        return operation

    def revise(self, *, title: str | None = None, participants: list[str] | None = None,
               area: dict[str, Any] | None = None, starts_at: datetime | None = None,
               ends_at: datetime | None = None, objectives: str | None = None,
               unit_ids: list[str] | None = None, camera_ids: list[str] | None = None,
               service_area: ServiceArea = GUAYAQUIL) -> list[str]:
        """Change the plan (all checks again, nothing applied when one fails); returns the names
        of the fields that changed. A cancelled or finished operation is not revised."""
        if self.status in (OperationStatus.CANCELLED, OperationStatus.FINISHED):
            raise Conflict(f"the operation is {self.status.value}: its plan is closed")
        values: dict[str, Any] = {
            "title": self.title if title is None else _text(title, "title", 3, TITLE_MAX),
            "participants": self.participants if participants is None
            else _participants(self.lead_agency_id, participants),
            "area": self.area if area is None else check_area(area, service_area)[0],
            "starts_at": starts_at or self.starts_at, "ends_at": ends_at or self.ends_at,
            "objectives": self.objectives if objectives is None
            else _text(objectives, "objectives", 0, OBJECTIVES_MAX),
            "unit_ids": self.unit_ids if unit_ids is None else _ids(unit_ids, "unit"),
            "camera_ids": self.camera_ids if camera_ids is None else _ids(camera_ids, "camera"),
        }
        _check_window(values["starts_at"], values["ends_at"])
        changed = [name for name, value in values.items() if getattr(self, name) != value]
        for name in changed:
            setattr(self, name, values[name])
        if "area" in changed:
            self._geometry = None
        return changed

    # ---- time ---------------------------------------------------------------------------

    def status_at(self, at: datetime) -> OperationStatus:
        """The status the clock gives it at ``at`` (a cancelled operation stays cancelled)."""
        if self.status is OperationStatus.CANCELLED:
            return OperationStatus.CANCELLED
        if at < self.starts_at:
            return OperationStatus.PLANNED
        if at < self.ends_at:
            return OperationStatus.ACTIVE
        return OperationStatus.FINISHED

    def refresh(self, at: datetime) -> bool:
        """Bring the stored status up to the clock; True when it changed."""
        status = self.status_at(at)
        if status is self.status:
            return False
        self.status = status
        return True

    def active_at(self, at: datetime) -> bool:
        """Inside its window and not cancelled."""
        return self.status_at(at) is OperationStatus.ACTIVE

    def covers(self, latitude: float | None, longitude: float | None, at: datetime) -> bool:
        """Whether the operation is active at ``at`` and the place is inside its area (edge
        included; a thing without a place is never covered)."""
        if latitude is None or longitude is None or not self.active_at(at):
            return False
        return self.contains(latitude, longitude)

    def contains(self, latitude: float, longitude: float) -> bool:
        """Whether the place is inside the area, whatever the time."""
        geometry = getattr(self, "_geometry", None)  # not set on rows loaded from the database
        if geometry is None:
            geometry = self._geometry = shape(self.area)
        return bool(geometry.covers(Point(longitude, latitude)))

    def involves(self, agency_id: str) -> bool:
        """Whether the agency takes part (the lead always does)."""
        return agency_id in self.participants

    # ---- the lead's decisions -----------------------------------------------------------

    def cancel(self, at: datetime) -> None:
        """Call it off. A finished operation is history; cancelling twice is a conflict."""
        status = self.status_at(at)
        if status in (OperationStatus.CANCELLED, OperationStatus.FINISHED):
            raise Conflict(f"the operation is already {status.value}")
        self.status = OperationStatus.CANCELLED
        if status is OperationStatus.ACTIVE:  # it ran until now: its summary covers that
            self.ends_at = max(self.starts_at + timedelta(seconds=1), at)


def check_code(code: str) -> str:
    """An operation code: 3-32 of A-Z, 0-9 and hyphens (upper-cased)."""
    text = (code or "").strip().upper()
    if not CODE_PATTERN.match(text):
        raise InvalidInput("an operation code is 3 to 32 letters, digits or hyphens "
                           "(e.g. OP-2026-MALECON)")
    return text


def check_area(area: Any, service_area: ServiceArea = GUAYAQUIL
               ) -> tuple[dict[str, Any], BaseGeometry]:
    """A GeoJSON Polygon (lon, lat) that is valid, has an area and lies inside the service
    area; returned normalised (type and coordinates only) with its geometry."""
    if not isinstance(area, dict) or area.get("type") != "Polygon":
        raise InvalidInput("the operation's area must be a GeoJSON Polygon")
    rings = area.get("coordinates")
    if not isinstance(rings, list) or not rings or not all(isinstance(r, list) for r in rings):
        raise InvalidInput("the operation's area has no coordinates")
    if sum(len(r) for r in rings) > MAX_VERTICES:
        raise InvalidInput(f"the operation's area has more than {MAX_VERTICES} vertices")
    try:
        clean = [[[float(p[0]), float(p[1])] for p in ring] for ring in rings]
        geometry = shape({"type": "Polygon", "coordinates": clean})
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
        raise InvalidInput(f"the operation's area is not valid GeoJSON: {error}") from None
    if geometry.is_empty or not geometry.is_valid or geometry.area <= 0:
        raise InvalidInput("the operation's area is not a simple polygon with an area")
    if not service_area.polygon.covers(geometry):
        raise InvalidInput(f"the operation's area must lie inside the service area "
                           f"({service_area.name}); check the order is longitude, latitude")
    return {"type": "Polygon", "coordinates": clean}, geometry


def _check_window(starts_at: datetime, ends_at: datetime) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput("the operation's start and end need a time zone")
    if ends_at <= starts_at:
        raise InvalidInput("the operation must end after it starts")
    if ends_at - starts_at > MAX_WINDOW:
        raise InvalidInput(f"an operation lasts at most {MAX_WINDOW.days} days")


def _participants(lead: str, participants: list[str]) -> list[str]:
    if not isinstance(participants, list) or not all(isinstance(p, str) for p in participants):
        raise InvalidInput("participants is a list of agency ids")
    chosen = sorted({p.strip() for p in participants if p.strip()} | {lead})
    if len(chosen) < 2:
        raise InvalidInput("a joint operation needs at least two agencies, the lead among them")
    if len(chosen) > MAX_PARTICIPANTS:
        raise InvalidInput(f"a joint operation has at most {MAX_PARTICIPANTS} agencies")
    return chosen


def _ids(values: list[str], what: str) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip()
                                               for v in values):
        raise InvalidInput(f"{what}_ids is a list of {what} ids")
    unique = list(dict.fromkeys(v.strip() for v in values))
    if len(unique) > MAX_RESOURCES:
        raise InvalidInput(f"a joint operation lists at most {MAX_RESOURCES} {what}s")
    return unique


def _text(value: str, what: str, minimum: int, maximum: int) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"the operation's {what} must be text")
    text = " ".join(value.split()) if what == "title" else value.strip()
    if not minimum <= len(text) <= maximum:
        raise InvalidInput(f"the operation's {what} must be {minimum} to {maximum} characters")
    return text
