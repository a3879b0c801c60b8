"""Invisible forensic watermark for every image or frame that leaves Sereno, and its blind reader.

Scheme (ADR 0013). A keyed 128x128 tile of 4x4-pixel chips is repeated over the luma of the
image. A quarter of the chips carry a fixed keyed *sync* pattern; the others carry, spread and
interleaved by the key, a rate-1/3 convolutional codeword of the 32-bit payload followed by a
24-bit HMAC of it. Embedding adds the cached tile, scaled by a texture mask, to B, G and R alike.
Reading needs no original: the tile period is measured from the image's own autocorrelation
(undoing scaling), the image is resampled and folded onto one tile (undoing cropping up to a
cyclic shift), the shift is found by FFT cross-correlation with the sync pattern, the codeword
is Viterbi-decoded, and the HMAC must verify: a frame without this key's mark reads as None.

All functions are pure; the only state is a small cache of keyed patterns.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["DEFAULT_STRENGTH", "PAYLOAD_BITS", "Detection", "embed", "extract", "psnr"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]

PAYLOAD_BITS = 32
MAC_BITS = 24  # HMAC truncation: a random decode passes with probability 2**-24
DEFAULT_STRENGTH = 2.6  # RMS luma change in grey levels for textured frames: PSNR >= ~39.5 dB

TILE = 128  # pixels; a 50 % downscale of 640x360 still holds 2.8 periods vertically
CHIP = 4  # pixels; 2 px after a 50 % downscale, coarse enough for JPEG at quality 50
GRID = TILE // CHIP
SYNC_CHIPS = 256  # of GRID**2 = 1024; the rest carry the codeword
DATA_CHIPS = GRID * GRID - SYNC_CHIPS
CHIP_SIGMA = 1.0  # Gaussian softening of chip edges (pixels): less visible, same robustness

# Convolutional code K=7, rate 1/3 (LTE's generators): several dB of coding gain with soft
# decisions over repetition alone, and a tiny Viterbi decoder.
CONSTRAINT = 7
GENERATORS = (0o133, 0o171, 0o165)
INFO_BITS = PAYLOAD_BITS + MAC_BITS
CODED = (INFO_BITS + CONSTRAINT - 1) * len(GENERATORS)  # 186 symbols, ~4 chips each per tile

# Texture mask: amplitude = strength * clip(local std / MASK_REF, MASK_LOW, MASK_HIGH), then
# capped to `strength` RMS. Smooth regions (where grain shows) get half strength.
MASK_REF = 5.0
MASK_LOW = 0.5
MASK_HIGH = 1.5
MASK_WINDOW = (7, 7)

# Detection.
WHITEN_SIGMA = 2.0  # residual = luma - blur: removes the picture's low frequencies
NORM_SIGMA = 3.0  # local energy normalisation, so edges do not dominate the correlation
CLIP_Z = 3.0
SCALE_MIN, SCALE_MAX = 0.3, 2.6  # scaling factors searched from the autocorrelation
SYNC_MIN_Z = 5.0  # unmarked images: 99.9th percentile 5.2 over 16384 cyclic shifts
SYNC_MIN_Z_CANDIDATES = 4.0  # looser: the candidate z-score below is itself a strong check
SCORE_MIN = 0.80  # codeword agreement: unmarked images decode at 0.62-0.75, marked >= 0.92
CANDIDATE_MIN_Z = 7.0  # candidate matching: P(N(0,1) > 7) = 1.3e-12 per candidate
CANDIDATE_MARGIN_Z = 2.0  # the best candidate must beat the runner-up by this much
MIN_SIDE = 48  # pixels: anything smaller holds too little of a tile to be read
MAX_ATTEMPTS = 10  # scalings tried per image: bounds the time and the false-match odds
# Frame sizes a marked image may have been resized from without cropping: when the image's
# own autocorrelation is too weak to measure the scaling (small, heavily compressed copies),
# these ratios are tried too.
FRAME_SIZES = ((320, 180), (320, 240), (352, 288), (640, 360), (640, 480), (704, 576),
               (720, 576), (768, 576), (800, 600), (960, 540), (1024, 768), (1280, 720),
               (1280, 960), (1920, 1080))

_DOMAIN = b"sereno-watermark/v1/"


@dataclass(frozen=True, slots=True)
class Detection:
    """A watermark read from an image.

    ``score`` is the agreement (0..1) between the received symbols and the re-encoded codeword
    (1.0: undamaged); ``sync_score`` is the z-score of the sync correlation peak; ``scale`` the
    estimated (x, y) scaling of the image since marking; ``offset`` where the tile grid starts
    in the rescaled image. ``by_candidate`` is True when the payload was not decodable on its own
    and was matched against the ``candidates`` passed to :func:`extract`.
    """

    payload: int
    score: float
    sync_score: float
    scale: tuple[float, float]
    offset: tuple[int, int]
    by_candidate: bool = False


# ------------------------------------------------------------------------------------------
# convolutional code


def _parity(value: int) -> int:
    return bin(value).count("1") & 1


# Register = (state << 1 | input) over 7 bits, newest bit lowest; next state = its low 6 bits.
_OUTPUTS = np.array([[_parity(reg & g) for g in GENERATORS] for reg in range(128)], np.int8)
_STATES = np.arange(64)
_PREDECESSORS = np.stack([_STATES >> 1, (_STATES >> 1) | 32])  # 2 x 64
_BRANCH_SIGNS = (1 - 2 * _OUTPUTS[(_PREDECESSORS << 1) | (_STATES & 1)]).astype(np.float64)


def _encode(bits: npt.NDArray[np.int8]) -> npt.NDArray[np.int8]:
    """Codeword symbols (0/1) of ``bits``, terminated by CONSTRAINT-1 zero bits."""
    state = 0
    out = np.empty((len(bits) + CONSTRAINT - 1, len(GENERATORS)), np.int8)
    for t, bit in enumerate(np.concatenate([bits, np.zeros(CONSTRAINT - 1, np.int8)])):
        register = ((state << 1) | int(bit)) & 0x7F
        out[t] = _OUTPUTS[register]
        state = register & 0x3F
    return out.ravel()


def _generator_matrix() -> F32:
    """The code is linear: row i is the codeword of the i-th unit vector (for bulk encoding)."""
    eye = np.eye(INFO_BITS, dtype=np.int8)
    return np.stack([_encode(row) for row in eye]).astype(np.float32)


_GENERATOR = _generator_matrix()


def _viterbi(soft: F64) -> npt.NDArray[np.int8]:
    """Maximum-correlation decoding of soft symbols (positive means bit 0)."""
    steps = len(soft) // len(GENERATORS)
    received = soft.reshape(steps, len(GENERATORS))
    metric = np.full(64, -np.inf)
    metric[0] = 0.0
    choice = np.zeros((steps, 64), np.int8)
    for t in range(steps):
        candidates = metric[_PREDECESSORS] + _BRANCH_SIGNS @ received[t]
        upper = candidates[1] > candidates[0]
        choice[t] = upper
        metric = np.where(upper, candidates[1], candidates[0])
    state, bits = 0, np.zeros(steps, np.int8)  # terminated: the path ends in state 0
    for t in range(steps - 1, -1, -1):
        bits[t] = state & 1
        state = int(_PREDECESSORS[choice[t, state], state])
    return bits[:INFO_BITS]


# ------------------------------------------------------------------------------------------
# keyed layout and patterns


def _mac(key: bytes, payload: int) -> int:
    digest = hmac.new(key, _DOMAIN + b"mac" + payload.to_bytes(8, "big"), hashlib.sha256)
    return int.from_bytes(digest.digest()[:4], "big") >> (32 - MAC_BITS)


def _info_bits(key: bytes, payload: int) -> npt.NDArray[np.int8]:
    word = (payload << MAC_BITS) | _mac(key, payload)
    return np.array([(word >> (INFO_BITS - 1 - i)) & 1 for i in range(INFO_BITS)], np.int8)


def _smoothing(shape: tuple[int, int]) -> F64:
    """Transfer function of the chip softening, applied cyclically (the tile wraps around)."""
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    return np.exp(-2.0 * (np.pi * CHIP_SIGMA) ** 2 * (fx**2 + fy**2))


_SMOOTH = _smoothing((TILE, TILE))


def _smooth(tile: F64) -> F64:
    return np.fft.irfft2(np.fft.rfft2(tile) * _SMOOTH, s=tile.shape)


def _chips_to_tile(chips: F64) -> F64:
    blocks = np.kron(chips.reshape(GRID, GRID), np.ones((CHIP, CHIP)))
    return _smooth(np.asarray(blocks, np.float64))


@dataclass(frozen=True)
class _Layout:
    sync_chips: I64  # chip indices of the sync pattern
    data_chips: I64
    data_signs: F64  # keyed spreading sign of each data chip
    data_symbol: I64  # which codeword symbol each data chip carries
    sync_tile: F64
    sync_spectrum: npt.NDArray[np.complex128]  # conj FFT of the sync tile, for correlation


@lru_cache(maxsize=8)
def _layout(key: bytes) -> _Layout:
    seed = hmac.new(key, _DOMAIN + b"layout", hashlib.sha256).digest()
    rng = np.random.default_rng(int.from_bytes(seed, "big"))
    order = rng.permutation(GRID * GRID)
    sync_chips, data_chips = order[:SYNC_CHIPS], order[SYNC_CHIPS:]
    chips = np.zeros(GRID * GRID)
    chips[sync_chips] = rng.choice([-1.0, 1.0], SYNC_CHIPS)
    sync_tile = _chips_to_tile(chips)
    return _Layout(
        sync_chips=sync_chips,
        data_chips=data_chips,
        data_signs=rng.choice([-1.0, 1.0], DATA_CHIPS),
        # every symbol gets 4 or 5 chips, scattered over the tile
        data_symbol=rng.permutation(np.arange(DATA_CHIPS) % CODED),
        sync_tile=sync_tile,
        sync_spectrum=np.conj(np.fft.rfft2(sync_tile)),
    )


@lru_cache(maxsize=64)
def _tile(key: bytes, payload: int) -> F32:
    """The unit-RMS tile carrying ``payload``."""
    layout = _layout(key)
    symbols = 1.0 - 2.0 * _encode(_info_bits(key, payload))
    chips = np.zeros(GRID * GRID)
    chips[layout.data_chips] = layout.data_signs * symbols[layout.data_symbol]
    tile = layout.sync_tile + _chips_to_tile(chips)
    result: F32 = (tile / np.sqrt(np.mean(tile**2))).astype(np.float32)
    result.setflags(write=False)
    return result


@lru_cache(maxsize=8)  # a 1080p pattern is 8 MB
def _frame_pattern(key: bytes, payload: int, height: int, width: int) -> F32:
    tile = _tile(key, payload)
    reps = (-(-height // TILE), -(-width // TILE))
    pattern = np.ascontiguousarray(np.tile(tile, reps)[:height, :width])
    pattern.setflags(write=False)
    return pattern


# ------------------------------------------------------------------------------------------
# embedding


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes | bytearray) or len(key) < 16:
        raise ValueError("the watermark key must be at least 16 bytes")


def _luma(image: npt.NDArray[Any]) -> F32:
    if image.ndim == 2:
        return image.astype(np.float32)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    raise ValueError(f"expected an HxWx3 BGR or HxW image, got shape {image.shape}")


def embed(image: U8, payload: int, key: bytes, *, strength: float = DEFAULT_STRENGTH,
          adaptive: bool = True) -> U8:
    """Return a copy of ``image`` (HxWx3 uint8 BGR) carrying ``payload`` under ``key``.

    ``payload`` is an identifier of ``PAYLOAD_BITS`` bits (0 <= payload < 2**32) that the
    platform maps to an export, live session or shared snapshot. ``key`` is the node's secret
    (>= 16 bytes): without it the mark can be neither read nor forged. ``strength`` is the RMS
    change of luma in grey levels (2.6 gives a PSNR of about 39.5-40 dB on textured frames;
    smoother frames get less). ``adaptive`` scales the mark by local texture (a few ms of CPU
    at 720p); without it the mark is uniform and embedding is a bare saturating add. The
    pattern for (key, payload, frame size) is built on first use (~20 ms) and cached.
    """
    _check_key(key)
    if not 0 <= payload < 1 << PAYLOAD_BITS:
        raise ValueError(f"payload must fit in {PAYLOAD_BITS} bits")
    if not 0 < strength <= 64:
        raise ValueError("strength must be a positive number of grey levels")
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError("expected an HxWx3 uint8 BGR image")
    height, width = image.shape[:2]
    pattern = _frame_pattern(bytes(key), payload, height, width)
    if adaptive:
        # Local standard deviation of luma; OpenCV filters and in-place NumPy (the budget is
        # a few ms per 720p frame).
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        mean = cv2.boxFilter(grey, cv2.CV_32F, MASK_WINDOW)
        amplitude = np.asarray(cv2.sqrBoxFilter(grey, cv2.CV_32F, MASK_WINDOW), np.float32)
        amplitude -= cv2.multiply(mean, mean)
        np.maximum(amplitude, 0.0, out=amplitude)
        np.sqrt(amplitude, out=amplitude)
        amplitude *= np.float32(strength / MASK_REF)
        np.clip(amplitude, strength * MASK_LOW, strength * MASK_HIGH, out=amplitude)
        rms = cv2.norm(amplitude, cv2.NORM_L2) / np.sqrt(amplitude.size)
        gain = min(1.0, strength / rms)  # busy frames: hold the PSNR
        delta = np.asarray(cv2.multiply(pattern, amplitude, scale=gain), np.float32)
    else:
        delta = pattern * np.float32(strength)
    # The same change on B, G and R is a pure luma change; cv2.add rounds and saturates.
    marked: U8 = np.asarray(cv2.add(image, cv2.merge([delta, delta, delta]), dtype=cv2.CV_8U),
                            np.uint8)
    return marked


def psnr(original: U8, marked: U8) -> float:
    """Peak signal-to-noise ratio in dB between two images of the same shape."""
    error = np.mean((original.astype(np.float64) - marked.astype(np.float64)) ** 2)
    return float("inf") if error == 0 else float(10.0 * np.log10(255.0**2 / error))


# ------------------------------------------------------------------------------------------
# detection


def _whiten(luma: F32) -> F32:
    """High-pass residual normalised by its local energy and clipped: close to white noise
    for the picture, so that a plain correlation is a near-optimal detector."""
    residual = luma - cv2.GaussianBlur(luma, (0, 0), WHITEN_SIGMA)
    energy = np.sqrt(cv2.GaussianBlur(residual * residual, (0, 0), NORM_SIGMA)) + 1.0
    return np.clip(residual / energy, -CLIP_Z, CLIP_Z)


def _autocorrelation(residual: F32) -> F64:
    """Mean product of the residual with itself shifted by each lag along the rows (OpenCV's
    row-wise DFT: about 4x faster than NumPy's here)."""
    height, n = residual.shape
    padded = np.zeros((height, cv2.getOptimalDFTSize(2 * n)), np.float32)  # no wrap-around
    padded[:, :n] = residual
    spectrum = cv2.dft(padded, flags=cv2.DFT_ROWS)
    power = cv2.mulSpectrums(spectrum, spectrum, cv2.DFT_ROWS, conjB=True)
    total = power.sum(axis=0, dtype=np.float64, keepdims=True).astype(np.float32)
    correlation = cv2.idft(total, flags=cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE)[0, :n]
    return np.asarray(correlation / (n - np.arange(n)), np.float64)


def _peaks(correlation: F64) -> F64:
    """The autocorrelation minus its running median: periodic peaks on a flat floor."""
    padded = np.pad(correlation, 12, mode="edge")
    floor = np.median(np.lib.stride_tricks.sliding_window_view(padded, 25), axis=1)
    peaks = correlation - floor[: len(correlation)]
    peaks[: int(TILE * SCALE_MIN / 2)] = 0.0
    return peaks


def _harmonic_scores(peaks: F64, n: int, periods: F64) -> F64:
    """For each period: mean peak height at its multiples minus at its odd half-multiples,
    so that twice the true period scores nothing."""
    counts = np.floor(0.7 * n / periods)
    steps = np.arange(1, max(int(counts.max()), 1) + 1)
    multiples = periods[:, None] * steps[None, :]
    valid = steps[None, :] <= counts[:, None]
    lags = np.arange(len(peaks))
    on = np.interp(multiples, lags, peaks)
    off = np.interp(multiples - periods[:, None] / 2, lags, peaks)
    scores = np.asarray(((on - off) * valid).sum(axis=1) / np.maximum(counts, 1), np.float64)
    scores[counts < 1] = -np.inf
    return scores


def _periods(peaks: F64, n: int, top: int) -> list[float]:
    """The ``top`` most likely tile periods (pixels) along one axis, to 0.02 px."""
    low = TILE * SCALE_MIN
    high = min(TILE * SCALE_MAX, n / 1.6)  # at least 1.6 periods must fit
    if high <= low + 4:
        return []
    grid = np.arange(low, high, 0.5)
    scores = _harmonic_scores(peaks, n, grid)
    divisors = np.array([6.0, 5.0, 4.0, 3.0, 2.0, 1.0])
    found: list[float] = []
    for index in np.argsort(-scores)[:64]:
        # A multiple of the true period scores as well as the period itself: take the
        # shortest sub-multiple that still scores well.
        fractions = grid[index] / divisors
        fraction_scores = _harmonic_scores(peaks, n, fractions)
        good = (fractions >= low) & (fraction_scores > 0.6 * scores[index])
        period = float(fractions[np.argmax(good)])
        if any(abs(period - other) < 3 for other in found):
            continue
        fine = np.arange(period - 0.6, period + 0.6, 0.02)
        found.append(float(fine[np.argmax(_harmonic_scores(peaks, n, fine))]))
        if len(found) >= top:
            break
    return found


def _scale_candidates(residual: F32) -> list[tuple[float, float]]:
    """Scalings (x, y) to try, most likely first: from the summed x and y autocorrelations,
    from each axis alone, 1:1, and from a standard frame size to this image's."""
    height, width = residual.shape
    along_x = _peaks(_autocorrelation(residual))
    along_y = _peaks(_autocorrelation(np.ascontiguousarray(residual.T)))
    common = min(len(along_x), len(along_y))
    both = (along_x[:common] / (np.abs(along_x).max() + 1e-12)
            + along_y[:common] / (np.abs(along_y).max() + 1e-12))
    isotropic = [p / TILE for p in _periods(both, min(height, width), 2)]
    px, py = _periods(along_x, width, 1), _periods(along_y, height, 1)
    scales = [(s, s) for s in isotropic[:1]]
    # One axis may be fooled by a periodic structure of the scene: try each axis's own period
    # for both axes, and the pair (aspect ratio changed).
    scales += [(p / TILE, p / TILE) for p in px + py]
    if px and py:
        scales.append((px[0] / TILE, py[0] / TILE))
    scales += [(s, s) for s in isotropic[1:]]
    # Within 2e-4 of 1:1 (0.4 px over 1920 px) resampling would only blur.
    scales = [(1.0, 1.0) if abs(sx - 1) < 2e-4 and abs(sy - 1) < 2e-4 else (sx, sy)
              for sx, sy in scales]
    scales.append((1.0, 1.0))
    for frame_width, frame_height in FRAME_SIZES:
        sx, sy = width / frame_width, height / frame_height
        if abs(sx - sy) < 0.005 * sx and SCALE_MIN <= sx <= SCALE_MAX:
            scales.append((sx, sy))
    unique: list[tuple[float, float]] = []
    for sx, sy in scales:
        if all(abs(sx - ux) > 2e-3 or abs(sy - uy) > 2e-3 for ux, uy in unique):
            unique.append((sx, sy))
    return unique[:MAX_ATTEMPTS]


def _fold(residual: F32) -> F64:
    """Sum of all TILE x TILE blocks of the residual: the tile, cyclically shifted by the crop."""
    height, width = residual.shape
    padded = np.zeros((-(-height // TILE) * TILE, -(-width // TILE) * TILE), np.float32)
    padded[:height, :width] = residual
    blocks = padded.reshape(padded.shape[0] // TILE, TILE, padded.shape[1] // TILE, TILE)
    return blocks.sum(axis=(0, 2), dtype=np.float64)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _Attempt:
    scale: tuple[float, float]
    offset: tuple[int, int]
    sync_z: float
    soft: F64  # one soft value per codeword symbol


def _attempt(luma: F32, residual: F32, scale: tuple[float, float], layout: _Layout) -> _Attempt:
    """Undo ``scale``, fold, find the tile's shift and read the soft symbols there.
    ``residual`` is the whitened ``luma``, reused at 1:1."""
    sx, sy = scale
    if (sx, sy) != (1.0, 1.0):
        height, width = luma.shape
        matrix = np.array([[1 / sx, 0, 0], [0, 1 / sy, 0]], np.float32)
        size = (int(np.ceil(width / sx)), int(np.ceil(height / sy)))
        # Whitening after resampling keeps its filters matched to the tile's scale.
        residual = _whiten(np.asarray(cv2.warpAffine(
            luma, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE),
            np.float32))
    folded = _fold(residual)
    correlation = np.fft.irfft2(np.fft.rfft2(folded) * layout.sync_spectrum, s=folded.shape)
    peak = int(np.argmax(correlation))
    dy, dx = divmod(peak, TILE)
    sync_z = float((correlation.flat[peak] - correlation.mean()) / (correlation.std() + 1e-12))
    aligned = _smooth(np.roll(folded, (-dy, -dx), axis=(0, 1)))  # matched to the chip shape
    chips = aligned.reshape(GRID, CHIP, GRID, CHIP).sum(axis=(1, 3)).ravel()
    weights = chips[layout.data_chips] * layout.data_signs
    soft = np.asarray(np.bincount(layout.data_symbol, weights=weights, minlength=CODED), np.float64)
    return _Attempt(scale, (dy, dx), sync_z, soft)


def _blind(attempt: _Attempt, key: bytes) -> Detection | None:
    bits = _viterbi(attempt.soft)
    word = int("".join(map(str, bits.tolist())), 2)
    payload, mac = word >> MAC_BITS, word & ((1 << MAC_BITS) - 1)
    symbols = 1.0 - 2.0 * _encode(bits)
    score = float(attempt.soft @ symbols / (np.abs(attempt.soft).sum() + 1e-12))
    if mac != _mac(key, payload) or score < SCORE_MIN:
        return None
    return Detection(payload, score, attempt.sync_z, attempt.scale, attempt.offset)


@lru_cache(maxsize=2)  # trace-leak passes the same issued list image after image
def _codewords(key: bytes, payloads: tuple[int, ...]) -> F32:
    """The +-1 codewords of many payloads at once (the code is linear over GF(2))."""
    words = np.array([(p << MAC_BITS) | _mac(key, p) for p in payloads], np.uint64)
    shifts = np.arange(INFO_BITS - 1, -1, -1, dtype=np.uint64)
    info = ((words[:, None] >> shifts[None, :]) & np.uint64(1)).astype(np.float32)
    return np.asarray(1.0 - 2.0 * np.mod(info @ _GENERATOR, 2.0), np.float32)


def _match(attempt: _Attempt, payloads: tuple[int, ...], codewords: F32) -> Detection | None:
    """The candidate whose codeword correlates best with the soft symbols, if it stands out.
    Choosing among the issued payloads instead of all 2**56 codewords tolerates a weaker
    signal than blind decoding."""
    # Without a mark each z is ~N(0, 1): the soft values are noise, a codeword a fixed +-1.
    z = codewords @ attempt.soft / (np.sqrt(attempt.soft @ attempt.soft) + 1e-12)
    order = np.argsort(-z)
    best = float(z[order[0]])
    runner_up = float(z[order[1]]) if len(order) > 1 else 0.0
    if best < CANDIDATE_MIN_Z or best - runner_up < CANDIDATE_MARGIN_Z:
        return None
    agreement = float(codewords[order[0]] @ attempt.soft / (np.abs(attempt.soft).sum() + 1e-12))
    return Detection(payloads[int(order[0])], agreement, attempt.sync_z, attempt.scale,
                     attempt.offset, by_candidate=True)


def extract(image: npt.NDArray[Any], key: bytes, *,
            candidates: Iterable[int] | None = None) -> Detection | None:
    """Read the watermark of ``image`` (HxWx3 uint8 BGR, or HxW luma) marked under ``key``.

    Blind: the original is not needed. Survives JPEG re-compression, rescaling (0.3x to 2.6x,
    also with a changed aspect ratio), cropping, and colour, gamma and contrast changes; not
    rotation or perspective. Returns None when no mark of this key is found: a payload is only
    returned when its 24-bit HMAC verifies *and* the sync and codeword scores clear thresholds
    calibrated on unmarked images, so a false match is practically impossible.

    ``candidates`` (the payloads actually issued) is a fallback for damaged images: when
    blind decoding fails, the payload whose codeword correlates best with what was read is
    returned if it clears a z-score of 7 (and beats the runner-up); ``by_candidate`` is then
    True.
    """
    _check_key(key)
    luma = _luma(np.asarray(image))
    if min(luma.shape) < MIN_SIDE:
        return None
    key = bytes(key)
    layout = _layout(key)
    residual = _whiten(luma)
    synced: list[_Attempt] = []
    for scale in _scale_candidates(residual):
        attempt = _attempt(luma, residual, scale, layout)
        if attempt.sync_z >= SYNC_MIN_Z:
            found = _blind(attempt, key)
            if found is not None:
                return found
        if attempt.sync_z >= SYNC_MIN_Z_CANDIDATES:
            synced.append(attempt)
    if candidates is not None and synced:
        issued = tuple(sorted({int(c) for c in candidates if 0 <= int(c) < 1 << PAYLOAD_BITS}))
        codewords = _codewords(key, issued) if issued else None
        for attempt in sorted(synced, key=lambda a: -a.sync_z):
            if codewords is None:
                break
            found = _match(attempt, issued, codewords)
            if found is not None:
                return found
    return None
