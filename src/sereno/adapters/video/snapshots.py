"""Grab one frame from a camera stream and encode it as JPEG.

File sources play as looped live cameras: the frame shown is the one at (wall clock modulo clip
length), so every viewer sees the same moment and the picture moves between refreshes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import av
import numpy as np

from sereno.domain.errors import SerenoError
from sereno.video.frames import Bgr
from sereno.video.images import blank, encode

MAX_WIDTH = 640


class StreamUnavailable(SerenoError):
    """The camera's stream could not be opened or decoded right now."""

    code = "stream_unavailable"


@dataclass
class _Cached:
    at: float
    jpeg: bytes


class SnapshotGrabber:
    """Decodes a frame on demand; caches each camera's frame for ``cache_seconds``."""

    def __init__(self, allowed_file_roots: Sequence[Path], *, open_timeout_s: float = 5.0,
                 cache_seconds: float = 1.0) -> None:
        self.allowed_file_roots = [p.resolve() for p in allowed_file_roots]
        self.open_timeout_s = open_timeout_s
        self.cache_seconds = cache_seconds
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def snapshot(self, camera_id: str, url: str,
                 privacy_masks: Sequence[Sequence[Sequence[float]]] = ()) -> bytes:
        """A JPEG of the camera's current picture, masks blanked; raises ``StreamUnavailable``."""
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(camera_id)
            if cached is not None and now - cached.at < self.cache_seconds:
                return cached.jpeg
        image = self._decode_one(url)
        jpeg = encode(blank(image, privacy_masks), max_width=MAX_WIDTH, quality=80)
        with self._lock:
            self._cache[camera_id] = _Cached(now, jpeg)
        return jpeg

    def probe(self, url: str) -> str | None:
        """Open the stream and decode one frame: None when that worked, else why not."""
        try:
            self._decode_one(url)
        except StreamUnavailable as error:
            return error.message
        return None

    def _decode_one(self, url: str) -> Bgr:
        parts = urlsplit(url)
        try:
            if parts.scheme == "file":
                return self._frame_from_file(self._allowed_path(unquote(parts.path)))
            options = {"timeout": str(int(self.open_timeout_s * 1_000_000))}
            if parts.scheme in ("rtsp", "rtsps"):
                options["rtsp_transport"] = "tcp"
            with av.open(url, options=options, timeout=self.open_timeout_s) as container:
                for frame in container.decode(video=0):
                    return _to_bgr(frame)
        except StreamUnavailable:
            raise
        except (av.FFmpegError, OSError, StopIteration) as error:
            raise StreamUnavailable(f"cannot read the stream: {error}") from error
        raise StreamUnavailable("the stream ended before a frame was decoded")

    def _allowed_path(self, path: str) -> Path:
        resolved = Path(path).resolve()
        if not any(resolved.is_relative_to(root) for root in self.allowed_file_roots):
            raise StreamUnavailable("file sources outside the configured media folders are "
                                    "not opened")
        if not resolved.is_file():
            raise StreamUnavailable("the source file does not exist")
        return resolved

    @staticmethod
    def _frame_from_file(path: Path) -> Bgr:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            duration = (float(container.duration) / av.time_base if container.duration
                        else 0.0)
            if duration > 0 and stream.time_base is not None:
                position = time.time() % duration
                container.seek(int(position / stream.time_base), stream=stream,
                               any_frame=False, backward=True)
            for frame in container.decode(stream):
                return _to_bgr(frame)
        raise StreamUnavailable("the file holds no decodable frame")


def _to_bgr(frame: av.VideoFrame) -> Bgr:
    return np.asarray(frame.to_ndarray(format="bgr24"), np.uint8)
