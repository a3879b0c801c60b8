"""The video subsystem of a running node: worker processes fed from the registry, their
findings turned into commands and events on the platform's bus."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import replace
from datetime import UTC, datetime

from sereno.bootstrap import Platform
from sereno.domain import commands, events
from sereno.services.video import camera_specs
from sereno.video.clipper import ClipCutter
from sereno.video.ingest.runner import StageFactory
from sereno.video.messages import StageMessage
from sereno.video.pipeline import analytics_stages
from sereno.video.shared_frames import SharedFrame
from sereno.video.supervisor import HealthRegistry, VideoSupervisor

logger = logging.getLogger(__name__)
RELOAD_ON = (events.CameraRegistered, events.CameraUpdated, events.CameraRetired,
             events.CamerasImported, events.CameraRulesChanged, events.WatchlistChanged,
             events.ImpactAssessmentChanged)


class VideoNode:
    """Starts, reloads and stops the video workers of this node."""

    def __init__(self, platform: Platform, stage_factory: StageFactory = analytics_stages
                 ) -> None:
        self.platform = platform
        self.stage_factory = stage_factory
        self.health = HealthRegistry()
        self._supervisor: VideoSupervisor | None = None
        self._lock = threading.Lock()
        self._owners: dict[str, str] = {}
        self._live_blocks: dict[str, SharedFrame] = {}
        self._reload_wanted = threading.Event()
        self._stopping = threading.Event()
        self.clips: ClipCutter | None = None

    def start(self) -> None:
        """Start workers for every active camera; reload when the registry or rules change."""
        for event_type in RELOAD_ON:
            self.platform.bus.subscribe(event_type, lambda _event: self._reload_wanted.set())
        settings = self.platform.settings
        if settings.video.record:
            self.clips = ClipCutter(
                settings.recordings_root, settings.media_root,
                lambda event_id, key: self.platform.bus.handle(
                    commands.AttachEventClip(event_id, key)),
                pre_s=settings.video.event_clip_pre_s, post_s=settings.video.event_clip_post_s)
            self.clips.start()
            self.platform.bus.subscribe(events.DetectionEvent, self._clip_later)
        self.reload()
        threading.Thread(target=self._reloader, name="video-reload", daemon=True).start()
        # Recordings age out through the one retention purge (services/retention, ADR 0014),
        # which `sereno serve` runs beside the workers: it honours legal holds and audits.

    def _clip_later(self, event: events.Event) -> None:
        if isinstance(event, events.DetectionEvent) and self.clips is not None:
            self.clips.schedule(event)

    def _reloader(self) -> None:
        # Changes arrive from request threads: reload in the background, and let a burst of
        # changes (an import, a few rule edits) settle into one restart.
        while not self._stopping.is_set():
            if self._reload_wanted.wait(0.5):
                self._stopping.wait(1.0)
                self._reload_wanted.clear()
                if not self._stopping.is_set():
                    try:
                        self.reload()
                    except Exception:
                        logger.exception("video reload failed")

    def reload(self) -> None:
        """Restart the workers with the registry as it is now."""
        video = self.platform.settings.video
        root = self.platform.settings.recordings_root
        specs = camera_specs(self.platform.uow(), analytics_fps=video.analytics_fps,
                             detect_fps=video.detect_fps, transport=video.rtsp_transport,
                             recordings_root=str(root) if video.record else None,
                             models_dir=str(video.models_dir))
        with self.platform.uow() as uow:
            active = list(uow.cameras.all_active())
            self._owners = {c.id: c.owner_agency_id for c in active}
        with self._lock:
            if self._supervisor is not None:
                self._supervisor.stop()
            specs = [replace(spec, live_frame=self._live_block(spec.camera_id).name)
                     for spec in specs]
            supervisor = VideoSupervisor(self.platform.bus, specs,
                                         cameras_per_process=video.cameras_per_process,
                                         stage_factory=self.stage_factory,
                                         on_stage_message=self._on_stage_message)
            supervisor.health = self.health
            supervisor.start()
            self._supervisor = supervisor
        logger.info("video workers running for %d cameras", len(specs))

    def _live_block(self, camera_id: str) -> SharedFrame:
        block = self._live_blocks.get(camera_id)
        if block is None:
            # Unique per node process: two nodes on one machine never share a block.
            block = SharedFrame(f"sereno-{os.getpid()}-{camera_id}", create=True)
            self._live_blocks[camera_id] = block
        return block

    def live_frame(self, camera_id: str) -> SharedFrame | None:
        """The live-view block a worker fills for ``camera_id``, if the workers run it."""
        return self._live_blocks.get(camera_id) if self._supervisor is not None else None

    def stop(self) -> None:
        """Stop every worker."""
        self._stopping.set()
        if self.clips is not None:
            self.clips.stop()
        with self._lock:
            if self._supervisor is not None:
                self._supervisor.stop()
                self._supervisor = None
            for block in self._live_blocks.values():
                block.close()
            self._live_blocks.clear()

    def _on_stage_message(self, message: StageMessage) -> None:
        payload = message.payload
        if message.kind == "detection":
            self.platform.bus.handle(commands.RecordDetection(
                message.camera_id, payload.get("rule_id"), str(payload["rule_kind"]),
                tuple(payload["classes"]), tuple(payload["track_ids"]),
                float(payload["confidence"]), tuple(payload["box"]), float(payload["at"]),
                payload.get("snapshot_jpeg"), dict(payload.get("detail") or {})))
        elif message.kind == "tracks":
            self.platform.bus.publish(events.TracksUpdated(
                message.camera_id, float(payload["at"]),
                tuple(tuple(t) for t in payload["tracks"])))
        elif message.kind == "quality":
            self.platform.bus.publish(events.VideoQualityChanged(
                message.camera_id, self._owners.get(message.camera_id, ""),
                str(payload["kind"]), bool(payload["active"]), float(payload["value"]),
                float(payload["threshold"]), datetime.fromtimestamp(float(payload["at"]), UTC)))
