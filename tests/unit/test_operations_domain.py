"""Joint operations, the pure domain: checks of a draft, status by the clock, cancel, covers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sereno.domain.errors import Conflict, InvalidInput
from sereno.domain.operations import JointOperation, OperationStatus, check_area

T0 = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
#: Around the Malecón 2000 (lon, lat).
MALECON: dict[str, Any] = {"type": "Polygon", "coordinates": [[
    [-79.8850, -2.2000], [-79.8760, -2.2000], [-79.8760, -2.1900], [-79.8850, -2.1900],
    [-79.8850, -2.2000]]]}


def _draft(**changes: Any) -> JointOperation:
    values: dict[str, Any] = {
        "operation_id": "op-1", "code": "op-malecon", "title": "Operativo Malecón",
        "lead_agency_id": "segura-ep", "participants": ["segura-ep", "policia-nacional"],
        "area": MALECON, "starts_at": T0, "ends_at": T0 + timedelta(hours=6),
        "objectives": "Presencia disuasiva", "unit_ids": ["PN-PAT-1"], "camera_ids": ["SEG-001"],
        "by": "ana", "at": T0 - timedelta(days=1)}
    values.update(changes)
    return JointOperation.draft(**values)


def test_a_checked_draft_is_planned_and_normalised() -> None:
    operation = _draft(participants=["policia-nacional"])
    assert operation.code == "OP-MALECON"
    assert operation.status is OperationStatus.PLANNED
    assert operation.participants == ["policia-nacional", "segura-ep"]  # the lead joins


@pytest.mark.parametrize(("changes", "message"), [
    ({"ends_at": T0}, "end after it starts"),
    ({"ends_at": T0 - timedelta(minutes=1)}, "end after it starts"),
    ({"ends_at": T0 + timedelta(days=40)}, "at most 31 days"),
    ({"starts_at": datetime(2026, 11, 25, 18, 0)}, "time zone"),
    ({"participants": []}, "at least two agencies"),
    ({"participants": ["segura-ep"]}, "at least two agencies"),
    ({"code": "x"}, "operation code"),
    ({"code": "OP MALECON"}, "operation code"),
    ({"title": "  "}, "title"),
    ({"area": {"type": "Point", "coordinates": [-79.88, -2.19]}}, "GeoJSON Polygon"),
    ({"area": {"type": "Polygon", "coordinates": []}}, "no coordinates"),
    ({"area": {"type": "Polygon", "coordinates": [[[-79.88, "a"]]]}}, "not valid GeoJSON"),
    ({"area": {"type": "Polygon", "coordinates": [[  # a bow tie: self-intersecting
        [-79.885, -2.20], [-79.876, -2.19], [-79.876, -2.20], [-79.885, -2.19],
        [-79.885, -2.20]]]}}, "simple polygon"),
    ({"area": {"type": "Polygon", "coordinates": [[  # lat, lon swapped: far outside
        [-2.20, -79.885], [-2.20, -79.876], [-2.19, -79.876], [-2.20, -79.885]]]}},
     "inside the service area"),
    ({"area": {"type": "Polygon", "coordinates": [[  # Durán, across the river
        [-79.83, -2.18], [-79.82, -2.18], [-79.82, -2.17], [-79.83, -2.18]]]}},
     "inside the service area"),
    ({"unit_ids": ["", "x"]}, "unit_ids"),
])
def test_a_bad_draft_is_refused_with_a_clear_reason(changes: dict[str, Any],
                                                    message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        _draft(**changes)


def test_status_follows_the_clock() -> None:
    operation = _draft()
    assert operation.status_at(T0 - timedelta(seconds=1)) is OperationStatus.PLANNED
    assert operation.status_at(T0) is OperationStatus.ACTIVE
    assert operation.status_at(T0 + timedelta(hours=6)) is OperationStatus.FINISHED
    assert operation.refresh(T0 + timedelta(hours=1))
    assert operation.status is OperationStatus.ACTIVE
    assert not operation.refresh(T0 + timedelta(hours=2))


def test_covers_needs_the_window_and_the_area() -> None:
    operation = _draft()
    inside, outside = (-2.1953, -79.8797), (-2.1561, -79.8936)
    during, before = T0 + timedelta(hours=1), T0 - timedelta(hours=1)
    assert operation.covers(*inside, during)
    assert not operation.covers(*outside, during)
    assert not operation.covers(*inside, before)
    assert not operation.covers(*inside, T0 + timedelta(hours=6))
    assert not operation.covers(None, None, during)
    assert operation.covers(-2.2000, -79.8800, during)  # the edge counts


def test_cancel_is_final_and_cuts_a_running_window() -> None:
    operation = _draft()
    now = T0 + timedelta(hours=2)
    operation.cancel(now)
    assert operation.status is OperationStatus.CANCELLED
    assert operation.ends_at == now
    assert not operation.covers(-2.1953, -79.8797, now - timedelta(minutes=30))
    with pytest.raises(Conflict, match="already cancelled"):
        operation.cancel(now)
    with pytest.raises(Conflict, match="plan is closed"):
        operation.revise(title="Otro título")


def test_a_finished_operation_cannot_be_cancelled() -> None:
    operation = _draft()
    with pytest.raises(Conflict, match="already finished"):
        operation.cancel(T0 + timedelta(days=1))


def test_revise_checks_everything_and_applies_nothing_on_failure() -> None:
    operation = _draft()
    with pytest.raises(InvalidInput):
        operation.revise(title="Nuevo título", ends_at=T0 - timedelta(hours=1))
    assert operation.title == "Operativo Malecón"
    changed = operation.revise(title="Nuevo título", camera_ids=["SEG-001", "SEG-003",
                                                                 "SEG-001"])
    assert changed == ["title", "camera_ids"]
    assert operation.camera_ids == ["SEG-001", "SEG-003"]


def test_the_area_is_normalised() -> None:
    area, geometry = check_area({"type": "Polygon", "coordinates": MALECON["coordinates"],
                                 "extra": 1})
    assert set(area) == {"type", "coordinates"}
    assert geometry.area > 0
