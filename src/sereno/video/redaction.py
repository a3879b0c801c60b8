"""Blurring faces and licence plates out of a picture before it leaves its agency.

Three finders, all best effort (ADR 0025 says what they miss):

* faces: OpenCV's shipped Haar cascades (frontal and profile faces, ``cv2.data.haarcascades``);
* plates: OpenCV's shipped plate cascade (``haarcascade_russian_plate_number``) and, when the
  OCR wheel is installed, every text line the project's plate text detector (PP-OCR, the first
  stage of ``video/plates``) finds — a blurred shop sign costs nothing, a missed plate does;
* boxes the caller already knows (a plate hit's vehicle box).

Each region is grown by a margin and replaced by a strong Gaussian blur of itself, then
pixelated, so nothing of the original detail survives JPEG re-encoding. Pure functions over
frames; the text detector is loaded once per process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from sereno.video.frames import Bgr

logger = logging.getLogger(__name__)

Box = tuple[int, int, int, int]  # x1, y1, x2, y2 in pixels
NormalisedBox = tuple[float, float, float, float]  # x1, y1, x2, y2 in 0..1

FACE_CASCADES = ("haarcascade_frontalface_default.xml", "haarcascade_profileface.xml")
PLATE_CASCADES = ("haarcascade_russian_plate_number.xml",)
MARGIN = 0.15  # of the region's size, on every side
MIN_FACE = 20  # pixels: smaller faces are not identifiable in a snapshot anyway
TEXT_MAX_SIDE = 960

_cascades: dict[str, cv2.CascadeClassifier] = {}
_text_detector: Any = None
_text_detector_failed = False
_lock = threading.Lock()


@dataclass
class RedactionReport:
    """What was blurred (counts per finder), for the audit record."""

    faces: int = 0
    plates: int = 0
    text_lines: int = 0
    boxes: int = 0
    notes: list[str] = field(default_factory=list)

    def as_detail(self) -> dict[str, Any]:
        return {"faces": self.faces, "plates": self.plates, "text_lines": self.text_lines,
                "boxes": self.boxes, "notes": list(self.notes)}


def _cascade(name: str) -> cv2.CascadeClassifier:
    with _lock:
        if name not in _cascades:
            classifier = cv2.CascadeClassifier(cv2.data.haarcascades + name)  # type: ignore[attr-defined]
            if classifier.empty():
                raise RuntimeError(f"OpenCV cascade {name} could not be loaded")
            _cascades[name] = classifier
        return _cascades[name]


def _run_cascades(image: Bgr, names: Sequence[str], min_size: int) -> list[Box]:
    grey = cv2.equalizeHist(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    found: list[Box] = []
    for name in names:
        hits = _cascade(name).detectMultiScale(grey, scaleFactor=1.1, minNeighbors=4,
                                               minSize=(min_size, min_size))
        found.extend((int(x), int(y), int(x + w), int(y + h)) for x, y, w, h in hits)
    return found


def find_faces(image: Bgr) -> list[Box]:
    """Frontal and profile faces the Haar cascades find (they miss many: see ADR 0025)."""
    return _run_cascades(image, FACE_CASCADES, MIN_FACE)


def find_plates(image: Bgr) -> list[Box]:
    """Plates the shipped Haar plate cascade finds."""
    return _run_cascades(image, PLATE_CASCADES, 12)


def find_text_lines(image: Bgr) -> list[Box] | None:
    """Every text line the plate text detector finds, or None when it is not installed."""
    global _text_detector, _text_detector_failed
    with _lock:
        if _text_detector is None and not _text_detector_failed:
            try:
                from sereno.video.plates.ocr import TextDetector

                _text_detector = TextDetector(max_side=TEXT_MAX_SIDE)
            except Exception as error:  # the OCR wheel is optional
                logger.warning("plate text detector unavailable for redaction: %s", error)
                _text_detector_failed = True
        detector = _text_detector
    if detector is None:
        return None
    boxes = []
    for line in detector.detect(image, upscale=1.0):
        x1, y1, x2, y2 = line.bounds
        boxes.append((int(x1), int(y1), int(x2) + 1, int(y2) + 1))
    return boxes


def pixel_box(box: NormalisedBox, width: int, height: int) -> Box:
    """A normalised box in the pixels of a ``width`` x ``height`` picture."""
    x1, y1, x2, y2 = box
    return (round(x1 * width), round(y1 * height), round(x2 * width), round(y2 * height))


def blur_regions(image: Bgr, boxes: Sequence[Box], margin: float = MARGIN) -> Bgr:
    """``image`` (a copy) with every box, grown by ``margin``, blurred beyond recognition."""
    result = np.ascontiguousarray(image).copy()
    height, width = result.shape[:2]
    for x1, y1, x2, y2 in boxes:
        grow_x, grow_y = int((x2 - x1) * margin) + 2, int((y2 - y1) * margin) + 2
        left, top = max(0, min(x1, x2) - grow_x), max(0, min(y1, y2) - grow_y)
        right, bottom = min(width, max(x1, x2) + grow_x), min(height, max(y1, y2) + grow_y)
        if right - left < 2 or bottom - top < 2:
            continue
        region = result[top:bottom, left:right]
        # Pixelate to ~8 cells across, then blur the blocks: no detail survives either step.
        cells_w = max(1, min(8, right - left))
        cells_h = max(1, min(8, bottom - top))
        small = cv2.resize(region, (cells_w, cells_h), interpolation=cv2.INTER_AREA)
        blocky = cv2.resize(small, (right - left, bottom - top),
                            interpolation=cv2.INTER_NEAREST)
        kernel = max(3, (min(right - left, bottom - top) // 4) | 1)
        result[top:bottom, left:right] = cv2.GaussianBlur(blocky, (kernel, kernel), 0)
    return result


def redact(image: Bgr, *, faces: bool, plates: bool,
           boxes: Sequence[Box] = ()) -> tuple[Bgr, RedactionReport]:
    """Blur what the finders find (faces and/or plates) and the given ``boxes``."""
    report = RedactionReport(boxes=len(boxes))
    regions: list[Box] = list(boxes)
    if faces:
        found = find_faces(image)
        report.faces = len(found)
        regions.extend(found)
    if plates:
        found = find_plates(image)
        report.plates = len(found)
        regions.extend(found)
        lines = find_text_lines(image)
        if lines is None:
            report.notes.append("plate text detector unavailable")
        else:
            report.text_lines = len(lines)
            regions.extend(lines)
    return blur_regions(image, regions), report
