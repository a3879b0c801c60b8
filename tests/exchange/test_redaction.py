"""Redaction before media leaves an agency: the blur destroys detail inside the regions and
leaves the rest, the shipped Haar cascades and the plate text detector run on a real frame."""

from __future__ import annotations

import cv2
import numpy as np

from sereno.video import redaction
from tests.support.evidence import street_picture


def _detail(image: np.ndarray, box: tuple[int, int, int, int]) -> float:  # type: ignore[type-arg]
    x1, y1, x2, y2 = box
    return float(cv2.Laplacian(cv2.cvtColor(image[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY),
                               cv2.CV_64F).var())


def test_blurred_regions_lose_their_detail_and_the_rest_is_untouched() -> None:
    image = street_picture()
    box = (200, 100, 360, 220)
    blurred = redaction.blur_regions(image, [box])
    assert _detail(blurred, box) < _detail(image, box) / 10
    assert np.array_equal(blurred[:, :150], image[:, :150])  # away from the grown box
    assert np.array_equal(image, street_picture())  # the caller's frame is not changed


def test_a_synthetic_text_plate_is_no_longer_legible() -> None:
    image = np.full((240, 320, 3), 200, np.uint8)
    cv2.putText(image, "GBC-1234", (60, 130), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 0, 0), 3)
    lines = redaction.find_text_lines(image)
    assert lines is not None and lines, "the plate text detector finds the printed plate"
    result, report = redaction.redact(image, faces=False, plates=True)
    assert report.text_lines >= 1
    x1, y1, x2, y2 = 60, 95, 240, 140
    assert _detail(result, (x1, y1, x2, y2)) < _detail(image, (x1, y1, x2, y2)) / 10


def test_the_cascades_run_on_a_real_frame() -> None:
    image = street_picture(1280, 720)
    faces, plates = redaction.find_faces(image), redaction.find_plates(image)
    assert isinstance(faces, list) and isinstance(plates, list)
    result, report = redaction.redact(image, faces=True, plates=True, boxes=[(0, 0, 10, 10)])
    assert result.shape == image.shape and report.boxes == 1
    assert report.as_detail()["faces"] == len(faces)
