"""Units: status machine, stale and out-of-area positions, the ETA model, and the grid index
agreeing exactly with the brute-force search."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest

from sereno.domain.errors import Conflict, InvalidInput
from sereno.domain.eta import eta_seconds, great_circle_m
from sereno.domain.units import (
    GUAYAQUIL,
    Dispatch,
    DispatchStatus,
    Unit,
    UnitKind,
    UnitStatus,
    check_position,
    parse_dispatch_report,
)
from sereno.services.dispatch_recommender import IndexedUnit, UnitIndex, brute_force

NOW = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
CENTRE = (-2.1921, -79.8862)


def _unit() -> Unit:
    return Unit.register("PN-M01", "policia-nacional", "Móvil 1", "patrol_car", now=NOW)


def test_status_cycle_and_refusals() -> None:
    unit = _unit()
    assert unit.status is UnitStatus.AVAILABLE and unit.version == 1
    for status in (UnitStatus.ASSIGNED, UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE,
                   UnitStatus.AVAILABLE):
        unit.become(status, now=NOW)
    assert unit.version == 5
    unit.become(UnitStatus.ASSIGNED, now=NOW)
    with pytest.raises(Conflict, match="cannot become"):
        unit.become(UnitStatus.OUT_OF_SERVICE, now=NOW)
    unit.become(UnitStatus.AVAILABLE, now=NOW)  # called off before leaving
    unit.become(UnitStatus.OUT_OF_SERVICE, now=NOW)
    with pytest.raises(Conflict, match="out of service"):
        unit.become(UnitStatus.ASSIGNED, now=NOW)
    other = _unit()
    other.become(UnitStatus.ASSIGNED, now=NOW)
    with pytest.raises(Conflict, match="unit already assigned"):
        other.become(UnitStatus.ASSIGNED, now=NOW)
    other.become(UnitStatus.EN_ROUTE, now=NOW)
    with pytest.raises(Conflict, match="unit already assigned"):
        other.become(UnitStatus.ASSIGNED, now=NOW)


def test_bad_registration() -> None:
    with pytest.raises(InvalidInput, match="unknown unit kind"):
        Unit.register("X1", "segura-ep", "A", "helicopter", now=NOW)
    with pytest.raises(InvalidInput, match="unit id"):
        Unit.register("bad id", "segura-ep", "A", "foot", now=NOW)
    with pytest.raises(InvalidInput, match="name"):
        Unit.register("X1", "segura-ep", "  ", "foot", now=NOW)


def test_positions_in_order_inside_the_city() -> None:
    unit = _unit()
    unit.move_to(check_position(*CENTRE, at=NOW, now=NOW))
    later = check_position(-2.1900, -79.8850, at=NOW + timedelta(seconds=5),
                           now=NOW + timedelta(seconds=5), heading_deg=90, speed_kmh=30)
    unit.move_to(later)
    with pytest.raises(Conflict, match="stale position"):
        unit.move_to(check_position(*CENTRE, at=NOW + timedelta(seconds=2), now=NOW))
    assert (unit.latitude, unit.longitude, unit.position_at) == (-2.19, -79.885, later.at)
    with pytest.raises(InvalidInput, match="outside the service area"):
        check_position(0.0, 0.0, at=NOW, now=NOW)
    with pytest.raises(InvalidInput, match="outside the service area"):
        check_position(-2.1750, -79.8300, at=NOW, now=NOW)  # Durán, across the river
    with pytest.raises(InvalidInput, match="future"):
        check_position(*CENTRE, at=NOW + timedelta(minutes=5), now=NOW)
    with pytest.raises(InvalidInput, match="latitude"):
        check_position(float("nan"), -79.88, at=NOW, now=NOW)
    with pytest.raises(InvalidInput, match="heading"):
        check_position(*CENTRE, at=NOW, now=NOW, heading_deg=360)


def test_demo_city_is_inside_the_service_area() -> None:
    from sereno.demo.city import CAMERAS, CENTRES
    for place in (*CAMERAS, *CENTRES):
        assert GUAYAQUIL.contains(place.latitude, place.longitude), place.id


def test_eta_model() -> None:
    one_km = great_circle_m(-2.19, -79.88, -2.19 + 1000 / 111_195, -79.88)
    assert one_km == pytest.approx(1000, rel=1e-3)
    # 1 km straight = 1.35 km of streets at 35 km/h = 139 s, plus a minute to get going.
    assert eta_seconds(UnitKind.PATROL_CAR, 1000) == pytest.approx(60 + 1350 / (35 / 3.6))
    # an agent on foot 100 m away beats a patrol car 1 km away
    assert eta_seconds(UnitKind.FOOT, 100) < eta_seconds(UnitKind.PATROL_CAR, 1000)


def _random_units(count: int, seed: int) -> list[IndexedUnit]:
    rng = random.Random(seed)
    kinds = list(UnitKind)
    statuses = [UnitStatus.AVAILABLE] * 4 + [UnitStatus.ASSIGNED, UnitStatus.OUT_OF_SERVICE]
    return [IndexedUnit(f"U{n:05d}", rng.choice(["segura-ep", "policia-nacional"]),
                        f"U{n}", rng.choice(kinds), rng.choice(statuses),
                        rng.uniform(-2.28, -2.06), rng.uniform(-79.98, -79.87))
            for n in range(count)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_index_agrees_with_brute_force(seed: int) -> None:
    units = _random_units(2000, seed)
    index = UnitIndex()
    index.load("segura-ep", [u for u in units if u.agency_id == "segura-ep"])
    index.load("policia-nacional", [u for u in units if u.agency_id == "policia-nacional"])
    assert len(index) == 2000
    rng = random.Random(seed + 100)
    for _ in range(50):
        lat, lon = rng.uniform(-2.30, -2.04), rng.uniform(-80.0, -79.86)
        kinds = rng.choice([None, {UnitKind.FOOT}, {UnitKind.PATROL_CAR, UnitKind.MOTORCYCLE}])
        agencies = rng.choice([None, {"segura-ep"}])
        limit = rng.choice([1, 5, 12])
        fast = index.nearest(lat, lon, limit=limit, kinds=kinds, agencies=agencies)
        slow = brute_force(units, lat, lon, limit=limit, kinds=kinds, agencies=agencies)
        assert [c.unit_id for c in fast] == [c.unit_id for c in slow]
        assert all(a.eta_s <= b.eta_s for a, b in itertools.pairwise(fast))


def test_index_follows_moves_and_status() -> None:
    index = UnitIndex()
    near = IndexedUnit("A", "segura-ep", "A", UnitKind.PATROL_CAR, UnitStatus.AVAILABLE, *CENTRE)
    far = IndexedUnit("B", "segura-ep", "B", UnitKind.PATROL_CAR, UnitStatus.AVAILABLE,
                      -2.25, -79.90)
    index.update_many([near, far])
    assert [c.unit_id for c in index.nearest(*CENTRE, limit=1)] == ["A"]
    index.set_status("A", UnitStatus.ASSIGNED)
    assert [c.unit_id for c in index.nearest(*CENTRE, limit=1)] == ["B"]
    index.upsert(IndexedUnit("B", "segura-ep", "B", UnitKind.PATROL_CAR, UnitStatus.AVAILABLE,
                             -2.1922, -79.8861))
    index.set_status("A", UnitStatus.AVAILABLE)
    assert [c.unit_id for c in index.nearest(*CENTRE, limit=2)] == ["A", "B"]
    assert index.nearest(*CENTRE, exclude={"A"}, limit=1)[0].unit_id == "B"
    index.remove("A")
    assert [c.unit_id for c in index.nearest(*CENTRE, limit=5)] == ["B"]
    assert index.nearest(*CENTRE, agencies={"policia-nacional"}) == []


def test_dispatch_reports_forward_only() -> None:
    dispatch = Dispatch("d1", "i1", "PN-M01", "policia-nacional", DispatchStatus.ASSIGNED,
                        "dispatcher.policia", NOW)
    dispatch.report(DispatchStatus.ACKNOWLEDGED, now=NOW + timedelta(seconds=10))
    dispatch.report(DispatchStatus.ON_SCENE, now=NOW + timedelta(seconds=300))
    assert dispatch.en_route_at == dispatch.on_scene_at == NOW + timedelta(seconds=300)
    with pytest.raises(Conflict, match="already on_scene"):
        dispatch.report(DispatchStatus.EN_ROUTE, now=NOW)
    dispatch.report(DispatchStatus.CLEARED, now=NOW + timedelta(seconds=900))
    with pytest.raises(Conflict, match="already cleared"):
        dispatch.report(DispatchStatus.CANCELLED, now=NOW)
    assert parse_dispatch_report("en-route") is DispatchStatus.EN_ROUTE
    with pytest.raises(InvalidInput, match="unknown report"):
        parse_dispatch_report("teleport")
