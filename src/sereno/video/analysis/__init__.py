"""Per-camera picture analysis on the luma plane: motion (to gate detection) and quality or
tamper checks (black, frozen, covered, blurred, moved). Pure NumPy/OpenCV, no colour."""

from sereno.video.analysis.motion import (
    MotionBox,
    MotionDetector,
    MotionResult,
    MotionSettings,
    polygon_mask,
)
from sereno.video.analysis.quality import (
    EventPhase,
    Measurements,
    QualityEvent,
    QualityKind,
    QualityMonitor,
    QualitySettings,
)

__all__ = [
    "EventPhase",
    "Measurements",
    "MotionBox",
    "MotionDetector",
    "MotionResult",
    "MotionSettings",
    "QualityEvent",
    "QualityKind",
    "QualityMonitor",
    "QualitySettings",
    "polygon_mask",
]
