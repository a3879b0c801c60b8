"""Plates on tracked vehicles are read and only watchlist hits are reported."""

from __future__ import annotations

import time

import numpy as np

from sereno.video.frames import Frame
from sereno.video.pipeline import PlateStage
from sereno.video.rules.engine import TrackedObject
from tests.support.plates import camera_look, composite, render_sign, vehicle_region


def _frame(image: np.ndarray, wall: float) -> Frame:  # type: ignore[type-arg]
    luma = np.ascontiguousarray(image[:, :, 1])
    return Frame("SEG-002", 1, time.monotonic() + wall, wall, None, luma)


def test_watchlist_hits_are_reported_once_per_cooldown(street, font) -> None:  # type: ignore[no-untyped-def]
    height, frame_width = street.shape[:2]
    centre, width = (0.6 * frame_width, 0.55 * height), 110.0
    image = camera_look(composite(street, render_sign("GBC-1234", font), centre, width, 1.5), 70)
    x1, y1, x2, y2 = vehicle_region(centre, width, image)
    car = TrackedObject(7, "vehicle", 0.5, (x1, y1, x2, y2))
    stage = PlateStage("SEG-002", [
        {"plate": "GBC1234", "reason": "robo 2026-0042", "agency_id": "policia-nacional",
         "entry_id": "e1"},
        {"plate": "PBX0987", "reason": "otro", "agency_id": "segura-ep", "entry_id": "e2"}],
        every_s=0.0, cooldown_s=60)
    now = time.time()
    hits = stage.process(_frame(image, now), image, [car])
    assert len(hits) == 1
    payload = hits[0].payload
    assert payload["rule_kind"] == "plate" and payload["track_ids"] == (7,)
    assert payload["detail"]["plate"] == "GBC1234"
    assert payload["detail"]["watching_agency"] == "policia-nacional"
    assert payload["snapshot_jpeg"][:2] == b"\xff\xd8"
    assert stage.process(_frame(image, now + 5), image, [car]) == []  # cooling down
    assert len(stage.process(_frame(image, now + 61), image, [car])) == 1
    # A plate nobody wants is read but nothing is reported (and nothing kept).
    other = camera_look(composite(street, render_sign("MCA-5566", font), centre, width, 0), 70)
    assert stage.process(_frame(other, now + 200), other, [car]) == []
    # No vehicle, no reading.
    person = TrackedObject(8, "person", 0.9, (x1, y1, x2, y2))
    assert stage.process(_frame(image, now + 400), image, [person]) == []
