"""Run cameras: one thread per camera inside a worker process, one process per camera group.

A camera thread reads its stream, hands each frame to the pipeline stages, sends health
reports, and reconnects with backoff when the stream fails. A failing camera only ever delays
itself; a crashing worker process is restarted by the supervisor.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from sereno.video.frames import Frame
from sereno.video.ingest.backoff import Backoff
from sereno.video.ingest.health import StreamHealth
from sereno.video.ingest.reader import SourceOptions, StreamError, StreamReader
from sereno.video.messages import CameraSpec, HealthReport, StageMessage

logger = logging.getLogger(__name__)
HEALTH_EVERY_S = 1.0

Outbox = Callable[[object], None]


class Stage(Protocol):
    """One step of a camera's analytics pipeline."""

    def process(self, frame: Frame) -> list[StageMessage]: ...


StageFactory = Callable[[CameraSpec], Sequence[Stage]]


def no_stages(_spec: CameraSpec) -> Sequence[Stage]:
    """Ingest and health only."""
    return ()


class CameraRunner:
    """The loop of one camera: read, analyse, report, reconnect."""

    def __init__(self, spec: CameraSpec, outbox: Outbox, stop: threading.Event,
                 stages: Sequence[Stage] = (), backoff: Backoff | None = None,
                 options: SourceOptions | None = None) -> None:
        self.spec = spec
        self.outbox = outbox
        self.stop = stop
        self.stages = list(stages)
        self.backoff = backoff or Backoff()
        # With a live-view block the stream is read at the live rate; analytics keep theirs.
        read_fps = max(spec.max_fps, spec.live_fps) if spec.live_frame else spec.max_fps
        self.options = options or SourceOptions(transport=spec.transport, max_fps=read_fps)
        self.health = StreamHealth(spec.camera_id)
        self._last_report = 0.0
        self._last_analysed = -1e18
        self._last_live = -1e18
        self.live = None
        if spec.live_frame:
            from sereno.video.shared_frames import SharedFrame

            self.live = SharedFrame(spec.live_frame)

    def run(self) -> None:
        """Until ``stop`` is set."""
        first = True
        while not self.stop.is_set():
            if not first:
                self.health.reconnects += 1
            first = False
            reader = StreamReader(self.spec.camera_id, self.spec.url, self.health, self.options)
            try:
                for frame in reader.frames():
                    if self.stop.is_set():
                        reader.close()
                        break
                    self.backoff.reset()
                    self._analyse(frame)
                    self._maybe_report()
            except StreamError as error:
                self.health.online = False
                self.health.last_error = str(error)[:300]
                self._report()
                self.stop.wait(self.backoff.next_delay())
            except Exception as error:  # a bug in a stage must not end the camera's loop
                logger.exception("camera %s pipeline failed", self.spec.camera_id)
                self.health.online = False
                self.health.last_error = f"pipeline error: {error}"[:300]
                self._report()
                self.stop.wait(self.backoff.next_delay())
        # No final "offline" report: we stopped watching, the camera did not go dark.

    def _analyse(self, frame: Frame) -> None:
        if self.live is not None and frame.monotonic - self._last_live >= 0.95 / max(
                self.spec.live_fps, 0.1) and self.live.wanted():
            self._last_live = frame.monotonic
            self._publish_live(frame)
        if frame.monotonic - self._last_analysed < 0.95 / max(self.spec.max_fps, 0.1):
            return
        self._last_analysed = frame.monotonic
        for stage in self.stages:
            for message in stage.process(frame):
                self.outbox(message)

    def _publish_live(self, frame: Frame) -> None:
        """Somebody watches: put this frame (privacy masks blanked) where the API can read it."""
        from sereno.video.images import blank, encode

        assert self.live is not None
        self.live.publish(encode(blank(frame.bgr(), self.spec.privacy_masks)), frame.wall_time)

    def _maybe_report(self) -> None:
        if time.monotonic() - self._last_report >= HEALTH_EVERY_S:
            self._report()

    def _report(self) -> None:
        self._last_report = time.monotonic()
        self.outbox(HealthReport(self.spec.camera_id, self.health.snapshot()))


class RecordingRunner:
    """Continuous recording of one camera's main stream: segments by packet copy, restarted
    with backoff when the stream drops (a file source simply loops)."""

    def __init__(self, spec: CameraSpec, stop: threading.Event) -> None:
        assert spec.record_url is not None and spec.recordings_root is not None
        self.spec = spec
        self.stop = stop
        self.backoff = Backoff()

    def run(self) -> None:
        """Until ``stop`` is set."""
        from sereno.video.recording.recorder import (
            RecorderOptions,
            SegmentRecorder,
            recover_open_segments,
        )

        root = Path(self.spec.recordings_root or ".")
        options = RecorderOptions(transport=self.spec.transport)
        first = True
        while not self.stop.is_set():
            try:
                recorder = SegmentRecorder(self.spec.camera_id, self.spec.record_url or "", root,
                                           options, stop=self.stop)
                if first:
                    recover_open_segments(recorder.index)  # a previous run was killed
                    first = False
                counters = recorder.run()
                if counters.packets:
                    self.backoff.reset()
            except Exception as error:  # unreachable camera, bad file: retry later
                logger.warning("camera %s recording: %s", self.spec.camera_id, error)
            self.stop.wait(self.backoff.next_delay())


def run_cameras(specs: Sequence[CameraSpec], outbox: Outbox, stop: threading.Event,
                stage_factory: StageFactory = no_stages,
                options: Callable[[CameraSpec], SourceOptions] | None = None) -> None:
    """Run ``specs`` in threads of this process until ``stop`` is set."""
    threads = []
    for spec in specs:
        runner = CameraRunner(spec, outbox, stop, stage_factory(spec),
                              options=options(spec) if options else None)
        thread = threading.Thread(target=runner.run, name=f"camera-{spec.camera_id}",
                                  daemon=True)
        thread.start()
        threads.append(thread)
        if spec.record_url and spec.recordings_root:
            recorder = RecordingRunner(spec, stop)
            thread = threading.Thread(target=recorder.run, name=f"record-{spec.camera_id}",
                                      daemon=True)
            thread.start()
            threads.append(thread)
    for thread in threads:
        thread.join()


def worker_process_main(specs: Sequence[CameraSpec], queue: Any,
                        stage_factory: StageFactory = no_stages) -> None:
    """Entry point of a worker process. It stops on SIGTERM, or when its parent is gone.

    (No shared multiprocessing.Event: a process killed while waiting on one leaves its
    internal semaphores inconsistent and the next ``set()`` hangs.)
    """
    local_stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: local_stop.set())
    parent = multiprocessing.parent_process()

    def watch_parent() -> None:
        while not local_stop.wait(1.0):
            if parent is not None and not parent.is_alive():
                local_stop.set()

    threading.Thread(target=watch_parent, daemon=True).start()
    run_cameras(specs, queue.put, local_stop, stage_factory)


def spawn_context() -> Any:
    """Worker processes are spawned (not forked): no inherited threads, sockets or sessions."""
    return multiprocessing.get_context("spawn")
