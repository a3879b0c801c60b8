"""Continuous recording by packet copy, the per-camera segment index, retention, clips and
playback, and annotated snapshots. Nothing here decodes or re-encodes recorded video.

On disk, per camera::

    <root>/<camera_id>/index.sqlite3                        the segment index
    <root>/<camera_id>/<YYYY-MM-DD>/<YYYYmmddTHHMMSS.ffffffZ>.mp4   fragmented-MP4 segments
"""

from sereno.video.recording.clips import (
    ClipResult,
    NoFootageError,
    PlaybackItem,
    cut_clip,
    playback,
    stream_clip,
)
from sereno.video.recording.index import SegmentIndex, SegmentRecord
from sereno.video.recording.recorder import (
    NoVideoStreamError,
    RecorderCounters,
    RecorderOptions,
    RecordingError,
    SegmentRecorder,
)
from sereno.video.recording.retention import DeletedSegment, RetentionReport, apply_retention
from sereno.video.recording.snapshot import Detection, annotated_jpeg

__all__ = [
    "ClipResult",
    "DeletedSegment",
    "Detection",
    "NoFootageError",
    "NoVideoStreamError",
    "PlaybackItem",
    "RecorderCounters",
    "RecorderOptions",
    "RecordingError",
    "RetentionReport",
    "SegmentIndex",
    "SegmentRecord",
    "SegmentRecorder",
    "annotated_jpeg",
    "apply_retention",
    "cut_clip",
    "playback",
    "stream_clip",
]
