"""The one policy door: purpose-bound playback, cases, break-glass, versioned policies, profiles."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.entrypoints.workers import audit_log as audit_log_worker
from sereno.governance.policy.engine import packaged_policies
from tests.api.recordings import record_sample
from tests.conftest import FakeClock, audit_rows, bearer


def _open_case(client: TestClient, reference: str = "FGE-2026-000123") -> None:
    response = client.post("/api/v1/cases", headers=bearer(client, "supervisor.segura"),
                           json={"reference": reference, "title": "Robo en el Malecón"})
    assert response.status_code == 201, response.text


def _playback(client: TestClient, platform: Platform, user: str,
              **headers: str) -> tuple[int, str]:
    start, end = record_sample(platform, "SEG-002")
    response = client.get("/api/v1/cameras/SEG-002/recordings/clip.mp4",
                          params={"start": start.isoformat(), "end": end.isoformat()},
                          headers={**bearer(client, user), **headers})
    message = response.json()["error"]["message"] if response.status_code >= 400 else ""
    return response.status_code, message


def test_playback_needs_a_purpose_and_an_open_case(client: TestClient,
                                                   platform: Platform) -> None:
    status, message = _playback(client, platform, "operator.segura")
    assert status == 403 and "purpose" in message
    denied = [r for r in audit_rows(platform) if r.action == "footage.playback"][-1]
    assert denied.outcome == "denied" and "purpose" in denied.reason
    assert denied.detail["policies"] == ["recorded-needs-purpose-and-case"]
    assert denied.detail["policy_version"] == 1

    invented = _playback(client, platform, "operator.segura",
                         **{"X-Sereno-Purpose": "curiosidad", "X-Sereno-Case": "FGE-2026-000123"})
    assert invented[0] == 422 and "unknown purpose" in invented[1]
    unknown = _playback(client, platform, "operator.segura",
                        **{"X-Sereno-Purpose": "investigation", "X-Sereno-Case": "FGE-2026-999999"})
    assert unknown[0] == 422 and "no case" in unknown[1]
    malformed = _playback(client, platform, "operator.segura",
                          **{"X-Sereno-Purpose": "investigation", "X-Sereno-Case": "caso 5"})
    assert malformed[0] == 422

    _open_case(client)
    allowed = _playback(client, platform, "operator.segura",
                        **{"X-Sereno-Purpose": "investigation", "X-Sereno-Case": "FGE-2026-000123"})
    assert allowed[0] == 200
    granted = [r for r in audit_rows(platform) if r.action == "footage.playback"][-1]
    assert granted.outcome == "allowed" and granted.detail["policies"] == ["recorded-own-agency"]

    supervisor = bearer(client, "supervisor.segura")
    assert client.post("/api/v1/cases/FGE-2026-000123/close", headers=supervisor).status_code == 200
    closed = _playback(client, platform, "operator.segura",
                       **{"X-Sereno-Purpose": "investigation", "X-Sereno-Case": "FGE-2026-000123"})
    assert closed[0] == 403


def test_break_glass_is_for_designated_roles_and_queued_for_review(
        client: TestClient, platform: Platform, clock: FakeClock) -> None:
    why = {"X-Sereno-Break-Glass": "persecucion en curso, vehiculo huye por la Av. Quito"}
    status, message = _playback(client, platform, "operator.segura", **why)
    assert status == 403 and "only supervisors and dispatchers" in message
    short = _playback(client, platform, "dispatcher.segura", **{"X-Sereno-Break-Glass": "ya"})
    assert short[0] == 422
    assert _playback(client, platform, "dispatcher.segura", **why)[0] == 200
    assert any(r.action == "break_glass.used" for r in audit_rows(platform))

    supervisor = bearer(client, "supervisor.segura")
    pending = client.get("/api/v1/break-glass", params={"pending": True},
                         headers=supervisor).json()
    assert len(pending) == 1 and pending[0]["username"] == "dispatcher.segura"
    access_id = pending[0]["id"]

    clock.advance(hours=25)
    audit_log_worker.run_once(platform, witness=False, alerted=set())
    with platform.uow() as uow:
        alerts = uow.security_alerts.for_agency("segura-ep")
    assert any(a.kind.value == "break_glass" for a in alerts)

    dispatcher = bearer(client, "dispatcher.segura")
    supervisor = bearer(client, "supervisor.segura")
    own = client.post(f"/api/v1/break-glass/{access_id}/review", headers=dispatcher,
                      json={"verdict": "justified", "note": "fue urgente"})
    assert own.status_code == 403
    reviewed = client.post(f"/api/v1/break-glass/{access_id}/review", headers=supervisor,
                           json={"verdict": "justified", "note": "persecución confirmada"})
    assert reviewed.status_code == 200 and reviewed.json()["overdue"] is False
    again = client.post(f"/api/v1/break-glass/{access_id}/review", headers=supervisor,
                        json={"verdict": "unjustified", "note": "cambio de opinión"})
    assert again.status_code == 422


def test_policies_are_versioned_data(client: TestClient, platform: Platform) -> None:
    admin = bearer(client, "admin.segura")
    broken = client.post("/api/v1/policies", headers=admin,
                         json={"text": "permit (principal, action, resource", "note": "roto"})
    assert broken.status_code == 422
    unannotated = client.post("/api/v1/policies", headers=admin, json={
        "text": "permit (principal, action, resource);", "note": "sin motivo"})
    assert unannotated.status_code == 422 and "@id" in unannotated.json()["error"]["message"]
    stricter = packaged_policies() + (
        '\n@id("night-freeze")\n@reason("live footage is frozen by a test policy")\n'
        'forbid (principal, action == Action::"footage.live", resource);\n')
    published = client.post("/api/v1/policies", headers=admin,
                            json={"text": stricter, "note": "congelar vista en vivo"})
    assert published.status_code == 201 and published.json()["version"] == 2

    operator = bearer(client, "operator.segura")
    response = client.get("/api/v1/cameras/SEG-001/snapshot.jpg", headers=operator)
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "live footage is frozen by a test policy"
    denied = [r for r in audit_rows(platform) if r.action == "footage.live"][-1]
    assert denied.detail["policy_version"] == 2 and denied.detail["policies"] == ["night-freeze"]
    history = client.get("/api/v1/policies", headers=bearer(client, "auditor.segura")).json()
    assert [v["version"] for v in history] == [2, 1] and history[0]["active"]


def test_clearance_and_assignment_come_from_the_access_profile(client: TestClient,
                                                               platform: Platform) -> None:
    admin = bearer(client, "admin.segura")
    with platform.uow() as uow:
        operator_id = uow.users.by_username("operator.segura").id  # type: ignore[union-attr]
        camera = uow.cameras.get("SEG-001")
        assert camera is not None
        other_centre = next(c.id for c in uow.centres.list_for_agency("segura-ep")
                            if c.id != camera.centre_id)
    assigned = client.put(f"/api/v1/users/{operator_id}/access-profile", headers=admin,
                          json={"clearance": 1, "centre_ids": [other_centre]})
    assert assigned.status_code == 200, assigned.text
    operator = bearer(client, "operator.segura")
    response = client.get("/api/v1/cameras/SEG-001/snapshot.jpg", headers=operator)
    assert response.status_code == 403 and "assigned" in response.json()["error"]["message"]
    unknown = client.put(f"/api/v1/users/{operator_id}/access-profile", headers=admin,
                         json={"clearance": 1, "centre_ids": ["no-such-centre"]})
    assert unknown.status_code == 422


def test_personal_data_goes_through_the_door(client: TestClient, platform: Platform) -> None:
    response = client.get("/api/v1/watchlist", headers=bearer(client, "operator.segura"))
    assert response.status_code == 200
    listed = [r for r in audit_rows(platform) if r.action == "watchlist.list"][-1]
    assert listed.detail["policies"] == ["personal-data-own-agency"]
    refused = client.post("/api/v1/watchlist", headers=bearer(client, "operator.segura"),
                          json={"plate": "GBC-1234", "reason": "robo"})
    assert refused.status_code == 403


def test_a_watchlist_hit_is_seen_only_by_the_watching_agency(client: TestClient,
                                                               platform: Platform) -> None:
    """A police plate hit on a Segura EP shared camera: the police see it, Segura does not
    (not in the list, not its snapshot) — the plate and the reason are the police's data."""
    import time

    from sereno.domain import commands

    platform.bus.handle(commands.RecordDetection(
        camera_id="SEG-001", rule_id=None, rule_kind="plate", classes=("car",),
        track_ids=(4,), confidence=0.9, box=(0.1, 0.1, 0.3, 0.3), at=time.time(),
        snapshot_jpeg=None, detail={"plate": "GBC1234", "watched_plate": "GBC1234",
                                    "distance": 0, "reason": "vehículo robado",
                                    "watching_agency": "policia-nacional"}))
    police = client.get("/api/v1/detections", headers=bearer(client, "operator.policia"))
    segura = client.get("/api/v1/detections", headers=bearer(client, "operator.segura"))
    assert any(d["rule_kind"] == "plate" for d in police.json())
    assert not any(d["rule_kind"] == "plate" for d in segura.json())
    event_id = next(d["id"] for d in police.json() if d["rule_kind"] == "plate")
    hidden = client.get(f"/api/v1/detections/{event_id}/snapshot.jpg",
                        headers=bearer(client, "operator.segura"))
    assert hidden.status_code == 404
