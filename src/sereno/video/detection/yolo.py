"""YOLO detectors exported to ONNX (Ultralytics YOLOv5, YOLOv8, YOLO11), run with onnxruntime.

Two raw output layouts, both without non-maximum suppression in the graph:

- ``yolov5``: [B, N, 5 + C] — cx, cy, w, h, objectness, C class scores per candidate;
- ``yolov8`` (also YOLO11): [B, 4 + C, N] — cx, cy, w, h, C class scores, no objectness.

Boxes are in pixels of the letterboxed model input; this module letterboxes each frame, decodes,
applies the confidence threshold and class-aware NMS, and maps boxes back to the frame.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from sereno.video.detection.base import (
    Detection,
    DetectorError,
    batch_size_of,
    clip_box,
    nms,
    open_session,
)
from sereno.video.frames import Bgr

YoloLayout = Literal["yolov5", "yolov8"]
LAYOUT_ALIASES: Mapping[str, YoloLayout | None] = {
    "yolov5": "yolov5", "yolov8": "yolov8", "yolov11": "yolov8", "yolo11": "yolov8",
    "auto": None,
}
PAD_VALUE = 114  # the grey Ultralytics pads with; the models were trained on it


@dataclass(frozen=True)
class Letterbox:
    """How a frame was fitted into the model input: scaled by ``scale``, then shifted."""

    scale: float
    pad_x: int
    pad_y: int

    def unmap(self, boxes: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Model-input xyxy boxes back to frame pixels (unclipped)."""
        offset = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y], dtype=np.float32)
        return np.asarray((boxes - offset) / self.scale, dtype=np.float32)


def letterbox(frame: Bgr, size: tuple[int, int]) -> tuple[npt.NDArray[np.uint8], Letterbox]:
    """Fit a frame into ``size`` (width, height) keeping its aspect ratio, centred, grey-padded."""
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise DetectorError(f"expected a BGR uint8 H x W x 3 frame, got {frame.dtype} "
                            f"{frame.shape}")
    height, width = frame.shape[:2]
    target_w, target_h = size
    scale = min(target_w / width, target_h / height)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    pad_x, pad_y = (target_w - new_w) // 2, (target_h - new_h) // 2
    canvas = np.full((target_h, target_w, 3), PAD_VALUE, dtype=np.uint8)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    canvas[pad_y:pad_y + new_h, pad_x:pad_x + new_w] = cv2.resize(
        frame, (new_w, new_h), interpolation=interpolation)
    return canvas, Letterbox(scale, pad_x, pad_y)


def parse_names(raw: str) -> list[str]:
    """Class names from model metadata: Ultralytics writes ``{0: 'person', ...}``; a JSON list
    or dict is accepted too. Dict keys must be 0..C-1."""
    try:
        value = json.loads(raw)
    except ValueError:
        try:
            value = ast.literal_eval(raw)  # Python literal only, never evaluated code
        except (ValueError, SyntaxError) as exc:
            raise DetectorError(f"class names in model metadata do not parse: {raw[:80]}") from exc
    if isinstance(value, Mapping):
        keyed = {int(k): str(v) for k, v in value.items()}
        if sorted(keyed) != list(range(len(keyed))):
            raise DetectorError("class ids in model metadata are not 0..C-1")
        return [keyed[i] for i in range(len(keyed))]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    raise DetectorError(f"class names in model metadata are neither a list nor a dict: {raw[:80]}")


class YoloDetector:
    """A YOLOv5/YOLOv8/YOLO11 ONNX export without embedded NMS.

    Class names: ``class_names`` if given, else the ``names`` entry of the model metadata (as
    Ultralytics exports write it), else ``class0``, ``class1``, ... The layout is ``layout``, or
    auto-detected from the output shape (the side equal to 4 + C or 5 + C, or the shorter one).
    """

    def __init__(self, path: Path, *, layout: str = "auto",
                 class_names: Sequence[str] | None = None, confidence: float = 0.4,
                 iou: float = 0.45, sha256: str | None = None,
                 input_size: tuple[int, int] | None = None, threads: int | None = None,
                 max_batch: int = 8, max_detections: int = 300) -> None:
        if layout not in LAYOUT_ALIASES:
            raise DetectorError(f"unknown YOLO layout {layout!r}; one of {sorted(LAYOUT_ALIASES)}")
        self._session = open_session(path, sha256=sha256, threads=threads)
        self._name = path.name
        model_input = self._session.get_inputs()[0]
        outputs = self._session.get_outputs()
        if len(model_input.shape) != 4 or len(outputs[0].shape) != 3:
            raise DetectorError(
                f"model {path.name} is not a raw YOLO detection export: input "
                f"{model_input.shape}, output {outputs[0].shape} (expected [B, 3, H, W] in and "
                "[B, 4+C, N] or [B, N, 5+C] out; export without nms/end2end)")
        self._input_name = model_input.name
        self._output_name = outputs[0].name
        self._dtype = np.float16 if model_input.type == "tensor(float16)" else np.float32
        metadata = self._session.get_modelmeta().custom_metadata_map
        self._input_size = _input_size(model_input.shape, metadata, input_size)
        if class_names:
            names = list(class_names)
        elif "names" in metadata:
            names = parse_names(metadata["names"])
        else:
            names = []
        self._layout, count = _resolve_layout(LAYOUT_ALIASES[layout], outputs[0].shape,
                                              len(names) or None, path.name)
        self._class_names = tuple(names or (f"class{i}" for i in range(count)))
        if len(self._class_names) != count:
            raise DetectorError(f"model {path.name} outputs {count} classes but "
                                f"{len(self._class_names)} class names are configured")
        fixed = batch_size_of(self._session)
        self._fixed_batch = fixed
        self._max_batch = fixed if fixed is not None else max(1, max_batch)
        self.confidence = confidence
        self.iou = iou
        self.max_detections = max_detections

    @property
    def class_names(self) -> Sequence[str]:
        """Class names indexed by ``Detection.class_id``."""
        return self._class_names

    @property
    def input_size(self) -> tuple[int, int]:
        """(width, height) of the letterboxed model input."""
        return self._input_size

    @property
    def layout(self) -> YoloLayout:
        """The output layout in use (YOLO11 shares ``yolov8``)."""
        return self._layout

    def detect(self, frames: Sequence[Bgr]) -> list[list[Detection]]:
        """Detections with confidence >= ``confidence`` after class-aware NMS, per frame."""
        results: list[list[Detection]] = []
        for start in range(0, len(frames), self._max_batch):
            chunk = frames[start:start + self._max_batch]
            fitted = [letterbox(frame, self._input_size) for frame in chunk]
            # HWC BGR uint8 -> CHW RGB float in 0..1, as Ultralytics trains.
            stacked = np.stack([image[:, :, ::-1].transpose(2, 0, 1) for image, _ in fitted])
            batch = (stacked.astype(np.float32) / 255.0).astype(self._dtype)
            if self._fixed_batch is not None and len(chunk) < self._fixed_batch:
                padding = np.zeros((self._fixed_batch - len(chunk), *batch.shape[1:]), self._dtype)
                batch = np.concatenate([batch, padding])
            (output,) = self._session.run([self._output_name], {self._input_name: batch})
            predictions = np.asarray(output, dtype=np.float32)
            if self._layout == "yolov8":
                predictions = predictions.transpose(0, 2, 1)  # -> [B, N, 4 + C]
            results.extend(self._decode(frame, predictions[i], fit)
                           for i, (frame, (_, fit)) in enumerate(zip(chunk, fitted, strict=True)))
        return results

    def _decode(self, frame: Bgr, rows: npt.NDArray[np.float32],
                fit: Letterbox) -> list[Detection]:
        # YOLOv5 scores a class as objectness x class probability; v8/11 have no objectness.
        class_scores = rows[:, 5:] * rows[:, 4:5] if self._layout == "yolov5" else rows[:, 4:]
        if class_scores.shape[1] != len(self._class_names):
            raise DetectorError(f"model {self._name} returned {class_scores.shape[1]} class "
                                f"scores, expected {len(self._class_names)}")
        class_ids = np.argmax(class_scores, axis=1)
        scores = class_scores[np.arange(len(rows)), class_ids]
        keep = scores >= self.confidence
        if not np.any(keep):
            return []
        cx, cy, w, h = rows[keep, :4].T
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
        scores, class_ids = scores[keep], class_ids[keep].astype(np.int64)
        kept = nms(boxes, scores, class_ids, self.iou)[:self.max_detections]
        height, width = frame.shape[:2]
        found: list[Detection] = []
        for index, box in zip(kept, fit.unmap(boxes[kept]), strict=True):
            clipped = clip_box(box, width, height)
            if clipped[2] > clipped[0] and clipped[3] > clipped[1]:
                class_id = int(class_ids[index])
                found.append(Detection(self._class_names[class_id], class_id,
                                       float(scores[index]), clipped))
        return found


def _input_size(shape: Sequence[object], metadata: Mapping[str, str],
                configured: tuple[int, int] | None) -> tuple[int, int]:
    """(width, height): fixed by the model, else configured, else its ``imgsz``, else 640."""
    height, width = shape[2], shape[3]
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        return width, height
    if configured:
        return configured
    if "imgsz" in metadata:
        size = ast.literal_eval(metadata["imgsz"])  # "[640, 640]" = (height, width)
        if isinstance(size, list | tuple) and len(size) == 2:
            return int(size[1]), int(size[0])
    return 640, 640


def _resolve_layout(layout: YoloLayout | None, shape: Sequence[object], classes: int | None,
                    name: str) -> tuple[YoloLayout, int]:
    """(layout, class count) from the configured layout and the [B, a, b] output shape."""
    a, b = shape[1], shape[2]
    if layout is None:
        if classes is not None and a == 4 + classes:
            layout = "yolov8"
        elif classes is not None and b == 5 + classes:
            layout = "yolov5"
        elif isinstance(a, int) and isinstance(b, int):
            layout = "yolov8" if a < b else "yolov5"  # candidates outnumber channels
        elif isinstance(a, int) or isinstance(b, int):
            layout = "yolov8" if isinstance(a, int) else "yolov5"  # candidates are dynamic
        else:
            raise DetectorError(f"model {name}: output shape {list(shape)} does not tell the "
                                "YOLO layout; configure kind yolov5 or yolov8")
    channels = a if layout == "yolov8" else b
    extra = 4 if layout == "yolov8" else 5
    if isinstance(channels, int):
        count = channels - extra
    elif classes is not None:
        count = classes
    else:
        raise DetectorError(f"model {name}: class count unknown (output {list(shape)}); "
                            "configure the class names")
    if count < 1:
        raise DetectorError(f"model {name}: output {list(shape)} does not fit the {layout} "
                            "layout")
    return layout, count
