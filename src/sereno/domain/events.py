"""Domain events: facts that happened. Handlers on the message bus react to them."""

from __future__ import annotations

from dataclasses import dataclass


class Event:
    """Marker base class for domain events."""


@dataclass(frozen=True)
class CameraRegistered(Event):
    camera_id: str
    owner_agency_id: str


@dataclass(frozen=True)
class CameraUpdated(Event):
    camera_id: str
    owner_agency_id: str
    changed: tuple[str, ...]


@dataclass(frozen=True)
class CameraRetired(Event):
    camera_id: str
    owner_agency_id: str


@dataclass(frozen=True)
class CameraStatusChanged(Event):
    camera_id: str
    owner_agency_id: str
    status: str
    reason: str


@dataclass(frozen=True)
class CamerasImported(Event):
    owner_agency_id: str
    camera_ids: tuple[str, ...]


@dataclass(frozen=True)
class UserLockedOut(Event):
    user_id: str
    agency_id: str
    username: str
