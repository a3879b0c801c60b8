"""Cheap motion detection on the luma plane, in the manner of Frigate's motion detector.

Per frame: downscale the luma (to ``analysis_height`` rows), blur away sensor noise, compare with
a running-average background, threshold, dilate so one walker becomes one blob, and report the
blobs' bounding boxes in original-frame pixels. Motion gates the expensive object detector, so
this has to cost a fraction of a millisecond: everything runs in OpenCV on ~320x180 pixels, with
the buffers allocated once.

Masks (normalised polygons) blank the difference image, so swaying trees or a privacy area never
produce motion. A large global change (lights switched, camera auto-exposure, IR cut filter) is
not motion: when more than ``calibration_fraction`` of the frame changes at once the detector
*calibrates* - it reports nothing, adopts the current picture as the background and keeps doing
so until the picture has been stable for ``calibration_s``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from sereno.video.frames import Frame, Luma

Polygon = Sequence[tuple[float, float]]  # normalised (x, y) in 0..1, x to the right, y down


@dataclass(frozen=True)
class MotionSettings:
    """Tuning of the motion detector; the defaults suit 5-25 fps street and indoor cameras."""

    analysis_height: int = 180
    """Rows of the downscaled picture the detector works on (width follows the aspect)."""
    blur_kernel: int = 5
    """Gaussian blur kernel (odd) applied before differencing, against noise and compression
    artefacts."""
    threshold: int = 25
    """Luma difference (0-255) from the background that counts as a changed pixel."""
    learning_rate: float = 0.05
    """Weight of each new frame in the running-average background (higher forgets faster; a
    walker who stops melts into the background after roughly 3 / rate frames)."""
    dilate_iterations: int = 2
    """3x3 dilations joining the pieces of one moving object into one blob."""
    min_area: float = 0.001
    """Smallest box reported, as a fraction of the frame area (noise, leaves, rain); about
    15x15 px at 640x360. Boxes are measured after dilation, so they are a little larger than
    the object."""
    calibration_fraction: float = 0.4
    """Fraction of (unmasked) pixels changing at once above which the change is global (lights,
    exposure) and the detector calibrates instead of reporting motion."""
    calibration_s: float = 1.0
    """How long the picture must stay below ``calibration_fraction`` before motion is reported
    again."""
    masks: tuple[Polygon, ...] = ()
    """Polygons (normalised coordinates) where motion is ignored."""


@dataclass(frozen=True)
class MotionBox:
    """A moving region, in original-frame pixels (``x2``/``y2`` exclusive)."""

    x1: int
    y1: int
    x2: int
    y2: int

    @property
    def area(self) -> int:
        """Pixels covered by the box."""
        return (self.x2 - self.x1) * (self.y2 - self.y1)

    def iou(self, other: MotionBox) -> float:
        """Intersection over union with another box."""
        w = min(self.x2, other.x2) - max(self.x1, other.x1)
        h = min(self.y2, other.y2) - max(self.y1, other.y1)
        if w <= 0 or h <= 0:
            return 0.0
        inter = w * h
        return inter / (self.area + other.area - inter)


@dataclass(frozen=True)
class MotionResult:
    """What the detector saw in one frame."""

    boxes: tuple[MotionBox, ...]
    changed_fraction: float
    """Fraction of unmasked analysed pixels that differ from the background."""
    calibrating: bool
    """True while a global change is being absorbed; ``boxes`` is then empty."""

    @property
    def has_motion(self) -> bool:
        """Whether any box was reported."""
        return bool(self.boxes)


def polygon_mask(polygons: Sequence[Polygon], width: int, height: int) -> npt.NDArray[np.uint8]:
    """255 inside any of the normalised polygons, 0 elsewhere, at ``width`` x ``height``."""
    mask = np.zeros((height, width), np.uint8)
    for polygon in polygons:
        points = np.array([(x * width, y * height) for x, y in polygon], np.float32)
        cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 255)
    return mask


class MotionDetector:
    """Motion of one camera; feed it that camera's frames in order."""

    def __init__(self, settings: MotionSettings | None = None) -> None:
        self.settings = settings or MotionSettings()
        self._shape: tuple[int, int] | None = None  # (height, width) of the original frames
        self._background: npt.NDArray[np.float32] | None = None
        self._small: Luma | None = None
        self._keep: Luma | None = None  # 255 where motion counts, 0 under the masks
        self._keep_pixels = 0
        self._kernel = np.ones((3, 3), np.uint8)
        self._calibrating_until: float | None = None

    @property
    def calibrating(self) -> bool:
        """Whether the detector is absorbing a global change right now."""
        return self._calibrating_until is not None

    def reset(self) -> None:
        """Forget the background (e.g. after the stream reconnected): the next frame seeds it."""
        self._background = None
        self._calibrating_until = None

    def detect(self, frame: Frame) -> MotionResult:
        """Update the background with ``frame`` and return the motion in it."""
        return self.detect_luma(frame.luma, frame.monotonic)

    def detect_luma(self, luma: Luma, now: float) -> MotionResult:
        """Like ``detect`` for a bare luma plane and a monotonic time in seconds."""
        settings = self.settings
        if self._shape != luma.shape[:2]:
            self._configure(luma.shape[0], luma.shape[1])
        assert self._small is not None and self._keep is not None
        small = self._small
        cv2.resize(luma, (small.shape[1], small.shape[0]), dst=small,
                   interpolation=cv2.INTER_LINEAR)
        k = settings.blur_kernel
        cv2.GaussianBlur(small, (k, k), 0, dst=small)

        if self._background is None:
            self._background = small.astype(np.float32)
            return MotionResult((), 0.0, self.calibrating)

        delta = cv2.absdiff(small, cv2.convertScaleAbs(self._background))
        _, changed = cv2.threshold(delta, settings.threshold, 255, cv2.THRESH_BINARY)
        if settings.masks:
            cv2.bitwise_and(changed, self._keep, dst=changed)
        fraction = cv2.countNonZero(changed) / self._keep_pixels

        if fraction > settings.calibration_fraction:
            # A global change: take the new picture as it is and wait for it to settle.
            self._background[...] = small
            self._calibrating_until = now + settings.calibration_s
            return MotionResult((), fraction, True)
        if self._calibrating_until is not None:
            # Follow the settling picture closely until it has been quiet long enough.
            cv2.accumulateWeighted(small, self._background, 0.5)
            if now < self._calibrating_until:
                return MotionResult((), fraction, True)
            self._calibrating_until = None
        else:
            cv2.accumulateWeighted(small, self._background, settings.learning_rate)

        cv2.dilate(changed, self._kernel, dst=changed, iterations=settings.dilate_iterations)
        contours, _ = cv2.findContours(changed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        return MotionResult(self._boxes(contours), fraction, False)

    def _configure(self, height: int, width: int) -> None:
        settings = self.settings
        small_h = min(settings.analysis_height, height)
        small_w = max(round(width * small_h / height), 1)
        self._shape = (height, width)
        self._small = np.empty((small_h, small_w), np.uint8)
        self._keep = np.asarray(cv2.bitwise_not(polygon_mask(settings.masks, small_w, small_h)),
                                np.uint8)
        self._keep_pixels = max(cv2.countNonZero(self._keep), 1)
        self._background = None

    def _boxes(self, contours: Sequence[cv2.typing.MatLike]) -> tuple[MotionBox, ...]:
        assert self._shape is not None and self._small is not None
        height, width = self._shape
        sx = width / self._small.shape[1]
        sy = height / self._small.shape[0]
        min_area = self.settings.min_area * width * height
        boxes = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            box = MotionBox(int(x * sx), int(y * sy), min(round((x + w) * sx), width),
                            min(round((y + h) * sy), height))
            if box.area >= min_area:
                boxes.append(box)
        return tuple(boxes)
