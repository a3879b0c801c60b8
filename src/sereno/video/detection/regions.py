"""Detection restricted to regions of a frame (the motion regions the pipeline hands over).

Each region is grown by a margin (a person whose moving part is a leg still needs the whole body
in view), made square (SSD stretches its input to a square; a square crop is not distorted and
a letterbox wastes nothing), and cropped; all crops of all frames go to the detector in one
batch, and boxes are shifted back into frame coordinates. When the crops would cover most of a
frame anyway, the whole frame is detected once instead and detections outside every region are
dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sereno.video.detection.base import Detection, Detector, nms
from sereno.video.frames import Bgr

Region = tuple[int, int, int, int]  # x1, y1, x2, y2 in frame pixels, x2/y2 exclusive


def expand_region(region: Region, frame_size: tuple[int, int], *, margin: float = 0.15,
                  min_side: int = 96, square: bool = True) -> Region | None:
    """The crop for a region: grown by ``margin`` of its size on each side, at least
    ``min_side`` pixels, square if asked, shifted (not shrunk) to stay inside the frame.
    ``None`` if the region lies outside the frame or is empty."""
    width, height = frame_size
    x1, y1, x2, y2 = region
    x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, width), min(y2, height)
    if x2 <= x1 or y2 <= y1:
        return None
    w = (x2 - x1) * (1 + 2 * margin)
    h = (y2 - y1) * (1 + 2 * margin)
    w, h = max(w, min_side), max(h, min_side)
    if square:
        w = h = max(w, h)
    w, h = min(round(w), width), min(round(h), height)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    left = int(min(max(round(cx - w / 2), 0), width - w))
    top = int(min(max(round(cy - h / 2), 0), height - h))
    return left, top, left + w, top + h


def detect_in_regions(detector: Detector, frame: Bgr, regions: Sequence[Region],
                      **options: float) -> list[Detection]:
    """Detections of one frame inside its regions (see ``detect_in_regions_batch``)."""
    return detect_in_regions_batch(detector, [(frame, regions)], **options)[0]


def detect_in_regions_batch(detector: Detector, items: Sequence[tuple[Bgr, Sequence[Region]]],
                            *, margin: float = 0.15, min_side: float = 96,
                            full_frame_fraction: float = 0.6,
                            merge_iou: float = 0.5) -> list[list[Detection]]:
    """Detections inside the regions of each (frame, regions) item, in frame coordinates.

    One detector call for all crops of all frames (several cameras batch together). A frame
    whose crops would cover ``full_frame_fraction`` of it is detected whole. Overlapping crops
    see the same object twice: duplicates are merged by class-aware NMS at ``merge_iou``.
    """
    images: list[Bgr] = []
    owners: list[tuple[int, Region | None]] = []  # (item index, crop; None = whole frame)
    for index, (frame, regions) in enumerate(items):
        height, width = frame.shape[:2]
        crops = [crop for region in regions
                 if (crop := expand_region(region, (width, height), margin=margin,
                                           min_side=round(min_side))) is not None]
        crops = list(dict.fromkeys(crops))  # equal regions give equal crops: detect once
        covered = sum((c[2] - c[0]) * (c[3] - c[1]) for c in crops)
        if crops and covered >= full_frame_fraction * width * height:
            images.append(frame)
            owners.append((index, None))
            continue
        for crop in crops:
            x1, y1, x2, y2 = crop
            images.append(frame[y1:y2, x1:x2])
            owners.append((index, crop))

    found: list[list[Detection]] = [[] for _ in items]
    for (index, crop), detections in zip(owners, detector.detect(images) if images else [],
                                         strict=True):
        if crop is None:
            regions = items[index][1]
            found[index].extend(d for d in detections if _touches_any(d, regions))
        else:
            found[index].extend(d.shifted(crop[0], crop[1]) for d in detections)
    return [_merge(detections, merge_iou) for detections in found]


def _touches_any(detection: Detection, regions: Sequence[Region]) -> bool:
    x1, y1, x2, y2 = detection.box
    return any(x1 < r[2] and r[0] < x2 and y1 < r[3] and r[1] < y2 for r in regions)


def _merge(detections: list[Detection], iou: float) -> list[Detection]:
    if len(detections) < 2:
        return detections
    boxes = np.array([d.box for d in detections], dtype=np.float32)
    scores = np.array([d.confidence for d in detections], dtype=np.float32)
    classes = np.array([d.class_id for d in detections], dtype=np.int64)
    return [detections[i] for i in nms(boxes, scores, classes, iou)]
