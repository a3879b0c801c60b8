"""Per-camera stream health: what an operator and Prometheus need to know about a stream."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

WINDOW_S = 5.0


@dataclass
class StreamHealth:
    """Rolling measurements of one camera's analytics stream.

    fps and bitrate are measured over the last ``WINDOW_S`` seconds of received frames/packets,
    not taken from the stream's declared rate.
    """

    camera_id: str
    online: bool = False
    width: int = 0
    height: int = 0
    codec: str = ""
    frames: int = 0
    decode_errors: int = 0
    reconnects: int = 0
    last_error: str | None = None
    last_frame_monotonic: float | None = None
    _frame_times: deque[float] = field(default_factory=lambda: deque(maxlen=512), repr=False)
    _packet_bytes: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=2048),
                                                    repr=False)

    def frame_received(self, now: float) -> None:
        """Count one decoded frame."""
        self.frames += 1
        self.last_frame_monotonic = now
        self._frame_times.append(now)

    def packet_received(self, now: float, size: int) -> None:
        """Count one demuxed packet's bytes (for the bitrate)."""
        self._packet_bytes.append((now, size))

    def fps(self, now: float | None = None) -> float:
        """Frames per second over the window."""
        now = time.monotonic() if now is None else now
        recent = [t for t in self._frame_times if now - t <= WINDOW_S]
        if len(recent) < 2:
            return 0.0
        span = recent[-1] - recent[0]
        return (len(recent) - 1) / span if span > 0 else 0.0

    def bitrate_kbps(self, now: float | None = None) -> float:
        """Kilobits per second over the window."""
        now = time.monotonic() if now is None else now
        total = sum(size for t, size in self._packet_bytes if now - t <= WINDOW_S)
        return total * 8 / 1000 / WINDOW_S

    def last_frame_age_s(self, now: float | None = None) -> float | None:
        """Seconds since the last frame, None if none yet."""
        if self.last_frame_monotonic is None:
            return None
        now = time.monotonic() if now is None else now
        return max(0.0, now - self.last_frame_monotonic)

    def snapshot(self, now: float | None = None) -> dict[str, Any]:
        """Plain values for the API, the console and the metrics exporter."""
        now = time.monotonic() if now is None else now
        age = self.last_frame_age_s(now)
        return {
            "camera_id": self.camera_id, "online": self.online, "width": self.width,
            "height": self.height, "codec": self.codec, "fps": round(self.fps(now), 2),
            "bitrate_kbps": round(self.bitrate_kbps(now), 1),
            "last_frame_age_s": None if age is None else round(age, 3),
            "frames": self.frames, "decode_errors": self.decode_errors,
            "reconnects": self.reconnects, "last_error": self.last_error,
        }
