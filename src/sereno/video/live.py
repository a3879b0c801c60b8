"""Live view for the console: one decoder per *watched* camera, its JPEGs fanned out to every
viewer, stopped when nobody watches.

MJPEG over HTTP was chosen over HLS (ADR 0011): it plays in an <img> tag with the session
cookie, needs no segmenter or player library, starts in well under a second, and its cost is
paid only for cameras somebody is looking at.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from sereno.video.images import blank, encode
from sereno.video.ingest.health import StreamHealth
from sereno.video.ingest.reader import SourceOptions, StreamError, StreamReader
from sereno.video.shared_frames import SharedFrame

logger = logging.getLogger(__name__)


@dataclass
class _Feed:
    camera_id: str
    url: str
    masks: tuple[tuple[tuple[float, float], ...], ...]
    condition: threading.Condition = field(default_factory=threading.Condition)
    jpeg: bytes | None = None
    sequence: int = 0
    viewers: int = 0
    error: str | None = None
    last_viewer_left: float = 0.0
    thread: threading.Thread | None = None
    stop: threading.Event = field(default_factory=threading.Event)


class LiveHub:
    """Per-camera live feeds shared by all viewers of this API process."""

    def __init__(self, fps: float = 5.0, linger_s: float = 10.0) -> None:
        self.fps = fps
        self.linger_s = linger_s
        self._feeds: dict[str, _Feed] = {}
        self._lock = threading.Lock()
        # Set by `sereno serve` when the video workers run: their shared-memory pictures are
        # used instead of decoding the stream a second time here.
        self.shared_source: Callable[[str], SharedFrame | None] | None = None

    def frames(self, camera_id: str, url: str,
               masks: Sequence[Sequence[Sequence[float]]] = (),
               timeout_s: float = 10.0) -> Iterator[bytes]:
        """JPEGs of the camera as they come (blocking); ends if the feed fails for long."""
        shared = self.shared_source(camera_id) if self.shared_source else None
        if shared is not None:
            yield from self._from_worker(shared, timeout_s)
            return
        feed = self._join(camera_id, url, masks)
        seen = 0

        def fresh() -> bool:
            return feed.sequence != seen

        try:
            while True:
                with feed.condition:
                    if not feed.condition.wait_for(fresh, timeout=timeout_s):
                        return
                    seen, jpeg = feed.sequence, feed.jpeg
                if jpeg is not None:
                    yield jpeg
        finally:
            self._leave(feed)

    def _from_worker(self, shared: SharedFrame, timeout_s: float) -> Iterator[bytes]:
        """The worker's pictures (masks already blanked there), as they change."""
        last_sequence, last_new = 0, time.monotonic()
        while time.monotonic() - last_new < timeout_s:
            shared.want()
            picture = shared.read()
            if picture is not None and picture[0] != last_sequence:
                last_sequence, last_new = picture[0], time.monotonic()
                yield picture[2]
            time.sleep(0.5 / self.fps)

    def _join(self, camera_id: str, url: str,
              masks: Sequence[Sequence[Sequence[float]]]) -> _Feed:
        frozen = tuple(tuple((float(x), float(y)) for x, y in m) for m in masks)
        with self._lock:
            feed = self._feeds.get(camera_id)
            if feed is None or feed.url != url or feed.masks != frozen or feed.stop.is_set():
                if feed is not None:
                    feed.stop.set()
                feed = _Feed(camera_id, url, frozen)
                self._feeds[camera_id] = feed
            feed.viewers += 1
            if feed.thread is None:
                feed.thread = threading.Thread(target=self._run, args=(feed,),
                                               name=f"live-{camera_id}", daemon=True)
                feed.thread.start()
            return feed

    def _leave(self, feed: _Feed) -> None:
        with self._lock:
            feed.viewers -= 1
            feed.last_viewer_left = time.monotonic()

    def _run(self, feed: _Feed) -> None:
        health = StreamHealth(feed.camera_id)
        options = SourceOptions(max_fps=self.fps)
        while not feed.stop.is_set():
            reader = StreamReader(feed.camera_id, feed.url, health, options)
            try:
                for frame in reader.frames():
                    with self._lock:
                        idle = feed.viewers == 0 and (
                            time.monotonic() - feed.last_viewer_left > self.linger_s)
                        if idle:
                            feed.stop.set()
                    if feed.stop.is_set():
                        reader.close()
                        break
                    jpeg = encode(blank(frame.bgr(), feed.masks))
                    with feed.condition:
                        feed.jpeg, feed.error = jpeg, None
                        feed.sequence += 1
                        feed.condition.notify_all()
            except StreamError as error:
                feed.error = str(error)
                feed.stop.wait(2.0)
        with self._lock:
            if self._feeds.get(feed.camera_id) is feed:
                del self._feeds[feed.camera_id]
