"""A snapshot with the detections drawn on it, as JPEG bytes (for alerts and event records)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import cv2
import numpy as np

from sereno.video.frames import Bgr

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels
Detection = tuple[str, float, Box]  # label, confidence 0..1, box

_PALETTE: tuple[tuple[int, int, int], ...] = (  # BGR, distinct on street scenes
    (56, 56, 255), (151, 157, 255), (31, 112, 255), (29, 178, 255), (49, 210, 207),
    (10, 249, 72), (23, 204, 146), (134, 219, 61), (211, 188, 0), (209, 99, 0),
    (255, 56, 132), (203, 56, 255),
)


def _colour(label: str) -> tuple[int, int, int]:
    # crc32, not hash(): the same label gets the same colour in every process.
    return _PALETTE[zlib.crc32(label.encode()) % len(_PALETTE)]


def annotated_jpeg(frame: Bgr, detections: Sequence[Detection], *, quality: int = 85) -> bytes:
    """Draw each detection's box and "label 0.87" tag on a copy of ``frame`` (BGR, H x W x 3,
    uint8) and return it as JPEG bytes. Boxes are clipped to the frame; the caller's array is
    not modified."""
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError("expected a BGR uint8 frame of shape H x W x 3")
    image = np.ascontiguousarray(frame).copy()
    height, width = image.shape[:2]
    scale = max(height / 720.0, 0.35)  # text and lines readable from QCIF to 4K
    thickness = max(round(2 * scale), 1)
    font = cv2.FONT_HERSHEY_SIMPLEX
    for label, confidence, (x1, y1, x2, y2) in detections:
        left, right = sorted((round(float(x1)), round(float(x2))))
        top, bottom = sorted((round(float(y1)), round(float(y2))))
        left, right = max(left, 0), min(right, width - 1)
        top, bottom = max(top, 0), min(bottom, height - 1)
        if right <= left or bottom <= top:
            continue  # entirely outside the frame
        colour = _colour(label)
        cv2.rectangle(image, (left, top), (right, bottom), colour, thickness, cv2.LINE_AA)
        text = f"{label} {confidence:.2f}"
        (text_w, text_h), baseline = cv2.getTextSize(text, font, 0.6 * scale, thickness)
        # The tag sits above the box, or inside it when the box touches the top edge.
        tag_top = top - text_h - baseline - 2 if top - text_h - baseline - 2 >= 0 else top
        tag_left = min(left, max(width - text_w - 2, 0))
        cv2.rectangle(image, (tag_left, tag_top),
                      (tag_left + text_w + 2, tag_top + text_h + baseline + 2), colour, -1)
        cv2.putText(image, text, (tag_left + 1, tag_top + text_h + 1), font, 0.6 * scale,
                    (255, 255, 255), thickness, cv2.LINE_AA)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(encoded.tobytes())
