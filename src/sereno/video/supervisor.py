"""The main process's side of the video subsystem: starts worker processes (one per group of
cameras), restarts them if they die, and turns what they report into platform state and bus
events."""

from __future__ import annotations

import logging
import queue as queue_module
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sereno.domain import commands
from sereno.services.messagebus import MessageBus
from sereno.video.ingest.runner import StageFactory, no_stages, spawn_context, worker_process_main
from sereno.video.messages import CameraSpec, HealthReport, StageMessage

logger = logging.getLogger(__name__)


@dataclass
class _Worker:
    specs: tuple[CameraSpec, ...]
    process: Any = None
    queue: Any = None  # one queue per process: a killed writer cannot poison the others'
    restarts: int = 0


@dataclass
class HealthRegistry:
    """The latest health of every camera, readable from API threads."""

    _values: dict[str, dict[str, Any]] = field(default_factory=dict)
    _received_at: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def update(self, report: HealthReport) -> bool:
        """Store a report; True when the camera's online state changed."""
        with self._lock:
            previous = self._values.get(report.camera_id)
            self._values[report.camera_id] = dict(report.values)
            self._received_at[report.camera_id] = time.monotonic()
            return previous is None or previous.get("online") != report.values.get("online")

    def get(self, camera_id: str) -> dict[str, Any] | None:
        """The last report, with how old it is."""
        with self._lock:
            values = self._values.get(camera_id)
            if values is None:
                return None
            return {**values, "report_age_s": round(
                time.monotonic() - self._received_at[camera_id], 3)}

    def all(self) -> dict[str, dict[str, Any]]:
        """Every camera's last report."""
        with self._lock:
            return {k: dict(v) for k, v in self._values.items()}


class VideoSupervisor:
    """Owns the worker processes of this node."""

    def __init__(self, bus: MessageBus | None, specs: Sequence[CameraSpec], *,
                 cameras_per_process: int = 8, stage_factory: StageFactory = no_stages,
                 on_stage_message: Callable[[StageMessage], None] | None = None) -> None:
        self.bus = bus
        self.health = HealthRegistry()
        self.stage_factory = stage_factory
        self.on_stage_message = on_stage_message
        self._context = spawn_context()
        self._stopping = threading.Event()
        self.workers = [_Worker(tuple(specs[i:i + cameras_per_process]))
                        for i in range(0, len(specs), max(1, cameras_per_process))]
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the worker processes and the threads that listen to and watch them."""
        for worker in self.workers:
            self._spawn(worker)
        thread = threading.Thread(target=self._watch, name="video-watch", daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask every worker to stop (SIGTERM), wait, and kill stragglers."""
        self._stopping.set()
        for worker in self.workers:
            if worker.process is not None and worker.process.is_alive():
                worker.process.terminate()
        deadline = time.monotonic() + timeout_s
        for worker in self.workers:
            if worker.process is not None:
                worker.process.join(max(0.1, deadline - time.monotonic()))
                if worker.process.is_alive():
                    worker.process.kill()
                    worker.process.join(2)
        for thread in self._threads:
            thread.join(2)

    def _spawn(self, worker: _Worker) -> None:
        worker.queue = self._context.Queue(maxsize=10_000)
        worker.process = self._context.Process(
            target=worker_process_main, args=(worker.specs, worker.queue, self.stage_factory),
            name=f"sereno-video-{worker.specs[0].camera_id}", daemon=True)
        worker.process.start()
        listener = threading.Thread(target=self._listen, args=(worker.queue, worker.process),
                                    name=f"video-listen-{worker.specs[0].camera_id}",
                                    daemon=True)
        listener.start()
        self._threads.append(listener)

    def _watch(self) -> None:
        while not self._stopping.wait(1.0):
            for worker in self.workers:
                if worker.process is not None and not worker.process.is_alive():
                    worker.restarts += 1
                    logger.error("video worker for %s died (exit %s); restarting",
                                 [s.camera_id for s in worker.specs], worker.process.exitcode)
                    self._spawn(worker)

    def _listen(self, queue: Any, process: Any) -> None:
        while not self._stopping.is_set():
            try:
                message = queue.get(timeout=0.5)
            except queue_module.Empty:
                if not process.is_alive():
                    return  # its replacement has a listener of its own
                continue
            except (EOFError, OSError):
                return
            try:
                self._handle(message)
            except Exception:
                logger.exception("could not handle %r", message)

    def _handle(self, message: object) -> None:
        if isinstance(message, HealthReport):
            if self.health.update(message) and self.bus is not None:
                error = None if message.values.get("online") else (
                    message.values.get("last_error") or "no frames")
                self.bus.handle(commands.RecordStreamProbe(message.camera_id, error))
        elif isinstance(message, StageMessage) and self.on_stage_message is not None:
            self.on_stage_message(message)
