"""Prometheus metrics of the camera streams (text exposition format)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from sereno.entrypoints.api.context import Caller, platform_of
from sereno.entrypoints.api.schemas import ErrorResponse
from sereno.services import video

router = APIRouter(tags=["metrics"])
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class StreamCollector(Collector):
    """Gauges and counters from the ingest workers' last health reports."""

    def __init__(self, health: dict[str, dict[str, Any]]) -> None:
        self.health = health

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        gauges = {
            "online": GaugeMetricFamily("sereno_camera_online", "1 if the stream delivers "
                                        "frames", labels=["camera"]),
            "fps": GaugeMetricFamily("sereno_camera_fps", "Measured analytics frames per "
                                     "second", labels=["camera"]),
            "bitrate_kbps": GaugeMetricFamily("sereno_camera_bitrate_kbps", "Measured stream "
                                              "bitrate", labels=["camera"]),
            "last_frame_age_s": GaugeMetricFamily("sereno_camera_last_frame_age_seconds",
                                                  "Seconds since the last frame",
                                                  labels=["camera"]),
        }
        counters = {
            "decode_errors": CounterMetricFamily("sereno_camera_decode_errors", "Packets that "
                                                 "failed to decode", labels=["camera"]),
            "reconnects": CounterMetricFamily("sereno_camera_reconnects", "Stream reconnects",
                                              labels=["camera"]),
            "frames": CounterMetricFamily("sereno_camera_frames", "Frames analysed",
                                          labels=["camera"]),
        }
        for camera, values in sorted(self.health.items()):
            for key, family in gauges.items():
                value = values.get(key)
                if value is not None:
                    family.add_metric([camera], float(value))
            for key, counter in counters.items():
                counter.add_metric([camera], float(values.get(key) or 0))
        yield from gauges.values()
        yield from counters.values()


@router.get("/metrics", responses={200: {"content": {CONTENT_TYPE: {}}},
                                   401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}})
def metrics(request: Request, caller: Caller) -> Response:
    """Stream health of the cameras the caller's agency may see, for Prometheus (scope
    ``metrics:read``; supervisors and admins)."""
    visible = video.authorize_metrics(platform_of(request).uow(), caller)
    registry_of_health = getattr(request.app.state, "video_health", None)
    health = registry_of_health.all() if registry_of_health is not None else {}
    registry = CollectorRegistry()
    registry.register(StreamCollector({k: v for k, v in health.items() if k in visible}))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE)
