"""Detectors in the TensorFlow Object Detection API layout (SSD family), run with onnxruntime.

The layout: input ``image_tensor`` uint8 [B, H, W, 3] RGB; outputs ``detection_boxes``
[B, N, 4] (ymin, xmin, ymax, xmax, normalised 0..1), ``detection_scores`` [B, N],
``detection_classes`` [B, N] (1-based label ids, as float) and ``num_detections`` [B]. The graph
does its own resizing and non-maximum suppression.

The default person detector Sereno ships is such a model (see ``models/PROVENANCE.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from sereno.video.detection.base import (
    Detection,
    DetectorError,
    batch_size_of,
    clip_box,
    open_session,
)
from sereno.video.frames import Bgr

MODELS_DIR = Path(__file__).resolve().parent / "models"
PERSON_MODEL_PATH = MODELS_DIR / "person-ssdlite-mobilenetv2.onnx"
# Written by scripts/convert_person_detector.py into models/PROVENANCE.md; checked at load time.
PERSON_MODEL_SHA256 = "86077f8b777846b2144eae2ff148051921cebe77726e873a69e56bc844aa32e5"
PERSON_CLASSES = ("person",)  # label id 1 of the model

_OUTPUTS = ("detection_boxes", "detection_scores", "detection_classes", "num_detections")


class SsdDetector:
    """A TF-OD-API SSD model. Label id ``k`` (1-based) becomes ``class_names[k - 1]``.

    Frames are resized to ``input_size`` (the SSD's own 300x300 by default) before inference:
    the graph would resize them to that anyway, and sending the small image is cheaper.
    Labels beyond ``class_names`` are dropped.
    """

    def __init__(self, path: Path, *, class_names: Sequence[str] = PERSON_CLASSES,
                 confidence: float = 0.5, sha256: str | None = None,
                 input_size: tuple[int, int] = (300, 300), threads: int | None = None,
                 max_batch: int = 2) -> None:
        if not class_names:
            raise DetectorError("an SSD model needs its class names (label id 1 first)")
        self._session = open_session(path, sha256=sha256, threads=threads)
        model_input = self._session.get_inputs()[0]
        if model_input.type != "tensor(uint8)" or len(model_input.shape) != 4:
            raise DetectorError(f"model {path.name} is not in the TF Object Detection API "
                                f"layout: input {model_input.name} is {model_input.type} "
                                f"{model_input.shape}, expected uint8 [B, H, W, 3]")
        self._input_name = model_input.name
        self._output_names = _find_outputs(self._session.get_outputs(), path)
        _, height, width, _ = model_input.shape
        # A model exported with a fixed image size dictates it; a dynamic one takes ours.
        self._input_size = ((width, height) if isinstance(width, int) and isinstance(height, int)
                            else input_size)
        fixed = batch_size_of(self._session)
        # Small batches: on this CPU a batch of 4-8 crops costs more per image than 1-2 do
        # (bench/video.py, part d), and the pipeline sends 3-8 crops at a time.
        self._max_batch = fixed if fixed is not None else max(1, max_batch)
        self._fixed_batch = fixed
        self._class_names = tuple(class_names)
        self.confidence = confidence

    @property
    def class_names(self) -> Sequence[str]:
        """Class names, ``class_names[i]`` being model label id ``i + 1``."""
        return self._class_names

    @property
    def input_size(self) -> tuple[int, int]:
        """(width, height) frames are resized to."""
        return self._input_size

    def detect(self, frames: Sequence[Bgr]) -> list[list[Detection]]:
        """Detections with confidence >= ``confidence``, boxes in each frame's pixels."""
        results: list[list[Detection]] = []
        for start in range(0, len(frames), self._max_batch):
            chunk = frames[start:start + self._max_batch]
            batch = np.stack([_to_input(frame, self._input_size) for frame in chunk])
            if self._fixed_batch is not None and len(chunk) < self._fixed_batch:
                padding = np.zeros((self._fixed_batch - len(chunk), *batch.shape[1:]), np.uint8)
                batch = np.concatenate([batch, padding])
            boxes, scores, classes, counts = self._session.run(
                self._output_names, {self._input_name: batch})
            results.extend(self._decode(frame, boxes[i], scores[i], classes[i], int(counts[i]))
                           for i, frame in enumerate(chunk))
        return results

    def _decode(self, frame: Bgr, boxes: npt.NDArray[np.float32],
                scores: npt.NDArray[np.float32], classes: npt.NDArray[np.float32],
                count: int) -> list[Detection]:
        height, width = frame.shape[:2]
        found: list[Detection] = []
        for j in range(min(count, len(scores))):
            score = float(scores[j])
            class_id = round(float(classes[j])) - 1
            if score < self.confidence or not 0 <= class_id < len(self._class_names):
                continue
            ymin, xmin, ymax, xmax = (float(v) for v in boxes[j])
            box = clip_box((xmin * width, ymin * height, xmax * width, ymax * height),
                           width, height)
            if box[2] > box[0] and box[3] > box[1]:
                found.append(Detection(self._class_names[class_id], class_id, score, box))
        return found


def _find_outputs(outputs: Sequence[object], path: Path) -> list[str]:
    """The four output names in our order, whatever suffix (``:0``) the converter gave them."""
    names = [str(getattr(output, "name", "")) for output in outputs]
    found: list[str] = []
    for wanted in _OUTPUTS:
        match = next((n for n in names if n.split(":")[0].rsplit("/", 1)[-1] == wanted), None)
        if match is None:
            raise DetectorError(f"model {path.name} has no {wanted} output (has {names}); "
                                "it is not in the TF Object Detection API layout")
        found.append(match)
    return found


def _to_input(frame: Bgr, size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """BGR frame to the model's RGB input of ``size`` (width, height)."""
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise DetectorError(f"expected a BGR uint8 H x W x 3 frame, got {frame.dtype} "
                            f"{frame.shape}")
    resized = cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR)
    return np.asarray(cv2.cvtColor(resized, cv2.COLOR_BGR2RGB), dtype=np.uint8)
