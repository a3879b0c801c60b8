"""Event clips: once the recording around a detection exists, cut [at - pre, at + post] from
the segments by packet copy and attach it to the detection."""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sereno.domain import events
from sereno.video.recording.clips import NoFootageError, cut_clip
from sereno.video.recording.index import SegmentIndex

logger = logging.getLogger(__name__)


@dataclass(order=True)
class _Job:
    due: float
    event: events.DetectionEvent = field(compare=False)
    give_up: float = field(compare=False, default=0.0)


class ClipCutter:
    """A small scheduler thread; ``schedule`` is called from bus event handlers."""

    def __init__(self, recordings_root: Path, media_root: Path,
                 attach: Callable[[str, str], None], *, pre_s: float, post_s: float,
                 wait_s: float = 12.0, retry_s: float = 5.0, give_up_s: float = 90.0) -> None:
        self.recordings_root = recordings_root
        self.media_root = media_root
        self.attach = attach
        self.pre_s, self.post_s = pre_s, post_s
        self.wait_s, self.retry_s, self.give_up_s = wait_s, retry_s, give_up_s
        self._jobs: list[_Job] = []
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self.cut = 0

    def start(self) -> None:
        threading.Thread(target=self._run, name="event-clips", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        with self._wake:
            self._wake.notify_all()

    def schedule(self, event: events.DetectionEvent) -> None:
        """Cut the event's clip once the segment holding its post-roll has been closed."""
        now = time.monotonic()
        job = _Job(now + self.post_s + self.wait_s, event, now + self.give_up_s)
        with self._wake:
            heapq.heappush(self._jobs, job)
            self._wake.notify_all()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._wake:
                while not self._stop.is_set() and (
                        not self._jobs or self._jobs[0].due > time.monotonic()):
                    timeout = (self._jobs[0].due - time.monotonic()) if self._jobs else None
                    self._wake.wait(timeout)
                if self._stop.is_set():
                    return
                job = heapq.heappop(self._jobs)
            self._attempt(job)

    def _attempt(self, job: _Job) -> None:
        event = job.event
        key = f"clips/{event.camera_id}/{event.at:%Y/%m/%d}/{event.event_id}.mp4"
        try:
            result = cut_clip(SegmentIndex(self.recordings_root, event.camera_id), event.at,
                              event.at, self.pre_s, self.post_s, self.media_root / key)
        except NoFootageError:
            result = None
        except Exception:
            logger.exception("clip of %s failed", event.event_id)
            return
        if result is None or not result.covers_range:
            if time.monotonic() + self.retry_s < job.give_up:  # recording not there yet
                job.due = time.monotonic() + self.retry_s
                with self._wake:
                    heapq.heappush(self._jobs, job)
                return
            if result is None:
                logger.info("no recording around detection %s; no clip", event.event_id)
                return
        self.attach(event.event_id, key)
        self.cut += 1
