"""One segment file: packets copied, never decoded, into fragmented MP4.

Why fragmented MP4 (``movflags=frag_keyframe+empty_moov+default_base_moof``) and not MPEG-TS:

- **Crash robustness.** The header (``moov``) is complete before the first sample is written and
  media follows as self-contained ``moof``+``mdat`` fragments, cut at every keyframe and at
  least every ``fragment_s`` (1 s by default), and flushed to the file as each fragment closes. A
  process killed mid-segment leaves a file that demuxes and decodes up to its last complete
  fragment (a plain MP4 would be unreadable without its trailing ``moov``). TS would lose even
  less, but see the next point.
- **Byte-identical payloads.** The MP4 muxer stores each packet's bytes unchanged when they are
  already length-prefixed (H.264/H.265 from MP4/MKV sources); the TS muxer rewrites every H.264
  packet (converts to start codes, prepends an access-unit delimiter, repeats SPS/PPS). For
  Annex B sources (RTSP, TS) the MP4 muxer replaces each start code by a 4-byte length: the NAL
  units themselves are still stored byte for byte.
- **Playback.** Browsers play fragmented MP4 directly (``<video>``, Media Source Extensions);
  they do not play TS without a JavaScript transmuxer.

A muxer keeps at most one fragment in memory, so a segment costs bounded memory however long it
is. Segments are written in place (no temporary name): after a crash the partial file is
exactly what the index's ``open`` row points at, and ``probe_segment`` can finish the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.packet import Packet
from av.stream import Stream
from av.video.stream import VideoStream

SEGMENT_FORMAT = "mp4"
SEGMENT_SUFFIX = ".mp4"


def fragmented_mp4_options(fragment_s: float = 1.0) -> dict[str, str]:
    """Muxer options of a crash-tolerant, streamable fragmented MP4."""
    return {
        "movflags": "frag_keyframe+empty_moov+default_base_moof",
        "frag_duration": str(max(int(fragment_s * 1_000_000), 1)),
        "flush_packets": "1",  # hand each finished fragment to the OS at once
    }


class SegmentWriter:
    """An open segment: output streams made from the input streams as templates (codec
    parameters and extradata copied, no codec opened), packets muxed as they come."""

    def __init__(self, path: Path, video: VideoStream, audio: Stream | None,
                 fragment_s: float = 1.0) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._container = av.open(str(path), "w", format=SEGMENT_FORMAT,
                                  options=fragmented_mp4_options(fragment_s))
        self._outputs: dict[int, Stream] = {
            video.index: self._container.add_stream_from_template(video)}
        if audio is not None:
            self._outputs[audio.index] = self._container.add_stream_from_template(audio)
        self.packets = 0
        self.payload_bytes = 0
        self._closed = False

    def write(self, packet: Packet[Stream]) -> None:
        """Mux one packet of an input stream this segment carries. The muxer rescales the
        packet's timestamps in place: read them before calling."""
        size = packet.size
        packet.stream = self._outputs[packet.stream_index]
        self._container.mux_one(packet)
        self.packets += 1
        self.payload_bytes += size

    def close(self) -> int:
        """Write the last fragment and the trailer; return the file size."""
        if not self._closed:
            self._closed = True
            self._container.close()
        return self.path.stat().st_size if self.path.exists() else 0


@dataclass(frozen=True)
class SegmentProbe:
    """What a segment file holds, read back by demuxing (no decoding)."""

    packets: int
    payload_bytes: int
    first_pts: int  # in the file's own timeline (the muxer may shift it to start at 0)
    end_pts: int  # largest pts + that packet's duration
    time_base: Fraction


def probe_segment(path: Path) -> SegmentProbe | None:
    """Demux the video packets of a (possibly truncated) segment; None if it holds none."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            packets = payload = 0
            first: int | None = None
            end = 0
            try:
                for packet in container.demux(stream):
                    if packet.size == 0 or packet.pts is None:
                        continue
                    if first is None:
                        first = packet.pts
                    packets += 1
                    payload += packet.size
                    end = max(end, packet.pts + (packet.duration or 0))
            except av.FFmpegError:
                pass  # a truncated last fragment: keep what came before it
            if first is None or stream.time_base is None:
                return None
            return SegmentProbe(packets, payload, first, end, stream.time_base)
    except av.FFmpegError:
        return None
