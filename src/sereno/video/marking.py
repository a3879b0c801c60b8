"""Marking pictures that leave Sereno: the invisible forensic watermark (``governance.watermark``)
and the visible overlay (user, time) of live views. Pure functions over bytes and frames."""

from __future__ import annotations

import io
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import av
import cv2
import numpy as np

from sereno.governance import watermark
from sereno.video.frames import Bgr

OVERLAY_ALPHA = 0.55
JPEG_QUALITY = 90
VIDEO_CRF = "16"  # evidence copies: near-transparent, and the mark survives


class UnreadableImage(ValueError):
    """The bytes are not a picture OpenCV can decode."""


def decode_jpeg(data: bytes) -> Bgr:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.ndim != 3 or min(image.shape[:2]) < 8:
        raise UnreadableImage("not a decodable picture")
    result: Bgr = np.asarray(image, np.uint8)
    return result


def encode_jpeg(image: Bgr, quality: int = JPEG_QUALITY) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(data.tobytes())


def overlay(image: Bgr, text: str) -> Bgr:
    """Write ``text`` small, on a semi-transparent band in the bottom-right corner (in place)."""
    height, width = image.shape[:2]
    scale = max(0.35, min(0.6, width / 1600))
    thickness = 1
    (text_w, text_h), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale,
                                                 thickness)
    pad = 4
    x1, y1 = max(0, width - text_w - 2 * pad), max(0, height - text_h - baseline - 2 * pad)
    band = image[y1:height, x1:width]
    shade = np.zeros_like(band)
    cv2.addWeighted(shade, OVERLAY_ALPHA, band, 1 - OVERLAY_ALPHA, 0, dst=band)
    cv2.putText(image, text, (x1 + pad, height - baseline - pad), cv2.FONT_HERSHEY_SIMPLEX,
                scale, (235, 235, 235), thickness, cv2.LINE_AA)
    return image


def mark_frame(image: Bgr, *, payload: int | None, key: bytes | None,
               label: str | None) -> Bgr:
    """The overlay first, then the invisible mark over the whole frame (overlay included)."""
    if label:
        image = overlay(image, label)
    if payload is not None and key is not None:
        image = watermark.embed(image, payload, key)
    return image


def mark_jpeg(data: bytes, *, payload: int | None = None, key: bytes | None = None,
              label: str | None = None, quality: int = JPEG_QUALITY) -> bytes:
    """A JPEG re-encoded with the overlay ``label`` and/or the watermark ``payload``."""
    if payload is None and not label:
        return data
    return encode_jpeg(mark_frame(decode_jpeg(data), payload=payload, key=key, label=label),
                       quality)


def watermark_video(data: bytes, payload: int, key: bytes) -> bytes:
    """Every frame of an MP4 (or any container PyAV reads) re-encoded as H.264 with the
    watermark; the audio, if any, is dropped (evidence clips have none)."""
    source = av.open(io.BytesIO(data), "r")
    output = io.BytesIO()
    try:
        video_in = next((s for s in source.streams if s.type == "video"), None)
        if video_in is None:
            raise UnreadableImage("the clip has no video stream")
        rate = video_in.average_rate or Fraction(25)
        target = av.open(output, "w", format="mp4")
        try:
            stream: Any = target.add_stream("libx264", rate=rate)
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": VIDEO_CRF, "preset": "veryfast"}
            opened = False
            for frame in source.decode(video_in):
                if not isinstance(frame, av.VideoFrame):
                    continue
                image: Bgr = np.asarray(frame.to_ndarray(format="bgr24"), np.uint8)
                if not opened:
                    # H.264 in 4:2:0 needs even sides.
                    stream.width, stream.height = (image.shape[1] // 2 * 2,
                                                   image.shape[0] // 2 * 2)
                    opened = True
                image = np.ascontiguousarray(image[:stream.height, :stream.width])
                marked = av.VideoFrame.from_ndarray(watermark.embed(image, payload, key),
                                                    format="bgr24")
                marked.pts, marked.time_base = frame.pts, frame.time_base
                for packet in stream.encode(marked):
                    target.mux(packet)
            for packet in stream.encode():
                target.mux(packet)
        finally:
            target.close()
    finally:
        source.close()
    return output.getvalue()


def first_frame(data: bytes) -> Bgr:
    """The first picture of a video (to read its watermark)."""
    for image in video_frames(data, limit=1):
        return image
    raise UnreadableImage("the video has no frame")


def video_frames(data: bytes, limit: int = 12) -> Iterator[Bgr]:
    """Up to ``limit`` pictures of a video, spread over its first few hundred frames (a mark
    damaged by re-compression in one frame is often readable in the next)."""
    with av.open(io.BytesIO(data), "r") as container:
        given = 0
        for number, frame in enumerate(container.decode(video=0)):
            if number % 10 and number > 2:
                continue
            yield np.asarray(frame.to_ndarray(format="bgr24"), np.uint8)
            given += 1
            if given >= limit:
                return
