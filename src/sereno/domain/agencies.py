"""Agencies and their monitoring centres."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AgencyKind(StrEnum):
    """What sort of body an agency is; decides nothing yet, shown to users."""

    MUNICIPAL = "municipal"
    POLICE = "police"
    MINISTRY = "ministry"
    OTHER = "other"


@dataclass(eq=False)
class Agency:
    """A body that owns cameras and employs users, e.g. Segura EP or the National Police."""

    id: str
    name: str
    kind: AgencyKind = AgencyKind.OTHER


@dataclass(eq=False)
class MonitoringCentre:
    """A room where operators watch cameras; belongs to exactly one agency."""

    id: str
    agency_id: str
    name: str
    latitude: float | None = None
    longitude: float | None = None
