"""Ingest on real encoded video: worker processes, health, reconnect, supervision."""

from __future__ import annotations

import itertools
import os
import signal
import time
from pathlib import Path

import pytest

from sereno.video.ingest.backoff import Backoff
from sereno.video.ingest.health import StreamHealth
from sereno.video.ingest.reader import SourceOptions, StreamError, StreamReader
from sereno.video.messages import CameraSpec
from sereno.video.supervisor import VideoSupervisor

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


def _wait(predicate, timeout_s: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_backoff_grows_with_jitter_and_resets() -> None:
    backoff = Backoff(base_s=1, cap_s=8)
    ceilings = [1, 2, 4, 8, 8, 8]
    for ceiling in ceilings:
        assert 0 <= backoff.next_delay() <= ceiling
    backoff.reset()
    assert backoff.next_delay() <= 1


def test_reader_gives_luma_views_paced_to_max_fps(media_root: Path) -> None:
    url = (media_root / "sources" / "synthetic-street.mp4").resolve().as_uri()
    health = StreamHealth("CAM")
    reader = StreamReader("CAM", url, health, SourceOptions(max_fps=5))
    started = time.monotonic()
    frames = []
    for frame in reader.frames():
        frames.append(frame)
        if len(frames) == 8:
            break
    elapsed = time.monotonic() - started
    assert frames[0].size == (640, 360)
    assert frames[0].luma.base is not None  # a view on the decoder's buffer, not a copy
    assert 1.2 < elapsed < 5.0  # 8 frames at 5 fps, paced like a live camera
    assert 3.5 < health.fps() < 6.5
    assert health.bitrate_kbps() > 0 and health.online


def test_file_sources_loop_like_live_cameras(tmp_path: Path) -> None:
    from sereno.demo.media import synthetic_street

    clip = synthetic_street(tmp_path / "short.mp4", seconds=1, fps=10)
    reader = StreamReader("CAM", clip.as_uri(), StreamHealth("CAM"),
                          SourceOptions(realtime_files=False))
    timestamps = []
    for frame in reader.frames():
        timestamps.append(frame.pts_s)
        if len(timestamps) == 25:
            break
    assert all(b > a for a, b in itertools.pairwise(timestamps))  # monotonic


def test_a_file_that_is_not_video_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "notes.mp4"
    junk.write_text("not a video at all\n" * 100)
    reader = StreamReader("CAM", junk.as_uri(), StreamHealth("CAM"))
    with pytest.raises(StreamError, match="cannot open stream"):
        next(iter(reader.frames()))


@pytest.mark.skipif(not VTEST.exists(), reason="Debian opencv-doc not installed")
def test_supervisor_reports_health_reconnects_and_restarts_dead_workers() -> None:
    specs = [CameraSpec("GOOD", VTEST.as_uri(), max_fps=5),
             CameraSpec("DOWN", "rtsp://127.0.0.1:1/nothing-listens", max_fps=5)]
    supervisor = VideoSupervisor(None, specs, cameras_per_process=1)
    supervisor.start()
    try:
        _wait(lambda: (supervisor.health.get("GOOD") or {}).get("fps", 0) >= 3.5)
        good = supervisor.health.get("GOOD")
        assert good is not None and good["online"] and good["width"] == 768
        assert good["codec"] == "msmpeg4" and good["decode_errors"] == 0
        _wait(lambda: (supervisor.health.get("DOWN") or {}).get("reconnects", 0) >= 2)
        down = supervisor.health.get("DOWN")
        assert down is not None and not down["online"]
        assert "cannot open stream" in down["last_error"]

        # Kill the good camera's worker process: it is restarted and reports again.
        worker = next(w for w in supervisor.workers if w.specs[0].camera_id == "GOOD")
        os.kill(worker.process.pid, signal.SIGKILL)
        _wait(lambda: worker.restarts == 1)
        before = time.monotonic()
        _wait(lambda: (supervisor.health.get("GOOD") or {}).get("report_age_s", 99) < 1
              and time.monotonic() - before > 1.5)
        assert supervisor.health.get("GOOD")["online"]  # type: ignore[index]
    finally:
        supervisor.stop()
    assert all(not w.process.is_alive() for w in supervisor.workers)


def test_readers_of_one_file_see_the_same_moment(media_root: Path) -> None:
    """A file camera follows the wall clock (position = time modulo the clip's 12 s), so the
    analytics and the live view, opened at different times, show the same picture."""
    url = (media_root / "sources" / "synthetic-street.mp4").resolve().as_uri()
    for name in ("analytics", "live"):
        frame = next(StreamReader(name, url, StreamHealth(name),
                                  SourceOptions(max_fps=10)).frames())
        assert frame.pts_s is not None
        drift = (frame.wall_time - frame.pts_s) % 12
        assert min(drift, 12 - drift) < 0.3, (name, frame.pts_s, frame.wall_time % 12)
        time.sleep(1.3)


def test_shared_frame_passes_pictures_between_processes() -> None:
    import multiprocessing

    from sereno.video.shared_frames import SharedFrame

    owner = SharedFrame(f"sereno-test-{os.getpid()}", create=True)
    try:
        assert owner.read() is None and not owner.wanted()
        owner.want(5)
        context = multiprocessing.get_context("spawn")
        child = context.Process(target=_publish_from_child, args=(owner.name,))
        child.start()
        child.join(30)
        assert child.exitcode == 0
        sequence, at, jpeg = owner.read()  # type: ignore[misc]
        assert sequence == 2 and at == 123.5 and jpeg == b"\xff\xd8picture\xff\xd9"
    finally:
        owner.close()


def _publish_from_child(name: str) -> None:
    from sereno.video.shared_frames import SharedFrame

    block = SharedFrame(name)
    assert block.wanted()  # the reader asked for pictures
    block.publish(b"\xff\xd8picture\xff\xd9", 123.5)
    block.close()
