"""What video worker processes send to the main process (picklable, small)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CameraSpec:
    """Everything a worker needs to run one camera's analytics (sent to the worker process)."""

    camera_id: str
    url: str
    transport: str = "tcp"
    max_fps: float = 5.0
    privacy_masks: tuple[tuple[tuple[float, float], ...], ...] = ()
    detector: dict[str, Any] | None = None
    rules: tuple[dict[str, Any], ...] = ()
    detect_fps: float = 1.0
    record_url: str | None = None  # the main stream, recorded by packet copy; None: no recording
    recordings_root: str | None = None
    watchlist: tuple[dict[str, Any], ...] = ()  # wanted plates this camera should report
    analytics: bool = True  # False: ingest and health only
    models_dir: str | None = None  # where operators' detector models live
    live_frame: str | None = None  # shared-memory block for the live view (see shared_frames)
    live_fps: float = 5.0


@dataclass(frozen=True)
class HealthReport:
    """Periodic stream health of one camera (see ``StreamHealth.snapshot``)."""

    camera_id: str
    values: dict[str, Any]


@dataclass(frozen=True)
class StageMessage:
    """Anything a pipeline stage raised (quality alarm, rule match...), tagged with its kind."""

    camera_id: str
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
