"""Incidents: something in the city that needs a response, from the call to the closing report.

An incident belongs to one agency (``agency_id``). It is created from an alert (carrying its
evidence), from a call-taker's form, from an imported CAP message, or received from a partner.
Its lifecycle (ADR 0031)::

    new ──► acknowledged ──► dispatched ──► en_route ──► on_scene ──► resolved ──► closed
     │            │  ▲            │  │          │            │
     │            │  └─ recalled ─┘  └─────────────────────►─┘ (a unit already there)
     │            └──────────── resolved without units ──────────────►
     └──► dispatched (dispatching acknowledges)
    cancelled: from new, acknowledged, dispatched, en_route and on_scene (with a reason)

Every transition stamps its timestamp on the incident and appends a timeline event naming the
actor and the agency: the indicators measure times to acknowledge, dispatch and arrive from
them. ``version`` grows with every change; a client sends the version it saw and a stale edit
is refused (someone changed it since).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from sereno.domain.alerts import Category, Severity, parse_enum
from sereno.domain.errors import Conflict, InvalidInput


class IncidentStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def open(self) -> bool:
        """Still being responded to (a resolved incident only waits to be closed)."""
        return self in OPEN_STATUSES


OPEN_STATUSES = frozenset({IncidentStatus.NEW, IncidentStatus.ACKNOWLEDGED,
                           IncidentStatus.DISPATCHED, IncidentStatus.EN_ROUTE,
                           IncidentStatus.ON_SCENE})

_S = IncidentStatus
#: The allowed transitions, and nothing else. Skipping ahead is allowed where the street does
#: it (a unit already on the spot reports on scene without en route; an operator resolves an
#: incident the cameras showed was nothing); going back only when the units are recalled.
TRANSITIONS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    _S.NEW: frozenset({_S.ACKNOWLEDGED, _S.DISPATCHED, _S.CANCELLED}),
    _S.ACKNOWLEDGED: frozenset({_S.DISPATCHED, _S.RESOLVED, _S.CANCELLED}),
    _S.DISPATCHED: frozenset({_S.EN_ROUTE, _S.ON_SCENE, _S.ACKNOWLEDGED, _S.CANCELLED}),
    _S.EN_ROUTE: frozenset({_S.ON_SCENE, _S.ACKNOWLEDGED, _S.CANCELLED}),
    _S.ON_SCENE: frozenset({_S.RESOLVED, _S.CANCELLED}),
    _S.RESOLVED: frozenset({_S.CLOSED}),
    _S.CLOSED: frozenset(),
    _S.CANCELLED: frozenset(),
}

#: The timestamp column each status stamps (the first time it is reached).
STAMPS: dict[IncidentStatus, str] = {
    _S.ACKNOWLEDGED: "acknowledged_at", _S.DISPATCHED: "dispatched_at",
    _S.EN_ROUTE: "en_route_at", _S.ON_SCENE: "on_scene_at", _S.RESOLVED: "resolved_at",
    _S.CLOSED: "closed_at", _S.CANCELLED: "cancelled_at",
}


class IncidentSource(StrEnum):
    ALERT = "alert"
    FORM = "form"  # a call-taker's form
    CAP = "cap"  # an imported CAP message
    PARTNER = "partner"  # a partner agency's incident, received under an agreement


class EventKind(StrEnum):
    """Kinds of timeline events. The dispatch engineer's kinds are listed so they map."""

    CREATED = "created"
    TRANSITION = "transition"
    NOTE = "note"
    ALERT_LINKED = "alert_linked"
    MERGED = "merged"  # this incident was merged into another
    MERGED_FROM = "merged_from"  # another incident was merged into this one
    PRIORITY = "priority"
    UNIT_ASSIGNED = "unit_assigned"
    UNIT_STATUS = "unit_status"
    PARTNER = "partner"  # a partner's change to its incident, as received


E = TypeVar("E", bound=StrEnum)

TITLE_MAX = 160
TEXT_MAX = 4000
ADDRESS_MAX = 200
REASON_MIN = 3
PRIORITY_HIGHEST, PRIORITY_LOWEST = 1, 5
CODE_MAX = 32


class StaleVersion(Conflict):
    """The client edited a version of the incident that is no longer the current one."""

    code = "stale_version"


@dataclass(eq=False)
class IncidentEvent:
    """One entry of an incident's timeline."""

    incident_id: str
    kind: EventKind
    by: str
    by_agency: str
    at: datetime
    from_status: IncidentStatus | None = None
    to_status: IncidentStatus | None = None
    note: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class IncidentType:
    """One entry of an agency's incident type catalogue."""

    agency_id: str
    code: str
    name_es: str
    name_en: str
    default_priority: int
    category: Category
    active: bool = True

    @classmethod
    def define(cls, *, agency_id: str, code: str, name_es: str, name_en: str,
               default_priority: int, category: str, active: bool = True) -> IncidentType:
        """A validated catalogue entry (``InvalidInput`` naming what is wrong)."""
        code = code.strip().lower()
        if not code or len(code) > CODE_MAX or not all(c.isalnum() or c in "_-" for c in code):
            raise InvalidInput(f"a type code is 1-{CODE_MAX} letters, digits, '_' or '-'")
        names = [" ".join(n.split()) for n in (name_es, name_en)]
        if not all(names) or any(len(n) > 120 for n in names):
            raise InvalidInput("a type needs a Spanish and an English name (up to 120 "
                               "characters)")
        return cls(agency_id=agency_id, code=code, name_es=names[0], name_en=names[1],
                   default_priority=check_priority(default_priority),
                   category=parse_enum(Category, category, "category"), active=active)


def check_priority(priority: int) -> int:
    """``priority`` when it is 1 (highest) .. 5, ``InvalidInput`` otherwise."""
    if isinstance(priority, bool) or not isinstance(priority, int) or not (
            PRIORITY_HIGHEST <= priority <= PRIORITY_LOWEST):
        raise InvalidInput(f"priority is {PRIORITY_HIGHEST} (highest) to {PRIORITY_LOWEST}")
    return priority


#: An alert's CAP severity read as an incident priority (the type's default may be higher).
SEVERITY_PRIORITY = {Severity.EXTREME: 1, Severity.SEVERE: 2, Severity.MODERATE: 3,
                     Severity.MINOR: 4, Severity.UNKNOWN: 5}


@dataclass(eq=False)
class Incident:
    """One incident of one agency."""

    id: str
    agency_id: str
    number: str
    type_code: str
    priority: int
    title: str
    latitude: float
    longitude: float
    source: IncidentSource
    created_by: str
    created_at: datetime
    updated_at: datetime
    description: str = ""
    status: IncidentStatus = IncidentStatus.NEW
    address: str | None = None
    version: int = 1
    merged_into: str | None = None
    operation_id: str | None = None
    origin_agency_id: str | None = None
    origin_node: str | None = None
    origin_incident_id: str | None = None
    acknowledged_at: datetime | None = None
    dispatched_at: datetime | None = None
    en_route_at: datetime | None = None
    on_scene_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    cancelled_at: datetime | None = None

    # ---- creation -------------------------------------------------------------------------

    @classmethod
    def open_new(cls, *, incident_id: str, agency_id: str, number: str, kind: IncidentType,
                 title: str, latitude: float | None, longitude: float | None,
                 source: IncidentSource, by: str, at: datetime, description: str = "",
                 priority: int | None = None, address: str | None = None,
                 **extra: Any) -> tuple[Incident, IncidentEvent]:
        """A new incident and its ``created`` timeline event (``InvalidInput`` when a rule
        is broken: no title, no place, an inactive type, a priority out of range)."""
        text = " ".join((title or "").split())
        if not text:
            raise InvalidInput("an incident needs a title")
        if len(text) > TITLE_MAX:
            raise InvalidInput(f"the title is longer than {TITLE_MAX} characters")
        if len(description or "") > TEXT_MAX:
            raise InvalidInput(f"the description is longer than {TEXT_MAX} characters")
        if kind.agency_id != agency_id or not kind.active:
            raise InvalidInput(f"{kind.code!r} is not an active incident type of your agency")
        lat, lon = check_location(latitude, longitude)
        place = " ".join((address or "").split()) or None
        if place is not None and len(place) > ADDRESS_MAX:
            raise InvalidInput(f"the address is longer than {ADDRESS_MAX} characters")
        incident = cls(
            id=incident_id, agency_id=agency_id, number=number, type_code=kind.code,
            priority=kind.default_priority if priority is None else check_priority(priority),
            title=text, latitude=lat, longitude=lon, source=source, created_by=by,
            created_at=at, updated_at=at, description=(description or "").strip(),
            address=place, **extra)
        event = IncidentEvent(incident_id, EventKind.CREATED, by, agency_id, at,
                              to_status=IncidentStatus.NEW,
                              detail={"source": source.value, "type": kind.code,
                                      "priority": incident.priority})
        return incident, event

    # ---- concurrency ----------------------------------------------------------------------

    def check_version(self, seen: int | None) -> None:
        """Refuse an edit made on an older version than the current one (None: not checked,
        for the server's own moves such as a unit reporting on scene)."""
        if seen is not None and seen != self.version:
            raise StaleVersion(
                f"incident {self.number} changed since you read it (you saw version {seen}, "
                f"it is now at version {self.version}): reload it and try again")

    # ---- lifecycle ------------------------------------------------------------------------

    def can_become(self, to: IncidentStatus) -> bool:
        """Whether ``to`` is an allowed next status."""
        return to in TRANSITIONS[self.status]

    def transition(self, to: IncidentStatus, *, by: str, by_agency: str, at: datetime,
                   note: str | None = None) -> IncidentEvent:
        """Move to ``to`` (``Conflict`` when the table does not allow it); stamps the time of
        the new status and returns the timeline event."""
        before = self.status
        if to is before:
            raise Conflict(f"incident {self.number} is already {to.value}")
        if not self.can_become(to):
            allowed = ", ".join(sorted(s.value for s in TRANSITIONS[before])) or "none: it is over"
            raise Conflict(f"incident {self.number} cannot go from {before.value} to "
                           f"{to.value} (allowed next: {allowed})")
        text = _note(note)
        if to is IncidentStatus.CANCELLED and (text is None or len(text) < REASON_MIN):
            raise InvalidInput("cancelling an incident needs a reason")
        detail: dict[str, Any] = {}
        if to is IncidentStatus.DISPATCHED and self.acknowledged_at is None:
            self.acknowledged_at = at  # dispatching it is taking it
            detail["acknowledged"] = True
        if to is IncidentStatus.ACKNOWLEDGED and before in (IncidentStatus.DISPATCHED,
                                                            IncidentStatus.EN_ROUTE):
            detail["recalled"] = True  # the units were called off before arriving
        stamp = STAMPS.get(to)
        if stamp is not None and getattr(self, stamp) is None:
            setattr(self, stamp, at)
        self.status = to
        self._touch(at)
        return IncidentEvent(self.id, EventKind.TRANSITION, by, by_agency, at, before, to,
                             text, detail)

    def add_note(self, text: str, *, by: str, by_agency: str, at: datetime) -> IncidentEvent:
        """A note on the timeline (any state: reports are written after closing too)."""
        body = _note(text)
        if body is None:
            raise InvalidInput("a note needs some text")
        self._touch(at)
        return IncidentEvent(self.id, EventKind.NOTE, by, by_agency, at, note=body)

    def set_priority(self, priority: int, *, by: str, by_agency: str,
                     at: datetime) -> IncidentEvent:
        """Change the priority of an open incident."""
        self._require_open("change the priority of")
        new = check_priority(priority)
        if new == self.priority:
            raise Conflict(f"incident {self.number} already has priority {new}")
        old, self.priority = self.priority, new
        self._touch(at)
        return IncidentEvent(self.id, EventKind.PRIORITY, by, by_agency, at,
                             detail={"from": old, "to": new})

    def link_alert(self, alert_id: str, *, by: str, by_agency: str, at: datetime,
                   detail: dict[str, Any] | None = None) -> IncidentEvent:
        """Record a further alert as part of this incident (open incidents only)."""
        self._require_open("link an alert to")
        self._touch(at)
        return IncidentEvent(self.id, EventKind.ALERT_LINKED, by, by_agency, at,
                             detail={"alert_id": alert_id, **(detail or {})})

    def _require_open(self, verb: str) -> None:
        if not self.status.open:
            raise Conflict(f"cannot {verb} incident {self.number}: it is {self.status.value}")

    def _touch(self, at: datetime) -> None:
        self.version += 1
        self.updated_at = at


def merge(duplicate: Incident, target: Incident, *, by: str, by_agency: str, at: datetime,
          carried_notes: Iterable[IncidentEvent] = (), carried_alerts: Sequence[str] = ()
          ) -> list[IncidentEvent]:
    """Merge ``duplicate`` into ``target``: the duplicate is cancelled and points at the
    target; the target's timeline gets the duplicate's notes and alerts. Returns the new
    timeline events (of both incidents). ``Conflict`` unless both are open, distinct and of
    one agency."""
    if duplicate.id == target.id:
        raise Conflict("an incident cannot be merged into itself")
    if duplicate.agency_id != target.agency_id:
        raise Conflict("only incidents of one agency can be merged")
    for which, incident in (("duplicate", duplicate), ("target", target)):
        if not incident.status.open:
            raise Conflict(f"the {which} incident {incident.number} is "
                           f"{incident.status.value}: only open incidents are merged")
    before = duplicate.status
    duplicate.status, duplicate.merged_into = IncidentStatus.CANCELLED, target.id
    duplicate.cancelled_at = at
    duplicate._touch(at)
    target._touch(at)
    made = [
        IncidentEvent(duplicate.id, EventKind.MERGED, by, by_agency, at, before,
                      IncidentStatus.CANCELLED, f"duplicado de {target.number}",
                      {"into": target.id, "into_number": target.number}),
        IncidentEvent(target.id, EventKind.MERGED_FROM, by, by_agency, at,
                      detail={"from": duplicate.id, "from_number": duplicate.number,
                              "alerts": list(carried_alerts)}),
    ]
    for note in carried_notes:
        made.append(IncidentEvent(target.id, EventKind.NOTE, note.by, note.by_agency, note.at,
                                  note=note.note,
                                  detail={"carried_from": duplicate.number}))
    return made


def _note(text: str | None) -> str | None:
    body = (text or "").strip()
    if len(body) > TEXT_MAX:
        raise InvalidInput(f"a note is at most {TEXT_MAX} characters")
    return body or None


def check_location(latitude: float | None, longitude: float | None) -> tuple[float, float]:
    """Both coordinates, in range (an incident always has a place)."""
    if latitude is None or longitude is None:
        raise InvalidInput("an incident needs a location (latitude and longitude)")
    lat, lon = float(latitude), float(longitude)
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise InvalidInput("latitude must be between -90 and 90")
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise InvalidInput("longitude must be between -180 and 180")
    return lat, lon


def number_prefix(agency_id: str, year: int) -> str:
    """``SEG-2026-`` for segura-ep: the agency's first word, three letters, and the year."""
    word = "".join(c for c in agency_id.split("-")[0] if c.isalnum())[:3].upper() or "INC"
    return f"{word}-{year}-"


def format_number(prefix: str, sequence: int) -> str:
    """``SEG-2026-000123``."""
    return f"{prefix}{sequence:06d}"


# ---- which type fits an alert ---------------------------------------------------------------


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def type_for_alert(catalogue: Sequence[IncidentType], category: Category, *texts: str
                   ) -> IncidentType | None:
    """The active type of ``catalogue`` an alert reads as: one whose Spanish or English name
    appears in the alert's texts (accents and case ignored; longest name first), else the
    least urgent type of the alert's category (the generic one: the alert's severity raises
    the priority anyway), else the ``otro`` type, else None."""
    active = [t for t in catalogue if t.active]
    haystack = _fold(" ".join(texts))
    for kind in sorted(active, key=lambda t: -max(len(t.name_es), len(t.name_en))):
        if any(_fold(name) in haystack for name in (kind.name_es, kind.name_en)):
            return kind
    same = sorted((t for t in active if t.category is category),
                  key=lambda t: (-t.default_priority, t.code))
    if same:
        return same[0]
    return next((t for t in active if t.code == "otro"), None)


def priority_for(kind: IncidentType, severity: Severity) -> int:
    """The more urgent of the type's default and the alert's severity."""
    return min(kind.default_priority, SEVERITY_PRIORITY[severity])


def parse_status(value: str) -> IncidentStatus:
    """``value`` as an IncidentStatus (``InvalidInput`` naming the known ones)."""
    return parse_enum(IncidentStatus, value, "incident status")
