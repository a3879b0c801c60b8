"""Clips and playback of a time range, assembled from recorded segments by packet copy.

``cut_clip`` writes one file (an export). ``stream_clip`` yields the bytes of a fragmented MP4
as it is assembled, for an HTTP response (browsers play it directly; nothing is staged on disk
and memory stays at one fragment). ``playback`` only plans: which segment files, from which
offset, for how long — for a player that fetches segments itself.

Every clip starts on the keyframe at or before the requested start (a clip must decode from its
first packet) and ends with the last packet whose decoding timestamp is at or before the
requested end; cutting in decode order keeps every reference a kept frame needs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
from av.container import OutputContainer
from av.stream import Stream

from sereno.video.recording.index import SegmentIndex, SegmentRecord
from sereno.video.recording.segments import fragmented_mp4_options

_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".ts": "mpegts", ".mkv": "matroska"}


class NoFootageError(LookupError):
    """No recorded segment covers any part of the requested time range."""


class ClipError(Exception):
    """The range cannot be made into one clip (e.g. the camera changed its video format)."""


@dataclass(frozen=True)
class PlaybackItem:
    """Play ``path`` from ``offset_s`` (seconds after its first frame) for ``duration_s``."""

    path: Path
    segment_id: int
    offset_s: float
    duration_s: float
    start_utc: datetime  # wall-clock time at the offset


@dataclass(frozen=True)
class ClipResult:
    """What a clip holds; ``start_utc`` is its first keyframe, ``end_utc`` its last frame's
    end. ``covers_range`` is False when recording has gaps at the ends of the range."""

    path: Path | None
    requested_start_utc: datetime
    requested_end_utc: datetime
    start_utc: datetime
    end_utc: datetime
    segment_ids: tuple[int, ...]
    packets: int
    bytes: int

    @property
    def covers_range(self) -> bool:
        """True when the clip spans the whole requested range (pre/post roll included)."""
        return (self.start_utc <= self.requested_start_utc
                and self.end_utc >= self.requested_end_utc)


def _seconds(delta: timedelta) -> Fraction:
    return Fraction(delta // timedelta(microseconds=1), 1_000_000)


def _covering(index: SegmentIndex, start_utc: datetime, end_utc: datetime
              ) -> list[SegmentRecord]:
    if end_utc <= start_utc:
        raise ValueError("the range must end after it starts")
    segments = index.overlapping(start_utc, end_utc)
    if not segments:
        raise NoFootageError(f"camera {index.camera_id}: no recording between "
                             f"{start_utc.isoformat()} and {end_utc.isoformat()}")
    return segments


def playback(index: SegmentIndex, start_utc: datetime, end_utc: datetime
             ) -> list[PlaybackItem]:
    """The segments to play for [start, end), in order, each with the offset to seek to and
    how long to play it. Raises ``NoFootageError`` when nothing was recorded then."""
    items: list[PlaybackItem] = []
    for segment in _covering(index, start_utc, end_utc):
        begin = max(start_utc, segment.start_utc)
        finish = min(end_utc, segment.end_utc)
        items.append(PlaybackItem(
            path=segment.path, segment_id=segment.id,
            offset_s=(begin - segment.start_utc).total_seconds(),
            duration_s=(finish - begin).total_seconds(), start_utc=begin))
    return items


@dataclass
class _Progress:
    origin: datetime | None = None  # wall time of the clip's first keyframe
    end: datetime | None = None
    packets: int = 0
    bytes: int = 0
    segment_ids: list[int] = field(default_factory=list)


def _scan(path: Path, start_rel: Fraction, *, find_start: bool) -> tuple[int | None, int]:
    """Demux (only) a segment's video: its first PTS in the file's own timeline (muxers shift
    timelines to 0) and, when ``find_start``, the ordinal of the last keyframe at or before
    ``start_rel`` seconds after the segment's start."""
    first_pts: int | None = None
    start_ordinal = 0
    with av.open(str(path)) as source:
        video = source.streams.video[0]
        tb = video.time_base or Fraction(1, 90_000)
        ordinal = -1
        for packet in source.demux(video):
            if packet.size == 0:
                continue
            ordinal += 1
            if packet.pts is None:
                continue
            if first_pts is None:
                first_pts = packet.pts
            if not find_start or (packet.pts - first_pts) * tb > start_rel:
                break
            if packet.is_keyframe:
                start_ordinal = ordinal
    return first_pts, start_ordinal


def _copy_range(output: OutputContainer, segments: Sequence[SegmentRecord],
                start_utc: datetime, end_utc: datetime, progress: _Progress) -> Iterator[None]:
    """Mux the packets of [start, end] from ``segments`` into ``output``, retimed onto one
    timeline starting at the first keyframe; yields after each packet (for streaming)."""
    outputs: dict[str, Stream] = {}
    last_dts: dict[str, int] = {}
    reference: SegmentRecord | None = None
    for segment in segments:
        with av.open(str(segment.path)) as source:
            video = source.streams.video[0]
            audio = source.streams.audio[0] if source.streams.audio else None
            tb_video = video.time_base
            if tb_video is None:
                raise ClipError(f"segment {segment.path} has no time base")
            if reference is None:
                reference = segment
                outputs["video"] = output.add_stream_from_template(video)
                if audio is not None:
                    outputs["audio"] = output.add_stream_from_template(audio)
            elif (segment.codec, segment.width, segment.height) != (
                    reference.codec, reference.width, reference.height):
                raise ClipError(f"the video format changes at {segment.start_utc.isoformat()};"
                                " cut the range in two there")
            first_pts, start_ordinal = _scan(
                segment.path, _seconds(start_utc - segment.start_utc),
                find_start=progress.origin is None)
            if first_pts is None:
                continue  # an empty file: nothing to take from it
            first_s = first_pts * tb_video
            end_rel = _seconds(end_utc - segment.start_utc)
            if progress.origin is None:
                origin_rel = Fraction(0)
            else:
                origin_rel = _seconds(progress.origin - segment.start_utc)
            streams: list[Stream] = [video]
            if audio is not None and "audio" in outputs:
                streams.append(audio)
            ordinal = -1
            finished = False
            for packet in source.demux(*streams):
                if packet.size == 0:
                    continue
                kind = "video" if packet.stream_index == video.index else "audio"
                if kind == "video":
                    ordinal += 1  # counted exactly as in _scan
                if packet.pts is None or packet.time_base is None:
                    continue
                tb = packet.time_base
                dts = packet.dts if packet.dts is not None else packet.pts
                if kind == "video":
                    if ordinal < start_ordinal:
                        continue
                    if dts * tb - first_s > end_rel:
                        finished = True
                        break
                    if progress.origin is None:
                        origin_rel = packet.pts * tb - first_s  # exact, for exact retiming
                        progress.origin = segment.start_utc + timedelta(
                            seconds=float(origin_rel))
                    frame_end = packet.pts + (packet.duration or 0)
                    end = segment.start_utc + timedelta(seconds=float(frame_end * tb - first_s))
                    progress.end = end if progress.end is None else max(progress.end, end)
                else:
                    relative = packet.pts * tb - first_s
                    if progress.origin is None or relative < origin_rel or relative > end_rel:
                        continue
                # Onto the clip's timeline: 0 at the first keyframe.
                shift = round((-origin_rel - first_s) / tb)
                out_dts = dts + shift
                if kind in last_dts and out_dts <= last_dts[kind]:
                    continue  # overlapping segments (never written by the recorder): skip
                last_dts[kind] = out_dts
                packet.pts += shift
                packet.dts = out_dts
                size = packet.size
                packet.stream = outputs[kind]
                output.mux_one(packet)
                progress.packets += 1
                progress.bytes += size
                if not progress.segment_ids or progress.segment_ids[-1] != segment.id:
                    progress.segment_ids.append(segment.id)
                yield None
            if finished:
                break


def _result(path: Path | None, start: datetime, end: datetime, progress: _Progress
            ) -> ClipResult:
    if progress.origin is None or progress.end is None:
        raise NoFootageError(f"no frame recorded between {start.isoformat()} and "
                             f"{end.isoformat()}")
    return ClipResult(path, start, end, progress.origin, progress.end,
                      tuple(progress.segment_ids), progress.packets, progress.bytes)


def cut_clip(index: SegmentIndex, start_utc: datetime, end_utc: datetime,
             pre_roll_s: float, post_roll_s: float, out_path: Path) -> ClipResult:
    """Write [start - pre_roll, end + post_roll] into ``out_path`` by packet copy, starting on
    the keyframe at or before that start. The container follows the suffix (.mp4, .mov, .ts,
    .mkv); the file appears atomically. Raises ``NoFootageError`` when nothing covers it."""
    start = start_utc - timedelta(seconds=pre_roll_s)
    end = end_utc + timedelta(seconds=post_roll_s)
    segments = _covering(index, start, end)
    container_format = _FORMATS.get(out_path.suffix.lower())
    if container_format is None:
        raise ValueError(f"unsupported clip format {out_path.suffix!r} "
                         f"(use one of {', '.join(sorted(_FORMATS))})")
    options = {"movflags": "+faststart"} if container_format in {"mp4", "mov"} else {}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = out_path.with_name(f".{out_path.name}.{os.getpid()}.tmp")
    progress = _Progress()
    try:
        with av.open(str(temporary), "w", format=container_format,
                     options=options) as output:
            for _ in _copy_range(output, segments, start, end, progress):
                pass
        result = _result(out_path, start, end, progress)
        temporary.replace(out_path)
    finally:
        temporary.unlink(missing_ok=True)
    return result


class _Chunks:
    """A write-only sink PyAV muxes into (no seek: the muxer writes a streamable file)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def stream_clip(index: SegmentIndex, start_utc: datetime, end_utc: datetime,
                pre_roll_s: float = 0.0, post_roll_s: float = 0.0) -> Iterator[bytes]:
    """The bytes of a fragmented MP4 of the range, produced as they are muxed (e.g. for a
    ``StreamingResponse`` with ``video/mp4``). Raises ``NoFootageError`` at once, before any
    byte, when nothing covers the range."""
    start = start_utc - timedelta(seconds=pre_roll_s)
    end = end_utc + timedelta(seconds=post_roll_s)
    segments = _covering(index, start, end)

    def generate() -> Iterator[bytes]:
        sink = _Chunks()
        progress = _Progress()
        with av.open(sink, "w", format="mp4", options=fragmented_mp4_options()) as output:
            for _ in _copy_range(output, segments, start, end, progress):
                if sink.parts:
                    yield sink.take()
        if sink.parts:
            yield sink.take()

    return generate()
