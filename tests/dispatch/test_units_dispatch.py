"""Units, AVL positions, recommendations, dispatch and the mobile terminal, through the API and
the services, on SQLite and PostgreSQL; two dispatchers racing for one unit."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sereno.adapters.db.tables import (
    audit_records,
    dispatches,
    incident_events,
    incidents,
    unit_positions,
    units,
)
from sereno.bootstrap import Platform
from sereno.domain.access import Principal, Role
from sereno.domain.errors import Conflict
from sereno.domain.units import UnitKind
from sereno.services import dispatch
from tests.conftest import audit_rows, bearer
from tests.support.dispatch import CENTRE, add_incident, add_unit

API = "/api/v1"


def principal(username: str, agency: str, role: Role) -> Principal:
    return Principal(user_id=username, username=username, agency_id=agency,
                     roles=frozenset({role}))


def _fix(platform: Platform, lat: float, lon: float, seconds: float = 0) -> dict[str, Any]:
    return {"latitude": lat, "longitude": lon,
            "at": (platform.clock() + timedelta(seconds=seconds)).isoformat()}


def test_positions_single_batch_stale_outside_and_foreign(client: TestClient,
                                                          platform: Platform) -> None:
    add_unit(platform, "SEG-T1", "segura-ep", "motorcycle")
    add_unit(platform, "PN-T1", "policia-nacional")
    headers = bearer(client, "operator.segura")
    url = f"{API}/units/SEG-T1/positions"
    one = client.post(url, headers=headers, json={"positions": [_fix(platform, *CENTRE)]})
    assert one.status_code == 200, one.text
    assert one.json()["accepted"] == 1
    batch = [_fix(platform, -2.1900 + n * 0.0005, -79.8850, seconds=n + 1) for n in range(5)]
    done = client.post(url, headers=headers, json={"positions": list(reversed(batch))})
    assert done.status_code == 200 and done.json()["accepted"] == 5
    assert done.json()["latitude"] == pytest.approx(-2.1880)  # the newest, whatever the order
    stale = client.post(url, headers=headers, json={"positions": [_fix(platform, *CENTRE, 2)]})
    assert stale.status_code == 409 and stale.json()["error"]["message"] == "stale position"
    outside = client.post(url, headers=headers, json={"positions": [
        _fix(platform, -2.19, -79.88, 10), _fix(platform, -2.175, -79.83, 11)]})
    assert outside.status_code == 422
    assert "outside the service area" in outside.json()["error"]["message"]
    assert outside.json()["error"]["details"] == [
        {"fix": 1, "at": (platform.clock() + timedelta(seconds=11)).isoformat()}]
    naive = client.post(url, headers=headers, json={"positions": [
        {"latitude": -2.19, "longitude": -79.88, "at": "2026-11-25T10:00:00"}]})
    assert naive.status_code == 422
    foreign = client.post(f"{API}/units/PN-T1/positions", headers=headers,
                          json={"positions": [_fix(platform, *CENTRE, 20)]})
    assert foreign.status_code == 404
    unknown = client.post(f"{API}/units/NOPE/positions", headers=headers,
                          json={"positions": [_fix(platform, *CENTRE, 20)]})
    assert unknown.status_code == 404
    analyst = client.post(url, headers=bearer(client, "analyst.segura"),
                          json={"positions": [_fix(platform, *CENTRE, 30)]})
    assert analyst.status_code == 403
    # nothing of the refused batches stayed: the row and the history hold the 6 accepted
    with platform.engine.connect() as connection:
        row = connection.execute(select(units).where(units.c.id == "SEG-T1")).mappings().one()
        kept = connection.execute(select(func.count()).select_from(unit_positions)
                                  .where(unit_positions.c.unit_id == "SEG-T1")).scalar_one()
    assert row["latitude"] == pytest.approx(-2.1880) and kept == 6
    records = [r for r in audit_rows(platform) if r.action == "unit.position"]
    assert [(r.outcome, r.object_id) for r in records] == [
        ("allowed", "SEG-T1"), ("allowed", "SEG-T1"), ("denied", "SEG-T1"),
        ("rejected", "SEG-T1"), ("denied", "PN-T1"), ("denied", "NOPE"), ("denied", "SEG-T1")]
    assert records[1].detail["fixes"] == 5  # one record for the batch of five
    assert records[4].reason == "unit of another agency"


def test_register_and_list_units(client: TestClient, platform: Platform) -> None:
    admin = bearer(client, "admin.segura")
    made = client.post(f"{API}/units", headers=admin,
                       json={"id": "SEG-BIC-01", "name": "Bicicleta 1", "kind": "bicycle"})
    assert made.status_code == 201, made.text
    assert made.json()["agency"] == "segura-ep" and made.json()["status"] == "available"
    again = client.post(f"{API}/units", headers=admin,
                        json={"id": "SEG-BIC-01", "name": "Otra", "kind": "bicycle"})
    assert again.status_code == 409
    bad = client.post(f"{API}/units", headers=admin,
                      json={"id": "SEG-X", "name": "X", "kind": "helicopter"})
    assert bad.status_code == 422 and "unknown unit kind" in bad.json()["error"]["message"]
    smuggled = client.post(f"{API}/units", headers=admin, json={
        "id": "SEG-Y", "name": "Y", "kind": "foot", "agency_id": "policia-nacional"})
    assert smuggled.status_code == 422
    assert client.post(f"{API}/units", headers=bearer(client, "dispatcher.segura"), json={
        "id": "SEG-Z", "name": "Z", "kind": "foot"}).status_code == 403
    add_unit(platform, "PN-T9", "policia-nacional")
    listed = client.get(f"{API}/units", headers=bearer(client, "dispatcher.segura"))
    ids = {u["id"] for u in listed.json()}
    assert "SEG-BIC-01" in ids and "PN-T9" not in ids
    assert all(u["agency"] == "segura-ep" for u in listed.json())


def test_recommend_dispatch_and_mobile_reports(client: TestClient,
                                               platform: Platform) -> None:
    near_car = (-2.1930, -79.8870)  # ~150 m
    add_unit(platform, "SEG-T-CAR", "segura-ep", "patrol_car", near_car)
    add_unit(platform, "SEG-T-FAR", "segura-ep", "patrol_car", (-2.2250, -79.8870))
    add_unit(platform, "SEG-T-FOOT", "segura-ep", "foot", (-2.1925, -79.8866))  # ~60 m
    add_unit(platform, "PN-T-CAR", "policia-nacional", "patrol_car", CENTRE)
    incident = add_incident(platform)
    dispatcher = bearer(client, "dispatcher.segura")
    rec = client.get(f"{API}/incidents/{incident}/recommendations", headers=dispatcher,
                     params={"limit": 10})
    assert rec.status_code == 200, rec.text
    ordered = [u["unit_id"] for u in rec.json()["units"] if u["unit_id"].startswith("SEG-T")]
    assert ordered == ["SEG-T-FOOT", "SEG-T-CAR", "SEG-T-FAR"]
    assert all(not u["unit_id"].startswith("PN-") for u in rec.json()["units"])
    cars = client.get(f"{API}/incidents/{incident}/recommendations", headers=dispatcher,
                      params=[("kind", "patrol_car"), ("limit", "10")])
    assert "SEG-T-FOOT" not in [u["unit_id"] for u in cars.json()["units"]]
    first = rec.json()["units"][0]
    assert first["eta_s"] > 0 and first["distance_m"] < 100
    assert client.get(f"{API}/incidents/{incident}/recommendations",
                      headers=bearer(client, "operator.segura")).status_code == 403
    assert client.get(f"{API}/incidents/{incident}/recommendations",
                      headers=bearer(client, "dispatcher.policia")).status_code == 404

    made = client.post(f"{API}/incidents/{incident}/dispatches", headers=dispatcher,
                       json={"units": ["SEG-T-CAR"]})
    assert made.status_code == 201, made.text
    sent = made.json()[0]
    assert sent["status"] == "assigned" and sent["eta_s"] > 60
    assert _incident(platform, incident)["status"] == "dispatched"
    again = client.post(f"{API}/incidents/{incident}/dispatches", headers=dispatcher,
                        json={"units": ["SEG-T-FAR", "SEG-T-CAR"]})
    assert again.status_code == 409
    assert again.json()["error"]["message"] == "unit already assigned"
    far = client.get(f"{API}/units", headers=dispatcher, params={"status": "available"})
    assert "SEG-T-FAR" in {u["id"] for u in far.json()}  # all or none: FAR not assigned
    foreign = client.post(f"{API}/incidents/{incident}/dispatches", headers=dispatcher,
                          json={"units": ["PN-T-CAR"]})
    assert foreign.status_code == 404
    rec = client.get(f"{API}/incidents/{incident}/recommendations", headers=dispatcher,
                     params={"limit": 10})
    assert "SEG-T-CAR" not in [u["unit_id"] for u in rec.json()["units"]]

    field = bearer(client, "operator.segura")
    url = f"{API}/dispatches/{sent['id']}"
    assert client.post(f"{url}/on-scene", headers=bearer(client, "operator.policia")
                       ).status_code == 404
    for word, status, unit_status in (("acknowledge", "acknowledged", "assigned"),
                                      ("en-route", "en_route", "en_route"),
                                      ("on-scene", "on_scene", "on_scene")):
        platform.clock.advance(seconds=60)  # type: ignore[attr-defined]
        done = client.post(f"{url}/{word}", headers=field)
        assert done.status_code == 200, done.text
        assert done.json()["status"] == status
        units_now = {u["id"]: u for u in client.get(f"{API}/units", headers=field).json()}
        assert units_now["SEG-T-CAR"]["status"] == unit_status
        assert units_now["SEG-T-CAR"]["incident_id"] == incident
        if word != "acknowledge":  # the incident follows its unit
            assert _incident(platform, incident)["status"] == status
    back = client.post(f"{url}/en-route", headers=field)
    assert back.status_code == 409
    platform.clock.advance(seconds=600)  # type: ignore[attr-defined]
    cleared = client.post(f"{url}/clear", headers=field)
    assert cleared.status_code == 200
    stamps = cleared.json()
    assert stamps["assigned_at"] < stamps["acknowledged_at"] < stamps["en_route_at"] \
        < stamps["on_scene_at"] < stamps["cleared_at"]
    assert client.post(f"{url}/clear", headers=field).status_code == 409
    assert client.post(f"{url}/teleport", headers=field).status_code == 422
    units_now = {u["id"]: u for u in client.get(f"{API}/units", headers=field).json()}
    assert units_now["SEG-T-CAR"]["status"] == "available"
    assert units_now["SEG-T-CAR"]["incident_id"] is None
    listed = client.get(f"{API}/incidents/{incident}/dispatches", headers=field)
    assert [d["status"] for d in listed.json()] == ["cleared"]
    actions = [r.action for r in audit_rows(platform) if r.action.startswith("dispatch.")]
    assert actions[-1] == "dispatch.clear"
    row = _incident(platform, incident)
    assert row["status"] == "on_scene"  # clearing does not resolve it: the dispatcher does
    assert row["dispatched_at"] < row["en_route_at"] < row["on_scene_at"]
    with platform.engine.connect() as connection:
        timeline = connection.execute(
            select(incident_events.c.kind, incident_events.c.to_status,
                   incident_events.c.detail)
            .where(incident_events.c.incident_id == incident)
            .order_by(incident_events.c.id)).all()
    kinds = [(k, t) for k, t, _ in timeline]
    assert kinds == [("transition", "dispatched"), ("unit_assigned", None),
                     ("unit_status", None), ("transition", "en_route"), ("unit_status", None),
                     ("transition", "on_scene"), ("unit_status", None), ("unit_status", None)]
    assert [d.get("status") for k, _, d in timeline if k == "unit_status"] == [
        "acknowledged", "en_route", "on_scene", "cleared"]


def _incident(platform: Platform, incident_id: str) -> dict[str, Any]:
    with platform.engine.connect() as connection:
        return dict(connection.execute(select(incidents).where(incidents.c.id == incident_id)
                                       ).mappings().one())


def test_closed_incident_and_out_of_service_unit(client: TestClient,
                                                 platform: Platform) -> None:
    add_unit(platform, "SEG-T-1", "segura-ep", at=CENTRE)
    closed = add_incident(platform, status="closed")
    dispatcher = bearer(client, "dispatcher.segura")
    refused = client.post(f"{API}/incidents/{closed}/dispatches", headers=dispatcher,
                          json={"units": ["SEG-T-1"]})
    assert refused.status_code == 409 and "closed" in refused.json()["error"]["message"]
    dup = client.post(f"{API}/incidents/{closed}/dispatches", headers=dispatcher,
                      json={"units": ["SEG-T-1", "SEG-T-1"]})
    assert dup.status_code == 422
    field = bearer(client, "operator.segura")
    off = client.post(f"{API}/units/SEG-T-1/status", headers=field,
                      json={"status": "out_of_service"})
    assert off.status_code == 200 and off.json()["status"] == "out_of_service"
    assert client.post(f"{API}/units/SEG-T-1/status", headers=field,
                       json={"status": "on_scene"}).status_code == 422
    assert client.post(f"{API}/units/SEG-T-1/status", headers=bearer(client, "analyst.segura"),
                       json={"status": "available"}).status_code == 403
    open_one = add_incident(platform)
    out = client.post(f"{API}/incidents/{open_one}/dispatches", headers=dispatcher,
                      json={"units": ["SEG-T-1"]})
    assert out.status_code == 409 and out.json()["error"]["message"] == "unit is out of service"
    rec = client.get(f"{API}/incidents/{open_one}/recommendations", headers=dispatcher,
                     params={"limit": 50})
    assert "SEG-T-1" not in [u["unit_id"] for u in rec.json()["units"]]
    back = client.post(f"{API}/units/SEG-T-1/status", headers=field,
                       json={"status": "available"})
    assert back.status_code == 200
    sent = client.post(f"{API}/incidents/{open_one}/dispatches", headers=dispatcher,
                       json={"units": ["SEG-T-1"]})
    assert sent.status_code == 201
    busy = client.post(f"{API}/units/SEG-T-1/status", headers=field,
                       json={"status": "out_of_service"})
    assert busy.status_code == 409  # on a dispatch: it must clear first
    records = [r for r in audit_rows(platform) if r.action == "unit.service"]
    # (the status outside the two the route takes is refused by the HTTP edge, as any body)
    assert [r.outcome for r in records] == ["allowed", "denied", "allowed", "denied"]


def test_the_version_check_refuses_a_stale_assignment(platform: Platform) -> None:
    add_unit(platform, "SEG-T-CAS", "segura-ep", at=CENTRE)
    with platform.uow() as uow:
        seen = uow.units.get("SEG-T-CAS")
    assert seen is not None
    dispatcher = principal("dispatcher.segura", "segura-ep", Role.DISPATCHER)
    dispatch.dispatch_units(platform.uow(), dispatcher, add_incident(platform), ["SEG-T-CAS"],
                            clock=platform.clock, index=platform.unit_index)
    version = seen.version
    seen.become(seen.status.ASSIGNED, now=platform.clock())
    with platform.uow() as uow:
        assert uow.units.save_status(seen, seen_version=version) is False
        uow.rollback()


@pytest.mark.parametrize("rounds", [4])
def test_two_dispatchers_assigning_one_unit_at_once(platform: Platform, rounds: int) -> None:
    for n in range(rounds):
        unit_id = f"SEG-RACE-{n}"
        add_unit(platform, unit_id, "segura-ep", at=CENTRE)
        incidents_ = [add_incident(platform), add_incident(platform)]
        barrier = threading.Barrier(2)
        outcomes: list[str] = []
        lock = threading.Lock()

        def assign(incident_id: str, username: str, unit_id: str = unit_id,
                   barrier: threading.Barrier = barrier,
                   outcomes: list[str] = outcomes, lock: threading.Lock = lock) -> None:
            who = principal(username, "segura-ep", Role.DISPATCHER)
            barrier.wait()
            try:
                dispatch.dispatch_units(platform.uow(), who, incident_id, [unit_id],
                                        clock=platform.clock, index=platform.unit_index)
                result = "won"
            except Conflict as error:
                result = error.message
            with lock:
                outcomes.append(result)

        threads = [threading.Thread(target=assign, args=(incidents_[0], "dispatcher.segura")),
                   threading.Thread(target=assign, args=(incidents_[1], "supervisor.segura"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(outcomes) == ["unit already assigned", "won"], outcomes
        with platform.engine.connect() as connection:
            row = connection.execute(select(units).where(units.c.id == unit_id)
                                     ).mappings().one()
            refused = connection.execute(select(func.count()).select_from(audit_records).where(
                audit_records.c.action == "incident.dispatch",
                audit_records.c.object_id == unit_id,
                audit_records.c.outcome == "denied")).scalar_one()
        assert row["status"] == "assigned" and row["incident_id"] in incidents_
        assert row["version"] == 2 and refused == 1


def test_index_follows_other_processes(platform: Platform) -> None:
    """A unit changed by another process (here: straight in the database) is seen after the
    resync period; a unit the index believes available but is not is never recommended."""
    add_unit(platform, "SEG-T-A", "segura-ep", at=(-2.1922, -79.8863))
    incident = add_incident(platform)
    who = principal("dispatcher.segura", "segura-ep", Role.DISPATCHER)
    found = dispatch.recommend(platform.uow(), who, incident, clock=platform.clock,
                               index=platform.unit_index, limit=1)
    assert [c.unit_id for c in found.units] == ["SEG-T-A"]
    with platform.engine.begin() as connection:  # another process assigns it
        connection.execute(units.update().where(units.c.id == "SEG-T-A")
                           .values(status="assigned", version=2))
    found = dispatch.recommend(platform.uow(), who, incident, clock=platform.clock,
                               index=platform.unit_index, limit=1)
    assert [c.unit_id for c in found.units] != ["SEG-T-A"]
    add_unit(platform, "SEG-T-B", "segura-ep", at=CENTRE)  # registered elsewhere
    platform.clock.advance(seconds=3)  # type: ignore[attr-defined]
    found = dispatch.recommend(platform.uow(), who, incident, clock=platform.clock,
                               index=platform.unit_index, limit=1)
    assert [c.unit_id for c in found.units] == ["SEG-T-B"]
    assert UnitKind.PATROL_CAR is found.units[0].kind


def test_two_dispatch_requests_at_once_over_http(client: TestClient,
                                                 platform: Platform) -> None:
    """The same race through the HTTP stack: two clients, two threads, one unit."""
    add_unit(platform, "SEG-RACE-HTTP", "segura-ep", at=CENTRE)
    targets = [add_incident(platform), add_incident(platform)]
    headers = [bearer(client, "dispatcher.segura"), bearer(client, "supervisor.segura")]
    barrier = threading.Barrier(2)
    statuses: list[int] = []
    messages: list[str] = []

    def post(n: int) -> None:
        with TestClient(client.app) as own:
            barrier.wait()
            response = own.post(f"{API}/incidents/{targets[n]}/dispatches", headers=headers[n],
                                json={"units": ["SEG-RACE-HTTP"]})
        statuses.append(response.status_code)
        if response.status_code == 409:
            messages.append(response.json()["error"]["message"])

    threads = [threading.Thread(target=post, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [201, 409] and messages == ["unit already assigned"]
    with platform.engine.connect() as connection:
        sent = connection.execute(select(func.count()).select_from(dispatches).where(
            dispatches.c.unit_id == "SEG-RACE-HTTP")).scalar_one()
    assert sent == 1
