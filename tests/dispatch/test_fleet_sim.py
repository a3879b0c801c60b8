"""The demo's simulated fleet: seeded units, a dispatched unit drives to the scene and reports
through the mobile-terminal service calls, idle units wander near their posts."""

from __future__ import annotations

from datetime import timedelta

from sereno.bootstrap import Platform
from sereno.config import Settings
from sereno.demo import fleet
from sereno.domain.access import Principal, Role
from sereno.domain.eta import great_circle_m
from sereno.domain.units import GUAYAQUIL, DispatchStatus
from sereno.entrypoints.workers.fleet_sim import FleetSimulator
from sereno.services import dispatch
from tests.conftest import FakeClock, audit_rows
from tests.support.dispatch import add_incident

MALECON = (-2.1953, -79.8797)
STEP_S = 2.0


def test_demo_units_are_seeded_inside_the_city(platform: Platform) -> None:
    with platform.uow() as uow:
        seeded = uow.units.of_agencies(["policia-nacional", "segura-ep"])
    assert {u.id for u in seeded} == {d.id for d in fleet.UNITS}
    assert len([u for u in seeded if u.agency_id == "policia-nacional"]) == 12
    assert all(u.status.value == "available" and u.latitude is not None for u in seeded)
    assert all(GUAYAQUIL.contains(d.latitude, d.longitude) for d in fleet.UNITS)


def test_the_simulation_is_on_by_default_only_on_the_embedded_profile() -> None:
    assert Settings().demo.simulate_fleet is True
    assert Settings(profile="production", database_url="postgresql+psycopg://x@h/db"
                    ).demo.simulate_fleet is False


def test_a_dispatched_unit_drives_there_and_reports(platform: Platform,
                                                    clock: FakeClock) -> None:
    incident = add_incident(platform, "segura-ep", MALECON)
    who = Principal(user_id="d", username="dispatcher.segura", agency_id="segura-ep",
                    roles=frozenset({Role.DISPATCHER}))
    best = dispatch.recommend(platform.uow(), who, incident, clock=clock,
                              index=platform.unit_index, kinds=["patrol_car"]).units[0]
    made = dispatch.dispatch_units(platform.uow(), who, incident, [best.unit_id], clock=clock,
                                   index=platform.unit_index)[0]
    simulator = FleetSimulator(platform, speedup=1.0, clear_after=timedelta(seconds=60))
    start_distance = best.distance_m
    words: list[str] = []
    steps = 0
    # at 35 km/h a patrol car covers ~19 m a step: the staircase is < 1.5 × the straight line
    limit = int(start_distance * 1.5 / (35 / 3.6 * STEP_S)) + 10
    while "on-scene" not in words and steps < limit:
        clock.advance(seconds=STEP_S)
        step = simulator.step()
        assert not step.errors, step.errors
        words += [w for unit, w in step.reports if unit == best.unit_id]
        steps += 1
    assert words == ["acknowledge", "en-route", "on-scene"], (words, steps, limit)
    with platform.uow() as uow:
        unit = uow.units.get(best.unit_id)
        current = uow.dispatches.get(made.id)
        track = uow.units.track(best.unit_id, since=made.assigned_at)
    assert unit is not None and current is not None and unit.latitude is not None
    assert unit.status.value == "on_scene" and current.status is DispatchStatus.ON_SCENE
    assert great_circle_m(unit.latitude, unit.longitude, *MALECON) < 1.0
    assert len(track) >= 5 and all(GUAYAQUIL.contains(p.latitude, p.longitude) for p in track)
    assert current.acknowledged_at is not None and current.en_route_at is not None
    assert current.assigned_at < current.acknowledged_at < current.en_route_at \
        < current.on_scene_at  # type: ignore[operator]
    for _ in range(40):  # a minute on scene, then it clears and patrols again
        clock.advance(seconds=STEP_S)
        simulator.step()
    with platform.uow() as uow:
        cleared = uow.dispatches.get(made.id)
        unit = uow.units.get(best.unit_id)
    assert cleared is not None and cleared.status is DispatchStatus.CLEARED
    assert unit is not None and unit.status.value == "available" and unit.incident_id is None
    reports = [r for r in audit_rows(platform) if r.actor_username == "system:fleet-sim"]
    assert {r.action for r in reports} >= {"unit.position", "dispatch.en-route",
                                          "dispatch.on-scene", "dispatch.clear"}


def test_idle_units_wander_near_their_post(platform: Platform, clock: FakeClock) -> None:
    simulator = FleetSimulator(platform, speedup=1.0)
    for _ in range(30):
        clock.advance(seconds=STEP_S)
        step = simulator.step()
        assert not step.errors, step.errors
    with platform.uow() as uow:
        now = {u.id: u for u in uow.units.of_agencies(["policia-nacional", "segura-ep"])}
    moved = 0
    for d in fleet.UNITS:
        unit = now[d.id]
        assert unit.latitude is not None and unit.longitude is not None
        away = great_circle_m(unit.latitude, unit.longitude, d.latitude, d.longitude)
        assert away <= fleet.WANDER_RADIUS_M * 2
        moved += away > 1
    assert moved == len(fleet.UNITS)
