"""What every object detector shares: the result type, the interface, and the ONNX plumbing."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from sereno.domain.errors import SerenoError
from sereno.video.frames import Bgr

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels of the detector's input frame


@dataclass(frozen=True, slots=True)
class Detection:
    """One object found in one frame.

    ``class_id`` indexes the detector's ``class_names`` (0-based for every model layout);
    ``box`` is (x1, y1, x2, y2) in pixels of the frame given to ``detect``, clipped to it.
    """

    class_name: str
    class_id: int
    confidence: float
    box: Box

    @property
    def width(self) -> float:
        """Box width in pixels."""
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        """Box height in pixels."""
        return self.box[3] - self.box[1]

    def shifted(self, dx: float, dy: float) -> Detection:
        """The same detection with its box moved by (dx, dy): crop coordinates to frame ones."""
        x1, y1, x2, y2 = self.box
        return Detection(self.class_name, self.class_id, self.confidence,
                         (x1 + dx, y1 + dy, x2 + dx, y2 + dy))


@runtime_checkable
class Detector(Protocol):
    """An object detector: BGR uint8 frames in, one list of detections per frame out."""

    @property
    def class_names(self) -> Sequence[str]:
        """Names of the classes the model knows, indexed by ``Detection.class_id``."""
        ...

    @property
    def input_size(self) -> tuple[int, int]:
        """(width, height) every frame is resized or letterboxed to before inference."""
        ...

    def detect(self, frames: Sequence[Bgr]) -> list[list[Detection]]:
        """Detect objects in each frame (batched where the model allows it)."""
        ...


class DetectorError(SerenoError):
    """A detector model cannot be used: missing, unreadable, wrong layout or bad config."""

    code = "detector_error"


class ModelChecksumMismatch(DetectorError):
    """The model file's SHA-256 is not the one configured: refuse to run an unknown model."""

    code = "model_checksum_mismatch"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_sha256(path: Path, expected: str) -> None:
    """Raise ``ModelChecksumMismatch`` unless the file's SHA-256 equals ``expected``."""
    actual = sha256_file(path)
    if actual != expected.strip().lower():
        raise ModelChecksumMismatch(
            f"model {path.name}: SHA-256 is {actual}, expected {expected.strip().lower()}; "
            "the file was changed or replaced — refusing to load it",
            details=[{"path": str(path), "expected": expected, "actual": actual}])


def default_threads() -> int:
    """Intra-op threads per session: the CPU's cores, capped so one worker cannot take them all.

    Workers run one process per camera group, so several sessions share the machine.
    """
    return max(1, min(4, os.cpu_count() or 1))


def open_session(path: Path, *, sha256: str | None = None,
                 threads: int | None = None) -> ort.InferenceSession:
    """Open an ONNX model on the CPU, after checking its SHA-256 when one is given."""
    if not path.is_file():
        raise DetectorError(f"model file not found: {path}")
    if sha256:
        verify_sha256(path, sha256)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or default_threads()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only: the converter's shape hints are noise here
    # Crops of motion regions come in every size: with the arena and memory patterns on,
    # onnxruntime keeps a buffer plan per input shape and a worker's memory grows to ~1 GB.
    options.enable_cpu_mem_arena = False
    options.enable_mem_pattern = False
    try:
        return ort.InferenceSession(str(path), sess_options=options,
                                    providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise DetectorError(f"model {path.name} cannot be loaded: {exc}") from exc


def nms(boxes: npt.NDArray[np.float32], scores: npt.NDArray[np.float32],
        class_ids: npt.NDArray[np.int64], iou_threshold: float) -> npt.NDArray[np.int64]:
    """Class-aware greedy non-maximum suppression; indices kept, best score first.

    Boxes are xyxy. Each class is shifted to its own far-away region so that boxes of different
    classes never overlap — one vectorised pass instead of one per class.
    """
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    span = float(np.max(boxes) - np.min(boxes)) + 1.0
    shifted = boxes + (class_ids.astype(np.float32) * span)[:, None]
    x1, y1, x2, y2 = shifted.T
    areas = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        w = np.maximum(np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]), 0)
        h = np.maximum(np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]), 0)
        inter = w * h
        iou = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-9)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def clip_box(box: Sequence[float], width: int, height: int) -> Box:
    """Clip an xyxy box to a width x height frame."""
    x1, y1, x2, y2 = (float(v) for v in box)
    return (min(max(x1, 0.0), width), min(max(y1, 0.0), height),
            min(max(x2, 0.0), width), min(max(y2, 0.0), height))


def batch_size_of(session: ort.InferenceSession) -> int | None:
    """The model's fixed batch size, or None when the batch dimension is dynamic."""
    dim = session.get_inputs()[0].shape[0]
    return dim if isinstance(dim, int) and dim > 0 else None
