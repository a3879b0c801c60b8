"""Put a few real recorded segments of a camera where the platform keeps recordings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sereno.bootstrap import Platform
from sereno.video.recording.recorder import RecorderOptions, SegmentRecorder


def record_sample(platform: Platform, camera_id: str) -> tuple[datetime, datetime]:
    """Record the synthetic street clip (12 s) as fast as possible; returns its time span."""
    source = platform.settings.media.allowed_file_roots[0] / "synthetic-street.mp4"
    start = datetime.now(UTC)
    recorder = SegmentRecorder(camera_id, source.resolve().as_uri(),
                               platform.settings.recordings_root,
                               RecorderOptions(segment_s=4, realtime=False))
    recorder.run()
    return start - timedelta(seconds=1), datetime.now(UTC) + timedelta(seconds=15)
