"""Incidents through the API on SQLite and PostgreSQL: a call-taker's form, one click from an
alert (evidence, type and priority read from it), from a CAP message, the lifecycle with every
timestamp, stale versions and concurrent edits, notes, alert links, merges, the cameras around,
the type catalogue, who may do what, the other agency seeing nothing, and the audit of it all."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.domain import events
from sereno.domain.access import Principal, Role
from sereno.domain.coverage import offset
from sereno.domain.errors import Conflict
from sereno.domain.incidents import IncidentStatus
from sereno.services import incidents
from tests.conftest import FakeClock, audit_rows, bearer
from tests.support.cap import RIESGOS, XML, message, raise_alert, register

INCIDENTS = "/api/v1/incidents"
SEG1 = (-2.1953, -79.8797)  # SEG-001, heading 200, fov 70, range 80
IN_VIEW = offset(*SEG1, 200, 30)  # 30 m in front of it


def _form(**overrides: Any) -> dict[str, Any]:
    return {"type": "robo", "title": "Robo de celular", "latitude": IN_VIEW[0],
            "longitude": IN_VIEW[1], "description": "Llamada al 911", **overrides}


def _create(client: TestClient, username: str = "operator.segura", **overrides: Any
            ) -> dict[str, Any]:
    response = client.post(INCIDENTS, headers=bearer(client, username), json=_form(**overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def _move(client: TestClient, headers: dict[str, str], incident: dict[str, Any], to: str,
          **body: Any) -> Any:
    return client.post(f"{INCIDENTS}/{incident['id']}/transition", headers=headers,
                       json={"to": to, "version": incident["version"], **body})


def test_a_call_takers_incident_runs_its_whole_lifecycle(client: TestClient,
                                                         platform: Platform,
                                                         clock: FakeClock) -> None:
    seen: list[events.Event] = []
    platform.bus.subscribe(events.IncidentCreated, seen.append)
    platform.bus.subscribe(events.IncidentChanged, seen.append)
    incident = _create(client, address="Malecón y Olmedo")
    year = clock().year
    assert incident["number"] == f"SEG-{year}-000001" and incident["status"] == "new"
    assert incident["priority"] == 2 and incident["source"] == "form"  # robo's default
    assert incident["version"] == 1 and incident["created_by"] == "operator.segura"
    second = _create(client, title="Otro robo")
    assert second["number"] == f"SEG-{year}-000002"

    operator = bearer(client, "operator.segura")
    dispatcher = bearer(client, "dispatcher.segura")
    for to in ("acknowledged", "dispatched", "en_route", "on_scene", "resolved", "closed"):
        clock.advance(minutes=1)
        headers = operator if to == "acknowledged" else dispatcher
        response = _move(client, headers, incident, to)
        assert response.status_code == 200, response.text
        incident = response.json()
        assert incident["status"] == to
        assert datetime.fromisoformat(incident[f"{to}_at"]) == clock()
    assert incident["version"] == 7

    detail = client.get(f"{INCIDENTS}/{incident['id']}", headers=operator).json()
    timeline = detail["timeline"]
    assert [e["kind"] for e in timeline] == ["created"] + ["transition"] * 6
    assert [e["to_status"] for e in timeline[1:]] == ["acknowledged", "dispatched",
                                                      "en_route", "on_scene", "resolved",
                                                      "closed"]
    assert timeline[1]["by"] == "operator.segura" and timeline[2]["by"] == "dispatcher.segura"
    assert all(e["by_agency"] == "segura-ep" for e in timeline)
    own = [type(e).__name__ for e in seen if e.agency_id == "segura-ep"]
    assert own == ["IncidentCreated"] * 2 + ["IncidentChanged"] * 6
    # The police, who the demo agreement shares robberies with, follow in their partner copy.
    assert {e.agency_id for e in seen} == {"segura-ep", "policia-nacional"}
    board = client.get(INCIDENTS, headers=operator).json()  # open ones only by default
    assert [i["number"] for i in board] == [second["number"]]
    closed = client.get(INCIDENTS, headers=operator, params={"status": "closed"}).json()
    assert [i["id"] for i in closed] == [incident["id"]]
    actions = [r.action for r in audit_rows(platform) if r.action.startswith("incident.")]
    assert actions.count("incident.transition") == 6 and "incident.read" in actions


def test_illegal_transitions_and_stale_versions_are_409_and_change_nothing(
        client: TestClient, platform: Platform) -> None:
    incident = _create(client)
    dispatcher = bearer(client, "dispatcher.segura")
    illegal = _move(client, dispatcher, incident, "on_scene")
    assert illegal.status_code == 409
    assert "cannot go from new to on_scene" in illegal.json()["error"]["message"]
    ack = _move(client, dispatcher, incident, "acknowledged").json()
    stale = _move(client, dispatcher, incident, "dispatched")  # version 1, now 2
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version"
    assert "changed since you read it" in stale.json()["error"]["message"]
    note = client.post(f"{INCIDENTS}/{incident['id']}/notes", headers=dispatcher,
                       json={"text": "x", "version": 1})
    assert note.status_code == 409
    cancel = _move(client, dispatcher, ack, "cancelled")
    assert cancel.status_code == 422 and "reason" in cancel.json()["error"]["message"]
    unknown = _move(client, dispatcher, ack, "flying")
    assert unknown.status_code == 422
    current = client.get(f"{INCIDENTS}/{incident['id']}", headers=dispatcher).json()
    assert current["status"] == "acknowledged" and current["version"] == 2
    assert len(current["timeline"]) == 2
    refused = [r for r in audit_rows(platform)
               if r.action in ("incident.transition", "incident.note")
               and r.outcome != "allowed"]
    assert len(refused) == 4
    assert any("cannot go from new to on_scene" in (r.reason or "") for r in refused)


def test_two_edits_of_one_version_at_once_one_wins(client: TestClient,
                                                   platform: Platform) -> None:
    """Two transactions read version 1 and both write: the row is updated WHERE version = 1,
    so the second finds no row (no lost update, whatever the client sent). SQLite takes the
    write lock at BEGIN (one writer at a time), so only PostgreSQL can interleave them."""
    if platform.engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writing transactions (BEGIN IMMEDIATE)")
    incident = _create(client)
    first, second = platform.uow(), platform.uow()
    with first, second:
        a = first.incidents.get(incident["id"])
        b = second.incidents.get(incident["id"])
        assert a is not None and b is not None
        a.add_note("uno", by="o", by_agency="segura-ep", at=platform.clock())
        first.incidents.save(a)
        first.commit()
        b.add_note("dos", by="o", by_agency="segura-ep", at=platform.clock())
        with pytest.raises(Conflict, match="same moment"):
            second.incidents.save(b)
    with platform.uow() as uow:
        stored = uow.incidents.get(incident["id"])
        assert stored is not None and stored.version == 2


def test_operators_take_incidents_dispatchers_run_the_response(client: TestClient) -> None:
    incident = _create(client)
    operator = bearer(client, "operator.segura")
    ack = _move(client, operator, incident, "acknowledged")
    assert ack.status_code == 200
    dispatch = _move(client, operator, ack.json(), "dispatched")
    assert dispatch.status_code == 403
    for username in ("analyst.segura", "auditor.segura"):
        headers = bearer(client, username)
        assert client.get(f"{INCIDENTS}/{incident['id']}", headers=headers).status_code == 200
        assert client.post(INCIDENTS, headers=headers, json=_form()).status_code == 403
    admin = bearer(client, "admin.segura")
    assert client.get(INCIDENTS, headers=admin).status_code == 403


def test_the_other_agency_never_reaches_the_original(client: TestClient) -> None:
    incident = _create(client)
    police = bearer(client, "supervisor.policia")
    # The demo agreement shares it: the police hold their own partner copy, never the original.
    copies = client.get(INCIDENTS, headers=police).json()
    assert [c["origin_agency"] for c in copies] == ["segura-ep"]
    assert incident["id"] not in {c["id"] for c in copies}
    assert all(c["agency"] == "policia-nacional" for c in copies)
    for response in (
            client.get(f"{INCIDENTS}/{incident['id']}", headers=police),
            _move(client, police, incident, "acknowledged"),
            client.post(f"{INCIDENTS}/{incident['id']}/notes", headers=police,
                        json={"text": "hola"}),
            client.get(f"{INCIDENTS}/{incident['id']}/cameras", headers=police)):
        assert response.status_code == 404, response.text
    own = _create(client, "operator.policia", type="robo")
    assert own["number"].startswith("POL-") and own["agency"] == "policia-nacional"
    merge = client.post(f"{INCIDENTS}/{own['id']}/merge", headers=police,
                        json={"into": incident["id"]})
    assert merge.status_code == 404


def test_one_click_from_an_alert_carries_its_evidence(client: TestClient,
                                                      platform: Platform) -> None:
    alert = raise_alert(platform, severity="Extreme", headline="Robo en curso en el Malecón")
    operator = bearer(client, "operator.segura")
    response = client.post(f"{INCIDENTS}/from-alert", headers=operator,
                           json={"alert_id": alert.id})
    assert response.status_code == 201, response.text
    incident = response.json()
    assert incident["type"] == "robo" and incident["priority"] == 1  # Extreme lifts robo's 2
    assert incident["source"] == "alert" and incident["title"] == alert.headline
    assert (incident["latitude"], incident["longitude"]) == (alert.latitude, alert.longitude)
    detail = client.get(f"{INCIDENTS}/{incident['id']}", headers=operator).json()
    assert [a["id"] for a in detail["alerts"]] == [alert.id]
    assert detail["alerts"][0]["snapshot"] == f"/api/v1/alerts/{alert.id}/snapshot.jpg"
    created = detail["timeline"][0]
    assert created["detail"]["alert_id"] == alert.id
    assert created["detail"]["cameras"] == ["SEG-001"]
    alert_now = client.get(f"/api/v1/alerts/{alert.id}", headers=operator).json()
    assert alert_now["status"] == "acknowledged"  # taken by the incident
    again = client.post(f"{INCIDENTS}/from-alert", headers=operator,
                        json={"alert_id": alert.id})
    assert again.status_code == 409 and incident["number"] in again.json()["error"]["message"]
    police = bearer(client, "operator.policia")
    stolen = client.post(f"{INCIDENTS}/from-alert", headers=police,
                         json={"alert_id": alert.id})
    assert stolen.status_code == 404
    typed = raise_alert(platform, severity="Minor", headline="Algo raro")
    chosen = client.post(f"{INCIDENTS}/from-alert", headers=operator,
                         json={"alert_id": typed.id, "type": "rina"}).json()
    assert chosen["type"] == "rina" and chosen["priority"] == 3


def test_link_merge_and_notes(client: TestClient, platform: Platform) -> None:
    keep = _create(client)
    duplicate = _create(client, title="Robo (segunda llamada)")
    dispatcher = bearer(client, "dispatcher.segura")
    alert = raise_alert(platform)
    linked = client.post(f"{INCIDENTS}/{duplicate['id']}/alerts", headers=dispatcher,
                         json={"alert_id": alert.id, "version": 1})
    assert linked.status_code == 200 and linked.json()["version"] == 2
    twice = client.post(f"{INCIDENTS}/{keep['id']}/alerts", headers=dispatcher,
                        json={"alert_id": alert.id})
    assert twice.status_code == 409
    noted = client.post(f"{INCIDENTS}/{duplicate['id']}/notes", headers=dispatcher,
                        json={"text": "El testigo vio una moto roja", "version": 2})
    assert noted.status_code == 200
    operator = bearer(client, "operator.segura")
    assert client.post(f"{INCIDENTS}/{duplicate['id']}/merge", headers=operator,
                       json={"into": keep["id"]}).status_code == 403
    merged = client.post(f"{INCIDENTS}/{duplicate['id']}/merge", headers=dispatcher,
                         json={"into": keep["id"], "version": 3})
    assert merged.status_code == 200, merged.text
    assert merged.json()["id"] == keep["id"]
    gone = client.get(f"{INCIDENTS}/{duplicate['id']}", headers=dispatcher).json()
    assert gone["status"] == "cancelled" and gone["merged_into"] == keep["id"]
    kept = client.get(f"{INCIDENTS}/{keep['id']}", headers=dispatcher).json()
    assert [a["id"] for a in kept["alerts"]] == [alert.id]
    assert [e["kind"] for e in kept["timeline"]] == ["created", "merged_from", "note"]
    assert kept["timeline"][2]["note"] == "El testigo vio una moto roja"
    again = client.post(f"{INCIDENTS}/{duplicate['id']}/merge", headers=dispatcher,
                        json={"into": keep["id"]})
    assert again.status_code == 409
    priority = client.post(f"{INCIDENTS}/{keep['id']}/priority", headers=dispatcher,
                           json={"priority": 1})
    assert priority.status_code == 200 and priority.json()["priority"] == 1


def test_an_imported_cap_message_becomes_an_incident(client: TestClient,
                                                     platform: Platform) -> None:
    register(platform)
    headers = {**bearer(client, "dispatcher.segura"), **XML}
    first = client.post(f"{INCIDENTS}/from-cap", headers=headers,
                        content=message(category="Met", severity="Severe"))
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["created"] and body["cap_outcome"] == "created"
    incident = body["incident"]
    assert incident["source"] == "cap" and incident["type"] == "otro"
    assert incident["priority"] == 2  # Severe
    assert -2.22 < incident["latitude"] < -2.20 and -79.92 < incident["longitude"] < -79.90
    again = client.post(f"{INCIDENTS}/from-cap", headers=headers,
                        content=message(category="Met", severity="Severe"))
    assert again.status_code == 200 and not again.json()["created"]
    assert again.json()["incident"]["id"] == incident["id"]
    ack = client.post(f"{INCIDENTS}/from-cap", headers=headers,
                      content=message("SNGR-2026-0009", msg_type="Ack",
                                      references=f"x,{'SNGR-2026-0001'},y"))
    assert ack.status_code in (404, 422)
    alert_only = client.post("/api/v1/cap", headers=headers, content=message(
        "SNGR-2026-0002", headline="Otra", sent="2026-11-25T04:00:00-05:00"))
    assert alert_only.status_code == 201  # imported as an alert, no incident
    cancelled = client.post(f"{INCIDENTS}/from-cap", headers=headers, content=message(
        "SNGR-2026-0004", msg_type="Cancel", sent="2026-11-25T04:30:00-05:00",
        references=f"{RIESGOS},SNGR-2026-0002,2026-11-25T04:00:00-05:00"))
    assert cancelled.status_code == 422
    assert "cancels an alert" in cancelled.json()["error"]["message"]
    withdrawn = client.post(f"{INCIDENTS}/from-cap", headers=headers, content=message(
        "SNGR-2026-0003", msg_type="Cancel", sent="2026-11-25T05:00:00-05:00",
        references=f"{RIESGOS},SNGR-2026-0001,2026-11-25T03:00:00-05:00"))
    assert withdrawn.status_code == 200  # its alert already has an incident: that one
    assert withdrawn.json()["incident"]["id"] == incident["id"]
    wrong = client.post(f"{INCIDENTS}/from-cap", headers={**headers,
                                                           "Content-Type": "text/plain"},
                        content=b"hola")
    assert wrong.status_code == 415


def test_cameras_around_the_incident_nearest_first_with_recordings(
        client: TestClient, clock: FakeClock) -> None:
    incident = _create(client)
    headers = bearer(client, "operator.policia")
    own = _create(client, "operator.segura", latitude=-2.1893, longitude=-79.8916 + 0.0004)
    found = client.get(f"{INCIDENTS}/{incident['id']}/cameras",
                       headers=bearer(client, "operator.segura")).json()
    assert [c["id"] for c in found] == ["SEG-001"]
    camera = found[0]
    assert abs(camera["distance_m"] - 30) < 1 and abs(camera["bearing_deg"] - 200) < 1
    start = datetime.fromisoformat(camera["recording_start"])
    end = datetime.fromisoformat(camera["recording_end"])
    created = datetime.fromisoformat(incident["created_at"])
    assert start == created - timedelta(minutes=5) and end == created + timedelta(minutes=10)
    assert camera["recording"].startswith("/api/v1/cameras/SEG-001/recordings/clip.mp4?start=")
    # SEG-006 (Parque Centenario, heading 45, range 80) is private to Segura EP: a police
    # incident at the same place would not list it; Segura's own does.
    seen = client.get(f"{INCIDENTS}/{own['id']}/cameras",
                      headers=bearer(client, "operator.segura")).json()
    assert "SEG-006" in [c["id"] for c in seen]
    police = _create(client, "operator.policia", latitude=-2.1893,
                     longitude=-79.8916 + 0.0004)
    theirs = client.get(f"{INCIDENTS}/{police['id']}/cameras", headers=headers).json()
    assert "SEG-006" not in [c["id"] for c in theirs]
    wide = client.get(f"{INCIDENTS}/{incident['id']}/cameras",
                      headers=bearer(client, "operator.segura"), params={"radius_m": 500})
    assert wide.status_code == 422


def test_the_type_catalogue_is_the_admins(client: TestClient, platform: Platform) -> None:
    admin = bearer(client, "admin.segura")
    listed = client.get("/api/v1/incident-types", headers=admin).json()
    assert {"robo", "asalto", "incendio", "emergencia_medica"} <= {t["code"] for t in listed}
    body = {"name_es": "Hurto", "name_en": "Theft", "default_priority": 3,
            "category": "Security"}
    created = client.put("/api/v1/incident-types/hurto", headers=admin, json=body)
    assert created.status_code == 201
    updated = client.put("/api/v1/incident-types/hurto", headers=admin,
                         json={**body, "default_priority": 4, "active": False})
    assert updated.status_code == 200 and updated.json()["active"] is False
    refused = _create_raw(client, type="hurto")
    assert refused.status_code == 422 and "not an active" in refused.json()["error"]["message"]
    operator = bearer(client, "operator.segura")
    assert client.put("/api/v1/incident-types/x", headers=operator, json=body).status_code == 403
    bad = client.put("/api/v1/incident-types/con%20espacio", headers=admin, json=body)
    assert bad.status_code == 422
    police = client.get("/api/v1/incident-types", headers=bearer(client, "admin.policia"))
    assert "hurto" not in {t["code"] for t in police.json()}
    unknown = _create_raw(client, type="nada")
    assert unknown.status_code == 422
    assert any(r.action == "incident_type.save" for r in audit_rows(platform))


def _create_raw(client: TestClient, **overrides: Any) -> Any:
    return client.post(INCIDENTS, headers=bearer(client, "operator.segura"),
                       json=_form(**overrides))


def test_advance_moves_an_incident_inside_the_callers_transaction(
        client: TestClient, platform: Platform, clock: FakeClock) -> None:
    incident = _create(client)
    uow = platform.uow()
    with uow:
        made = incidents.advance(uow, incident["id"], "dispatched", "dispatcher.segura",
                                 "segura-ep", clock())
        assert made is not None and made.to_status is IncidentStatus.DISPATCHED
        clock.advance(minutes=3)
        incidents.advance(uow, incident["id"], IncidentStatus.ON_SCENE, "unit:PN-PAT-014",
                          "policia-nacional", clock())
        # A second unit reporting en route to an incident already on scene: nothing to do.
        assert incidents.advance(uow, incident["id"], "en_route", "unit:PN-PAT-015",
                                 "policia-nacional", clock()) is None
        emitted = list(uow.collect_new_events())
        uow.commit()
    assert [e.status for e in emitted if isinstance(e, events.IncidentChanged)] == [
        "dispatched", "on_scene"]
    stored = client.get(f"{INCIDENTS}/{incident['id']}",
                        headers=bearer(client, "operator.segura")).json()
    assert stored["status"] == "on_scene" and stored["acknowledged_at"] is not None
    assert stored["timeline"][-1]["by"] == "unit:PN-PAT-014"
    assert stored["timeline"][-1]["by_agency"] == "policia-nacional"
    uow = platform.uow()
    with uow:
        incidents.advance(uow, incident["id"], "cancelled", "dispatcher.segura", "segura-ep",
                          clock(), note="falsa alarma")
        uow.commit()
    with platform.uow() as uow, pytest.raises(Conflict, match="cannot go from cancelled"):
        incidents.advance(uow, incident["id"], "en_route", "x", "segura-ep", clock())


def test_advance_for_dispatch_names_the_dispatcher_and_keeps_the_detail(
        client: TestClient, platform: Platform) -> None:
    incident = _create(client)
    dispatcher = Principal("d", "dispatcher.segura", "segura-ep", frozenset({Role.DISPATCHER}))
    uow = platform.uow()
    with uow:
        incidents.advance_for_dispatch(uow, dispatcher, incident["id"], "dispatched",
                                       platform.clock(), detail={"units": ["SEG-MOTO-1"]})
        uow.commit()
    timeline = client.get(f"{INCIDENTS}/{incident['id']}",
                          headers=bearer(client, "operator.segura")).json()["timeline"]
    assert timeline[-1]["by"] == "dispatcher.segura"
    assert timeline[-1]["detail"] == {"acknowledged": True, "units": ["SEG-MOTO-1"]}
