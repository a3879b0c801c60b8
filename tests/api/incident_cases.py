"""Route-catalogue cases of incidents and the incident type catalogue: a police user never
lists, reads, moves, notes, links, merges, reprioritises or sees the cameras of Segura EP's
incidents, never opens one from Segura EP's alerts, never changes Segura EP's types; every call
is audited. ``test_agency_scoping``, ``test_audit`` and ``test_auth`` merge them in."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.domain.access import Principal, Role
from sereno.services import incidents
from tests.support.cap import XML, message, raise_alert, register

Check = Callable[[TestClient, dict[str, str], str], None]
INCIDENTS = "/api/v1/incidents"
TYPES = "/api/v1/incident-types"
PATH_IDS = ("{incident_id}", "{code}")
PLACE = (-2.1955, -79.8799)  # in front of SEG-001


def _platform(client: TestClient) -> Platform:
    platform: Platform = client.app.state.platform  # type: ignore[attr-defined]
    return platform


def segura_incident(platform: Platform, title: str = "Robo en el Malecón") -> str:
    """A new incident of Segura EP (opened by its operator); its id."""
    operator = Principal("case", "operator.segura", "segura-ep", frozenset({Role.OPERATOR}))
    incident = incidents.create(platform.uow(), operator, incidents.NewIncident(
        type_code="robo", title=title, latitude=PLACE[0], longitude=PLACE[1]),
        clock=platform.clock)
    return incident.id


def _state(platform: Platform, incident_id: str) -> tuple[str, int]:
    with platform.uow() as uow:
        incident = uow.incidents.get(incident_id)
    assert incident is not None
    return incident.status.value, incident.version


def _denied(response, *allowed: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in (allowed or (403, 404)), response.text
    assert "error" in response.json()


def list_incidents(client: TestClient, headers: dict[str, str], _: str) -> None:
    segura_incident(_platform(client))
    response = client.get(INCIDENTS, headers=headers, params={"status": "all"})
    if response.status_code == 200:
        assert all(i["agency"] == "policia-nacional" for i in response.json())
    else:
        _denied(response, 403)


def create_incident(client: TestClient, headers: dict[str, str], _: str) -> None:
    response = client.post(INCIDENTS, headers=headers, json={
        "type": "robo", "title": "Robo", "latitude": PLACE[0], "longitude": PLACE[1]})
    if response.status_code == 201:  # their own, in their own agency
        assert response.json()["agency"] == "policia-nacional"
    else:
        _denied(response, 403)


def incident_from_alert(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    alert = raise_alert(platform)  # Segura EP's
    _denied(client.post(f"{INCIDENTS}/from-alert", headers=headers,
                        json={"alert_id": alert.id}), 403, 404)
    with platform.uow() as uow:
        assert uow.incidents.holding(alert.id) is None


def incident_from_cap(client: TestClient, headers: dict[str, str], _: str) -> None:
    register(_platform(client))  # a source of Segura EP's, not theirs
    _denied(client.post(f"{INCIDENTS}/from-cap", headers={**headers, **XML},
                        content=message()), 403)


def read_incident(client: TestClient, headers: dict[str, str], _: str) -> None:
    incident_id = segura_incident(_platform(client))
    _denied(client.get(f"{INCIDENTS}/{incident_id}", headers=headers), 403, 404)


def _unchanged(call: Callable[[TestClient, dict[str, str], str], object]) -> Check:
    def check(client: TestClient, headers: dict[str, str], _: str) -> None:
        platform = _platform(client)
        incident_id = segura_incident(platform)
        before = _state(platform, incident_id)
        _denied(call(client, headers, incident_id), 403, 404)  # type: ignore[arg-type]
        assert _state(platform, incident_id) == before
    return check


def incident_cameras(client: TestClient, headers: dict[str, str], _: str) -> None:
    incident_id = segura_incident(_platform(client))
    _denied(client.get(f"{INCIDENTS}/{incident_id}/cameras", headers=headers), 403, 404)


def list_types(client: TestClient, headers: dict[str, str], _: str) -> None:
    response = client.get(TYPES, headers=headers)
    if response.status_code != 200:
        _denied(response, 403)


def save_type(client: TestClient, headers: dict[str, str], _: str) -> None:
    response = client.put(f"{TYPES}/robo", headers=headers, json={
        "name_es": "Robo cambiado", "name_en": "Changed", "default_priority": 5,
        "category": "Other"})
    if response.status_code in (200, 201):  # the police admin edits the police catalogue
        assert response.json()["name_es"] == "Robo cambiado"
    else:
        _denied(response, 403)
    with _platform(client).uow() as uow:
        kind = uow.incident_types.get("segura-ep", "robo")
    assert kind is not None and kind.name_es == "Robo" and kind.default_priority == 2


SCOPING: dict[tuple[str, str], Check] = {
    ("GET", INCIDENTS): list_incidents,
    ("POST", INCIDENTS): create_incident,
    ("POST", f"{INCIDENTS}/from-alert"): incident_from_alert,
    ("POST", f"{INCIDENTS}/from-cap"): incident_from_cap,
    ("GET", f"{INCIDENTS}/{{incident_id}}"): read_incident,
    ("POST", f"{INCIDENTS}/{{incident_id}}/transition"): _unchanged(
        lambda c, h, i: c.post(f"{INCIDENTS}/{i}/transition", headers=h,
                               json={"to": "acknowledged"})),
    ("POST", f"{INCIDENTS}/{{incident_id}}/notes"): _unchanged(
        lambda c, h, i: c.post(f"{INCIDENTS}/{i}/notes", headers=h, json={"text": "hola"})),
    ("POST", f"{INCIDENTS}/{{incident_id}}/alerts"): _unchanged(
        lambda c, h, i: c.post(f"{INCIDENTS}/{i}/alerts", headers=h,
                               json={"alert_id": raise_alert(c.app.state.platform).id})),
    ("POST", f"{INCIDENTS}/{{incident_id}}/merge"): _unchanged(
        lambda c, h, i: c.post(f"{INCIDENTS}/{i}/merge", headers=h,
                               json={"into": segura_incident(c.app.state.platform, "Otro")})),
    ("POST", f"{INCIDENTS}/{{incident_id}}/priority"): _unchanged(
        lambda c, h, i: c.post(f"{INCIDENTS}/{i}/priority", headers=h, json={"priority": 1})),
    ("GET", f"{INCIDENTS}/{{incident_id}}/cameras"): incident_cameras,
    ("GET", TYPES): list_types,
    ("PUT", f"{TYPES}/{{code}}"): save_type,
}


def _cap(c: TestClient, h: dict[str, str], p: Platform) -> object:
    register(p)
    return c.post(f"{INCIDENTS}/from-cap", headers={**h, **XML}, content=message())


AUDITED: dict[tuple[str, str], tuple[str, Callable[..., object], str]] = {
    ("GET", INCIDENTS): ("operator.segura", lambda c, h, p: c.get(INCIDENTS, headers=h),
                         "incident.list"),
    ("POST", INCIDENTS): (
        "operator.segura",
        lambda c, h, p: c.post(INCIDENTS, headers=h, json={
            "type": "robo", "title": "Robo", "latitude": PLACE[0], "longitude": PLACE[1]}),
        "incident.create"),
    ("POST", f"{INCIDENTS}/from-alert"): (
        "operator.segura",
        lambda c, h, p: c.post(f"{INCIDENTS}/from-alert", headers=h,
                               json={"alert_id": raise_alert(p).id}),
        "incident.create"),
    ("POST", f"{INCIDENTS}/from-cap"): ("dispatcher.segura", _cap, "incident.create"),
    ("GET", f"{INCIDENTS}/{{incident_id}}"): (
        "operator.segura",
        lambda c, h, p: c.get(f"{INCIDENTS}/{segura_incident(p)}", headers=h),
        "incident.read"),
    ("POST", f"{INCIDENTS}/{{incident_id}}/transition"): (
        "operator.segura",
        lambda c, h, p: c.post(f"{INCIDENTS}/{segura_incident(p)}/transition", headers=h,
                               json={"to": "acknowledged", "version": 1}),
        "incident.transition"),
    ("POST", f"{INCIDENTS}/{{incident_id}}/notes"): (
        "operator.segura",
        lambda c, h, p: c.post(f"{INCIDENTS}/{segura_incident(p)}/notes", headers=h,
                               json={"text": "Llamó el guardia"}),
        "incident.note"),
    ("POST", f"{INCIDENTS}/{{incident_id}}/alerts"): (
        "operator.segura",
        lambda c, h, p: c.post(f"{INCIDENTS}/{segura_incident(p)}/alerts", headers=h,
                               json={"alert_id": raise_alert(p).id}),
        "incident.link_alert"),
    ("POST", f"{INCIDENTS}/{{incident_id}}/merge"): (
        "supervisor.segura",
        lambda c, h, p: c.post(f"{INCIDENTS}/{segura_incident(p)}/merge", headers=h,
                               json={"into": segura_incident(p, "Otro")}),
        "incident.merge"),
    ("POST", f"{INCIDENTS}/{{incident_id}}/priority"): (
        "dispatcher.segura",
        lambda c, h, p: c.post(f"{INCIDENTS}/{segura_incident(p)}/priority", headers=h,
                               json={"priority": 1}),
        "incident.priority"),
    ("GET", f"{INCIDENTS}/{{incident_id}}/cameras"): (
        "operator.segura",
        lambda c, h, p: c.get(f"{INCIDENTS}/{segura_incident(p)}/cameras", headers=h),
        "incident.cameras"),
    ("GET", TYPES): ("operator.segura", lambda c, h, p: c.get(TYPES, headers=h),
                     "incident_type.list"),
    ("PUT", f"{TYPES}/{{code}}"): (
        "admin.segura",
        lambda c, h, p: c.put(f"{TYPES}/hurto", headers=h, json={
            "name_es": "Hurto", "name_en": "Theft", "default_priority": 3,
            "category": "Security"}),
        "incident_type.save"),
}
