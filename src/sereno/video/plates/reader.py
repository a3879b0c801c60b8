"""Licence plates read inside regions of a frame (vehicle or motion boxes).

Per region: crop it (never the whole frame: text on shop signs, buses and walls elsewhere is not
looked at), find text lines with the PP-OCR detector on a copy at most ``max_side`` pixels
long, warp each line upright from the *full-resolution* frame, recognise all lines of all
regions in one batch, and keep the texts that parse as a plate (``text.parse_plate``). Two lines
of one region are also tried together (left + right when the detector split a plate at its
dash, top + bottom for two-row plates).

Cost is bounded by ``max_regions`` per call and ``max_lines`` per region; how often to read
(e.g. once per track every second) is the caller's decision.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sereno.video.frames import Bgr
from sereno.video.plates.ocr import TextBox, TextDetector, TextRecognizer, upright_crop
from sereno.video.plates.text import parse_plate

Region = tuple[float, float, float, float]  # x1, y1, x2, y2 in frame pixels
PixelBox = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class PlateRead:
    """A plate read in a frame.

    ``plate`` is normalised (``GBC1234``); ``raw`` the recogniser's text; ``confidence`` the
    recogniser's mean character probability, lowered by 0.05 per look-alike changed to fit the
    layout; ``box`` the text line's (x1, y1, x2, y2) in frame pixels; ``region`` the index of
    the region it was found in.
    """

    plate: str
    kind: str
    confidence: float
    box: PixelBox
    raw: str
    region: int
    fixes: int = 0


@dataclass
class ReaderStats:
    """Counters of the last ``read`` call (for logs and tuning)."""

    regions: int = 0
    lines: int = 0
    seconds: float = 0.0
    rejected: list[str] = field(default_factory=list)


class PlateReader:
    """Reads plates in regions of BGR frames with PP-OCRv4 (one CPU thread by default).

    ``max_side``: the longest side, in pixels, the text detector sees of a region (larger
    regions are scaled down for detection only). ``min_confidence``: reads below it are
    dropped. ``min_line_height``: text lines lower than this in the frame are skipped (too
    few pixels to read reliably).
    """

    def __init__(self, *, threads: int = 1, max_side: int = 480, min_confidence: float = 0.6,
                 min_line_height: int = 10, max_regions: int = 8, max_lines: int = 6,
                 margin: float = 0.05, detector: TextDetector | None = None,
                 recognizer: TextRecognizer | None = None,
                 det_model: Path | None = None, rec_model: Path | None = None) -> None:
        self.detector = detector or TextDetector(det_model, threads=threads, max_side=max_side)
        self.recognizer = recognizer or TextRecognizer(rec_model, threads=threads)
        self.min_confidence = min_confidence
        self.min_line_height = min_line_height
        self.max_regions = max_regions
        self.max_lines = max_lines
        self.margin = margin
        self.stats = ReaderStats()

    def read(self, frame: Bgr, regions: Sequence[Region]) -> list[PlateRead]:
        """Plates found inside ``regions`` of ``frame``, best confidence first, one read per
        plate text (the same plate seen through overlapping regions is reported once)."""
        started = time.perf_counter()
        height, width = frame.shape[:2]
        crops = [c for r in regions if (c := self._crop(r, width, height)) is not None]
        # The largest regions are the closest vehicles: their plates have the most pixels.
        crops.sort(key=lambda c: (c[2] - c[0]) * (c[3] - c[1]), reverse=True)
        crops = crops[:self.max_regions]
        lines: list[tuple[int, TextBox]] = []  # (region index, line in frame pixels)
        for index, (x1, y1, x2, y2) in enumerate(crops):
            found = [b for b in self.detector.detect(frame[y1:y2, x1:x2])
                     if b.size[1] >= self.min_line_height and b.size[0] >= b.size[1]]
            found.sort(key=lambda b: b.score, reverse=True)
            for box in found[:self.max_lines]:
                lines.append((index, TextBox(box.quad + np.array([x1, y1], np.float32),
                                             box.score)))
        texts = self.recognizer.recognize([upright_crop(frame, b.quad) for _, b in lines])
        reads, rejected = self._plates(lines, texts)
        self.stats = ReaderStats(len(crops), len(lines), time.perf_counter() - started, rejected)
        best: dict[str, PlateRead] = {}
        for read in reads:
            if read.confidence >= self.min_confidence and (
                    read.plate not in best or read.confidence > best[read.plate].confidence):
                best[read.plate] = read
        return sorted(best.values(), key=lambda r: r.confidence, reverse=True)

    def _crop(self, region: Region, width: int, height: int) -> PixelBox | None:
        x1, y1, x2, y2 = region
        mx, my = (x2 - x1) * self.margin, (y2 - y1) * self.margin
        box = (max(int(x1 - mx), 0), max(int(y1 - my), 0),
               min(int(np.ceil(x2 + mx)), width), min(int(np.ceil(y2 + my)), height))
        return box if box[2] - box[0] >= 8 and box[3] - box[1] >= 8 else None

    def _plates(self, lines: Sequence[tuple[int, TextBox]],
                texts: Sequence[tuple[str, float]]) -> tuple[list[PlateRead], list[str]]:
        reads: list[PlateRead] = []
        rejected: list[str] = []
        for (region, box), (raw, confidence) in zip(lines, texts, strict=True):
            read = _plate_read(raw, confidence, [box], region)
            if read is not None:
                reads.append(read)
            elif raw:
                rejected.append(raw)
        # Pairs of lines of one region, in reading order, for plates split in two.
        for i, (region_a, box_a) in enumerate(lines):
            for j, (region_b, box_b) in enumerate(lines):
                if i == j or region_a != region_b or not _follows(box_a, box_b):
                    continue
                raw = texts[i][0] + texts[j][0]
                confidence = min(texts[i][1], texts[j][1])
                read = _plate_read(raw, confidence, [box_a, box_b], region_a)
                if read is not None:
                    reads.append(read)
        return reads, rejected


def _plate_read(raw: str, confidence: float, boxes: Sequence[TextBox],
                region: int) -> PlateRead | None:
    parsed = parse_plate(raw)
    if parsed is None:
        return None
    bounds = [b.bounds for b in boxes]
    box = (int(min(b[0] for b in bounds)), int(min(b[1] for b in bounds)),
           int(np.ceil(max(b[2] for b in bounds))), int(np.ceil(max(b[3] for b in bounds))))
    return PlateRead(parsed.plate, parsed.kind, max(confidence - 0.05 * parsed.fixes, 0.0),
                     box, raw, region, parsed.fixes)


def _follows(a: TextBox, b: TextBox) -> bool:
    """Whether line ``b`` continues line ``a``: just right of it on the same row, or just
    below it and overlapping it horizontally, with a similar character height."""
    ax1, ay1, ax2, ay2 = a.bounds
    bx1, by1, bx2, by2 = b.bounds
    ha, hb = ay2 - ay1, by2 - by1
    if not 0.5 <= hb / max(ha, 1e-6) <= 2.0:
        return False
    same_row = min(ay2, by2) - max(ay1, by1) > 0.5 * min(ha, hb)
    if same_row:
        return ax1 < bx1 and bx1 - ax2 < 1.5 * max(ha, hb)
    overlap_x = min(ax2, bx2) - max(ax1, bx1) > 0.3 * min(ax2 - ax1, bx2 - bx1)
    return overlap_x and ay1 < by1 and by1 - ay2 < 0.8 * max(ha, hb)
