"""Multi-object tracking: ByteTrack (from ``trackers``) gives each object a stable track id."""

from __future__ import annotations

import numpy as np
import supervision as sv
from trackers import ByteTrackTracker

from sereno.video.detection.base import Detection
from sereno.video.rules.engine import TrackedObject


class ObjectTracker:
    """Tracks detections of any classes across frames of one camera.

    Class names travel with the track: ByteTrack associates by box overlap; the class of a track
    is the class of the detection it was last matched with.
    """

    def __init__(self, frame_rate: float = 5.0, lost_after_s: float = 2.0,
                 activation: float = 0.5) -> None:
        self._tracker = ByteTrackTracker(
            lost_track_buffer=max(1, round(lost_after_s * frame_rate)), frame_rate=frame_rate,
            track_activation_threshold=activation, minimum_consecutive_frames=1,
            high_conf_det_threshold=activation)
        self._class_ids: dict[str, int] = {}
        self._idle = True  # no detections last time and no track alive

    def update(self, detections: list[Detection]) -> list[TrackedObject]:
        """Feed this frame's detections (possibly none); returns the confirmed tracks."""
        if not detections and self._idle:
            return []  # an empty scene stays empty: skip the tracker's bookkeeping
        names = {name: self._class_ids.setdefault(name, len(self._class_ids))
                 for name in {d.class_name for d in detections}}
        by_id = {v: k for k, v in self._class_ids.items()}
        if detections:
            xyxy = np.array([d.box for d in detections], dtype=np.float32)
            confidence = np.array([d.confidence for d in detections], dtype=np.float32)
            class_id = np.array([names[d.class_name] for d in detections], dtype=int)
        else:
            xyxy = np.empty((0, 4), dtype=np.float32)
            confidence = np.empty((0,), dtype=np.float32)
            class_id = np.empty((0,), dtype=int)
        tracked = self._tracker.update(sv.Detections(xyxy=xyxy, confidence=confidence,
                                                     class_id=class_id))
        objects: list[TrackedObject] = []
        self._idle = not detections and not self._tracker.tracks  # nothing alive, lost or not
        if tracked.tracker_id is None or tracked.confidence is None or tracked.class_id is None:
            return objects
        for box, score, cls, track_id in zip(tracked.xyxy, tracked.confidence, tracked.class_id,
                                             tracked.tracker_id, strict=True):
            if track_id is None or int(track_id) < 0:
                continue  # tentative: not yet a confirmed track
            objects.append(TrackedObject(int(track_id), by_id.get(int(cls), "object"),
                                         float(score),
                                         (float(box[0]), float(box[1]), float(box[2]),
                                          float(box[3]))))
        return objects
