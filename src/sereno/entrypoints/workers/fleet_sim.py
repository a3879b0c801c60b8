"""The simulated fleet of the demo (ADR 0032): started by ``sereno serve`` on the embedded
profile when ``demo.simulate_fleet`` is on (the default there).

Every step it reads the demo agencies' units and their dispatches, and acts as each unit's
mobile terminal would, through the same service calls the mobile API uses: idle units wander
near their post; a dispatched unit acknowledges, reports en route, drives to the incident along
a Manhattan staircase at its kind's speed (× ``demo.fleet_speedup``), reports on scene on
arrival, and clears after ``demo.fleet_clear_after_seconds``. Positions go as one batch per
agency per step (``report_fleet``), so the audit log gets one record per agency per step.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from sereno.bootstrap import Platform
from sereno.demo import fleet
from sereno.domain.access import Principal, Role
from sereno.domain.errors import SerenoError
from sereno.domain.units import DispatchStatus, UnitStatus
from sereno.services import dispatch, units

logger = logging.getLogger(__name__)
AGENCIES = tuple(sorted({u.agency_id for u in fleet.UNITS}))


def terminal(agency_id: str) -> Principal:
    """Who the simulated terminals act as: a system field account of the agency."""
    return Principal(user_id="system:fleet-sim", username="system:fleet-sim",
                     agency_id=agency_id, roles=frozenset({Role.OPERATOR}), channel="system")


@dataclass
class StepReport:
    """What one step did (for tests and logs)."""

    moved: int = 0
    reports: list[tuple[str, str]] = field(default_factory=list)  # (unit, word)
    errors: list[str] = field(default_factory=list)


class FleetSimulator:
    """Moves the demo agencies' located units; one ``step`` per tick."""

    def __init__(self, platform: Platform, *, speedup: float = 1.0,
                 clear_after: timedelta = timedelta(minutes=2), seed: int = 0,
                 agencies: tuple[str, ...] = AGENCIES) -> None:
        self.platform = platform
        self.speedup = speedup
        self.clear_after = clear_after
        self.agencies = agencies
        self.rng = random.Random(seed)  # noqa: S311 — a demo patrol, not a secret
        self.states: dict[str, fleet.SimState] = {}
        self.last_step = platform.clock()

    def step(self) -> StepReport:
        """Advance every unit by the time since the last step."""
        platform = self.platform
        now = platform.clock()
        elapsed = max(0.0, (now - self.last_step).total_seconds())
        self.last_step = now
        report = StepReport()
        with platform.uow() as uow:
            found = uow.units.of_agencies(list(self.agencies))
            active = {u.id: uow.dispatches.active_of_unit(u.id) for u in found
                      if u.status is not UnitStatus.AVAILABLE}
            places = {d.incident_id: uow.dispatches.incident(d.incident_id)
                      for d in active.values() if d is not None}
        fixes: dict[str, list[tuple[str, list[units.Fix]]]] = {}
        words: list[tuple[str, str, str]] = []  # (agency, dispatch, word)
        for unit in found:
            if unit.latitude is None or unit.longitude is None:
                continue
            here = (unit.latitude, unit.longitude)
            state = self.states.setdefault(unit.id, fleet.SimState(home=here))
            made = active.get(unit.id)
            if made is None:
                state.dispatch_id, state.on_scene_since = None, None
                if unit.status is not UnitStatus.AVAILABLE:
                    continue
                if not state.route:
                    state.route = fleet.staircase(here, fleet.wander_target(state.home,
                                                                            self.rng))
                metres = fleet.WANDER_SPEED_MS * elapsed
            else:
                place = places.get(made.incident_id)
                if place is None:
                    continue
                scene = (place.latitude, place.longitude)
                if state.dispatch_id != made.id:
                    state.dispatch_id, state.on_scene_since = made.id, None
                    state.route = fleet.staircase(here, scene)
                metres = 0.0
                if made.status is DispatchStatus.ASSIGNED:
                    words.append((unit.agency_id, made.id, "acknowledge"))
                elif made.status is DispatchStatus.ACKNOWLEDGED:
                    words.append((unit.agency_id, made.id, "en-route"))
                elif made.status is DispatchStatus.EN_ROUTE:
                    metres = fleet.speed_ms(unit.kind, self.speedup) * elapsed
                elif made.status is DispatchStatus.ON_SCENE:
                    state.on_scene_since = state.on_scene_since or now
                    if fleet.on_scene_long_enough(state, now, self.clear_after):
                        words.append((unit.agency_id, made.id, "clear"))
                        state.home = here  # it patrols where it ended up
            if metres <= 0:
                continue
            position, state.route = fleet.advance(here, state.route, metres)
            if position != here:
                fix = units.Fix(position[0], position[1], now, fleet.heading(here, position),
                                round(metres / max(elapsed, 1e-6) * 3.6, 1))
                fixes.setdefault(unit.agency_id, []).append((unit.id, [fix]))
            if made is not None and made.status is DispatchStatus.EN_ROUTE and not state.route:
                words.append((unit.agency_id, made.id, "on-scene"))
        for agency_id, batch in fixes.items():
            try:
                done = units.report_fleet(platform.uow(), terminal(agency_id), batch,
                                          clock=platform.clock, index=platform.unit_index)
                report.moved += done.accepted
            except SerenoError as error:
                report.errors.append(f"positions of {agency_id}: {error.message}")
        for agency_id, dispatch_id, word in words:
            try:
                done_report = dispatch.report(platform.uow(), terminal(agency_id), dispatch_id,
                                              word, clock=platform.clock,
                                              index=platform.unit_index,
                                              publish=platform.bus.publish)
                report.reports.append((done_report.unit_id, word))
            except SerenoError as error:
                report.errors.append(f"{word} of {dispatch_id}: {error.message}")
        for problem in report.errors:
            logger.warning("fleet simulator: %s", problem)
        return report


def run_forever(simulator: FleetSimulator, stop: threading.Event, interval_s: float) -> None:
    """Step every ``interval_s`` until ``stop``."""
    while not stop.wait(interval_s):
        try:
            simulator.step()
        except Exception:  # the demo's fleet must not take the server down; next step retries
            logger.exception("fleet simulator step failed")


def start_in_thread(platform: Platform) -> threading.Event:
    """Run the simulator in a daemon thread; set the returned event to stop it."""
    settings = platform.settings.demo
    simulator = FleetSimulator(
        platform, speedup=settings.fleet_speedup,
        clear_after=timedelta(seconds=settings.fleet_clear_after_seconds))
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(simulator, stop, settings.fleet_step_seconds),
                     name="fleet-sim", daemon=True).start()
    return stop
