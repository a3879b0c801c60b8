"""Ingest from HTTP MJPEG, and streams that misbehave: resolution changes mid-way, corrupt
packets. Real encoded video, real sockets (loopback only)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import av
import cv2
import numpy as np
import pytest

from sereno.demo.media import synthetic_street
from sereno.video.ingest.health import StreamHealth
from sereno.video.ingest.reader import SourceOptions, StreamError, StreamReader
from sereno.video.messages import CameraSpec
from sereno.video.pipeline import AnalyticsStage


class _MjpegHandler(BaseHTTPRequestHandler):
    frames: ClassVar[list[bytes]] = []

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=camframe")
        self.end_headers()
        try:
            for index in range(10_000):
                jpeg = self.frames[index % len(self.frames)]
                self.wfile.write(b"--camframe\r\nContent-Type: image/jpeg\r\nContent-Length: "
                                 + str(len(jpeg)).encode() + b"\r\n\r\n" + jpeg + b"\r\n")
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            return

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def mjpeg_url(tmp_path: Path) -> Iterator[str]:
    clip = synthetic_street(tmp_path / "street.mp4", seconds=2, fps=10)
    with av.open(str(clip)) as container:
        _MjpegHandler.frames = [
            cv2.imencode(".jpg", frame.to_ndarray(format="bgr24"))[1].tobytes()
            for frame in container.decode(video=0)]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _MjpegHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/stream.mjpg"
    server.shutdown()


def test_http_mjpeg_camera(mjpeg_url: str) -> None:
    health = StreamHealth("MJPEG")
    reader = StreamReader("MJPEG", mjpeg_url, health, SourceOptions(max_fps=5))
    frames = []
    for frame in reader.frames():
        frames.append(frame)
        if len(frames) == 6:
            break
    assert frames[0].size == (640, 360)
    assert health.codec == "mjpeg" and health.online
    assert frames[-1].luma.mean() > 20  # a real picture, not a blank


def _encode(path: Path, size: tuple[int, int], seconds: int, fps: int = 10) -> None:
    """An MPEG-TS clip of moving bars at ``size`` (TS can simply be concatenated)."""
    width, height = size
    with av.open(str(path), "w", format="mpegts") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(seconds * fps):
            image = np.full((height, width, 3), 60, np.uint8)
            x = (index * 7) % max(1, width - 40)
            image[height // 3: 2 * height // 3, x: x + 40] = (200, 180, 40)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_resolution_change_mid_stream_keeps_the_pipeline_going(tmp_path: Path) -> None:
    first, second = tmp_path / "a.ts", tmp_path / "b.ts"
    _encode(first, (640, 360), 2)
    _encode(second, (320, 240), 2)
    joined = tmp_path / "joined.ts"
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    stage = AnalyticsStage(CameraSpec("CAM", joined.as_uri(), rules=(
        {"id": "r", "camera_id": "CAM", "name": "line", "kind": "line",
         "points": [[0.5, 0.0], [0.5, 1.0]], "classes": ["person", "vehicle"]},)), None)
    reader = StreamReader("CAM", joined.as_uri(), StreamHealth("CAM"),
                          SourceOptions(realtime_files=False, loop_files=False))
    sizes = []

    def play() -> None:
        for frame in reader.frames():
            sizes.append(frame.size)
            stage.process(frame)

    with pytest.raises(StreamError, match="ended"):
        play()
    assert (640, 360) in sizes and (320, 240) in sizes
    assert stage.engine is not None and stage.engine.width == 320  # rebuilt for the new size


def test_corrupt_packets_are_skipped_and_counted(tmp_path: Path) -> None:
    clip = tmp_path / "clean.ts"
    _encode(clip, (640, 360), 4)
    data = bytearray(clip.read_bytes())
    rng = np.random.default_rng(3)
    for offset in rng.integers(len(data) // 4, 3 * len(data) // 4, size=400):
        data[int(offset)] ^= 0xFF  # flip bytes in the middle of the stream
    broken = tmp_path / "broken.ts"
    broken.write_bytes(bytes(data))
    health = StreamHealth("CAM")
    reader = StreamReader("CAM", broken.as_uri(), health,
                          SourceOptions(realtime_files=False, loop_files=False))
    frames: list[object] = []
    with pytest.raises(StreamError, match="ended"):
        frames.extend(reader.frames())
    count = len(frames)
    assert count >= 20  # decoding went on past the damage
    assert health.frames == count
    assert health.decode_errors >= 1  # the packets the decoder refused were counted


def test_a_missing_operator_model_falls_back_to_motion_only(tmp_path: Path) -> None:
    from sereno.video.pipeline import analytics_stages

    spec = CameraSpec("CAM", "file:///x.mp4", models_dir=str(tmp_path),
                      detector={"kind": "yolov8", "path": "vehiculos/missing.onnx"})
    (stage,) = analytics_stages(spec)
    assert stage.detector is None  # logged; motion, tracking and quality still run
    assert analytics_stages(CameraSpec("CAM", "file:///x.mp4", analytics=False)) == []


class _AuthMjpegHandler(_MjpegHandler):
    """An MJPEG camera that wants HTTP basic authentication (admin / clave-camara)."""

    def do_GET(self) -> None:
        import base64

        expected = "Basic " + base64.b64encode(b"admin:clave-camara").decode()
        if self.headers.get("Authorization") != expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="camera"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()


def test_wrong_camera_credentials_give_a_clear_error(mjpeg_url: str) -> None:
    del mjpeg_url  # only for its frames (the handler class shares them)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AuthMjpegHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        wrong = StreamReader("CAM", f"http://admin:wrong@127.0.0.1:{port}/stream.mjpg",
                             StreamHealth("CAM"), SourceOptions(max_fps=5))
        with pytest.raises(StreamError, match=r"401|Unauthorized|authori"):
            next(iter(wrong.frames()))
        right = StreamReader("CAM", f"http://admin:clave-camara@127.0.0.1:{port}/stream.mjpg",
                             StreamHealth("CAM"), SourceOptions(max_fps=5))
        assert next(iter(right.frames())).size == (640, 360)
    finally:
        server.shutdown()


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_rtsp_over_tcp_and_udp(tmp_path: Path, transport: str) -> None:
    from tests.support.rtsp import RtspServer, require_rtsp_server

    require_rtsp_server()
    clip = synthetic_street(tmp_path / "street.mp4", seconds=2, fps=10)
    with RtspServer({"cam": clip}, tmp_path) as server:
        health = StreamHealth("CAM")
        reader = StreamReader("CAM", server.url("cam"), health,
                              SourceOptions(transport=transport, max_fps=5))
        frames = []
        for frame in reader.frames():
            frames.append(frame)
            if len(frames) == 5:
                break
    assert frames[0].size == (640, 360) and health.codec == "h264" and health.online


def _encode_codec(path: Path, codec: str, seconds: int, fps: int = 10) -> None:
    with av.open(str(path), "w", format="mpegts") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for index in range(seconds * fps):
            image = np.full((240, 320, 3), 60, np.uint8)
            image[80:160, (index * 7) % 280: (index * 7) % 280 + 40] = 200
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_a_codec_change_mid_stream_is_noticed_and_the_reconnect_takes_the_new_codec(
        tmp_path: Path) -> None:
    """A camera switches from H.264 to MPEG-2 within one HTTP session: its pictures go silent
    while data keeps flowing. The reader says so, the camera reconnects, and the new session is
    probed afresh."""
    from sereno.video.ingest.backoff import Backoff
    from sereno.video.ingest.runner import CameraRunner
    from sereno.video.messages import CameraSpec, HealthReport

    h264, mpeg2 = tmp_path / "h264.ts", tmp_path / "mpeg2.ts"
    _encode_codec(h264, "libx264", 8)  # long enough to be probed as H.264 on its own
    _encode_codec(mpeg2, "mpeg2video", 6)
    sessions = [h264.read_bytes() + mpeg2.read_bytes(), mpeg2.read_bytes()]

    class Camera(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = sessions.pop(0) if len(sessions) > 1 else sessions[0]
            self.send_response(200)
            self.send_header("Content-Type", "video/mp2t")
            self.end_headers()
            try:
                for start in range(0, len(body), 2048):  # ~live pacing
                    self.wfile.write(body[start:start + 2048])
                    time.sleep(0.05)
                time.sleep(30)  # keep the session open, as a camera would
            except (BrokenPipeError, ConnectionResetError):
                return

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Camera)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    reports: list[HealthReport] = []
    stop = threading.Event()
    spec = CameraSpec("CAM", f"http://127.0.0.1:{server.server_address[1]}/live.ts",
                      max_fps=10)
    runner = CameraRunner(spec, lambda m: reports.append(m) if isinstance(m, HealthReport)
                          else None, stop, backoff=Backoff(base_s=0.1, cap_s=0.2),
                          options=SourceOptions(read_timeout_s=1.5, max_fps=10))
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while runner.health.codec != "mpeg2video" or runner.health.frames < 25:
            assert time.monotonic() < deadline, [r.values for r in reports][-3:]
            time.sleep(0.2)
    finally:
        stop.set()
        server.shutdown()
    errors = [r.values["last_error"] for r in reports if r.values["last_error"]]
    first = next(r.values for r in reports if r.values["frames"])
    assert first["codec"] == "h264"  # pictures came before the change...
    assert any("changed (codec?)" in e for e in errors)  # ...then none, and it said why
    assert runner.health.reconnects >= 1
