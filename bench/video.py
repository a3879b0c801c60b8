"""Video benchmark: what one core buys in cameras, measured against the limits that bound it.

Run by ``make bench`` (``.venv/bin/python bench/video.py``); ``--quick`` is a few-second smoke
run, ``--json`` adds one JSON object as the last line of stdout. See ``bench/README.md``.

Inputs are made here from Debian's vtest.avi with the ffmpeg CLI and cached in ``bench/.cache``:
an H.264 640x360 @ 5 fps *sub stream* (what analytics read) and an H.264 1280x720 @ 15 fps *main
stream* (what is recorded). Every camera reads the same file concurrently, as fast as it can
(not paced), so that CPU-seconds per camera-second of video can be computed. CPU time comes from
``getrusage`` (of the ffmpeg children, or of the worker process itself), never from wall time.

Phases, each in its own process(es):

a. decode limit: ``ffmpeg -threads 1 -i SUB -f null -`` once per camera, concurrently;
b. ingest + motion + tracking + rules: ``CameraRunner`` threads in a spawned worker process,
   ``StreamReader`` with ``realtime_files=False``, ``AnalyticsStage`` without a detector;
c. the same with the default person detector (detection at 5 fps in motion regions); the worker
   also times every detector call and every rule match (frame-to-event latency, e);
d. raw onnxruntime throughput of the detector on crops the pipeline actually detected;
f. worker RSS (``/proc/PID/status`` VmRSS, sampled by this process) per camera;
g. ``SegmentRecorder`` on the main stream against ffmpeg's ``-c copy`` remux of the same file;
   and, when Debian's GStreamer RTSP server is installed, (b) on a real RTSP stream served by
   ``scripts/rtsp_server.py`` in real time, as CPU % per camera.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import queue as queue_module
import re
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
CACHE = BENCH_DIR / ".cache"
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
SYSTEM_PYTHON = Path("/usr/bin/python3")  # GStreamer's RTSP server only imports there
RTSP_SERVER = REPO / "scripts" / "rtsp_server.py"

DECODE_MIN_S = 120  # video seconds per ffmpeg decode in (a), whatever --seconds says
TARGET_INGEST_RATIO = 0.80  # (b) cameras per core >= 80 % of the decode limit's
TARGET_DETECTOR_RATIO = 0.85  # detector images/s inside the pipeline >= 85 % of raw
TARGET_LATENCY_P99_MS = 300.0  # frame-to-event p99, inference excluded

# A line down the middle of vtest's walkway: its pedestrians keep crossing it.
LINE_POINTS = [[0.5, 0.0], [0.5, 1.0]]


@dataclass(frozen=True)
class StreamFormat:
    """One H.264 rendition of the source clip, like a camera's sub or main stream."""

    width: int
    height: int
    fps: int
    kbps: int

    def file_name(self, seconds: int) -> str:
        """The cache file's name: every parameter in it, so renditions never collide."""
        return f"vtest-{self.width}x{self.height}-{self.fps}fps-{self.kbps}k-{seconds}s.mp4"


SUB = StreamFormat(640, 360, 5, 512)  # analytics sub stream
MAIN = StreamFormat(1280, 720, 15, 2000)  # recorded main stream


@dataclass(frozen=True)
class Params:
    """What one run measures."""

    cameras: int
    seconds: int  # of video per camera for (a), (b) and (c)
    file_seconds: int  # length of the generated files
    record_seconds: int  # of 720p video recorded per camera (the main file looped by copy)
    detect_fps: float
    rtsp_seconds: int  # 0: skip the RTSP phase
    raw_detector_s: float  # time budget per raw-detector configuration
    quick: bool


# --------------------------------------------------------------------------------------------
# small helpers


def log(message: str) -> None:
    """Progress on stderr (stdout is the table and the JSON line)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def vm_kib(pid: int | str, key: str = "VmRSS") -> int | None:
    """A ``VmRSS``/``VmHWM`` line of /proc/PID/status in KiB, None if the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rusage_cpu(who: int = resource.RUSAGE_SELF) -> float:
    """User + system CPU seconds of this process (or of its waited-for children)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def per_core(cpu_s_per_camera_s: float | None) -> float | None:
    """Cameras one core can carry at this cost."""
    return 1.0 / cpu_s_per_camera_s if cpu_s_per_camera_s else None


def ratio(value: float | None, limit: float | None) -> float | None:
    """value / limit, None when either is missing."""
    return value / limit if value is not None and limit else None


# --------------------------------------------------------------------------------------------
# inputs


def make_input(fmt: StreamFormat, seconds: int) -> Path:
    """vtest.avi re-encoded to ``fmt`` and ``seconds`` long (looped), cached in bench/.cache.

    The 4:3 source is cropped to its middle 16:9 band (people keep their shape) and encoded as
    a camera would: constant bitrate, no B-frames, a key frame every 2 s.
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    ignore = CACHE / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")  # the cache ignores itself, whatever the repo's .gitignore says
    path = CACHE / fmt.file_name(seconds)
    if path.exists():
        return path
    if not VTEST.exists():
        raise SystemExit(f"{VTEST} not found (Debian package opencv-doc)")
    partial = path.with_name(f".{path.stem}.{os.getpid()}.mp4")
    gop = 2 * fmt.fps
    command = [
        FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-stream_loop", "-1", "-i", str(VTEST), "-t", str(seconds), "-an",
        "-vf", f"crop=iw:trunc(iw*9/16/2)*2,scale={fmt.width}:{fmt.height},fps={fmt.fps}",
        "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-pix_fmt", "yuv420p",
        "-bf", "0", "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0",
        "-b:v", f"{fmt.kbps}k", "-maxrate", f"{fmt.kbps}k", "-bufsize", f"{2 * fmt.kbps}k",
        "-movflags", "+faststart", str(partial)]
    log(f"encoding {path.name}")
    subprocess.run(command, check=True)
    os.replace(partial, path)  # atomic: a concurrent run never reads half a file
    return path


def make_long(path: Path, seconds: int) -> Path:
    """``path`` looped to ``seconds`` by packet copy (no re-encoding), cached beside it."""
    if media_seconds(path) >= seconds - 0.5:
        return path
    long_path = path.with_name(f"{path.stem}-looped-{seconds}s.mp4")
    if long_path.exists():
        return long_path
    partial = long_path.with_name(f".{long_path.stem}.{os.getpid()}.mp4")
    log(f"looping {path.name} to {seconds} s")
    subprocess.run([FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                    "-stream_loop", "-1", "-i", str(path), "-t", str(seconds), "-c", "copy",
                    "-movflags", "+faststart", str(partial)], check=True)
    os.replace(partial, long_path)
    return long_path


# --------------------------------------------------------------------------------------------
# ffmpeg CLI limits (a) and (g)


def run_children(commands: Sequence[Sequence[str]]) -> tuple[float, float]:
    """Run ``commands`` concurrently; (user + sys CPU seconds of all of them, wall seconds).

    Each child is reaped with ``os.wait4``, which returns that child's own rusage.
    """
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        processes = [subprocess.Popen(list(c), stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=errors)
                     for c in commands]
        cpu = 0.0
        failed = []
        for process in processes:
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
            cpu += usage.ru_utime + usage.ru_stime
            if process.returncode != 0:
                failed.append(process.returncode)
        if failed:
            errors.seek(0)
            raise RuntimeError(f"ffmpeg failed ({failed}): {errors.read().decode()[-500:]}")
    return cpu, time.perf_counter() - started


def startup_cpu(command: Sequence[str], repeats: int = 3) -> float:
    """CPU seconds of an ffmpeg start-up (open, probe, first frame): the least of a few runs."""
    return min(run_children([command])[0] for _ in range(repeats))


def decode_limit(sub: Path, params: Params) -> dict[str, Any]:
    """(a) ffmpeg CLI, one decode thread, N concurrent decodes of the sub stream.

    The worker's own measurement starts once every stream delivers frames, so the CLI's
    start-up (loading libraries, opening, probing: ~0.07 CPU-s) is measured apart and taken
    off; the decode runs at least 120 s of video so that the correction stays small.
    """
    seconds = max(params.seconds, DECODE_MIN_S)
    head = [FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "1",
            "-stream_loop", "-1", "-i", str(sub), "-an"]
    cpu, wall = run_children([[*head, "-t", str(seconds), "-f", "null", "-"]] * params.cameras)
    startup = startup_cpu([*head, "-frames:v", "1", "-f", "null", "-"])
    camera_s = params.cameras * seconds
    decoding = max(cpu - params.cameras * startup, 0.0)
    return {"cpu_s": cpu, "wall_s": wall, "camera_s": camera_s, "video_s": seconds,
            "ffmpeg_startup_cpu_s": startup,
            "cpu_s_per_camera_s_with_startup": cpu / camera_s,
            "cpu_s_per_camera_s": (decoding or cpu) / camera_s}


def remux_limit(main: Path, main_seconds: float, params: Params,
                workdir: Path) -> dict[str, Any]:
    """(g) limit: ffmpeg ``-c copy`` into 10 s fragmented-MP4 segments, N concurrently."""
    commands = []
    for camera in range(params.cameras):
        out = workdir / f"remux-{camera}"
        out.mkdir(parents=True, exist_ok=True)
        commands.append([
            FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(main),
            "-map", "0:v:0", "-c", "copy", "-f", "segment", "-segment_time", "10",
            "-segment_format", "mp4", "-segment_format_options",
            "movflags=frag_keyframe+empty_moov+default_base_moof", "-reset_timestamps", "1",
            str(out / "%05d.mp4")])
    cpu, wall = run_children(commands)
    startup = startup_cpu([FFMPEG, "-nostdin", "-hide_banner", "-loglevel", "error",
                           "-i", str(main), "-map", "0:v:0", "-c", "copy",
                           "-frames:v", "1", "-f", "null", "-"])
    camera_s = params.cameras * main_seconds
    copying = max(cpu - params.cameras * startup, 0.0)
    return {"cpu_s": cpu, "wall_s": wall, "camera_s": camera_s,
            "cpu_s_per_camera_s_with_startup": cpu / camera_s, "ffmpeg_startup_cpu_s": startup,
            # a quick run is too short for the difference to mean anything: keep the whole
            "cpu_s_per_camera_s": (copying or cpu) / camera_s}


# --------------------------------------------------------------------------------------------
# the worker process (b), (c), (e), (f) and the RTSP run


@dataclass(frozen=True)
class WorkerJob:
    """What one spawned worker process runs."""

    url: str
    cameras: int
    frames_per_camera: int
    fps: float
    detector: bool
    detect_fps: float
    realtime: bool
    sample_crops: int = 64
    timeout_s: float = 1800.0


@dataclass
class Probe:
    """Shared by the camera threads of one worker: timings, counters, the measuring window."""

    cameras: int
    local: threading.local = field(default_factory=threading.local)
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: set[str] = field(default_factory=set)
    window: dict[str, float] | None = None  # rusage/clock when every camera had a frame
    frame_counts: dict[str, int] = field(default_factory=dict)
    frames_at_window: dict[str, int] = field(default_factory=dict)
    frame_ms: list[float] = field(default_factory=list)  # analysis time per frame, no inference
    event_ms: list[float] = field(default_factory=list)  # frame → rule match, with inference
    event_ms_no_inference: list[float] = field(default_factory=list)
    events: int = 0
    detect_calls: int = 0
    detect_images: int = 0
    detect_cpu_s: float = 0.0  # CPU time of the calling threads inside detect()
    detect_wall_s: float = 0.0
    batch_sizes: dict[int, int] = field(default_factory=dict)
    crops: list[Any] = field(default_factory=list)

    def frame_started(self, camera_id: str) -> None:
        """A frame is out of the decoder and handed to the analytics (thread-local clock)."""
        self.local.t0 = time.perf_counter()
        self.local.inference_s = 0.0
        with self.lock:
            self.frame_counts[camera_id] = self.frame_counts.get(camera_id, 0) + 1
            if self.window is None and camera_id not in self.started:
                self.started.add(camera_id)
                if len(self.started) == self.cameras:
                    # Every stream is open and decoding: the measuring window starts.
                    self.frames_at_window = dict(self.frame_counts)
                    self.window = {"cpu": rusage_cpu(), "wall": time.perf_counter()}

    def frame_done(self) -> None:
        """The analytics returned; the frame's own time, inference excluded, is kept."""
        elapsed = time.perf_counter() - self.local.t0 - self.local.inference_s
        with self.lock:
            self.frame_ms.append(elapsed * 1000.0)

    def rule_matched(self) -> None:
        """A rule match message is produced for the frame this thread is analysing."""
        elapsed = time.perf_counter() - self.local.t0
        with self.lock:
            self.events += 1
            self.event_ms.append(elapsed * 1000.0)
            self.event_ms_no_inference.append((elapsed - self.local.inference_s) * 1000.0)


class TimedDetector:
    """A detector proxy: times every call (CPU of the calling thread and wall) and keeps the
    first crops it sees for the raw-throughput phase."""

    def __init__(self, inner: Any, probe: Probe, sample_crops: int) -> None:
        self.inner = inner
        self.probe = probe
        self.sample_crops = sample_crops

    @property
    def class_names(self) -> Sequence[str]:
        """The wrapped detector's classes."""
        names: Sequence[str] = self.inner.class_names
        return names

    @property
    def input_size(self) -> tuple[int, int]:
        """The wrapped detector's input size."""
        size: tuple[int, int] = self.inner.input_size
        return size

    def detect(self, frames: Sequence[Any]) -> list[list[Any]]:
        """Detect with the wrapped detector, timing the call."""
        wall0, cpu0 = time.perf_counter(), time.thread_time()
        found: list[list[Any]] = self.inner.detect(frames)
        cpu, wall = time.thread_time() - cpu0, time.perf_counter() - wall0
        probe = self.probe
        probe.local.inference_s = getattr(probe.local, "inference_s", 0.0) + wall
        with probe.lock:
            probe.detect_calls += 1
            probe.detect_images += len(frames)
            probe.detect_cpu_s += cpu
            probe.detect_wall_s += wall
            probe.batch_sizes[len(frames)] = probe.batch_sizes.get(len(frames), 0) + 1
            for image in frames:
                if len(probe.crops) < self.sample_crops:
                    probe.crops.append(image.copy())
        return found


class TimedStage:
    """Wraps one camera's ``AnalyticsStage``: marks frame start/end and stops the camera
    after its share of frames."""

    def __init__(self, inner: Any, probe: Probe, stop: threading.Event, frames: int) -> None:
        self.inner = inner
        self.probe = probe
        self.stop = stop
        self.frames = frames
        self.seen = 0

    def process(self, frame: Any) -> list[Any]:
        """Analyse one frame through the wrapped stage."""
        self.probe.frame_started(frame.camera_id)
        messages: list[Any] = self.inner.process(frame)
        self.probe.frame_done()
        self.seen += 1
        if self.seen >= self.frames:
            self.stop.set()  # CameraRunner closes the reader before the next frame
        return messages


def line_rule(camera_id: str) -> dict[str, Any]:
    """The benchmark's rule: a line across the walkway, any direction, no cooldown."""
    return {"id": f"line-{camera_id}", "camera_id": camera_id, "name": "walkway line",
            "kind": "line", "points": LINE_POINTS, "classes": ["person", "vehicle"],
            "direction": "any", "cooldown_s": 0}


def worker_main(job: WorkerJob, outbox_queue: Any) -> None:
    """Entry point of the spawned worker: N ``CameraRunner`` threads over one shared detector,
    as ``sereno.video.ingest.runner`` runs them; reports ("ready", ...) and ("result", ...)."""
    from sereno.video.detection.registry import default_person_detector
    from sereno.video.ingest.reader import SourceOptions
    from sereno.video.ingest.runner import CameraRunner
    from sereno.video.messages import CameraSpec, StageMessage
    from sereno.video.pipeline import AnalyticsStage

    probe = Probe(job.cameras)
    detector = (TimedDetector(default_person_detector(threads=1), probe, job.sample_crops)
                if job.detector else None)

    def outbox(message: object) -> None:
        if isinstance(message, StageMessage) and message.kind == "detection":
            probe.rule_matched()
        outbox_queue.put(message)  # to the parent, as a real worker does

    threads, stops = [], []
    for index in range(job.cameras):
        camera_id = f"bench-{index}"
        spec = CameraSpec(camera_id=camera_id, url=job.url, max_fps=job.fps,
                          rules=(line_rule(camera_id),), detect_fps=job.detect_fps)
        stop = threading.Event()
        stage = TimedStage(AnalyticsStage(spec, detector, detect_fps=job.detect_fps), probe,
                           stop, job.frames_per_camera)
        options = SourceOptions(transport="tcp", max_fps=job.fps, loop_files=True,
                                realtime_files=job.realtime)
        runner = CameraRunner(spec, outbox, stop, [stage], options=options)
        threads.append(threading.Thread(target=runner.run, name=f"camera-{camera_id}",
                                        daemon=True))
        stops.append(stop)
    outbox_queue.put(("ready", {"rss_kib": vm_kib("self")}))
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + job.timeout_s
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0.1))
    timed_out = any(thread.is_alive() for thread in threads)
    for stop in stops:
        stop.set()
    end_cpu, end_wall = rusage_cpu(), time.perf_counter()
    with probe.lock:
        window = probe.window or {"cpu": end_cpu, "wall": end_wall}
        frames_in_window = sum(count - probe.frames_at_window.get(camera, 0)
                               for camera, count in probe.frame_counts.items())
        result = {
            "timed_out": timed_out,
            "cpu_s": end_cpu - window["cpu"], "wall_s": end_wall - window["wall"],
            "frames": sum(probe.frame_counts.values()), "frames_in_window": frames_in_window,
            "camera_s": frames_in_window / job.fps,
            "events": probe.events, "event_ms": probe.event_ms,
            "event_ms_no_inference": probe.event_ms_no_inference,
            "frame_ms": probe.frame_ms,
            "detect_calls": probe.detect_calls, "detect_images": probe.detect_images,
            "detect_cpu_s": probe.detect_cpu_s, "detect_wall_s": probe.detect_wall_s,
            "batch_sizes": probe.batch_sizes, "crops": probe.crops,
            "vm_hwm_kib": vm_kib("self", "VmHWM"), "rss_end_kib": vm_kib("self"),
        }
    outbox_queue.put(("result", result))


def run_worker(job: WorkerJob) -> dict[str, Any]:
    """Spawn the worker, drain its messages, sample its VmRSS; its result plus memory."""
    context = multiprocessing.get_context("spawn")  # as the supervisor starts workers
    messages = context.Queue()
    process = context.Process(target=worker_main, args=(job, messages), name="bench-worker")
    process.start()
    pid = process.pid
    assert pid is not None
    result: dict[str, Any] | None = None
    ready: dict[str, Any] = {}
    peak_kib, samples, next_sample = 0, 0, 0.0
    matches = 0
    try:
        while result is None:
            try:
                item = messages.get(timeout=0.1)
            except queue_module.Empty:
                item = None
                if not process.is_alive():
                    break
            if isinstance(item, tuple) and item[0] == "ready":
                ready = item[1]
            elif isinstance(item, tuple) and item[0] == "result":
                result = item[1]
            elif getattr(item, "kind", None) == "detection":
                matches += 1
            now = time.monotonic()
            if ready and now >= next_sample:
                rss = vm_kib(pid)
                if rss is not None:
                    peak_kib, samples = max(peak_kib, rss), samples + 1
                next_sample = now + 0.2
    finally:
        process.join(timeout=30)
        if process.is_alive():
            process.terminate()  # our own child, by its handle
            process.join(timeout=10)
    if result is None:
        raise RuntimeError(f"the benchmark worker died (exit code {process.exitcode})")
    # The sampled VmRSS can miss a short peak: the worker's own high-water mark cannot.
    peak_kib = max(peak_kib, result.get("vm_hwm_kib") or 0)
    result.update(rss_peak_kib=peak_kib, rss_samples=samples,
                  rss_ready_kib=ready.get("rss_kib"), matches_received=matches)
    return result


def summarise_worker(result: dict[str, Any], cameras: int) -> dict[str, Any]:
    """The numbers the table and the JSON need, without the raw lists."""
    cost = result["cpu_s"] / result["camera_s"] if result["camera_s"] else None
    summary = {
        "cpu_s": result["cpu_s"], "wall_s": result["wall_s"], "camera_s": result["camera_s"],
        "cpu_s_per_camera_s": cost, "cameras_per_core": per_core(cost),
        "cpu_percent_per_camera": 100.0 * cost if cost is not None else None,
        "frames": result["frames"], "events": result["events"],
        "frame_ms_p50": percentile(result["frame_ms"], 50),
        "frame_ms_p99": percentile(result["frame_ms"], 99),
        "event_ms_p50": percentile(result["event_ms"], 50),
        "event_ms_p99": percentile(result["event_ms"], 99),
        "event_ms_no_inference_p50": percentile(result["event_ms_no_inference"], 50),
        "event_ms_no_inference_p99": percentile(result["event_ms_no_inference"], 99),
        "rss_peak_mb": result["rss_peak_kib"] / 1024.0,
        "rss_ready_mb": (result["rss_ready_kib"] or 0) / 1024.0,
        "vm_hwm_mb": (result["vm_hwm_kib"] or 0) / 1024.0,
        "rss_mb_per_camera": result["rss_peak_kib"] / 1024.0 / cameras,
        "rss_added_mb_per_camera":
            (result["rss_peak_kib"] - (result["rss_ready_kib"] or 0)) / 1024.0 / cameras,
        "timed_out": result["timed_out"],
    }
    if result["detect_calls"]:
        summary.update(
            detect_calls=result["detect_calls"], detect_images=result["detect_images"],
            detect_cpu_s=result["detect_cpu_s"], detect_wall_s=result["detect_wall_s"],
            detector_fps_cpu=result["detect_images"] / result["detect_cpu_s"],
            detector_fps_wall=result["detect_images"] / result["detect_wall_s"],
            detect_images_per_camera_s=result["detect_images"] / result["camera_s"],
            batch_sizes={str(k): v for k, v in sorted(result["batch_sizes"].items())})
    return summary


# --------------------------------------------------------------------------------------------
# (d) the detector alone, and (g) the recorder, each in a spawned process


def raw_detector(crops: list[Any], budget_s: float,
                 call_sizes: dict[int, int]) -> dict[str, Any]:
    """Raw onnxruntime throughput on ``crops`` (already preprocessed: pure ``session.run``),
    at batch 1 to 8, plus ``detect()`` (with its resize and decoding) at batch 1. Images per
    CPU-second of this thread (one intra-op thread, as the workers run it) and per wall second.

    ``call_sizes`` (images per ``detect()`` call → calls, from the pipeline) gives the raw
    throughput at the pipeline's own batch mix: the detector splits a call into runs of at
    most its ``max_batch`` images, and each run costs what the raw measurement at its size
    says."""
    import numpy as np

    from sereno.video.detection.registry import default_person_detector
    from sereno.video.detection.ssd import _to_input

    detector: Any = default_person_detector(threads=1)
    session, input_name = detector._session, detector._input_name
    outputs = detector._output_names
    inputs = [_to_input(crop, detector.input_size) for crop in crops]

    def measure(run: Callable[[int], int]) -> dict[str, float]:
        run(0)  # warm-up
        images, index = 0, 0
        cpu0, wall0 = time.thread_time(), time.perf_counter()
        while True:
            images += run(index)
            index += 1
            wall = time.perf_counter() - wall0
            if wall >= budget_s and index >= 3:
                break
        cpu = time.thread_time() - cpu0
        return {"fps_cpu": images / cpu, "fps_wall": images / wall, "images": images,
                "process_cpu_share": cpu / wall}

    results: dict[str, Any] = {}
    max_batch = int(detector._max_batch)
    batches = range(1, max_batch + 1)
    for batch in batches:
        def run_batch(index: int, batch: int = batch) -> int:
            start = (index * batch) % len(inputs)
            chosen = [inputs[(start + k) % len(inputs)] for k in range(batch)]
            session.run(outputs, {input_name: np.stack(chosen)})
            return batch
        results[f"session_b{batch}"] = measure(run_batch)

    def run_detect(index: int) -> int:
        detector.detect([crops[index % len(crops)]])
        return 1
    results["detect_b1"] = measure(run_detect)
    best = max(batches, key=lambda b: results[f"session_b{b}"]["fps_cpu"])
    results["best_batch"] = best
    runs: dict[int, int] = {}
    for size, calls in call_sizes.items():
        full, rest = divmod(int(size), max_batch)
        runs[max_batch] = runs.get(max_batch, 0) + full * calls
        if rest:
            runs[rest] = runs.get(rest, 0) + calls
    images = sum(size * count for size, count in runs.items())
    seconds = sum(size * count / results[f"session_b{size}"]["fps_cpu"]
                  for size, count in runs.items())
    results["pipeline_mix_fps_cpu"] = images / seconds if seconds else None
    results["crops"] = len(crops)
    results["crop_sizes"] = sorted({f"{c.shape[1]}x{c.shape[0]}" for c in crops})[:12]
    return results


def record_files(url: str, cameras: int, root: str) -> dict[str, Any]:
    """(g) ``SegmentRecorder`` (realtime off) on N concurrent copies of the main stream."""
    from sereno.video.recording.recorder import RecorderOptions, SegmentRecorder

    recorders = [SegmentRecorder(f"bench-{i}", url, Path(root), RecorderOptions(realtime=False))
                 for i in range(cameras)]
    errors: list[str] = []

    def record(recorder: SegmentRecorder) -> None:
        try:
            recorder.run()
        except Exception as error:  # reported, the phase fails below
            errors.append(repr(error))

    threads = [threading.Thread(target=record, args=(r,)) for r in recorders]
    cpu0, wall0 = rusage_cpu(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu, wall = rusage_cpu() - cpu0, time.perf_counter() - wall0
    if errors:
        raise RuntimeError(f"recording failed: {errors}")
    return {"cpu_s": cpu, "wall_s": wall,
            "segments": sum(r.counters.segments for r in recorders),
            "packets": sum(r.counters.packets for r in recorders),
            "bytes": sum(r.counters.bytes for r in recorders)}


def pyav_decode(path: str, cameras: int, frames: int) -> dict[str, Any]:
    """(a') decode only, with the PyAV build the workers use: N threads, one decode thread
    each, ``frames`` frames each (the file looped), nothing else done with the frames."""
    import av

    def decode() -> None:
        with av.open(path) as container:
            stream = container.streams.video[0]
            stream.thread_count = 1
            count = 0
            while count < frames:
                for _frame in container.decode(stream):
                    count += 1
                    if count >= frames:
                        break
                else:
                    container.seek(0, stream=None)

    threads = [threading.Thread(target=decode) for _ in range(cameras)]
    cpu0, wall0 = rusage_cpu(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"cpu_s": rusage_cpu() - cpu0, "wall_s": time.perf_counter() - wall0,
            "frames": cameras * frames}


def in_child(function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``function(*args)`` in a fresh spawned process and return its result."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result: dict[str, Any] = pool.apply(function, args)
    return result


def media_seconds(path: Path) -> float:
    """Duration of a media file, from its container."""
    import av

    with av.open(str(path)) as container:
        return float(container.duration or 0) / av.time_base


# --------------------------------------------------------------------------------------------
# the RTSP server (optional)


class RtspServer:
    """``scripts/rtsp_server.py`` under Debian's Python, serving one file as a live camera."""

    def __init__(self, clip: Path, workdir: Path) -> None:
        self.clip = clip
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @staticmethod
    def missing() -> str | None:
        """Why the server cannot run here, or None."""
        if not SYSTEM_PYTHON.exists() or not RTSP_SERVER.exists():
            return f"{SYSTEM_PYTHON} or {RTSP_SERVER} not found"
        probe = ("import gi; gi.require_version('Gst', '1.0'); "
                 "gi.require_version('GstRtspServer', '1.0'); "
                 "from gi.repository import Gst, GstRtspServer")
        result = subprocess.run([str(SYSTEM_PYTHON), "-c", probe],
                                capture_output=True, text=True, timeout=30, check=False)
        return None if result.returncode == 0 else result.stderr.strip()[-200:]

    def start(self, timeout_s: float = 60.0) -> str:
        """Start it and return the stream's URL (127.0.0.1 only)."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        command = [str(SYSTEM_PYTHON), str(RTSP_SERVER), "--port", "0", "--address",
                   "127.0.0.1", "--cache-dir", str(self.workdir / "cache"),
                   "--stream", f"cam={self.clip}"]
        log_file = (self.workdir / "rtsp_server.log").open("ab")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE,
                                        stderr=log_file, env=env)
        log_file.close()
        assert self.process.stdout is not None
        fd, pending = self.process.stdout.fileno(), b""
        deadline = time.monotonic() + timeout_s
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if not selector.select(timeout=max(deadline - time.monotonic(), 0)):
                    break
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    match = re.match(r"^ready port=(\d+)$", line.decode(errors="replace"))
                    if match:
                        self.port = int(match.group(1))
                        return f"rtsp://127.0.0.1:{self.port}/cam"
        self.stop()
        raise RuntimeError("the RTSP server did not become ready")

    def stop(self) -> None:
        """SIGTERM our server process and reap it."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None


# --------------------------------------------------------------------------------------------
# machine facts


def machine_facts() -> dict[str, Any]:
    """CPU, cores, software versions."""
    import av
    import onnxruntime

    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ffmpeg_cli = subprocess.run([FFMPEG, "-version"], capture_output=True, text=True,
                                check=False).stdout.splitlines()
    return {
        "cpu_model": model, "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "python": platform.python_version(), "platform": platform.platform(),
        "onnxruntime": onnxruntime.__version__, "pyav": av.__version__,
        "pyav_ffmpeg_libavcodec": ".".join(map(str, av.library_versions["libavcodec"])),
        "ffmpeg_cli": ffmpeg_cli[0] if ffmpeg_cli else None,
    }


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(value, 2) for value in os.getloadavg()]


# --------------------------------------------------------------------------------------------
# the run


def run(params: Params) -> dict[str, Any]:
    """Every phase, in order; a dict of the results."""
    loads: dict[str, list[float]] = {"start": load_average()}
    sub = make_input(SUB, params.file_seconds)
    main = make_input(MAIN, params.file_seconds)
    sub_url = f"file://{sub}"
    frames = round(params.seconds * SUB.fps)
    out: dict[str, Any] = {}

    log(f"(a) ffmpeg decode limit, {params.cameras} x {params.seconds} s")
    out["decode"] = decode_limit(sub, params)
    decoded = in_child(pyav_decode, str(sub), params.cameras, frames)
    decoded["camera_s"] = decoded["frames"] / SUB.fps
    decoded["cpu_s_per_camera_s"] = decoded["cpu_s"] / decoded["camera_s"]
    out["pyav_decode"] = decoded
    loads["after_decode"] = load_average()

    log("(b) ingest + motion + tracking + rules (no detector)")
    motion = run_worker(WorkerJob(sub_url, params.cameras, frames, SUB.fps, detector=False,
                                  detect_fps=params.detect_fps, realtime=False))
    out["ingest_motion"] = summarise_worker(motion, params.cameras)
    loads["after_ingest"] = load_average()

    log("(c) whole pipeline with the person detector")
    pipeline = run_worker(WorkerJob(sub_url, params.cameras, frames, SUB.fps, detector=True,
                                    detect_fps=params.detect_fps, realtime=False))
    out["pipeline"] = summarise_worker(pipeline, params.cameras)
    loads["after_pipeline"] = load_average()

    log(f"(d) raw detector on {len(pipeline['crops'])} crops from (c)")
    out["detector_raw"] = (in_child(raw_detector, pipeline["crops"], params.raw_detector_s,
                                    pipeline["batch_sizes"])
                           if pipeline["crops"] else {})
    loads["after_detector"] = load_average()

    recorded_file = make_long(main, params.record_seconds)
    main_seconds = media_seconds(recorded_file)
    log(f"(g) recording vs ffmpeg -c copy, {params.cameras} x {main_seconds:.0f} s of 720p")
    with tempfile.TemporaryDirectory(prefix="sereno-bench-") as workdir:
        recorded = in_child(record_files, f"file://{recorded_file}", params.cameras,
                            str(Path(workdir) / "recordings"))
        recorded["camera_s"] = params.cameras * main_seconds
        recorded["cpu_s_per_camera_s"] = recorded["cpu_s"] / recorded["camera_s"]
        out["recording"] = recorded
        out["remux"] = remux_limit(recorded_file, main_seconds, params, Path(workdir))
    loads["after_recording"] = load_average()

    if params.rtsp_seconds > 0:
        missing = RtspServer.missing()
        if missing:
            log(f"RTSP phase skipped: {missing}")
            out["rtsp"] = {"skipped": missing}
        else:
            log(f"(b) over RTSP, paced, {params.cameras} x {params.rtsp_seconds} s")
            with tempfile.TemporaryDirectory(prefix="sereno-bench-rtsp-") as workdir:
                server = RtspServer(sub, Path(workdir))
                try:
                    url = server.start()
                    rtsp = run_worker(WorkerJob(
                        url, params.cameras, round(params.rtsp_seconds * SUB.fps), SUB.fps,
                        detector=False, detect_fps=params.detect_fps, realtime=True,
                        timeout_s=params.rtsp_seconds * 3 + 60))
                    out["rtsp"] = summarise_worker(rtsp, params.cameras)
                finally:
                    server.stop()
            loads["after_rtsp"] = load_average()
    out["loads"] = loads
    return out


def headline(params: Params, out: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """The flat JSON object: the keys the brief names, targets, machine facts, parameters."""
    decode, motion, pipeline = out["decode"], out["ingest_motion"], out["pipeline"]
    raw = out["detector_raw"]
    raw_b1 = raw.get("session_b1", {}).get("fps_cpu")
    best = raw.get(f"session_b{raw.get('best_batch', 1)}", {}).get("fps_cpu")
    decode_per_core = per_core(decode["cpu_s_per_camera_s"])
    rtsp = out.get("rtsp", {})
    loads = out["loads"]
    result = {
        "cameras_per_core_decode_limit": decode_per_core,
        "cameras_per_core_pyav_decode": per_core(out["pyav_decode"]["cpu_s_per_camera_s"]),
        "cameras_per_core_ingest_motion": motion["cameras_per_core"],
        "ingest_motion_vs_decode_limit": ratio(motion["cameras_per_core"], decode_per_core),
        "cameras_per_core_pipeline": pipeline["cameras_per_core"],
        "decode_cpu_s_per_camera_s": decode["cpu_s_per_camera_s"],
        "ingest_motion_cpu_s_per_camera_s": motion["cpu_s_per_camera_s"],
        "pipeline_cpu_s_per_camera_s": pipeline["cpu_s_per_camera_s"],
        "detector_raw_fps": raw_b1,
        "detector_raw_best_fps": best,
        "detector_raw_best_batch": raw.get("best_batch"),
        "detector_raw_detect_fps": raw.get("detect_b1", {}).get("fps_cpu"),
        "detector_raw_pipeline_mix_fps": raw.get("pipeline_mix_fps_cpu"),
        "detector_pipeline_vs_raw_mix": ratio(pipeline.get("detector_fps_cpu"),
                                              raw.get("pipeline_mix_fps_cpu")),
        "detector_pipeline_fps": pipeline.get("detector_fps_cpu"),
        "detector_pipeline_fps_wall": pipeline.get("detector_fps_wall"),
        "detector_pipeline_vs_raw": ratio(pipeline.get("detector_fps_cpu"), raw_b1),
        "detect_images_per_camera_s": pipeline.get("detect_images_per_camera_s"),
        "frame_to_event_p50_ms": pipeline["event_ms_no_inference_p50"],
        "frame_to_event_p99_ms": pipeline["event_ms_no_inference_p99"],
        "frame_to_event_with_inference_p50_ms": pipeline["event_ms_p50"],
        "frame_to_event_with_inference_p99_ms": pipeline["event_ms_p99"],
        "events": pipeline["events"],
        "rss_mb_per_camera": pipeline["rss_mb_per_camera"],
        "rss_mb_worker_peak": pipeline["rss_peak_mb"],
        "rss_mb_worker_before_cameras": pipeline["rss_ready_mb"],
        "rss_added_mb_per_camera": pipeline["rss_added_mb_per_camera"],
        "rss_mb_per_camera_no_detector": motion["rss_mb_per_camera"],
        "recording_cpu_s_per_camera_s": out["recording"]["cpu_s_per_camera_s"],
        "remux_limit_cpu_s_per_camera_s": out["remux"]["cpu_s_per_camera_s"],
        "remux_limit_with_startup_cpu_s_per_camera_s":
            out["remux"]["cpu_s_per_camera_s_with_startup"],
        "decode_limit_with_startup_cpu_s_per_camera_s":
            decode["cpu_s_per_camera_s_with_startup"],
        "rtsp_cpu_percent_per_camera": rtsp.get("cpu_percent_per_camera"),
        "targets": {"ingest_motion_vs_decode_limit": TARGET_INGEST_RATIO,
                    "detector_pipeline_vs_raw": TARGET_DETECTOR_RATIO,
                    "frame_to_event_p99_ms": TARGET_LATENCY_P99_MS},
        "machine": facts,
        "load_average": loads,
        "load_average_max_1min": max(v[0] for v in loads.values()),
        "params": {**asdict(params), "sub_stream": asdict(SUB), "main_stream": asdict(MAIN),
                   "line_rule_points": LINE_POINTS, "detector": "default person (SSDLite)",
                   "detector_threads": 1, "date": datetime.now(UTC).isoformat(timespec="seconds"),
                   "command": " ".join([Path(sys.executable).name, *sys.argv])},
        "details": out,
    }
    result["pass"] = {
        "ingest_motion_vs_decode_limit":
            _passes(result["ingest_motion_vs_decode_limit"], TARGET_INGEST_RATIO, above=True),
        "detector_pipeline_vs_raw":
            _passes(result["detector_pipeline_vs_raw"], TARGET_DETECTOR_RATIO, above=True),
        "frame_to_event_p99_ms":
            _passes(result["frame_to_event_p99_ms"], TARGET_LATENCY_P99_MS, above=False),
    }
    return result


def _passes(value: float | None, target: float, *, above: bool) -> bool | None:
    if value is None:
        return None
    return value >= target if above else value < target


def _fmt(value: float | None, digits: int = 2, unit: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}{unit}"


def _verdict(passed: bool | None) -> str:
    return {True: "[green]PASS[/]", False: "[red]FAIL[/]", None: "[yellow]n/a[/]"}[passed]


def print_table(result: dict[str, Any]) -> None:
    """The human-readable table (rich)."""
    from rich.console import Console
    from rich.table import Table

    r = result
    p = r["params"]
    details = r["details"]
    table = Table(title=f"Sereno video benchmark — {p['cameras']} camera(s), "
                        f"{p['seconds']} s of video each ({'quick' if p['quick'] else 'full'})")
    for column in ("", "measurement", "measured", "limit / target", "ratio", "verdict"):
        table.add_column(column)
    motion, pipeline = details["ingest_motion"], details["pipeline"]
    table.add_row("a", "decode limit: ffmpeg -threads 1, cameras/core",
                  _fmt(r["cameras_per_core_decode_limit"], 1),
                  f"{_fmt(r['decode_cpu_s_per_camera_s'], 4)} cpu-s/cam-s", "", "limit")
    table.add_row("a'", "  decode only, PyAV (the workers' FFmpeg build)",
                  _fmt(r["cameras_per_core_pyav_decode"], 1),
                  f"{_fmt(details['pyav_decode']['cpu_s_per_camera_s'], 4)} cpu-s/cam-s",
                  _fmt(100 * (ratio(r["cameras_per_core_ingest_motion"],
                                    r["cameras_per_core_pyav_decode"]) or 0), 0, " % (b/a')"),
                  "info")
    table.add_row("b", "ingest+motion+tracking+rules, cameras/core",
                  _fmt(r["cameras_per_core_ingest_motion"], 1),
                  f"≥ {TARGET_INGEST_RATIO:.0%} of (a) = "
                  f"{_fmt((r['cameras_per_core_decode_limit'] or 0) * TARGET_INGEST_RATIO, 1)}",
                  _fmt(100 * (r["ingest_motion_vs_decode_limit"] or 0), 0, " %"),
                  _verdict(r["pass"]["ingest_motion_vs_decode_limit"]))
    table.add_row("c", "whole pipeline with detection, cameras/core",
                  _fmt(r["cameras_per_core_pipeline"], 1),
                  f"(a) {_fmt(r['cameras_per_core_decode_limit'], 1)}",
                  _fmt(100 * (ratio(r["cameras_per_core_pipeline"],
                                    r["cameras_per_core_decode_limit"]) or 0), 0, " %"),
                  "info")
    table.add_row("c", "  detector images per camera-second",
                  _fmt(r["detect_images_per_camera_s"], 2), f"detect_fps {p['detect_fps']:g}",
                  "", "info")
    table.add_row("d", "detector in pipeline, images/CPU-s",
                  _fmt(r["detector_pipeline_fps"], 1),
                  f"≥ {TARGET_DETECTOR_RATIO:.0%} of raw b1 {_fmt(r['detector_raw_fps'], 1)}",
                  _fmt(100 * (r["detector_pipeline_vs_raw"] or 0), 0, " %"),
                  _verdict(r["pass"]["detector_pipeline_vs_raw"]))
    table.add_row("d", "  raw onnxruntime, best batch, images/CPU-s",
                  _fmt(r["detector_raw_best_fps"], 1),
                  f"batch {r['detector_raw_best_batch']}; detect() b1 "
                  f"{_fmt(r['detector_raw_detect_fps'], 1)}", "", "info")
    table.add_row("d", "  raw at the pipeline's batch mix, images/CPU-s",
                  _fmt(r["detector_raw_pipeline_mix_fps"], 1),
                  "pipeline vs this:",
                  _fmt(100 * (r["detector_pipeline_vs_raw_mix"] or 0), 0, " %"), "info")
    table.add_row("e", "frame→event p50 / p99, inference excluded",
                  f"{_fmt(r['frame_to_event_p50_ms'], 1)} / "
                  f"{_fmt(r['frame_to_event_p99_ms'], 1)} ms",
                  f"p99 < {TARGET_LATENCY_P99_MS:.0f} ms", f"{r['events']} events",
                  _verdict(r["pass"]["frame_to_event_p99_ms"]))
    table.add_row("e", "  frame→event p50 / p99, with inference",
                  f"{_fmt(r['frame_to_event_with_inference_p50_ms'], 1)} / "
                  f"{_fmt(r['frame_to_event_with_inference_p99_ms'], 1)} ms", "", "", "info")
    table.add_row("f", "worker RSS per camera (peak VmRSS / N)",
                  _fmt(r["rss_mb_per_camera"], 1, " MB"),
                  f"peak {_fmt(r['rss_mb_worker_peak'], 0, ' MB')}, before cameras "
                  f"{_fmt(r['rss_mb_worker_before_cameras'], 0, ' MB')}",
                  f"+{_fmt(r['rss_added_mb_per_camera'], 1, ' MB')}/cam", "info")
    table.add_row("f", "  without detector (b)", _fmt(r["rss_mb_per_camera_no_detector"], 1,
                                                      " MB"), "", "", "info")
    table.add_row("g", "recording (SegmentRecorder 720p), cpu-s/cam-s",
                  _fmt(r["recording_cpu_s_per_camera_s"], 5),
                  f"ffmpeg -c copy {_fmt(r['remux_limit_cpu_s_per_camera_s'], 5)} "
                  f"({_fmt(r['remux_limit_with_startup_cpu_s_per_camera_s'], 5)} with start-up)",
                  _fmt(ratio(r["recording_cpu_s_per_camera_s"],
                             r["remux_limit_cpu_s_per_camera_s"]), 1, "x"), "info")
    rtsp = details.get("rtsp")
    if rtsp and "skipped" not in rtsp:
        table.add_row("b'", "ingest+motion over RTSP (paced), CPU % per camera",
                      _fmt(r["rtsp_cpu_percent_per_camera"], 2, " %"),
                      f"file, unpaced: {_fmt(motion['cpu_percent_per_camera'], 2, ' %')}",
                      _fmt(per_core((r["rtsp_cpu_percent_per_camera"] or 0) / 100), 1,
                           " cam/core"), "info")
    elif rtsp:
        table.add_row("b'", "RTSP run", "skipped", str(rtsp["skipped"])[:60], "", "n/a")
    console = Console(width=160)
    console.print(table)
    m = r["machine"]
    console.print(f"{m['cpu_model']}, {m['cores']} cores; Python {m['python']}, onnxruntime "
                  f"{m['onnxruntime']}, PyAV {m['pyav']} (libavcodec "
                  f"{m['pyav_ffmpeg_libavcodec']}), {m['ffmpeg_cli']}")
    console.print(f"load average (1 min) max {r['load_average_max_1min']}; pipeline detector "
                  f"batches {pipeline.get('batch_sizes')}; frames analysed (c) "
                  f"{pipeline['frames']}, events {pipeline['events']}")


def parse_args(argv: Sequence[str] | None = None) -> tuple[Params, bool]:
    """Command line → (``Params``, whether to print the JSON line)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--cameras", type=int, default=4, help="concurrent cameras (default 4)")
    parser.add_argument("--seconds", type=int, help="video seconds per camera (default 120; "
                        "quick 8)")
    parser.add_argument("--detect-fps", type=float, default=5.0)
    parser.add_argument("--rtsp-seconds", type=int,
                        help="paced RTSP run length (default 30; quick: 0 = skipped)")
    parser.add_argument("--record-seconds", type=int,
                        help="720p seconds recorded per camera (default 300; quick 10)")
    parser.add_argument("--quick", action="store_true", help="a few-second smoke run")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args(argv)
    if args.cameras < 1:
        parser.error("--cameras must be at least 1")
    seconds = args.seconds or (8 if args.quick else 120)
    return Params(
        cameras=args.cameras, seconds=seconds,
        file_seconds=max(10, seconds) if args.quick else max(60, seconds),
        record_seconds=args.record_seconds or (10 if args.quick else 300),
        detect_fps=args.detect_fps,
        rtsp_seconds=args.rtsp_seconds if args.rtsp_seconds is not None
        else (0 if args.quick else 30),
        raw_detector_s=0.3 if args.quick else 2.5, quick=args.quick), args.json


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table (and the JSON line)."""
    params, as_json = parse_args(argv)
    log(f"load average {load_average()}; {params}")
    facts = machine_facts()
    out = run(params)
    result = headline(params, out, facts)
    print_table(result)
    if as_json:
        print(json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
