"""The test RTSP server (``scripts/rtsp_server.py``) as a client sees it, through PyAV."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tests.support.rtsp import FAST_OPEN, RtspServer, require_rtsp_server

CLIP_SECONDS = 2
WIDTH, HEIGHT, FPS = 640, 360, 15


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s H.264 MP4 with B-frames (served without re-encoding) and a key frame every half
    second, so that clients, which wait for a key frame, join quickly."""
    require_rtsp_server()
    path = tmp_path_factory.mktemp("clips") / "street.mp4"
    rng = np.random.default_rng(5)
    texture = rng.integers(60, 190, (HEIGHT // 8, WIDTH // 8, 3), np.uint8)
    background = np.repeat(np.repeat(texture, 8, axis=0), 8, axis=1)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "veryfast", "g": str(FPS // 2), "bf": "2"}
        for index in range(CLIP_SECONDS * FPS):
            image = background.copy()
            image[150:210, index * 20: index * 20 + 40] = (230, 40, 40)  # a car driving by
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


@pytest.fixture(scope="module")
def mpeg4_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s MPEG-4 part 2 AVI (like vtest.avi): the server has to transcode it."""
    path = tmp_path_factory.mktemp("clips") / "moving.avi"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 352, 288, "yuv420p"
        for index in range(20):
            image = np.full((288, 352, 3), 90, np.uint8)
            image[100:180, index * 15: index * 15 + 40] = 230
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, 10)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


@pytest.fixture(scope="module")
def server(clip: Path, mpeg4_clip: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspServer]:
    with RtspServer({"street": clip, "hall": mpeg4_clip}, tmp_path_factory.mktemp("rtsp"),
                    extra_args=("--width", "320", "--height", "180")) as running:
        yield running


def read_frames(url: str, count: int, *, transport: str = "tcp") -> list[av.VideoFrame]:
    """Open the stream and decode ``count`` frames."""
    frames: list[av.VideoFrame] = []
    with av.open(url, options={**FAST_OPEN, "rtsp_transport": transport},
                 timeout=10) as container:
        for frame in container.decode(video=0):
            frames.append(frame)
            if len(frames) == count:
                break
    return frames


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_serves_a_live_h264_stream_over_tcp_and_udp(server: RtspServer, transport: str) -> None:
    frames = read_frames(server.url("street"), 10, transport=transport)

    assert len(frames) == 10
    assert {(f.width, f.height) for f in frames} == {(WIDTH, HEIGHT)}
    luma = frames[-1].to_ndarray(format="gray")
    assert luma.shape == (HEIGHT, WIDTH)
    assert 40 < luma.mean() < 200  # a picture, not a grey decoder-error frame


def test_transcodes_a_non_h264_file_to_the_requested_size(server: RtspServer) -> None:
    frames = read_frames(server.url("hall"), 5)

    assert {(f.width, f.height) for f in frames} == {(320, 180)}


def test_loops_the_file_forever_with_growing_timestamps(server: RtspServer) -> None:
    start = time.monotonic()
    times: list[float] = []
    with av.open(server.url("street"), options=FAST_OPEN, timeout=10) as container:
        for frame in container.decode(video=0):
            if frame.time is None:  # FFmpeg's RTP demuxer stamps the very first access unit late
                assert not times
                continue
            times.append(frame.time)
            if times[-1] - times[0] > 2.2 * CLIP_SECONDS:  # well into the third loop
                break
    elapsed = time.monotonic() - start

    assert len(times) >= 2.2 * CLIP_SECONDS * FPS - 2  # no frames lost at the loop points
    assert all(b > a for a, b in itertools.pairwise(times))  # never goes back
    assert elapsed >= 2.2 * CLIP_SECONDS - 0.5  # paced like a live camera, not a file


def test_one_stream_is_shared_by_several_clients(server: RtspServer) -> None:
    first = av.open(server.url("street"), options=FAST_OPEN, timeout=10)
    second = av.open(server.url("street"), options={**FAST_OPEN, "rtsp_transport": "udp"},
                     timeout=10)
    try:
        a, b = next(first.decode(video=0)), next(second.decode(video=0))
    finally:
        first.close()
        second.close()
    assert (a.width, a.height) == (b.width, b.height) == (WIDTH, HEIGHT)


def test_a_killed_server_fails_reads_and_serves_again_after_restart(
        clip: Path, tmp_path: Path) -> None:
    with RtspServer({"cam": clip}, tmp_path) as server:
        port = server.port
        container = av.open(server.url("cam"), options=FAST_OPEN, timeout=3)
        frames = container.decode(video=0)
        next(frames)

        server.kill()
        with pytest.raises((av.error.FFmpegError, OSError, StopIteration)):  # noqa: PT012
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # frames already buffered may still come out
                next(frames)
        container.close()
        with pytest.raises((av.error.FFmpegError, OSError)):
            av.open(server.url("cam"), options=FAST_OPEN, timeout=3)

        server.restart()
        assert server.port == port
        assert len(read_frames(server.url("cam"), 3)) == 3


def test_sigterm_exits_cleanly(clip: Path, tmp_path: Path) -> None:
    server = RtspServer({"cam": clip}, tmp_path)
    server.start()
    server.stop()
    assert server.returncode == 0
