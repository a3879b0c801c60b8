"""A camera's analytics pipeline, run inside its worker process:

quality checks on every frame → motion on the downscaled luma → object detection only inside
motion regions and at most ``detect_fps`` → tracking → rules → messages to the main process.

Privacy masks are blanked before anything looks at the picture: motion ignores them, and the
colour frame handed to the detector and to snapshots has them painted black.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sereno.domain.rules import CameraRule, Direction, RuleKind, parse_schedule, validate_rule
from sereno.video.analysis.motion import MotionBox, MotionDetector, MotionSettings
from sereno.video.analysis.quality import QualityMonitor
from sereno.video.detection.base import Detection, Detector
from sereno.video.detection.regions import detect_in_regions
from sereno.video.detection.registry import build_detector, default_person_detector
from sereno.video.frames import Bgr, Frame
from sereno.video.images import blank
from sereno.video.messages import CameraSpec, StageMessage
from sereno.video.recording.snapshot import annotated_jpeg
from sereno.video.rules.engine import RuleEngine, RuleMatch, TrackedObject
from sereno.video.tracking import ObjectTracker

logger = logging.getLogger(__name__)

MOTION_VEHICLE = "vehicle"  # what a motion-only track that looks like a vehicle is called
MOTION_VEHICLE_MIN_AREA = 0.004  # of the frame
MOTION_VEHICLE_MIN_ASPECT = 1.1  # wider than tall: a person's box is taller than wide


def rule_from_dict(data: dict[str, Any]) -> CameraRule:
    """A rule as the supervisor ships it to the worker (plain data)."""
    rule = CameraRule(
        id=str(data["id"]), camera_id=str(data["camera_id"]), name=str(data["name"]),
        kind=RuleKind(data["kind"]), points=[list(p) for p in data["points"]],
        classes=list(data["classes"]), direction=Direction(data.get("direction", "any")),
        dwell_s=float(data.get("dwell_s", 30)), min_count=int(data.get("min_count", 5)),
        cooldown_s=float(data.get("cooldown_s", 30)),
        schedule=parse_schedule(data.get("schedule")), enabled=bool(data.get("enabled", True)))
    validate_rule(rule)
    return rule


def motion_vehicles(boxes: Sequence[MotionBox], detections: Sequence[Detection],
                    frame_size: tuple[int, int]) -> list[Detection]:
    """Without a vehicle model: large, wide motion blobs no person explains are vehicles.

    Labelled plainly as ``vehicle`` with a modest confidence and told apart from model
    detections by class id -1; the tracker then gives them ids and the rules see their paths.
    """
    width, height = frame_size
    found = []
    for box in boxes:
        w, h = box.x2 - box.x1, box.y2 - box.y1
        if box.area < MOTION_VEHICLE_MIN_AREA * width * height or w < MOTION_VEHICLE_MIN_ASPECT * h:
            continue
        explained = any(d.box[0] < box.x2 and box.x1 < d.box[2] and d.box[1] < box.y2
                        and box.y1 < d.box[3] for d in detections)
        if not explained:
            found.append(Detection(MOTION_VEHICLE, -1, 0.5,
                                   (float(box.x1), float(box.y1), float(box.x2), float(box.y2))))
    return found


VEHICLE_CLASSES = frozenset({"vehicle", "car", "truck", "bus", "motorcycle", "motorbike", "van"})


class PlateStage:
    """Reads plates on vehicles and reports only watchlist hits (reads that match nothing are
    not kept: plates are personal data and the agreement is about wanted vehicles)."""

    def __init__(self, camera_id: str, entries: Sequence[dict[str, Any]],
                 every_s: float = 1.0, cooldown_s: float = 60.0) -> None:
        from datetime import datetime

        from sereno.video.plates.watchlist import Watchlist, WatchlistEntry

        self.camera_id = camera_id
        self.watchlist = Watchlist([
            WatchlistEntry(plate=str(e["plate"]), reason=str(e["reason"]),
                           agency_id=str(e["agency_id"]),
                           expires=datetime.fromisoformat(e["expires"]) if e.get("expires")
                           else None, tolerance=e.get("tolerance"), entry_id=e.get("entry_id"),
                           starts=datetime.fromisoformat(e["starts"]) if e.get("starts")
                           else None)
            for e in entries])
        self.every_s = every_s
        self.cooldown_s = cooldown_s
        self._reader: Any = None
        self._last_read = -1e9
        self._last_hit: dict[str, float] = {}

    def process(self, frame: Frame, image: Bgr, objects: Sequence[TrackedObject]
                ) -> list[StageMessage]:
        vehicles = [o for o in objects if o.class_name in VEHICLE_CLASSES]
        if not vehicles or frame.monotonic - self._last_read < self.every_s:
            return []
        self._last_read = frame.monotonic
        if self._reader is None:
            from sereno.video.plates.reader import PlateReader

            self._reader = PlateReader(threads=1)
        from datetime import UTC, datetime

        moment = datetime.fromtimestamp(frame.wall_time, UTC)
        regions = [(int(o.box[0]), int(o.box[1]), int(o.box[2]), int(o.box[3]))
                   for o in vehicles]
        messages = []
        for read in self._reader.read(image, regions):
            for hit in self.watchlist.match(read.plate, at=moment):
                key = f"{hit.watched_plate}:{hit.agency_id}"
                if frame.wall_time - self._last_hit.get(key, -1e18) < self.cooldown_s:
                    continue
                self._last_hit[key] = frame.wall_time
                vehicle = vehicles[read.region]
                height, width = image.shape[:2]
                messages.append(StageMessage(self.camera_id, "detection", {
                    "rule_id": None, "rule_kind": "plate", "classes": (vehicle.class_name,),
                    "track_ids": (vehicle.track_id,), "confidence": round(read.confidence, 3),
                    "box": (vehicle.box[0] / width, vehicle.box[1] / height,
                            vehicle.box[2] / width, vehicle.box[3] / height),
                    "at": frame.wall_time,
                    "detail": {"plate": read.plate, "watched_plate": hit.watched_plate,
                               "distance": hit.distance, "reason": hit.reason,
                               "watching_agency": hit.agency_id},
                    "snapshot_jpeg": annotated_jpeg(image, [
                        (read.plate, read.confidence, read.box),
                        (f"{vehicle.class_name} #{vehicle.track_id}", vehicle.confidence,
                         vehicle.box)])}))
        return messages


class AnalyticsStage:
    """Quality, motion, detection, tracking and rules for one camera."""

    def __init__(self, spec: CameraSpec, detector: Detector | None,
                 detect_fps: float = 5.0) -> None:
        self.spec = spec
        self.detector = detector
        self.detect_interval = 1.0 / detect_fps if detect_fps > 0 else 0.0
        masks = tuple(tuple((float(x), float(y)) for x, y in m) for m in spec.privacy_masks)
        self.motion = MotionDetector(MotionSettings(masks=masks))
        self.quality = QualityMonitor(spec.camera_id)
        self.tracker = ObjectTracker(frame_rate=spec.max_fps)
        self.rules = [rule_from_dict(r) for r in spec.rules]
        self.engine: RuleEngine | None = None
        self._last_detect = -1e9
        self._frame_size: tuple[int, int] | None = None
        self._had_tracks = False
        self.plates = PlateStage(spec.camera_id, spec.watchlist) if spec.watchlist else None

    def process(self, frame: Frame) -> list[StageMessage]:
        """Analyse one frame; returns the messages for the main process."""
        messages = [
            StageMessage(frame.camera_id, "quality", {
                "kind": e.kind.value, "active": e.phase.value == "started", "value": e.value,
                "threshold": e.threshold, "at": e.wall_time})
            for e in self.quality.observe(frame)]
        if self._frame_size != frame.size:  # first frame, or the stream changed resolution
            self._frame_size = frame.size
            self.engine = RuleEngine(frame.camera_id, self.rules, frame.size)
            self.motion.reset()
        motion = self.motion.detect(frame)
        if not motion.has_motion or frame.monotonic - self._last_detect < self.detect_interval:
            return messages
        self._last_detect = frame.monotonic
        image: Bgr | None = None
        detections: list[Detection] = []
        if self.detector is not None:
            image = blank(frame.bgr(), self.spec.privacy_masks)
            regions = [(b.x1, b.y1, b.x2, b.y2) for b in motion.boxes]
            # Cameras of a process run inference concurrently on the shared session: each run
            # keeps its own working buffers (~100 MB a camera, bench f), but serialising them
            # pushed frame-to-event p99 from ~30 ms to ~475 ms (bench e), over the 300 ms goal.
            detections = detect_in_regions(self.detector, image, regions)
        detections += motion_vehicles(motion.boxes, detections, frame.size)
        objects = self.tracker.update(detections)
        if objects or self._had_tracks:  # boxes for the live view; one empty update clears them
            width, height = frame.size
            messages.append(StageMessage(frame.camera_id, "tracks", {
                "at": frame.wall_time, "tracks": [
                    (o.track_id, o.class_name, round(o.box[0] / width, 4),
                     round(o.box[1] / height, 4), round(o.box[2] / width, 4),
                     round(o.box[3] / height, 4)) for o in objects]}))
        self._had_tracks = bool(objects)
        assert self.engine is not None
        for match in self.engine.evaluate(objects, frame.wall_time):
            if image is None:
                image = blank(frame.bgr(), self.spec.privacy_masks)
            messages.append(self._detection_message(match, objects, image))
        if self.plates is not None and any(o.class_name in VEHICLE_CLASSES for o in objects):
            if image is None:
                image = blank(frame.bgr(), self.spec.privacy_masks)
            messages += self.plates.process(frame, image, objects)
        return messages

    def _detection_message(self, match: RuleMatch, objects: Sequence[TrackedObject],
                           image: Bgr) -> StageMessage:
        involved = [o for o in objects if o.track_id in match.track_ids]
        boxes = [(f"{o.class_name} #{o.track_id}", o.confidence, o.box) for o in involved]
        return StageMessage(match.camera_id, "detection", {
            "rule_id": match.rule_id, "rule_kind": match.rule_kind, "classes": match.classes,
            "track_ids": match.track_ids, "confidence": match.confidence, "box": match.box,
            "at": match.at, "detail": match.detail,
            "snapshot_jpeg": annotated_jpeg(image, boxes)})


_shared_person_detector: Detector | None = None
_shared_lock = threading.Lock()


def _person_detector() -> Detector:
    # One ONNX session per worker process, shared by its camera threads (onnxruntime's run()
    # is thread-safe): a session per camera would cost ~100 MB each for the same weights.
    global _shared_person_detector
    with _shared_lock:
        if _shared_person_detector is None:
            _shared_person_detector = default_person_detector(threads=1)
        return _shared_person_detector


def analytics_stages(spec: CameraSpec) -> Sequence[AnalyticsStage]:
    """Stage factory for worker processes (importable, so it crosses the process boundary)."""
    if not spec.analytics:
        return []
    detector: Detector | None
    try:
        models = Path(spec.models_dir) if spec.models_dir else None
        detector = (build_detector(spec.detector, models_dir=models) if spec.detector
                    else _person_detector())
    except Exception:  # a broken model must not stop motion, tracking and quality checks
        logger.exception("camera %s: detector unavailable; motion-only analytics",
                         spec.camera_id)
        detector = None
    return [AnalyticsStage(spec, detector, detect_fps=spec.detect_fps)]
