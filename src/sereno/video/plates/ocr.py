"""PP-OCRv4 text detection and recognition on small crops, straight on onnxruntime.

The models are the ``.onnx`` files shipped inside the ``rapidocr-onnxruntime`` wheel. Its Python
wrapper is not used: it imports ``pyclipper`` and reads a YAML config at import time, runs on the
whole image with every core, and adds an angle classifier. Only the thin pre- and post-processing
needed for plate crops is reimplemented here:

- detection (DB): normalise to [-1, 1], probability map, threshold, contours, minimum-area
  rectangles, "unclip" (a rectangle grown by ``area * ratio / perimeter`` on each side — what
  pyclipper's round offset amounts to once the minimum-area rectangle is taken again);
- recognition (CTC): the text line warped upright, 48 px high, one batch; greedy decoding over
  the characters a plate can hold (the model's other 6 500 classes are masked out, so a smudge
  is never read as a Chinese character that would then fail every plate check).
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from sereno.video.detection.base import DetectorError, open_session
from sereno.video.frames import Bgr

OCR_PACKAGE = "rapidocr_onnxruntime"
DET_MODEL = "models/ch_PP-OCRv4_det_infer.onnx"
REC_MODEL = "models/ch_PP-OCRv4_rec_infer.onnx"
# The files of rapidocr-onnxruntime 1.4.4: another wheel version must be checked before use.
DET_SHA256 = "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9"
REC_SHA256 = "48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b"

REC_HEIGHT = 48  # the recogniser's fixed input height
REC_MAX_WIDTH = 480  # 10:1 — a plate line is ~4:1; longer lines are squeezed, not split
PLATE_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-. ")

Quad = npt.NDArray[np.float32]  # 4 x 2 corners: top-left, top-right, bottom-right, bottom-left


def packaged_model(relative: str) -> Path:
    """A model file inside the installed OCR wheel, found without importing the wheel (its
    ``__init__`` imports dependencies Sereno does not install)."""
    spec = importlib.util.find_spec(OCR_PACKAGE)
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / relative
        if candidate.is_file():
            return candidate
    raise DetectorError(f"OCR model {relative} not found: is {OCR_PACKAGE} installed?")


@dataclass(frozen=True, slots=True)
class TextBox:
    """A text line found by the detector: its corners in the input image and the mean
    probability of the text map inside it."""

    quad: Quad
    score: float

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Axis-aligned (x1, y1, x2, y2) around the corners."""
        return (float(self.quad[:, 0].min()), float(self.quad[:, 1].min()),
                float(self.quad[:, 0].max()), float(self.quad[:, 1].max()))

    @property
    def size(self) -> tuple[float, float]:
        """(length along the line, height across it) in pixels."""
        width = float(np.linalg.norm(self.quad[1] - self.quad[0]))
        height = float(np.linalg.norm(self.quad[3] - self.quad[0]))
        return width, height


class TextDetector:
    """PP-OCR DB text detector for one small image at a time."""

    def __init__(self, path: Path | None = None, *, sha256: str | None = DET_SHA256,
                 threads: int = 1, max_side: int = 480, thresh: float = 0.3,
                 box_thresh: float = 0.5, unclip_ratio: float = 1.6) -> None:
        self.session: ort.InferenceSession = open_session(
            path or packaged_model(DET_MODEL), sha256=sha256 if path is None else None,
            threads=threads)
        self.input_name: str = self.session.get_inputs()[0].name
        self.max_side = max_side
        self.thresh = thresh
        self.box_thresh = box_thresh
        self.unclip_ratio = unclip_ratio

    def detect(self, image: Bgr, *, upscale: float = 2.0) -> list[TextBox]:
        """Text lines in ``image`` (BGR), corners in its pixels.

        The image is scaled so its long side is at most ``max_side`` (and enlarged up to
        ``upscale`` times when small: the model finds characters of roughly 10–60 px best),
        each side rounded to a multiple of 32 as the network needs.
        """
        height, width = image.shape[:2]
        if height < 8 or width < 8:
            return []
        scale = min(self.max_side / max(height, width), upscale)
        in_w = max(32, round(width * scale / 32) * 32)
        in_h = max(32, round(height * scale / 32) * 32)
        resized = cv2.resize(image, (in_w, in_h), interpolation=cv2.INTER_LINEAR)
        blob = (resized.astype(np.float32) * (2.0 / 255.0) - 1.0).transpose(2, 0, 1)[None]
        prob: npt.NDArray[np.float32] = self.session.run(None, {self.input_name: blob})[0][0, 0]
        return self._boxes(prob, width / in_w, height / in_h, width, height)

    def _boxes(self, prob: npt.NDArray[np.float32], sx: float, sy: float,
               width: int, height: int) -> list[TextBox]:
        # Dilation joins characters the threshold split (PaddleOCR's use_dilation).
        mask = cv2.dilate((prob > self.thresh).astype(np.uint8), np.ones((2, 2), np.uint8))
        contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        boxes: list[TextBox] = []
        for contour in contours[:100]:
            rect = cv2.minAreaRect(contour)
            if min(rect[1]) < 3:
                continue
            score = _mean_inside(prob, np.asarray(cv2.boxPoints(rect), np.float32))
            if score < self.box_thresh:
                continue
            (cx, cy), (rw, rh), angle = rect
            distance = rw * rh * self.unclip_ratio / (2 * (rw + rh))
            grown = ((cx, cy), (rw + 2 * distance, rh + 2 * distance), angle)
            points = np.asarray(cv2.boxPoints(grown), np.float32) * np.array([sx, sy], np.float32)
            points[:, 0] = np.clip(points[:, 0], 0, width - 1)
            points[:, 1] = np.clip(points[:, 1], 0, height - 1)
            boxes.append(TextBox(order_corners(points), score))
        return boxes


class TextRecognizer:
    """PP-OCR CTC recogniser restricted to plate characters."""

    def __init__(self, path: Path | None = None, *, sha256: str | None = REC_SHA256,
                 threads: int = 1, alphabet: frozenset[str] = PLATE_CHARACTERS) -> None:
        self.session: ort.InferenceSession = open_session(
            path or packaged_model(REC_MODEL), sha256=sha256 if path is None else None,
            threads=threads)
        self.input_name: str = self.session.get_inputs()[0].name
        meta = self.session.get_modelmeta().custom_metadata_map
        if "character" not in meta:
            raise DetectorError("recognition model has no character dictionary in its metadata")
        # Class 0 is the CTC blank and the last one a space, as PaddleOCR lays them out.
        self.characters = ["", *meta["character"].splitlines(), " "]
        allowed = [i for i, c in enumerate(self.characters) if i == 0 or c in alphabet]
        self._allowed = np.asarray(allowed, np.int64)

    def recognize(self, lines: Sequence[Bgr]) -> list[tuple[str, float]]:
        """(text, confidence) for each upright text-line image, in one batch.

        The confidence is the mean probability of the characters kept (0 for no text).
        """
        if not lines:
            return []
        widths = [min(REC_MAX_WIDTH, max(REC_HEIGHT // 2, math.ceil(
            REC_HEIGHT * line.shape[1] / max(line.shape[0], 1)))) for line in lines]
        batch = np.zeros((len(lines), 3, REC_HEIGHT, max(widths)), np.float32)
        for index, (line, w) in enumerate(zip(lines, widths, strict=True)):
            resized = cv2.resize(line, (w, REC_HEIGHT), interpolation=cv2.INTER_LINEAR)
            batch[index, :, :, :w] = (resized.astype(np.float32) * (2.0 / 255.0) - 1.0
                                      ).transpose(2, 0, 1)
        probs: npt.NDArray[np.float32] = self.session.run(None, {self.input_name: batch})[0]
        probs = probs[:, :, self._allowed]
        return [self._decode(p) for p in probs]

    def _decode(self, probs: npt.NDArray[np.float32]) -> tuple[str, float]:
        best = probs.argmax(axis=1)
        keep = best != 0  # blank
        keep[1:] &= best[1:] != best[:-1]  # CTC: a repeated class is one character
        if not keep.any():
            return "", 0.0
        text = "".join(self.characters[int(self._allowed[i])] for i in best[keep])
        confidence = float(probs[np.arange(len(best)), best][keep].mean())
        return text, confidence


def order_corners(points: npt.NDArray[np.float32]) -> Quad:
    """Corners as top-left, top-right, bottom-right, bottom-left (x-sorted pairs, then y)."""
    by_x = points[np.argsort(points[:, 0], kind="stable")]
    left = by_x[:2][np.argsort(by_x[:2, 1], kind="stable")]
    right = by_x[2:][np.argsort(by_x[2:, 1], kind="stable")]
    return np.array([left[0], right[0], right[1], left[1]], np.float32)


def upright_crop(image: Bgr, quad: Quad) -> Bgr:
    """The text line inside ``quad`` warped to an axis-aligned image (PaddleOCR's rotate crop).

    Lines taller than wide are turned a quarter so the recogniser reads them left to right.
    """
    top, bottom = np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[3] - quad[2])
    left, right = np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2])
    width, height = max(1, round(max(top, bottom))), max(1, round(max(left, right)))
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    line: Bgr = np.asarray(cv2.warpPerspective(image, matrix, (width, height),
                                               flags=cv2.INTER_CUBIC,
                                               borderMode=cv2.BORDER_REPLICATE), np.uint8)
    if height >= 1.5 * width:
        line = np.ascontiguousarray(np.rot90(line))
    return line


def _mean_inside(prob: npt.NDArray[np.float32], corners: npt.NDArray[np.float32]) -> float:
    """Mean of ``prob`` inside a polygon (PaddleOCR's fast box score)."""
    h, w = prob.shape
    x1 = int(np.clip(np.floor(corners[:, 0].min()), 0, w - 1))
    x2 = int(np.clip(np.ceil(corners[:, 0].max()), 0, w - 1))
    y1 = int(np.clip(np.floor(corners[:, 1].min()), 0, h - 1))
    y2 = int(np.clip(np.ceil(corners[:, 1].max()), 0, h - 1))
    mask = np.zeros((y2 - y1 + 1, x2 - x1 + 1), np.uint8)
    shifted = (corners - np.array([x1, y1], np.float32)).astype(np.int32)
    cv2.fillPoly(mask, [shifted], 1)
    return float(cv2.mean(prob[y1:y2 + 1, x1:x2 + 1], mask)[0])
