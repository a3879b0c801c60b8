"""Cameras: where they are, what they see, who owns them and who else may see them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from shapely.geometry import Polygon

from sereno.domain.access import Permission, Principal
from sereno.domain.errors import InvalidInput


class CameraStatus(StrEnum):
    """Operational state. ``retired`` cameras stay in the registry for the record."""

    ONLINE = "online"
    OFFLINE = "offline"
    DEGRADED = "degraded"
    MAINTENANCE = "maintenance"
    RETIRED = "retired"


class Classification(StrEnum):
    """Who, beyond the owner agency, may know the camera exists (see ADR 0004).

    ``shared``: partner agencies on this platform see it, read-only.
    ``private``: only the owner agency; to anybody else it does not exist.
    """

    SHARED = "shared"
    PRIVATE = "private"


CAMERA_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
STREAM_SCHEMES = frozenset({"rtsp", "rtsps", "http", "https", "file"})
MAX_RANGE_M = 5_000.0
MAX_TAGS = 32
MAX_MASKS = 16


@dataclass(eq=False)
class Camera:
    """A camera in the registry.

    Privacy masks are polygons in image coordinates normalised to 0..1 (x right, y down), so they
    survive a change of stream resolution.
    """

    id: str
    owner_agency_id: str
    centre_id: str
    name: str
    latitude: float
    longitude: float
    main_stream_url: str
    heading_deg: float = 0.0
    fov_deg: float = 60.0
    range_m: float = 50.0
    sub_stream_url: str | None = None
    status: CameraStatus = CameraStatus.OFFLINE
    classification: Classification = Classification.PRIVATE
    tags: list[str] = field(default_factory=list)
    privacy_masks: list[list[list[float]]] = field(default_factory=list)
    video: dict[str, Any] = field(default_factory=dict)  # see validate_video_settings
    created_at: datetime | None = None
    updated_at: datetime | None = None
    retired_at: datetime | None = None

    @property
    def is_retired(self) -> bool:
        """Retired cameras are kept but can no longer change or stream."""
        return self.status is CameraStatus.RETIRED

    @property
    def analytics_stream_url(self) -> str:
        """The low-resolution stream for analytics and previews; the main one if there is none."""
        return self.sub_stream_url or self.main_stream_url

    def observe_stream(self, reachable: bool) -> CameraStatus | None:
        """Apply a stream probe; returns the new status when it changed, else None.

        Retired and maintenance cameras keep their status (people set those); a failed probe
        makes a camera offline; a good probe brings an offline camera back online and leaves
        a degraded one degraded (finer health comes from the ingest workers).
        """
        if self.status in (CameraStatus.RETIRED, CameraStatus.MAINTENANCE):
            return None
        if not reachable and self.status is not CameraStatus.OFFLINE:
            self.status = CameraStatus.OFFLINE
            return self.status
        if reachable and self.status is CameraStatus.OFFLINE:
            self.status = CameraStatus.ONLINE
            return self.status
        return None

    def visible_to(self, who: Principal) -> bool:
        """May ``who`` know this camera exists and read its registry entry?"""
        if not who.can(Permission.CAMERA_READ):
            return False
        return who.agency_id == self.owner_agency_id or self.classification is Classification.SHARED

    def changeable_by(self, who: Principal) -> bool:
        """Only the owner agency's users with the write permission change a camera."""
        return who.agency_id == self.owner_agency_id and who.can(Permission.CAMERA_WRITE)


# Fields a caller may set, with the validator for each. Agency and timestamps are never settable.
EDITABLE_FIELDS = (
    "name", "centre_id", "latitude", "longitude", "heading_deg", "fov_deg", "range_m",
    "main_stream_url", "sub_stream_url", "status", "classification", "tags", "privacy_masks",
    "video",
)
VIDEO_KEYS = frozenset({"analytics", "record", "detector", "retention_hours", "retention_mb",
                        "detect_fps"})
DETECTOR_KINDS = frozenset({"ssd", "yolo", "yolov5", "yolov8", "yolov11"})


def validate_camera_id(value: str) -> str:
    """Operator-facing ids: letters, digits, ``_ . -``; at most 64 characters."""
    if not isinstance(value, str) or not CAMERA_ID_PATTERN.match(value):
        raise InvalidInput(f"invalid camera id {value!r}: use letters, digits, '_', '.', '-'")
    return value


def validate_coordinates(latitude: float, longitude: float) -> tuple[float, float]:
    """WGS84 degrees; rejects NaN, out-of-range values and the (0, 0) null-island placeholder."""
    for name, value, limit in (("latitude", latitude, 90.0), ("longitude", longitude, 180.0)):
        if not isinstance(value, int | float) or value != value or not -limit <= value <= limit:
            raise InvalidInput(f"{name} must be a number between -{limit:g} and {limit:g}")
    if latitude == 0 and longitude == 0:
        raise InvalidInput("coordinates (0, 0) are a placeholder, not a camera position")
    return float(latitude), float(longitude)


def validate_heading(heading_deg: float) -> float:
    """Degrees clockwise from north, 0..360."""
    if not 0 <= heading_deg <= 360:
        raise InvalidInput("heading_deg must be between 0 and 360")
    return heading_deg


def validate_fov(fov_deg: float) -> float:
    """Horizontal field of view, 1..360 degrees (360 for a fisheye)."""
    if not 1 <= fov_deg <= 360:
        raise InvalidInput("fov_deg must be between 1 and 360")
    return fov_deg


def validate_range(range_m: float) -> float:
    """How far the camera usefully sees, (0, 5000] metres."""
    if not 0 < range_m <= MAX_RANGE_M:
        raise InvalidInput(f"range_m must be above 0 and at most {MAX_RANGE_M:g}")
    return range_m


OPTICS_VALIDATORS = {"heading_deg": validate_heading, "fov_deg": validate_fov,
                     "range_m": validate_range}


def validate_stream_url(value: str, *, field_name: str = "main_stream_url") -> str:
    """A stream URL the ingest layer can open: rtsp(s), http(s) with a host, or file."""
    if not isinstance(value, str) or not value.strip() or len(value) > 2048:
        raise InvalidInput(f"{field_name} must be a non-empty URL of at most 2048 characters")
    parts = urlsplit(value.strip())
    if parts.scheme not in STREAM_SCHEMES:
        allowed = ", ".join(sorted(STREAM_SCHEMES))
        raise InvalidInput(f"{field_name} has scheme {parts.scheme!r}; allowed: {allowed}")
    if parts.scheme == "file":
        if not parts.path.startswith("/"):
            raise InvalidInput(f"{field_name} file URL must hold an absolute path")
    elif not parts.hostname:
        raise InvalidInput(f"{field_name} has no host")
    return value.strip()


def validate_tags(tags: list[str]) -> list[str]:
    """Short lower-case labels, de-duplicated, order kept."""
    if not isinstance(tags, list) or len(tags) > MAX_TAGS:
        raise InvalidInput(f"tags must be a list of at most {MAX_TAGS} strings")
    cleaned: list[str] = []
    for tag in tags:
        if not isinstance(tag, str) or not 0 < len(tag.strip()) <= 40:
            raise InvalidInput("each tag must be a string of 1 to 40 characters")
        label = tag.strip().lower()
        if label not in cleaned:
            cleaned.append(label)
    return cleaned


def validate_privacy_masks(masks: Any) -> list[list[list[float]]]:
    """Each mask: at least three [x, y] points in 0..1 forming a simple (valid) polygon."""
    if not isinstance(masks, list) or len(masks) > MAX_MASKS:
        raise InvalidInput(f"privacy_masks must be a list of at most {MAX_MASKS} polygons")
    cleaned = []
    for index, mask in enumerate(masks):
        try:
            points = [(float(x), float(y)) for x, y in mask]
        except (TypeError, ValueError):
            raise InvalidInput(f"privacy mask {index} must be a list of [x, y] pairs") from None
        if points and points[0] == points[-1]:
            points = points[:-1]
        if len(points) < 3:
            raise InvalidInput(f"privacy mask {index} needs at least three points")
        if any(not (0 <= x <= 1 and 0 <= y <= 1) for x, y in points):
            raise InvalidInput(f"privacy mask {index} points must lie in 0..1 (image fraction)")
        polygon = Polygon(points)
        if not polygon.is_valid or polygon.area == 0:
            raise InvalidInput(f"privacy mask {index} is not a simple polygon with an area")
        cleaned.append([[x, y] for x, y in points])
    return cleaned


def validate_video_settings(video: Any) -> dict[str, Any]:
    """Per-camera video settings: ``analytics`` and ``record`` (booleans), ``detect_fps``,
    ``retention_hours``, ``retention_mb`` (numbers), and ``detector``: a detector config whose
    model ``path`` is relative to the node's models folder (no absolute paths, no ``..``)."""
    if not isinstance(video, dict):
        raise InvalidInput("video must be an object")
    unknown = sorted(set(video) - VIDEO_KEYS)
    if unknown:
        raise InvalidInput(f"unknown video setting(s): {', '.join(unknown)}")
    for flag in ("analytics", "record"):
        if flag in video and not isinstance(video[flag], bool):
            raise InvalidInput(f"video.{flag} must be true or false")
    for name, low, high in (("detect_fps", 0.1, 30.0), ("retention_hours", 0.1, 24 * 365.0),
                            ("retention_mb", 1.0, 10_000_000.0)):
        value = video.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not low <= value <= high):
            raise InvalidInput(f"video.{name} must be a number from {low:g} to {high:g}")
    detector = video.get("detector")
    if detector is not None:
        if not isinstance(detector, dict) or detector.get("kind") not in DETECTOR_KINDS:
            raise InvalidInput("video.detector needs a kind: " + ", ".join(sorted(DETECTOR_KINDS)))
        path = detector.get("path")
        if path is not None and (not isinstance(path, str) or path.startswith(("/", "~"))
                                 or ".." in path.replace("\\", "/").split("/")):
            raise InvalidInput("video.detector.path must be relative to the models folder")
    return dict(video)


def validate_camera(camera: Camera) -> None:
    """Check every rule on a camera; raises ``InvalidInput`` naming the first broken one."""
    validate_camera_id(camera.id)
    if not camera.name or len(camera.name) > 200:
        raise InvalidInput("name must be 1 to 200 characters")
    validate_coordinates(camera.latitude, camera.longitude)
    for name, validate in OPTICS_VALIDATORS.items():
        validate(getattr(camera, name))
    validate_stream_url(camera.main_stream_url)
    if camera.sub_stream_url:
        validate_stream_url(camera.sub_stream_url, field_name="sub_stream_url")
    camera.tags = validate_tags(camera.tags)
    camera.privacy_masks = validate_privacy_masks(camera.privacy_masks)
    camera.video = validate_video_settings(camera.video)
