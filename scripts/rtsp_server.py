#!/usr/bin/python3
"""Serve video files as looping live RTSP cameras, for the tests and the demo.

Runs under Debian's ``/usr/bin/python3`` (GStreamer's RTSP server comes from the distribution's
``gir1.2-gst-rtsp-server-1.0`` and does not import in the project's virtualenv)::

    /usr/bin/python3 scripts/rtsp_server.py --port 8554 \\
        --stream street=/srv/clips/bikes.mp4 --stream hall=/usr/share/.../vtest.avi

Each ``--stream NAME=PATH`` is served at ``rtsp://ADDRESS:PORT/NAME`` over RTSP/TCP and RTSP/UDP.
``--port 0`` picks a free port; the ``ready`` line on stdout names the one bound.

How a file becomes a live camera
--------------------------------
Each stream has one *producer* pipeline that runs from start-up to exit, whether anybody watches
or not, like a camera that is always on::

    filesrc ! parsebin ! h264parse config-interval=-1 ! appsink sync=true

It plays the file in real time (the appsink syncs to the clock) and loops it with *segment
seeks*: on ``SEGMENT_DONE`` it seeks back to 0 without flushing, so running time keeps growing
across loops and the decoder downstream never sees a gap, a flush or a timestamp going back.
Timestamps become that running time (PTS, and DTS through the file's PTS-DTS gap, so B-frames
keep their decode order; ``identity single-segment`` would get DTS wrong).

The RTSP side is one *shared* live media per stream, ``appsrc ! rtph264pay``. Every access unit
the producer emits is re-stamped into that media's running time (both pipelines run on the
system clock, so this is a difference of base times) and pushed; a media that has just started
waits for the next key frame, as a client of a real camera does. H.264 input is only parsed and
re-packetised: nothing is decoded. Other formats (e.g. vtest.avi, MPEG-4 part 2) are transcoded
to H.264 once, at start-up, into a cache file that is then served the same way; an 80 s
768x576 clip takes about 2-5 s, and serving it afterwards costs no encoding at all, which keeps
the CPU low on small machines (a live transcode would cost an encoder per stream forever).

Why not loop inside the RTSP media itself: a file-backed media is seekable and non-live, so the
RTSP server lets clients' PLAY ranges seek it (one client would rewind everybody), and an EOS in
the media ends every client's session. The producer/appsrc split keeps the RTSP side purely live.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstPbutils", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstPbutils, GstRtsp, GstRtspServer  # noqa: E402

STALL_NS = 1_000_000_000  # queued video beyond which a media is stalled
# No config-interval on the payloader: the producer's h264parse already puts SPS/PPS before
# every key frame, and inserting them again between the slices of a multi-slice key frame makes
# FFmpeg split it into two pictures.
MEDIA_LAUNCH = ("( appsrc name=src is-live=true format=time do-timestamp=false "
                "max-bytes=4000000 ! rtph264pay name=pay0 pt=96 )")


@dataclass(frozen=True)
class EncodeOptions:
    """How to transcode a source that is not H.264 (or every source, with ``force``)."""

    width: int | None
    height: int | None
    fps: int | None
    bitrate_kbps: int
    preset: str
    force: bool


def log(message: str) -> None:
    print(f"rtsp_server: {message}", file=sys.stderr, flush=True)


def probe_video(path: Path) -> tuple[str, float]:
    """The media type of the file's first video stream (e.g. ``video/x-h264``) and its rate."""
    discoverer = GstPbutils.Discoverer.new(15 * Gst.SECOND)
    info = discoverer.discover_uri(path.resolve().as_uri())
    streams = info.get_video_streams()
    if not streams:
        raise SystemExit(f"rtsp_server: {path} has no video stream")
    video = streams[0]
    rate = video.get_framerate_num() / max(video.get_framerate_denom(), 1)
    return str(video.get_caps().get_structure(0).get_name()), rate or 25.0


def run_to_eos(description: str) -> None:
    """Run a finite pipeline as fast as it goes; raise on error."""
    pipeline = Gst.parse_launch(description)
    pipeline.set_state(Gst.State.PLAYING)
    bus = pipeline.get_bus()
    message = bus.timed_pop_filtered(Gst.CLOCK_TIME_NONE,
                                     Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    if message.type == Gst.MessageType.ERROR:
        error, debug = message.parse_error()
        raise RuntimeError(f"{error.message} ({debug})")


def h264_source(path: Path, options: EncodeOptions, cache_dir: Path) -> Path:
    """``path`` itself when it already holds H.264, else a cached H.264 MP4 made from it."""
    codec, source_fps = probe_video(path)
    if not options.force and codec == "video/x-h264":
        return path
    stat = path.stat()
    key = hashlib.sha256(repr((str(path.resolve()), stat.st_size, stat.st_mtime_ns,
                               options)).encode()).hexdigest()[:16]
    target = cache_dir / f"{path.stem}-{key}.mp4"
    if target.exists():
        return target
    caps = ["video/x-raw", "format=I420"]
    if options.width:
        caps.append(f"width={options.width}")
    if options.height:
        caps.append(f"height={options.height}")
    if options.fps:
        caps.append(f"framerate={options.fps}/1")
    # A key frame every second: a joining client (or a decoder after a loss) waits at most that.
    key_interval = max(round(options.fps or source_fps), 1)
    partial = cache_dir / f".{target.name}.{os.getpid()}.part"
    log(f"transcoding {path} to H.264 once ({target})")
    run_to_eos(
        f'filesrc location="{path}" ! decodebin ! queue ! videoconvert ! videoscale ! videorate '
        f'! {",".join(caps)} ! x264enc speed-preset={options.preset} tune=zerolatency '
        f"bitrate={options.bitrate_kbps} key-int-max={key_interval} ! h264parse "
        f'! mp4mux ! filesink location="{partial}"')
    partial.replace(target)  # atomic: a concurrent server never reads a half-written file
    return target


class Consumer:
    """One RTSP media's appsrc, fed by a producer."""

    def __init__(self, appsrc: Gst.Element) -> None:
        self.appsrc = appsrc
        self.waiting_for_key = True
        self.caps_set = False


class LoopingCamera:
    """Plays one H.264 file in real time, forever, and fans its access units out to the
    appsrc of every RTSP media currently serving it."""

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path
        self._consumers: list[Consumer] = []
        self._lock = threading.Lock()
        self._shift = 0  # added to producer timestamps so that loops never overlap
        self._last_pts = -1
        self.pipeline = Gst.parse_launch(
            f'filesrc location="{path}" ! parsebin ! h264parse config-interval=-1 '
            "! video/x-h264,stream-format=byte-stream,alignment=au "
            "! appsink name=sink sync=true emit-signals=true max-buffers=8 drop=true")
        self.pipeline.use_clock(Gst.SystemClock.obtain())
        sink = self.pipeline.get_by_name("sink")
        sink.connect("new-sample", self._on_sample)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self._on_message)

    def start(self) -> None:
        """Preroll, arm the first segment seek and play."""
        self._shift, self._last_pts = 0, -1
        self.pipeline.get_by_name("sink").set_property("ts-offset", 0)
        self.pipeline.set_state(Gst.State.PAUSED)
        result, _, _ = self.pipeline.get_state(30 * Gst.SECOND)
        if result == Gst.StateChangeReturn.FAILURE:
            raise SystemExit(f"rtsp_server: cannot play {self.path}")
        # SEGMENT makes the demuxer post SEGMENT_DONE instead of sending EOS at the end.
        self.pipeline.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.SEGMENT, 0)
        self.pipeline.set_state(Gst.State.PLAYING)

    def stop(self) -> None:
        """Stop playing (at exit)."""
        self.pipeline.set_state(Gst.State.NULL)

    def attach(self, appsrc: Gst.Element) -> Consumer:
        """Start feeding a new RTSP media's appsrc."""
        consumer = Consumer(appsrc)
        with self._lock:
            self._consumers.append(consumer)
        return consumer

    def detach(self, consumer: Consumer) -> None:
        """Stop feeding a media that is going away."""
        with self._lock:
            if consumer in self._consumers:
                self._consumers.remove(consumer)

    def _on_message(self, _bus: Gst.Bus, message: Gst.Message) -> None:
        if message.type == Gst.MessageType.SEGMENT_DONE:
            # Non-flushing: the next loop is queued right behind the last frame of this one.
            self.pipeline.seek(1.0, Gst.Format.TIME, Gst.SeekFlags.SEGMENT,
                               Gst.SeekType.SET, 0, Gst.SeekType.NONE, -1)
        elif message.type == Gst.MessageType.ERROR:
            error, debug = message.parse_error()
            log(f"{self.name}: {error.message} ({debug}); restarting the loop")
            self.pipeline.set_state(Gst.State.NULL)
            GLib.timeout_add_seconds(1, self._restart)

    def _restart(self) -> bool:
        self.start()
        return False

    def _on_sample(self, sink: Gst.Element) -> Gst.FlowReturn:
        sample = sink.emit("pull-sample")
        if sample is None:
            return Gst.FlowReturn.OK
        buffer = sample.get_buffer()
        running = sample.get_segment().to_running_time(Gst.Format.TIME, buffer.pts)
        if buffer.pts == Gst.CLOCK_TIME_NONE or running == Gst.CLOCK_TIME_NONE:
            return Gst.FlowReturn.OK
        is_key = not buffer.has_flags(Gst.BufferFlags.DELTA_UNIT)
        if is_key and running + self._shift <= self._last_pts:
            # First frame of a new loop. A non-flushing segment seek restarts running time at
            # the *start* of the last frame, so this frame would repeat its timestamp: move the
            # timeline one frame on, and make the appsink wait for that frame too (ts-offset),
            # so that the timestamps never run ahead of the clock.
            step = buffer.duration if buffer.duration != Gst.CLOCK_TIME_NONE else Gst.SECOND // 25
            self._shift = self._last_pts + step - running
            sink.set_property("ts-offset", self._shift)
        pts = running + self._shift
        self._last_pts = max(self._last_pts, pts)
        # Decode order is kept through the PTS-DTS gap of the file (B-frames).
        reorder = buffer.pts - buffer.dts if buffer.dts != Gst.CLOCK_TIME_NONE else 0
        absolute = self.pipeline.get_base_time() + pts
        with self._lock:
            consumers = list(self._consumers)
        for consumer in consumers:
            self._push(consumer, sample, buffer, absolute, reorder, is_key)
        return Gst.FlowReturn.OK

    def _push(self, consumer: Consumer, sample: Gst.Sample, buffer: Gst.Buffer,
              absolute: int, reorder: int, is_key: bool) -> None:
        appsrc = consumer.appsrc
        _, state, _ = appsrc.get_state(0)
        if state != Gst.State.PLAYING:
            return  # base time is only meaningful once the media plays
        if appsrc.get_property("current-level-time") > STALL_NS:
            # The media is not taking data (blocked between DESCRIBE and PLAY, or a stuck
            # client): stop queueing stale video and restart at a key frame when it drains.
            consumer.waiting_for_key = True
            return
        if consumer.waiting_for_key and not is_key:
            return
        running = absolute - appsrc.get_base_time()  # both pipelines run on the system clock
        if running < 0:
            return
        if not consumer.caps_set:
            appsrc.set_property("caps", sample.get_caps())
            consumer.caps_set = True
        consumer.waiting_for_key = False
        out = buffer.copy()  # shares the memory; only the timestamps differ per media
        out.pts = running
        out.dts = max(running - reorder, 0)
        result = appsrc.emit("push-buffer", out)
        if result not in (Gst.FlowReturn.OK, Gst.FlowReturn.FLUSHING):
            log(f"{self.name}: push returned {result.value_nick}")


class CameraFactory(GstRtspServer.RTSPMediaFactory):
    """One shared live media per stream, fed by the stream's ``LoopingCamera``."""

    def __init__(self, camera: LoopingCamera) -> None:
        super().__init__()
        self.camera = camera
        self.set_launch(MEDIA_LAUNCH)
        self.set_shared(True)
        self.set_protocols(GstRtsp.RTSPLowerTrans.TCP | GstRtsp.RTSPLowerTrans.UDP)
        self.connect("media-configure", self._on_configure)

    def _on_configure(self, _factory: GstRtspServer.RTSPMediaFactory,
                      media: GstRtspServer.RTSPMedia) -> None:
        media.set_clock(Gst.SystemClock.obtain())
        appsrc = media.get_element().get_by_name("src")
        consumer = self.camera.attach(appsrc)
        media.connect("unprepared", lambda _media: self.camera.detach(consumer))


def parse_stream(text: str) -> tuple[str, Path]:
    """``NAME=PATH`` → (name, path)."""
    name, sep, path = text.partition("=")
    if not sep or not name or "/" in name:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH, got {text!r}")
    if not Path(path).is_file():
        raise argparse.ArgumentTypeError(f"no such file: {path}")
    return name, Path(path)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, start the producers and the server, run until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8554, help="RTSP port (0: pick a free one)")
    parser.add_argument("--address", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--stream", action="append", type=parse_stream, required=True,
                        metavar="NAME=PATH", help="a file to serve at /NAME (repeatable)")
    parser.add_argument("--width", type=int, help="transcoded width (non-H.264 sources)")
    parser.add_argument("--height", type=int, help="transcoded height (non-H.264 sources)")
    parser.add_argument("--fps", type=int, help="transcoded frame rate (non-H.264 sources)")
    parser.add_argument("--bitrate", type=int, default=1500, help="transcoded kbit/s")
    parser.add_argument("--preset", default="veryfast", help="x264 speed preset")
    parser.add_argument("--transcode-all", action="store_true",
                        help="transcode H.264 sources too (to apply --width/--height/--fps)")
    parser.add_argument("--cache-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "sereno-rtsp-cache",
                        help="where transcoded copies are kept between runs")
    args = parser.parse_args(argv)
    names = [name for name, _ in args.stream]
    if len(set(names)) != len(names):
        parser.error("stream names must be unique")

    Gst.init(None)
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    options = EncodeOptions(args.width, args.height, args.fps, args.bitrate, args.preset,
                            args.transcode_all)
    cameras = [LoopingCamera(name, h264_source(path, options, args.cache_dir))
               for name, path in args.stream]

    server = GstRtspServer.RTSPServer()
    server.set_address(args.address)
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    for camera in cameras:
        mounts.add_factory(f"/{camera.name}", CameraFactory(camera))
    if server.attach(None) == 0:
        log(f"cannot listen on {args.address}:{args.port}")
        return 1
    for camera in cameras:
        camera.start()

    loop = GLib.MainLoop()

    def stop() -> bool:
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, stop)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, stop)
    port = server.get_bound_port()
    for camera in cameras:
        print(f"stream {camera.name} rtsp://{args.address}:{port}/{camera.name}", flush=True)
    print(f"ready port={port}", flush=True)
    loop.run()
    for camera in cameras:
        camera.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
