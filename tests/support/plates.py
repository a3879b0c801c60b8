"""Generated plate pictures for the plate tests: plates rendered with Pillow in Debian's DejaVu
Sans Bold and composited onto a real street frame. Nothing is downloaded."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from sereno.video.frames import Bgr
from sereno.video.plates.reader import Region

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def render_sign(text: str, font: Path, *, width: int = 300, height: int = 116,
                plate: bool = True, colour: tuple[int, int, int] = (255, 255, 255),
                ink: tuple[int, int, int] = (12, 12, 12)) -> Bgr:
    """A plate (white, dark border, "ECUADOR" on top) or a plain sign, as BGR."""
    image = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, width - 1, height - 1], outline=(20, 20, 20), width=6)
    if plate:
        draw.text((width / 2, 18), "ECUADOR", font=ImageFont.truetype(str(font), 18),
                  fill=(30, 30, 30), anchor="mm")
    size = 64
    while size > 12 and draw.textlength(text, font=ImageFont.truetype(str(font), size)) > (
            0.86 * width):
        size -= 2
    draw.text((width / 2, 72 if plate else height / 2), text,
              font=ImageFont.truetype(str(font), size), fill=ink, anchor="mm")
    return np.ascontiguousarray(np.asarray(image)[:, :, ::-1])


def composite(background: Bgr, sign: Bgr, centre: tuple[float, float], width: float,
              angle: float) -> Bgr:
    """``sign`` scaled to ``width`` pixels, turned ``angle`` degrees, pasted at ``centre``."""
    h, w = sign.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, width / w)
    matrix[0, 2] += centre[0] - w / 2
    matrix[1, 2] += centre[1] - h / 2
    size = (background.shape[1], background.shape[0])
    mask = cv2.warpAffine(np.full((h, w), 255, np.uint8), matrix, size) > 127
    warped = cv2.warpAffine(sign, matrix, size, flags=cv2.INTER_AREA)
    out = background.copy()
    out[mask] = warped[mask]
    return out


def camera_look(image: Bgr, quality: int) -> Bgr:
    """A little optical blur, then JPEG compression, as a camera's encoder would leave it."""
    blurred = cv2.GaussianBlur(image, (3, 3), 0.8)
    ok, data = cv2.imencode(".jpg", blurred, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), np.uint8)


def vehicle_region(centre: tuple[float, float], plate_width: float,
                   frame: Bgr) -> Region:
    """The box a vehicle detector would give around a plate: the car's rear, wider and
    mostly above the plate."""
    x, y = centre
    h, w = frame.shape[:2]
    return (max(x - 1.4 * plate_width, 0), max(y - 1.0 * plate_width, 0),
            min(x + 1.4 * plate_width, w), min(y + 0.4 * plate_width, h))


# --- reading ---------------------------------------------------------------------------------
