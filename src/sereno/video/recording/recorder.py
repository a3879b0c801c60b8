"""Continuous recording of one camera into keyframe-aligned segments, by packet copy.

The recorder never decodes: each demuxed packet is handed to the current segment's muxer as is
(see ``segments`` for the container and why). A new segment starts at the first keyframe at or
after ``segment_s`` of stream time, so every segment begins with a keyframe and plays on its
own. One recorder per camera at a time (it finishes the camera's crashed ``open`` segments when
it starts).

Wall-clock times come from the stream's timestamps anchored to our clock once, so consecutive
segments are contiguous and free of network jitter. For live sources the anchor is the smallest
receipt-minus-PTS offset seen over a segment (packets arrive late, never early), settled when
the segment closes; it is re-anchored after a discontinuity or when the camera's clock and ours
drift apart by more than ``max_drift_s``. A file run with ``realtime=False`` is stamped as if it
had started at ``clock()``.

Timestamp repairs: a packet without DTS follows the previous one; a repeated or slightly
reordered DTS (seen over RTSP) is nudged forward by one tick, as ffmpeg does; a step back beyond
``max_backstep_s`` or forward beyond ``max_gap_s`` closes the segment and the next one starts at
the next keyframe, flagged ``discontinuity``. Payload bytes are never touched.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import av
from av.container import InputContainer
from av.packet import Packet
from av.stream import Stream
from av.video.stream import VideoStream

from sereno.video.recording.index import SegmentIndex, SegmentRecord, from_epoch
from sereno.video.recording.segments import (
    SEGMENT_FORMAT,
    SEGMENT_SUFFIX,
    SegmentWriter,
    probe_segment,
)

log = logging.getLogger(__name__)

SCHEMES = {"rtsp", "rtsps", "http", "https", "file"}


class RecordingError(Exception):
    """The source could not be opened or recorded."""


class NoVideoStreamError(RecordingError):
    """The source opened but carries no video stream."""


@dataclass(frozen=True)
class RecorderOptions:
    """How one camera is recorded."""

    segment_s: float = 10.0  # target length; a segment ends at the first keyframe after it
    fragment_s: float = 1.0  # at most this much of the open segment is lost in a crash
    realtime: bool = True  # file:// sources: pace to their timestamps like a camera (tests: off)
    include_audio: bool = True  # copy the first audio stream when the container can carry it
    transport: str = "tcp"  # RTSP
    open_timeout_s: float = 10.0
    probe_s: float = 1.0  # network sources: stream analysis at open (packets read meanwhile
    # arrive late in one burst, so keep it short; FFmpeg's default is 5 s)
    read_timeout_s: float = 10.0
    max_gap_s: float = 5.0  # a forward timestamp jump above this is a discontinuity
    max_backstep_s: float = 1.0  # so is a step back above this; smaller ones are nudged
    max_drift_s: float = 2.0  # live sources: re-anchor wall time beyond this drift
    max_consecutive_errors: int = 100  # unreadable packets in a row before giving up


@dataclass
class RecorderCounters:
    """Running totals, readable from another thread (copy with ``snapshot``)."""

    packets: int = 0  # packets written to segments (video and audio)
    bytes: int = 0  # their payload bytes
    segments: int = 0  # segments closed
    errors: int = 0  # corrupt or unreadable packets, refused writes, failed hooks
    corrupt: int = 0  # packets the demuxer flagged corrupt (skipped)
    dropped: int = 0  # packets before the first keyframe of a segment (nothing to attach to)
    discontinuities: int = 0  # timestamps went backwards or jumped forward (new segment)
    timestamp_fixes: int = 0  # repeated/slightly reordered DTS nudged forward by one tick
    audio_packets: int = 0
    stream_ended: bool = False

    def snapshot(self) -> RecorderCounters:
        """A copy, consistent enough for metrics."""
        return replace(self)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@cache
def _mp4_codecs() -> frozenset[str]:
    with av.open(io.BytesIO(), "w", format=SEGMENT_FORMAT) as probe:
        return frozenset(probe.supported_codecs)


@dataclass
class _OpenSegment:
    writer: SegmentWriter
    segment_id: int
    start_utc: datetime
    first_pts: int
    max_pts: int
    end_pts: int  # max over packets of pts + duration
    min_offset: float | None = None  # live: min(receipt time - pts) in seconds


class SegmentRecorder:
    """Record ``url`` into ``root/<camera_id>/`` until the stream ends or ``stop()``.

    ``on_segment`` is called with each closed segment's record (the platform registers it in
    its database there); its failures are logged and counted, never stop the recording.
    """

    def __init__(self, camera_id: str, url: str, root: Path,
                 options: RecorderOptions | None = None, *,
                 stop: threading.Event | None = None,
                 on_segment: Callable[[SegmentRecord], None] | None = None,
                 clock: Callable[[], datetime] = _utc_now) -> None:
        scheme = urlsplit(url).scheme
        if scheme not in SCHEMES:
            raise ValueError(f"unsupported source scheme {scheme!r} (expected one of "
                             f"{', '.join(sorted(SCHEMES))})")
        self.camera_id = camera_id
        self.url = url
        self.options = options or RecorderOptions()
        self.index = SegmentIndex(root, camera_id)
        self.counters = RecorderCounters()
        self.stop_event = stop or threading.Event()
        self._on_segment = on_segment
        self._clock = clock
        self._is_file = scheme == "file"
        self._live = not self._is_file or self.options.realtime
        self._seconds_per_tick = 1 / 90_000
        self._segment: _OpenSegment | None = None
        self._time_base = Fraction(1, 90_000)
        self._frame_ticks = 1
        self._last_video_dts: int | None = None
        self._last_audio_dts: int | None = None
        self._anchor: tuple[datetime, int] | None = None  # (wall time, pts) pair
        self._pace_anchor: tuple[float, int] | None = None  # (monotonic, dts) pair
        self._last_end: datetime | None = None
        self._discontinuity = False
        self._runs = 0
        self._video: VideoStream | None = None
        self._audio: Stream | None = None

    def stop(self) -> None:
        """Ask the recorder to stop at the next packet (safe from any thread)."""
        self.stop_event.set()

    def run(self) -> RecorderCounters:
        """Record until the stream ends (``counters.stream_ended``) or ``stop()``; the open
        segment is always closed playable. Raises ``NoVideoStreamError`` for a source without
        video and ``RecordingError`` when the source cannot be opened or breaks."""
        recover_open_segments(self.index)
        # A second run (a reconnect) continues the recording after a break in the stream.
        self._discontinuity = self._runs > 0
        self._runs += 1
        self._last_video_dts = self._last_audio_dts = None
        self._anchor = self._pace_anchor = None
        self.counters.stream_ended = False
        container = self._open()
        try:
            if not container.streams.video:
                kinds = ", ".join(stream.type for stream in container.streams) or "none"
                raise NoVideoStreamError(
                    f"{self.url} has no video stream to record (streams: {kinds})")
            self._video = container.streams.video[0]
            self._audio = self._pick_audio(container)
            self._time_base = self._video.time_base or Fraction(1, 90_000)
            self._seconds_per_tick = float(self._time_base)
            rate = self._video.average_rate or self._video.guessed_rate or Fraction(25)
            self._frame_ticks = max(round(1 / (rate * self._time_base)), 1)
            self._read(container)
        finally:
            self._close_segment()
            container.close()
        return self.counters

    def _open(self) -> InputContainer:
        parts = urlsplit(self.url)
        timeout = (self.options.open_timeout_s, self.options.read_timeout_s)
        try:
            if parts.scheme == "file":
                return av.open(unquote(parts.path), timeout=timeout)
            options: dict[str, str] = {}
            if parts.scheme in ("rtsp", "rtsps"):
                options["rtsp_transport"] = self.options.transport
                options["timeout"] = str(int(self.options.read_timeout_s * 1_000_000))
            options["analyzeduration"] = str(int(self.options.probe_s * 1_000_000))
            return av.open(self.url, options=options, timeout=timeout)
        except (av.FFmpegError, OSError) as error:
            raise RecordingError(f"cannot open {self.url}: {error}") from error

    def _pick_audio(self, container: InputContainer) -> Stream | None:
        if not self.options.include_audio or not container.streams.audio:
            return None
        audio = container.streams.audio[0]
        if audio.codec_context.name not in _mp4_codecs():
            log.info("camera %s: audio codec %s cannot go into MP4, recording video only",
                     self.camera_id, audio.codec_context.name)
            return None
        return audio

    def _read(self, container: InputContainer) -> None:
        assert self._video is not None
        streams: list[Stream] = [self._video]
        if self._audio is not None:
            streams.append(self._audio)
        failures = 0
        while not self.stop_event.is_set():
            try:
                # A fresh demux generator after an unreadable packet continues after it.
                for packet in container.demux(*streams):
                    if self.stop_event.is_set():
                        return
                    self._handle(packet)
                    failures = 0
                self.counters.stream_ended = True
                return
            except av.InvalidDataError as error:
                self.counters.errors += 1
                failures += 1
                if failures > self.options.max_consecutive_errors:
                    raise RecordingError(f"{self.url}: too many unreadable packets") from error
            except av.FFmpegError as error:
                raise RecordingError(f"{self.url}: stream broke: {error}") from error

    def _handle(self, packet: Packet[Stream]) -> None:
        if packet.size == 0:
            return  # the demuxer's end-of-stream flush packets carry nothing
        if packet.is_corrupt:
            self.counters.corrupt += 1
            self.counters.errors += 1
            return
        assert self._video is not None
        if packet.stream_index == self._video.index:
            self._handle_video(packet)
        else:
            self._handle_audio(packet)

    def _handle_video(self, packet: Packet[Stream]) -> None:
        pts, dts = packet.pts, packet.dts
        if dts is None and self._last_video_dts is not None:
            # RTSP depacketizers leave some packets without DTS: follow the previous one.
            dts = self._last_video_dts + 1
        pts = pts if pts is not None else dts
        dts = dts if dts is not None else pts
        if pts is None or dts is None:
            self.counters.errors += 1  # MP4 cannot place an untimed packet
            return
        if self._last_video_dts is not None:
            step = (dts - self._last_video_dts) * self._time_base
            if step < -self.options.max_backstep_s or step > self.options.max_gap_s:
                # A clock reset or a jump: the muxer refuses decreasing timestamps and a jump
                # would stretch the segment's wall-clock span. Close, restart at a keyframe.
                self.counters.discontinuities += 1
                self._close_segment()
                self._discontinuity = True
                self._anchor = None
                self._pace_anchor = None
                self._last_audio_dts = None
            elif step <= 0:
                # A repeated or slightly reordered DTS (common over RTSP): nudge it by one
                # tick, as ffmpeg does, rather than lose a GOP to a new segment.
                dts = self._last_video_dts + 1
                self.counters.timestamp_fixes += 1
        pts = max(pts, dts)  # MP4 refuses a frame shown before it is decoded
        if (pts, dts) != (packet.pts, packet.dts):
            packet.pts, packet.dts = pts, dts
        self._last_video_dts = dts
        if self._is_file and self.options.realtime:
            self._pace(dts)
        segment = self._segment
        if segment is None:
            if not packet.is_keyframe:
                self.counters.dropped += 1
                return
            segment = self._open_segment(pts)
        elif packet.is_keyframe and ((pts - segment.first_pts) * self._time_base
                                     >= self.options.segment_s - 1e-3):
            self._close_segment()
            segment = self._open_segment(pts)
        if self._live:
            # Packets arrive late (network, bursts after the open's stream analysis), never
            # early: the smallest receipt-minus-PTS offset best places the camera's clock.
            offset = self._clock().timestamp() - pts * self._seconds_per_tick
            if segment.min_offset is None or offset < segment.min_offset:
                segment.min_offset = offset
        duration = packet.duration or self._frame_ticks
        self._write(segment, packet)
        segment.max_pts = max(segment.max_pts, pts)
        segment.end_pts = max(segment.end_pts, pts + duration)

    def _handle_audio(self, packet: Packet[Stream]) -> None:
        segment = self._segment
        dts = packet.dts if packet.dts is not None else packet.pts
        if segment is None:
            self.counters.dropped += 1
            return
        if dts is None or (self._last_audio_dts is not None and dts <= self._last_audio_dts):
            self.counters.errors += 1
            return
        self._last_audio_dts = dts
        if self._write(segment, packet):
            self.counters.audio_packets += 1

    def _write(self, segment: _OpenSegment, packet: Packet[Stream]) -> bool:
        size = packet.size
        try:
            segment.writer.write(packet)
        except av.FFmpegError as error:
            if segment.writer.packets == 0:  # the header itself failed: nothing will work
                raise RecordingError(f"cannot write a segment: {error}") from error
            self.counters.errors += 1
            return False
        self.counters.packets += 1
        self.counters.bytes += size
        return True

    def _pace(self, dts: int) -> None:
        now = time.monotonic()
        if self._pace_anchor is None:
            self._pace_anchor = (now, dts)
            return
        started, first_dts = self._pace_anchor
        delay = started + float((dts - first_dts) * self._time_base) - now
        if delay > 0:
            self.stop_event.wait(delay)

    def _wall_time(self, pts: int, estimate: datetime) -> datetime:
        """Wall time of ``pts``: from the anchor while it agrees with ``estimate`` (within
        ``max_drift_s``; always for non-live runs), else re-anchored at the estimate."""
        if self._anchor is not None:
            wall0, pts0 = self._anchor
            wall = wall0 + timedelta(seconds=float((pts - pts0) * self._time_base))
            if not self._live or abs((wall - estimate).total_seconds()) <= self.options.max_drift_s:
                return wall
        # Never before the previous segment's end: segments must not overlap.
        wall = max(estimate, self._last_end) if self._last_end is not None else estimate
        self._anchor = (wall, pts)
        return wall

    def _open_segment(self, pts: int) -> _OpenSegment:
        assert self._video is not None
        if self._live:
            # Provisional (file name, row of a crashed segment): the start is settled on close,
            # once the segment's packets have shown how late they arrive.
            start = self._clock()
            if self._anchor is not None:
                start = self._anchor[0] + timedelta(
                    seconds=float((pts - self._anchor[1]) * self._time_base))
        else:
            start = self._wall_time(pts, self._clock())
        relative = f"{start:%Y-%m-%d}/{start:%Y%m%dT%H%M%S.%f}Z"
        path = self.index.camera_dir / f"{relative}{SEGMENT_SUFFIX}"
        suffix = 1
        while path.exists():  # the same start twice (a re-anchored fast file run)
            path = self.index.camera_dir / f"{relative}-{suffix}{SEGMENT_SUFFIX}"
            suffix += 1
        try:
            writer = SegmentWriter(path, self._video, self._audio, self.options.fragment_s)
        except (av.FFmpegError, OSError) as error:
            raise RecordingError(f"cannot create segment {path}: {error}") from error
        segment_id = self.index.begin(
            path.relative_to(self.index.camera_dir).as_posix(), start_utc=start,
            first_pts=pts, time_base=self._time_base, codec=self._video.codec_context.name,
            width=self._video.width, height=self._video.height,
            has_audio=self._audio is not None, discontinuity=self._discontinuity)
        self._discontinuity = False
        self._segment = _OpenSegment(writer, segment_id, start, pts, pts, pts)
        return self._segment

    def _close_segment(self) -> None:
        segment, self._segment = self._segment, None
        if segment is None:
            return
        try:
            size = segment.writer.close()
        except av.FFmpegError:
            log.exception("camera %s: closing %s failed", self.camera_id, segment.writer.path)
            self.counters.errors += 1
            size = segment.writer.path.stat().st_size if segment.writer.path.exists() else 0
        start = segment.start_utc
        if self._live:
            estimate = start if segment.min_offset is None else from_epoch(
                segment.first_pts * self._seconds_per_tick + segment.min_offset)
            start = self._wall_time(segment.first_pts, estimate)
        end = start + timedelta(
            seconds=float((segment.end_pts - segment.first_pts) * self._time_base))
        self._last_end = end
        record = self.index.finish(
            segment.segment_id, start_utc=start, end_utc=end, last_pts=segment.max_pts,
            packets=segment.writer.packets, payload_bytes=segment.writer.payload_bytes,
            file_size=size)
        self.counters.segments += 1
        if self._on_segment is not None:
            try:
                self._on_segment(record)
            except Exception:
                log.exception("camera %s: on_segment hook failed", self.camera_id)
                self.counters.errors += 1


def recover_open_segments(index: SegmentIndex) -> list[SegmentRecord]:
    """Finish the rows a crashed recorder left ``open``: a segment file that still holds
    packets is closed with the extent found by demuxing it, an empty one is removed."""
    finished: list[SegmentRecord] = []
    for record in index.segments("open"):
        probe = probe_segment(record.path) if record.path.exists() else None
        if probe is None:
            record.path.unlink(missing_ok=True)
            index.delete(record.id)
            continue
        span = probe.end_pts - probe.first_pts  # the file's timeline may be shifted: use spans
        span_s = float(span * probe.time_base)
        last_pts = record.first_pts + round(span_s / record.time_base)
        finished.append(index.finish(
            record.id, end_utc=record.start_utc + timedelta(seconds=span_s),
            last_pts=last_pts, packets=probe.packets, payload_bytes=probe.payload_bytes,
            file_size=record.path.stat().st_size))
    return finished
