"""The frame as it travels through the analytics pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

Luma = npt.NDArray[np.uint8]  # H x W, the Y plane straight from the decoder (no colour copy)
Bgr = npt.NDArray[np.uint8]  # H x W x 3, only where colour is needed (detector input, snapshots)


@dataclass(frozen=True)
class Frame:
    """One decoded analytics frame of one camera.

    ``luma`` is a view on the decoder's (or shared memory's) buffer: treat it as read-only.
    ``monotonic`` is the time the frame was received, ``pts_s`` its stream timestamp.
    """

    camera_id: str
    sequence: int
    monotonic: float
    wall_time: float
    pts_s: float | None
    luma: Luma
    source: Any = field(default=None, repr=False, compare=False)
    """The decoder's frame (``av.VideoFrame``), kept so colour is converted only if needed."""

    def bgr(self) -> Bgr:
        """The frame in colour, converted on demand (only detection and snapshots need it)."""
        if self.source is None:
            return np.repeat(self.luma[:, :, None], 3, axis=2)
        image: Bgr = self.source.to_ndarray(format="bgr24")
        return image

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return int(self.luma.shape[1]), int(self.luma.shape[0])
