"""Which cameras see a place: field-of-view geometry on a local metric projection.

A camera sees a sector: from its position, ``range_m`` metres deep, ``fov_deg`` wide, centred
on ``heading_deg`` (degrees clockwise from north). Over a city's few kilometres an
equirectangular projection centred on the place is exact to well under a metre, which is far
below the precision of a camera's registered position, so no projection library is needed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from sereno.domain.cameras import Camera

EARTH_RADIUS_M = 6_371_008.8


def local_xy(latitude: float, longitude: float, origin_lat: float, origin_lon: float
             ) -> tuple[float, float]:
    """Metres east and north of the origin (equirectangular at the origin's latitude)."""
    x = math.radians(longitude - origin_lon) * EARTH_RADIUS_M * math.cos(math.radians(origin_lat))
    y = math.radians(latitude - origin_lat) * EARTH_RADIUS_M
    return x, y


def offset(latitude: float, longitude: float, bearing_deg: float, distance_m: float
           ) -> tuple[float, float]:
    """The point ``distance_m`` from (latitude, longitude) towards ``bearing_deg`` (the inverse
    of ``local_xy``: tests and the demo place things with it)."""
    north = distance_m * math.cos(math.radians(bearing_deg))
    east = distance_m * math.sin(math.radians(bearing_deg))
    lat = latitude + math.degrees(north / EARTH_RADIUS_M)
    lon = longitude + math.degrees(east / (EARTH_RADIUS_M * math.cos(math.radians(latitude))))
    return lat, lon


@dataclass(frozen=True)
class CameraView:
    """A camera that covers a place: how far it is and in which direction it looks at it."""

    camera: Camera
    distance_m: float
    bearing_deg: float  # from the camera to the place, clockwise from north
    off_axis_deg: float  # how far from the centre of its view the place is


def sees(camera: Camera, latitude: float, longitude: float, radius_m: float = 0.0
         ) -> CameraView | None:
    """The view ``camera`` has of the disc of ``radius_m`` around the place, or None when the
    disc lies outside its sector."""
    x, y = local_xy(latitude, longitude, camera.latitude, camera.longitude)
    distance = math.hypot(x, y)
    if distance > camera.range_m + radius_m:
        return None
    bearing = math.degrees(math.atan2(x, y)) % 360.0
    off_axis = abs((bearing - camera.heading_deg + 180.0) % 360.0 - 180.0)
    if distance <= radius_m or camera.fov_deg >= 360.0:
        return CameraView(camera, distance, bearing, off_axis)
    # A disc of radius r at distance d spans asin(r/d) either side of its centre's bearing.
    slack = math.degrees(math.asin(min(1.0, radius_m / distance))) if radius_m else 0.0
    if off_axis > camera.fov_deg / 2.0 + slack:
        return None
    return CameraView(camera, distance, bearing, off_axis)


def cameras_covering(cameras: Iterable[Camera], latitude: float, longitude: float,
                     radius_m: float = 0.0) -> list[CameraView]:
    """The cameras among ``cameras`` whose field of view covers the place, nearest first
    (ties by id). The caller passes only cameras the asker may see and that still exist."""
    views = [v for v in (sees(c, latitude, longitude, radius_m) for c in cameras) if v]
    return sorted(views, key=lambda v: (v.distance_m, v.camera.id))
