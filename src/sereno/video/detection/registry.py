"""Build a detector from its per-camera configuration.

A camera's detection config is a small dict, e.g. the default person detector::

    {"kind": "ssd"}

or an operator's own vehicle model::

    {"kind": "yolov8", "path": "vehicles.onnx", "classes": ["car", "truck", "bus"],
     "confidence": 0.4, "sha256": "9f2c…"}

Relative paths are resolved against the deployment's model folder (``models_dir``). Unknown keys
are refused, so a typo does not silently fall back to a default.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from string import hexdigits
from typing import Any

from sereno.video.detection.base import Detector, DetectorError
from sereno.video.detection.ssd import (
    PERSON_CLASSES,
    PERSON_MODEL_PATH,
    PERSON_MODEL_SHA256,
    SsdDetector,
)
from sereno.video.detection.yolo import YoloDetector

log = logging.getLogger(__name__)

KINDS = ("ssd", "yolo", "yolov5", "yolov8", "yolov11")
KEYS = frozenset({"kind", "path", "classes", "confidence", "iou", "sha256", "input_size",
                  "threads"})
DEFAULT_CONFIG: Mapping[str, Any] = {"kind": "ssd"}


def default_person_detector(*, confidence: float = 0.5, threads: int | None = None) -> Detector:
    """The person detector shipped with Sereno, its checksum verified."""
    return SsdDetector(PERSON_MODEL_PATH, class_names=PERSON_CLASSES, confidence=confidence,
                       sha256=PERSON_MODEL_SHA256, threads=threads)


def build_detector(config: Mapping[str, Any] | None = None, *,
                   models_dir: Path | None = None) -> Detector:
    """A detector from a config dict (see the module doc); ``None`` gives the person detector.

    Keys: ``kind`` (ssd, yolo = auto layout, yolov5, yolov8, yolov11), ``path``, ``classes``,
    ``confidence``, ``iou`` (YOLO NMS), ``sha256``, ``input_size`` ([width, height] for models
    with a dynamic input), ``threads``. ``kind: ssd`` without a path is the shipped person
    model. A model without ``sha256`` loads with a warning: nothing proves it is the intended
    file.
    """
    config = dict(DEFAULT_CONFIG if config is None else config)
    unknown = sorted(set(config) - KEYS)
    if unknown:
        raise DetectorError(f"unknown detector config keys {unknown}; allowed: {sorted(KEYS)}")
    kind = str(config.get("kind", "")).lower()
    if kind not in KINDS:
        raise DetectorError(f"detector kind {config.get('kind')!r} unknown; one of {KINDS}")
    confidence = _number(config, "confidence", 0.5 if kind == "ssd" else 0.4, 0.0, 1.0)
    iou = _number(config, "iou", 0.45, 0.0, 1.0)
    threads = config.get("threads")
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise DetectorError("detector threads must be a positive integer")
    classes = _classes(config.get("classes"))
    sha256 = config.get("sha256")
    if sha256 is not None and (not isinstance(sha256, str) or len(sha256.strip()) != 64
                               or not all(c in hexdigits for c in sha256.strip())):
        raise DetectorError("detector sha256 must be 64 hex digits")
    input_size = _input_size(config.get("input_size"))

    raw_path = config.get("path")
    if raw_path is None:
        if kind != "ssd":
            raise DetectorError(f"a {kind} detector needs the path of its ONNX model")
        if classes not in (None, list(PERSON_CLASSES)):
            raise DetectorError("the shipped person detector only knows the class 'person'")
        return default_person_detector(confidence=confidence, threads=threads)
    path = Path(str(raw_path)).expanduser()
    if not path.is_absolute():
        if models_dir is None:
            raise DetectorError(f"relative model path {raw_path!r} needs a models folder")
        path = models_dir / path
    if sha256 is None:
        log.warning("detector model %s has no configured sha256: loading it unverified", path)

    if kind == "ssd":
        return SsdDetector(path, class_names=classes or PERSON_CLASSES, confidence=confidence,
                           sha256=sha256, input_size=input_size or (300, 300), threads=threads)
    return YoloDetector(path, layout="auto" if kind == "yolo" else kind, class_names=classes,
                        confidence=confidence, iou=iou,
                        sha256=sha256, input_size=input_size, threads=threads)


def _number(config: Mapping[str, Any], key: str, default: float, low: float,
            high: float) -> float:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise DetectorError(f"detector {key} must be a number from {low} to {high}")
    return float(value)


def _classes(value: object) -> list[str] | None:
    if value is None:
        return None
    if (not isinstance(value, Sequence) or isinstance(value, str)
            or not all(isinstance(v, str) and v for v in value) or not value):
        raise DetectorError("detector classes must be a non-empty list of names")
    return [str(v) for v in value]


def _input_size(value: object) -> tuple[int, int] | None:
    if value is None:
        return None
    if (isinstance(value, Sequence) and len(value) == 2
            and all(isinstance(v, int) and v > 0 for v in value)):
        return int(value[0]), int(value[1])
    raise DetectorError("detector input_size must be [width, height] in pixels")
