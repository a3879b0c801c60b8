"""Video quality and tamper checks of one camera: black, frozen, covered, blurred, moved.

``QualityMonitor`` consumes a camera's frames and returns ``QualityEvent``s when a condition
starts (after it has held for its minimum duration) and when it ends (after the clear condition
has held for its clear duration). Every check has a trigger threshold and a separate, less
strict clear threshold, so a value hovering at the threshold does not make the alarm flicker.

All measurements run on a small copy of the luma (``analysis_width`` columns), a few times a
second (``interval_s``), so a monitor costs far less than decoding the stream.

Checks that explain the others win: a black frame is also featureless and unchanging, so while
the picture is black, "covered", "blurred", "frozen" and "moved" are not evaluated; while the
lens is covered, "blurred" and "moved" are not. A condition that is already active stays active
while it is not evaluated.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from sereno.video.frames import Frame, Luma


class QualityKind(enum.StrEnum):
    """What is wrong with the picture."""

    BLACK = "black"
    FROZEN = "frozen"
    COVERED = "covered"
    BLURRED = "blurred"
    SCENE_CHANGED = "scene_changed"


class EventPhase(enum.StrEnum):
    """Whether a condition began or ended."""

    STARTED = "started"
    ENDED = "ended"


@dataclass(frozen=True)
class QualityEvent:
    """A quality condition of one camera started or ended."""

    camera_id: str
    kind: QualityKind
    phase: EventPhase
    value: float
    """The measurement on the frame that raised the event (see ``QualitySettings``)."""
    threshold: float
    """The trigger threshold (``STARTED``) or the clear threshold (``ENDED``)."""
    since: float
    """Monotonic time the condition (``STARTED``) or the clear condition (``ENDED``) began."""
    at: float
    """Monotonic time of the frame that raised the event."""
    wall_time: float
    """Wall-clock time of that frame."""


@dataclass(frozen=True)
class QualitySettings:
    """Thresholds and durations of the quality checks; the defaults suit fixed CCTV cameras."""

    analysis_width: int = 320
    """Columns of the small copy the checks measure (rows follow the aspect)."""
    interval_s: float = 1.0
    """Frames closer than this to the last analysed one are skipped."""
    learn_s: float = 5.0
    """Time to learn the sharpness baseline and the reference view before the blur and
    scene checks start."""
    baseline_time_constant_s: float = 120.0
    """Time constant of the slow learning that follows gradual changes (day to night) while
    the picture is healthy."""

    black_mean_below: float = 20.0
    """Black: mean luma (0-255; limited-range black is 16) below this."""
    black_clear_above: float = 28.0
    black_min_s: float = 2.0
    black_clear_s: float = 1.0

    frozen_delta_below: float = 0.1
    """Frozen: mean absolute luma difference from the previous analysed frame below this.

    A live camera is never perfectly still: sensor noise, even on a static scene at night
    (where gain makes it larger, not smaller), and the encoder re-quantising each key frame
    change many pixels by a level or more, giving a mean difference well above 0.3. A frozen
    pipeline (stuck encoder, decoder repeating its last picture, a replayed still) delivers
    bit-identical frames: a difference of 0. So the criterion is "below a tiny noise floor",
    not "no visible motion", and it must hold longer than the key-frame interval of the
    stream so that a heavily compressed static scene (skipped macroblocks between key frames)
    is not taken for frozen."""
    frozen_clear_above: float = 0.2
    frozen_min_s: float = 5.0
    frozen_clear_s: float = 0.5

    covered_std_below: float = 6.0
    """Covered: spatial standard deviation of the luma (contrast) below this, while not black.
    A hand, tape or a bag over the lens gives a near-uniform picture (std ~1 plus noise); a
    dark night scene keeps a std above 10 from lights and edges."""
    covered_clear_above: float = 10.0
    covered_min_s: float = 2.0
    covered_clear_s: float = 1.0

    blur_ratio_below: float = 0.3
    """Blurred: sharpness (variance of the Laplacian divided by the luma variance, so a darker
    picture is not "blurrier") below this fraction of the camera's learned baseline."""
    blur_clear_above: float = 0.5
    blur_min_s: float = 3.0
    blur_clear_s: float = 1.0

    scene_overlap_below: float = 0.5
    """Scene changed / camera moved: fraction of the frame's strong edges that lie on the
    edges of the learned reference view below this. People passing by keep it around 0.7 (the
    background still lines up); a camera turned or shifted by a few percent of the width
    drops it to the ~0.35 of unrelated pictures. Edges make it insensitive to lighting."""
    scene_clear_above: float = 0.58
    scene_min_s: float = 5.0
    scene_clear_s: float = 2.0
    scene_adopt_s: float | None = 600.0
    """After a scene change has lasted this long, the new view becomes the reference (the
    event ends); None keeps the alarm until the view returns or ``rebaseline()``."""


@dataclass
class _Check:
    """The start/clear state machine of one condition."""

    kind: QualityKind
    min_s: float
    clear_s: float
    threshold: float
    clear_threshold: float
    active: bool = False
    bad_since: float | None = None
    good_since: float | None = None

    def update(self, now: float, value: float, bad: bool | None, good: bool | None
               ) -> tuple[EventPhase, float, float] | None:
        """Advance with one measurement; ``bad``/``good`` None when it was not evaluated.
        Returns (phase, since, threshold) when an event is due."""
        if not self.active:
            self.bad_since = (self.bad_since if self.bad_since is not None else now) \
                if bad else None
            if self.bad_since is not None and now - self.bad_since >= self.min_s:
                self.active, self.good_since = True, None
                return EventPhase.STARTED, self.bad_since, self.threshold
            return None
        self.good_since = (self.good_since if self.good_since is not None else now) \
            if good else None
        if self.good_since is not None and now - self.good_since >= self.clear_s:
            self.active, self.bad_since = False, None
            return EventPhase.ENDED, self.good_since, self.clear_threshold
        return None

    def end(self) -> None:
        self.active, self.bad_since, self.good_since = False, None, None


@dataclass(frozen=True)
class Measurements:
    """What the monitor measured on one analysed frame (exposed for tuning and tests)."""

    mean: float
    std: float
    delta: float | None
    sharpness: float
    sharpness_ratio: float | None
    overlap: float | None


class QualityMonitor:
    """The quality checks of one camera. Feed every frame (or a subsample) in order."""

    def __init__(self, camera_id: str, settings: QualitySettings | None = None) -> None:
        self.camera_id = camera_id
        self.settings = s = settings or QualitySettings()
        self._checks = {
            QualityKind.BLACK: _Check(QualityKind.BLACK, s.black_min_s, s.black_clear_s,
                                      s.black_mean_below, s.black_clear_above),
            QualityKind.FROZEN: _Check(QualityKind.FROZEN, s.frozen_min_s, s.frozen_clear_s,
                                       s.frozen_delta_below, s.frozen_clear_above),
            QualityKind.COVERED: _Check(QualityKind.COVERED, s.covered_min_s, s.covered_clear_s,
                                        s.covered_std_below, s.covered_clear_above),
            QualityKind.BLURRED: _Check(QualityKind.BLURRED, s.blur_min_s, s.blur_clear_s,
                                        s.blur_ratio_below, s.blur_clear_above),
            QualityKind.SCENE_CHANGED: _Check(QualityKind.SCENE_CHANGED, s.scene_min_s,
                                              s.scene_clear_s, s.scene_overlap_below,
                                              s.scene_clear_above),
        }
        self._kernel = np.ones((3, 3), np.uint8)
        self.last: Measurements | None = None
        self.rebaseline()

    @property
    def active(self) -> frozenset[QualityKind]:
        """The conditions currently raised."""
        return frozenset(kind for kind, check in self._checks.items() if check.active)

    def rebaseline(self) -> None:
        """Learn the sharpness baseline and the reference view afresh (e.g. after an operator
        accepted a new camera position); active blur and scene alarms end silently."""
        self._last_at: float | None = None
        self._previous: Luma | None = None
        self._learn_started: float | None = None
        self._learned_frames = 0
        self._sharpness_baseline: float | None = None
        self._reference: npt.NDArray[np.float32] | None = None
        self._reference_edges: Luma | None = None
        self._reference_at = 0.0
        for kind in (QualityKind.BLURRED, QualityKind.SCENE_CHANGED):
            self._checks[kind].end()

    def observe(self, frame: Frame) -> list[QualityEvent]:
        """Analyse ``frame`` (unless too soon after the last one) and return the events due."""
        return self.observe_luma(frame.luma, frame.monotonic, frame.wall_time)

    def observe_luma(self, luma: Luma, now: float, wall_time: float) -> list[QualityEvent]:
        """Like ``observe`` for a bare luma plane with its monotonic and wall-clock times."""
        s = self.settings
        if self._last_at is not None and now - self._last_at < s.interval_s - 1e-6:
            return []
        self._last_at = now
        height = max(round(luma.shape[0] * s.analysis_width / luma.shape[1]), 1)
        small = np.asarray(cv2.resize(luma, (s.analysis_width, height),
                                      interpolation=cv2.INTER_AREA), np.uint8)

        mean_m, std_m = cv2.meanStdDev(small)
        mean, std = float(mean_m[0, 0]), float(std_m[0, 0])
        delta = (float(cv2.mean(cv2.absdiff(small, self._previous))[0])
                 if self._previous is not None else None)
        self._previous = small
        _, lap_std = cv2.meanStdDev(cv2.Laplacian(small, cv2.CV_16S))
        sharpness = float(lap_std[0, 0]) ** 2 / (std * std + 1.0)

        black = mean < s.black_mean_below
        covered = not black and std < s.covered_std_below
        featureless = black or covered
        learned = self._sharpness_baseline is not None and self._reference_edges is not None
        ratio = (sharpness / self._sharpness_baseline
                 if learned and self._sharpness_baseline else None)
        blurred = ratio is not None and ratio < s.blur_ratio_below
        overlap = (self._edge_overlap(small) if learned and not featureless and not blurred
                   else None)
        self.last = Measurements(mean, std, delta, sharpness, ratio, overlap)

        verdicts: dict[QualityKind, tuple[float, bool | None, bool | None]] = {
            QualityKind.BLACK: (mean, black, mean > s.black_clear_above),
            QualityKind.COVERED: (std, covered if not black else None,
                                  (std > s.covered_clear_above) if not black else None),
        }
        if delta is not None and not black:
            verdicts[QualityKind.FROZEN] = (delta, delta < s.frozen_delta_below,
                                            delta > s.frozen_clear_above)
        if ratio is not None and not featureless:
            verdicts[QualityKind.BLURRED] = (ratio, blurred, ratio > s.blur_clear_above)
        if overlap is not None:
            verdicts[QualityKind.SCENE_CHANGED] = (overlap, overlap < s.scene_overlap_below,
                                                   overlap > s.scene_clear_above)

        events: list[QualityEvent] = []
        for kind, check in self._checks.items():
            value, bad, good = verdicts.get(kind, (float("nan"), None, None))
            due = check.update(now, value, bad, good)
            if due is not None:
                phase, since, threshold = due
                events.append(QualityEvent(self.camera_id, kind, phase, value, threshold,
                                           since, now, wall_time))
        events += self._adopt_new_view(now, wall_time)
        if not any(check.active or check.bad_since is not None
                   for check in self._checks.values()) and delta is not None:
            self._learn(small, sharpness, now)
        return events

    # -- the learned baseline and reference ----------------------------------------------------

    def _learn(self, small: Luma, sharpness: float, now: float) -> None:
        """Fold a healthy frame into the baselines: a plain average while learning, then a slow
        exponential average that follows day and night."""
        s = self.settings
        if self._learn_started is None:
            self._learn_started = now
        self._learned_frames += 1
        learning = now - self._learn_started < s.learn_s
        weight = (1.0 / self._learned_frames if learning
                  else min(s.interval_s / s.baseline_time_constant_s, 1.0))
        if self._reference is None:
            self._reference = small.astype(np.float32)
        else:
            cv2.accumulateWeighted(small, self._reference, weight)
        base = self._sharpness_baseline
        if learning or base is not None:
            self._sharpness_baseline = (sharpness if base is None
                                        else base + weight * (sharpness - base))
        if not learning and (self._reference_edges is None or now - self._reference_at >= 5.0):
            # Redrawing the reference edges every few seconds is plenty for a slow average.
            reference = np.asarray(cv2.convertScaleAbs(self._reference), np.uint8)
            self._reference_edges = np.asarray(cv2.dilate(_edges(reference), self._kernel),
                                               np.uint8)
            self._reference_at = now

    def _edge_overlap(self, small: Luma) -> float:
        edges = _edges(small)
        total = cv2.countNonZero(edges)
        if total == 0:
            return 0.0
        assert self._reference_edges is not None
        return cv2.countNonZero(cv2.bitwise_and(edges, self._reference_edges)) / total

    def _adopt_new_view(self, now: float, wall_time: float) -> list[QualityEvent]:
        s = self.settings
        check = self._checks[QualityKind.SCENE_CHANGED]
        if (s.scene_adopt_s is None or not check.active or check.bad_since is None
                or now - check.bad_since < s.scene_adopt_s):
            return []
        value = self.last.overlap if self.last and self.last.overlap is not None else 0.0
        self.rebaseline()
        return [QualityEvent(self.camera_id, QualityKind.SCENE_CHANGED, EventPhase.ENDED,
                             value, s.scene_clear_above, now, now, wall_time)]


def _edges(image: Luma) -> Luma:
    """The strongest 10 % of gradients (a relative threshold, so lighting does not matter)."""
    smooth = cv2.GaussianBlur(image, (3, 3), 0)
    magnitude = cv2.addWeighted(  # |gx|/2 + |gy|/2: the L1 gradient, saturating in uint8
        cv2.convertScaleAbs(cv2.Sobel(smooth, cv2.CV_16S, 1, 0)), 0.5,
        cv2.convertScaleAbs(cv2.Sobel(smooth, cv2.CV_16S, 0, 1)), 0.5, 0)
    histogram = cv2.calcHist([magnitude], [0], None, [256], [0, 256]).ravel()
    cut = int(np.searchsorted(np.cumsum(histogram), 0.9 * magnitude.size))
    _, edges = cv2.threshold(magnitude, max(cut, 1), 255, cv2.THRESH_BINARY)
    return np.asarray(edges, np.uint8)
