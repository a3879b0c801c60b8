"""Route-catalogue cases of units and dispatch: a police user never lists, moves, recommends,
dispatches or reports on Segura EP's units and incidents (404 or 403, nothing changes); every
call is audited. ``test_agency_scoping``, ``test_audit`` and ``test_auth`` merge them in."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from sereno.adapters.db.tables import dispatches, units
from sereno.bootstrap import Platform
from sereno.domain.access import Principal, Role
from sereno.services import dispatch
from tests.support.dispatch import CENTRE, add_incident, add_unit

Check = Callable[[TestClient, dict[str, str], str], None]
API = "/api/v1"
UNITS = f"{API}/units"
PATH_IDS = ("{unit_id}", "{incident_id}", "{dispatch_id}", "{report}")


def _platform(client: TestClient) -> Platform:
    platform: Platform = client.app.state.platform  # type: ignore[attr-defined]
    return platform


def _segura_unit(platform: Platform, unit_id: str = "SEG-CASE-1") -> str:
    with platform.uow() as uow:
        known = uow.units.get(unit_id) is not None
    if not known:
        add_unit(platform, unit_id, "segura-ep", at=CENTRE)
    return unit_id


def _segura_dispatch(platform: Platform) -> str:
    unit_id = _segura_unit(platform, f"SEG-CASE-{uuid.uuid4().hex[:12]}")
    who = Principal(user_id="d", username="dispatcher.segura", agency_id="segura-ep",
                    roles=frozenset({Role.DISPATCHER}))
    made = dispatch.dispatch_units(platform.uow(), who, add_incident(platform), [unit_id],
                                   clock=platform.clock, index=platform.unit_index)
    return made[0].id


def _state(platform: Platform) -> str:
    with platform.engine.connect() as connection:
        rows = connection.execute(select(units).order_by(units.c.id)).mappings().all()
        sent = connection.execute(select(dispatches).order_by(dispatches.c.id)).mappings().all()
    return repr([dict(r) for r in rows]) + repr([dict(r) for r in sent])


def _denied(response: Any, *allowed: int) -> None:
    assert response.status_code in (allowed or (403, 404)), response.text
    assert "error" in response.json()


def list_units(client: TestClient, headers: dict[str, str], _: str) -> None:
    _segura_unit(_platform(client))
    response = client.get(UNITS, headers=headers)
    if response.status_code == 200:
        assert all(u["agency"] == "policia-nacional" for u in response.json())
    else:
        _denied(response, 403)


def register_unit(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    unit_id = _segura_unit(platform)
    before = _state(platform)
    response = client.post(UNITS, headers=headers, json={
        "id": unit_id, "name": "Captura", "kind": "foot"})  # Segura's call sign
    _denied(response, 403, 409)
    assert _state(platform) == before


def report_positions(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    unit_id = _segura_unit(platform)
    before = _state(platform)
    at = (platform.clock() + timedelta(seconds=5)).isoformat()
    response = client.post(f"{UNITS}/{unit_id}/positions", headers=headers, json={
        "positions": [{"latitude": -2.19, "longitude": -79.88, "at": at}]})
    _denied(response)
    assert _state(platform) == before


def set_service(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    unit_id = _segura_unit(platform)
    before = _state(platform)
    _denied(client.post(f"{UNITS}/{unit_id}/status", headers=headers,
                        json={"status": "out_of_service"}))
    assert _state(platform) == before


def recommendations(client: TestClient, headers: dict[str, str], _: str) -> None:
    incident = add_incident(_platform(client))
    _denied(client.get(f"{API}/incidents/{incident}/recommendations", headers=headers))


def list_dispatches(client: TestClient, headers: dict[str, str], _: str) -> None:
    incident = add_incident(_platform(client))
    _denied(client.get(f"{API}/incidents/{incident}/dispatches", headers=headers))


def dispatch_units(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    unit_id = _segura_unit(platform)
    incident = add_incident(platform)
    before = _state(platform)
    _denied(client.post(f"{API}/incidents/{incident}/dispatches", headers=headers,
                        json={"units": [unit_id]}))
    assert _state(platform) == before


def report_on_dispatch(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    dispatch_id = _segura_dispatch(platform)
    before = _state(platform)
    for word in ("acknowledge", "en-route", "on-scene", "clear"):
        _denied(client.post(f"{API}/dispatches/{dispatch_id}/{word}", headers=headers))
    assert _state(platform) == before


SCOPING: dict[tuple[str, str], Check] = {
    ("GET", UNITS): list_units,
    ("POST", UNITS): register_unit,
    ("POST", f"{UNITS}/{{unit_id}}/positions"): report_positions,
    ("POST", f"{UNITS}/{{unit_id}}/status"): set_service,
    ("GET", f"{API}/incidents/{{incident_id}}/recommendations"): recommendations,
    ("GET", f"{API}/incidents/{{incident_id}}/dispatches"): list_dispatches,
    ("POST", f"{API}/incidents/{{incident_id}}/dispatches"): dispatch_units,
    ("POST", f"{API}/dispatches/{{dispatch_id}}/{{report}}"): report_on_dispatch,
}


def _fix(platform: Platform) -> dict[str, Any]:
    at = (platform.clock() + timedelta(seconds=5)).isoformat()
    return {"positions": [{"latitude": -2.1925, "longitude": -79.8866, "at": at}]}


AUDITED: dict[tuple[str, str], tuple[str, Callable[..., object], str]] = {
    ("GET", UNITS): ("dispatcher.segura", lambda c, h, p: c.get(UNITS, headers=h),
                     "unit.list"),
    ("POST", UNITS): (
        "admin.segura",
        lambda c, h, p: c.post(UNITS, headers=h, json={"id": "SEG-NEW-1", "name": "Nueva",
                                                       "kind": "motorcycle"}),
        "unit.register"),
    ("POST", f"{UNITS}/{{unit_id}}/positions"): (
        "operator.segura",
        lambda c, h, p: c.post(f"{UNITS}/{_segura_unit(p)}/positions", headers=h,
                               json=_fix(p)),
        "unit.position"),
    ("POST", f"{UNITS}/{{unit_id}}/status"): (
        "supervisor.segura",
        lambda c, h, p: c.post(f"{UNITS}/{_segura_unit(p)}/status", headers=h,
                               json={"status": "out_of_service"}),
        "unit.service"),
    ("GET", f"{API}/incidents/{{incident_id}}/recommendations"): (
        "dispatcher.segura",
        lambda c, h, p: c.get(f"{API}/incidents/{add_incident(p)}/recommendations",
                              headers=h),
        "incident.recommend"),
    ("GET", f"{API}/incidents/{{incident_id}}/dispatches"): (
        "dispatcher.segura",
        lambda c, h, p: c.get(f"{API}/incidents/{add_incident(p)}/dispatches", headers=h),
        "incident.dispatches"),
    ("POST", f"{API}/incidents/{{incident_id}}/dispatches"): (
        "dispatcher.segura",
        lambda c, h, p: c.post(f"{API}/incidents/{add_incident(p)}/dispatches", headers=h,
                               json={"units": [_segura_unit(p)]}),
        "incident.dispatch"),
    ("POST", f"{API}/dispatches/{{dispatch_id}}/{{report}}"): (
        "operator.segura",
        lambda c, h, p: c.post(f"{API}/dispatches/{_segura_dispatch(p)}/acknowledge",
                               headers=h),
        "dispatch.acknowledge"),
}
