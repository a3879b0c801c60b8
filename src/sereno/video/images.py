"""Picture helpers shared by snapshots, detection snapshots and the live view."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from sereno.video.frames import Bgr


def blank(image: Bgr, masks: Sequence[Sequence[Sequence[float]]]) -> Bgr:
    """Paint the privacy masks (normalised polygons) black, in place; returns the image."""
    height, width = image.shape[:2]
    for polygon in masks:
        points = np.array([(x * width, y * height) for x, y in polygon], np.float32)
        cv2.fillPoly(image, [np.round(points).astype(np.int32)], (0, 0, 0))
    return image


def encode(image: Bgr, *, max_width: int = 960, quality: int = 75) -> bytes:
    """JPEG of a frame scaled down to at most ``max_width``."""
    height, width = image.shape[:2]
    scaled: Any = image
    if width > max_width:
        scaled = cv2.resize(image, (max_width, round(height * max_width / width)),
                            interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", scaled, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return data.tobytes()
