"""The whole video path on a real RTSP server: ingest → motion → person detection → tracking →
line rule → DetectionEvent stored and published, health reported, and reconnection after the
server is killed and restarted."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sereno.bootstrap import Platform
from sereno.domain import events
from sereno.video.live import LiveHub
from sereno.video.node import VideoNode
from tests.support.rtsp import RtspServer, require_rtsp_server

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
pytestmark = [pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def _wait(predicate, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _only_camera(platform: Platform, camera_id: str, url: str) -> None:
    """Point one camera at the RTSP stream and retire the others (keeps the CPU for it)."""
    with platform.uow() as uow:
        for camera in uow.cameras.all_active():
            if camera.id == camera_id:
                camera.main_stream_url = camera.sub_stream_url = url
            else:
                camera.status = camera.status.RETIRED
        for rule in uow.rules.for_camera(camera_id):
            # A line down the middle of the walkway, which vtest's pedestrians keep crossing.
            rule.points, rule.cooldown_s = [[0.5, 0.0], [0.5, 1.0]], 0.0
        uow.commit()


@pytest.mark.skipif(not VTEST.exists(), reason="Debian opencv-doc (vtest.avi) not installed")
def test_people_crossing_a_line_raise_detection_events_over_rtsp(
        platform: Platform, tmp_path: Path) -> None:
    require_rtsp_server()
    platform.settings.video.analytics_fps = 5
    platform.settings.video.detect_fps = 5
    with RtspServer({"walkway": VTEST}, tmp_path, extra_args=("--width", "640", "--height",
                                                              "480", "--fps", "10")) as server:
        _only_camera(platform, "SEG-002", server.url("walkway"))  # its demo rule is a line
        node = VideoNode(platform)
        with platform.event_stream.subscribe() as seen:
            node.start()
            try:
                _wait(lambda: any(isinstance(e, events.DetectionEvent) for e in seen), 90,
                      "a detection event")
                # The first second after connecting is a burst of buffered frames; then the
                # measured rate settles on the analytics rate.
                _wait(lambda: 3.0 <= (node.health.get("SEG-002") or {}).get("fps", 0) <= 6.5,
                      20, "the measured rate to settle at ~5 fps")
                health = node.health.get("SEG-002")
                assert health is not None and health["online"]
                assert health["codec"] == "h264" and health["width"] == 640

                # The live view reads the worker's pictures from shared memory: no decoder of
                # its own in the API process.
                hub = LiveHub()
                hub.shared_source = node.live_frame
                pictures = []
                for jpeg in hub.frames("SEG-002", server.url("walkway")):
                    pictures.append(jpeg)
                    if len(pictures) == 3:
                        break
                assert all(p[:2] == b"\xff\xd8" for p in pictures)
                assert len(set(pictures)) == 3 and not hub._feeds

                server.kill()
                _wait(lambda: not (node.health.get("SEG-002") or {}).get("online", True), 30,
                      "the camera to go offline")
                server.restart()
                _wait(lambda: (node.health.get("SEG-002") or {}).get("online", False)
                      and node.health.get("SEG-002")["reconnects"] >= 1, 60,  # type: ignore[index]
                      "the camera to come back")
            finally:
                node.stop()
        detection = next(e for e in seen if isinstance(e, events.DetectionEvent))
        tracks = [e for e in seen if isinstance(e, events.TracksUpdated) and e.tracks]
        statuses = [e.status for e in seen if isinstance(e, events.CameraStatusChanged)
                    and e.camera_id == "SEG-002"]
    assert detection.camera_id == "SEG-002" and detection.rule_kind == "line"
    assert "person" in detection.classes and detection.confidence > 0.5
    assert platform.media.get(detection.snapshot_key or "")[:2] == b"\xff\xd8"  # type: ignore[index]
    assert "offline" in statuses and statuses[-1] == "online"
    # Boxes for the live view: normalised, with track ids and classes.
    track_id, class_name, x1, y1, x2, y2 = tracks[0].tracks[0]
    assert track_id >= 0
    assert class_name in ("person", "vehicle") and 0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1
    with platform.uow() as uow:
        stored = uow.detections.recent(["SEG-002"])
    assert detection.event_id in {e.event_id for e in stored}
