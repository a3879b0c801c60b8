"""Object detectors of the analytics pipeline, as plug-ins behind one small interface.

``Detector.detect(frames)`` takes BGR uint8 frames and returns one list of ``Detection`` per
frame, boxes in that frame's pixels. Implementations run ONNX models with onnxruntime on the CPU:
the TF Object Detection API SSD layout (the shipped person detector) and raw YOLOv5 / YOLOv8 /
YOLO11 exports. ``build_detector`` makes one from a camera's config dict; ``detect_in_regions``
runs one on the motion regions of a frame only. Operator guide: docs/video/detectors.md.
"""

from sereno.video.detection.base import (
    Detection,
    Detector,
    DetectorError,
    ModelChecksumMismatch,
    nms,
    sha256_file,
)
from sereno.video.detection.regions import (
    Region,
    detect_in_regions,
    detect_in_regions_batch,
    expand_region,
)
from sereno.video.detection.registry import build_detector, default_person_detector
from sereno.video.detection.ssd import PERSON_MODEL_PATH, PERSON_MODEL_SHA256, SsdDetector
from sereno.video.detection.yolo import YoloDetector, letterbox, parse_names

__all__ = [
    "PERSON_MODEL_PATH",
    "PERSON_MODEL_SHA256",
    "Detection",
    "Detector",
    "DetectorError",
    "ModelChecksumMismatch",
    "Region",
    "SsdDetector",
    "YoloDetector",
    "build_detector",
    "default_person_detector",
    "detect_in_regions",
    "detect_in_regions_batch",
    "expand_region",
    "letterbox",
    "nms",
    "parse_names",
    "sha256_file",
]
