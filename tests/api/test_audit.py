"""Every call that reads or changes data leaves an audit record — allowed or denied — and the
record of a change is committed in the very transaction of the change."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sereno.adapters.db.tables import cameras
from sereno.bootstrap import Platform
from sereno.domain import commands
from sereno.domain.audit import AuditRecord
from tests.api.agreement_cases import AUDITED as AGREEMENT_AUDITED
from tests.api.alert_cases import AUDITED as ALERT_AUDITED
from tests.api.alert_stream_cases import AUDITED as ALERT_STREAM_AUDITED
from tests.api.audit_console_cases import AUDITED as AUDIT_CONSOLE_AUDITED
from tests.api.cap_cases import AUDITED as CAP_AUDITED
from tests.api.dispatch_cases import AUDITED as DISPATCH_AUDITED
from tests.api.evidence_cases import AUDITED as EVIDENCE_AUDITED
from tests.api.federation_cases import AUDITED as FEDERATION_AUDITED
from tests.api.governance_cases import AUDITED as GOVERNANCE_AUDITED
from tests.api.incident_cases import AUDITED as INCIDENT_AUDITED
from tests.api.incident_console_cases import AUDITED as INCIDENT_CONSOLE_AUDITED
from tests.api.integration_cases import AUDITED as INTEGRATION_AUDITED
from tests.api.operation_cases import AUDITED as OPERATION_AUDITED
from tests.api.retention_cases import AUDITED as RETENTION_AUDITED
from tests.api.routes_catalogue import PUBLIC, all_routes
from tests.api.security_cases import AUDITED as SECURITY_AUDITED
from tests.api.shared_watchlist_cases import AUDITED as SHARED_WATCHLIST_AUDITED
from tests.api.streams import first_mjpeg_part, read_events
from tests.api.test_agency_scoping import CASES, _console_login
from tests.conftest import audit_rows, bearer

NEW_CAMERA = {"id": "SEG-100", "name": "Av. Quito y Padre Solano", "centre_id": "segura-centro",
              "latitude": -2.1868, "longitude": -79.8905, "main_stream_url": "rtsp://10.1.1.5/s1"}
CSV = ("id,name,centre_id,latitude,longitude,main_stream_url\n"
       "SEG-200,Cerro Santa Ana,segura-centro,-2.1810,-79.8745,rtsp://10.1.1.9/s1\n")

Call = Callable[[TestClient, Platform], object]


def _as(username: str) -> Callable[[TestClient], dict[str, str]]:
    return lambda client: bearer(client, username)


def _user_id(platform: Platform, username: str) -> str:
    from sereno.adapters.db.tables import users

    with platform.engine.connect() as connection:
        return str(connection.scalar(select(users.c.id).where(users.c.username == username)))


class _Done:
    """The outcome of a streamed call, shaped like a response for the checks below."""

    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.text = ""


def _detection_id(platform: Platform) -> str:
    event = platform.bus.handle(commands.RecordDetection(
        "SEG-001", None, "line", ("person",), (1,), 0.9, (0.1, 0.1, 0.2, 0.3), 1.8e9,
        snapshot_jpeg=b"\xff\xd8picture\xff\xd9"))
    return str(event.event_id)


def _play(client: TestClient, headers: dict[str, str], platform: Platform) -> object:
    from tests.api.governance_cases import segura_case
    from tests.api.recordings import record_sample

    start, end = record_sample(platform, "SEG-001")
    why = {"X-Sereno-Purpose": "investigation", "X-Sereno-Case": segura_case(platform)}
    return client.get("/api/v1/cameras/SEG-001/recordings/clip.mp4", headers={**headers, **why},
                      params={"start": start.isoformat(), "end": end.isoformat()})


def _clip_id(platform: Platform) -> str:
    event_id = _detection_id(platform)
    platform.media.put("clips/sample.mp4", b"clip bytes")
    platform.bus.handle(commands.AttachEventClip(event_id, "clips/sample.mp4"))
    return event_id


def _rule_id(platform: Platform) -> str:
    with platform.uow() as uow:
        return str(uow.rules.for_camera("SEG-006")[0].id)


# route -> (acting user, the call, the audit action it must record)
ALLOWED: dict[tuple[str, str], tuple[str, Callable[..., object], str]] = {
    ("GET", "/api/v1/cameras"): ("operator.segura",
                                 lambda c, h, p: c.get("/api/v1/cameras", headers=h),
                                 "camera.list"),
    ("GET", "/api/v1/cameras.geojson"): (
        "analyst.segura", lambda c, h, p: c.get("/api/v1/cameras.geojson", headers=h),
        "camera.export"),
    ("POST", "/api/v1/cameras"): (
        "admin.segura", lambda c, h, p: c.post("/api/v1/cameras", json=NEW_CAMERA, headers=h),
        "camera.create"),
    ("GET", "/api/v1/cameras/{camera_id}"): (
        "operator.segura", lambda c, h, p: c.get("/api/v1/cameras/SEG-006", headers=h),
        "camera.read"),
    ("PATCH", "/api/v1/cameras/{camera_id}"): (
        "supervisor.segura",
        lambda c, h, p: c.patch("/api/v1/cameras/SEG-006", json={"heading_deg": 90}, headers=h),
        "camera.update"),
    ("POST", "/api/v1/cameras/{camera_id}/retire"): (
        "admin.segura", lambda c, h, p: c.post("/api/v1/cameras/SEG-010/retire", headers=h),
        "camera.retire"),
    ("GET", "/api/v1/cameras/{camera_id}/snapshot.jpg"): (
        "operator.segura",
        lambda c, h, p: c.get("/api/v1/cameras/SEG-001/snapshot.jpg", headers=h),
        "footage.live"),
    ("POST", "/api/v1/camera-imports"): (
        "admin.segura",
        lambda c, h, p: c.post("/api/v1/camera-imports", content=CSV,
                               headers={**h, "Content-Type": "text/csv"}),
        "camera.import"),
    ("POST", "/api/v1/auth/revoke"): ("operator.segura",
                                      lambda c, h, p: c.post("/api/v1/auth/revoke", headers=h),
                                      "auth.token.revoke"),
    ("GET", "/api/v1/me"): ("operator.segura", lambda c, h, p: c.get("/api/v1/me", headers=h),
                            "user.read"),
    ("GET", "/api/v1/users"): ("admin.segura", lambda c, h, p: c.get("/api/v1/users", headers=h),
                               "user.list"),
    ("POST", "/api/v1/users"): (
        "admin.segura",
        lambda c, h, p: c.post("/api/v1/users", headers=h, json={
            "username": "new.operator", "display_name": "Nuevo", "password": "a-long-password",
            "roles": ["operator"]}),
        "user.create"),
    ("GET", "/api/v1/users/{user_id}"): (
        "admin.segura",
        lambda c, h, p: c.get(f"/api/v1/users/{_user_id(p, 'operator.segura')}", headers=h),
        "user.read"),
    ("PATCH", "/api/v1/users/{user_id}"): (
        "admin.segura",
        lambda c, h, p: c.patch(f"/api/v1/users/{_user_id(p, 'operator.segura')}",
                                json={"display_name": "Operadora turno noche"}, headers=h),
        "user.update"),
    ("POST", "/api/v1/users/{user_id}/unlock"): (
        "admin.segura",
        lambda c, h, p: c.post(f"/api/v1/users/{_user_id(p, 'operator.segura')}/unlock",
                               headers=h),
        "user.unlock"),
    ("GET", "/api/v1/agencies"): ("operator.segura",
                                  lambda c, h, p: c.get("/api/v1/agencies", headers=h),
                                  "agency.list"),
    ("GET", "/api/v1/centres"): ("operator.segura",
                                 lambda c, h, p: c.get("/api/v1/centres", headers=h),
                                 "centre.list"),
    ("GET", "/api/v1/audit"): ("auditor.segura",
                               lambda c, h, p: c.get("/api/v1/audit", headers=h), "audit.read"),
    ("GET", "/api/v1/cameras/{camera_id}/rules"): (
        "supervisor.segura", lambda c, h, p: c.get("/api/v1/cameras/SEG-006/rules", headers=h),
        "rule.list"),
    ("POST", "/api/v1/cameras/{camera_id}/rules"): (
        "supervisor.segura",
        lambda c, h, p: c.post("/api/v1/cameras/SEG-006/rules", headers=h, json={
            "kind": "line", "points": [[0.1, 0.5], [0.9, 0.5]], "name": "Línea nueva"}),
        "rule.create"),
    ("PATCH", "/api/v1/cameras/{camera_id}/rules/{rule_id}"): (
        "admin.segura",
        lambda c, h, p: c.patch(f"/api/v1/cameras/SEG-006/rules/{_rule_id(p)}", headers=h,
                                json={"enabled": False}),
        "rule.update"),
    ("DELETE", "/api/v1/cameras/{camera_id}/rules/{rule_id}"): (
        "admin.segura",
        lambda c, h, p: c.delete(f"/api/v1/cameras/SEG-006/rules/{_rule_id(p)}", headers=h),
        "rule.delete"),
    ("GET", "/api/v1/detections"): ("operator.segura",
                                    lambda c, h, p: c.get("/api/v1/detections", headers=h),
                                    "detection.list"),
    ("GET", "/api/v1/cameras/{camera_id}/health"): (
        "operator.segura", lambda c, h, p: c.get("/api/v1/cameras/SEG-001/health", headers=h),
        "camera.health.read"),
    ("GET", "/api/v1/cameras/{camera_id}/live.mjpeg"): (
        "operator.segura", lambda c, h, p: _Done(first_mjpeg_part(
            c, "/api/v1/cameras/SEG-001/live.mjpeg", h)[0]), "footage.live"),
    ("GET", "/api/v1/detections/{event_id}/snapshot.jpg"): (
        "operator.segura",
        lambda c, h, p: c.get(f"/api/v1/detections/{_detection_id(p)}/snapshot.jpg",
                              headers=h), "footage.snapshot"),
    ("GET", "/api/v1/events"): (
        "operator.segura", lambda c, h, p: _Done(200 if read_events(c, h, ["SEG-001"]) else 0),
        "events.stream"),
    ("GET", "/api/v1/cameras/{camera_id}/recordings"): (
        "operator.segura",
        lambda c, h, p: c.get("/api/v1/cameras/SEG-001/recordings", headers=h, params={
            "start": "2026-11-25T00:00:00Z", "end": "2026-11-25T00:30:00Z"}),
        "recording.list"),
    ("GET", "/api/v1/cameras/{camera_id}/recordings/clip.mp4"): (
        "operator.segura", lambda c, h, p: _play(c, h, p), "footage.playback"),
    ("GET", "/api/v1/detections/{event_id}/clip.mp4"): (
        "operator.segura",
        lambda c, h, p: c.get(f"/api/v1/detections/{_clip_id(p)}/clip.mp4", headers=h),
        "footage.clip"),
    ("GET", "/api/v1/watchlist"): ("operator.segura",
                                   lambda c, h, p: c.get("/api/v1/watchlist", headers=h),
                                   "watchlist.list"),
    ("POST", "/api/v1/watchlist"): (
        "dispatcher.segura",
        lambda c, h, p: c.post("/api/v1/watchlist", headers=h,
                               json={"plate": "GBC-1234", "reason": "robo"}),
        "watchlist.add"),
    ("DELETE", "/api/v1/watchlist/{entry_id}"): (
        "dispatcher.segura",
        lambda c, h, p: c.delete(
            "/api/v1/watchlist/" + c.post("/api/v1/watchlist", headers=h, json={
                "plate": "GBC-1234", "reason": "robo"}).json()["id"], headers=h),
        "watchlist.remove"),
    ("GET", "/api/v1/metrics"): ("admin.segura",
                                 lambda c, h, p: c.get("/api/v1/metrics", headers=h),
                                 "metrics.read"),
    ("GET", "/map"): ("operator.segura", lambda c, h, p: c.get("/map"), "page.map"),
    ("GET", "/cameras"): ("operator.segura", lambda c, h, p: c.get("/cameras"), "page.cameras"),
    ("GET", "/cameras/{camera_id}"): ("operator.segura", lambda c, h, p: c.get("/cameras/SEG-001"),
                                      "page.camera"),
    ("GET", "/wall"): ("operator.segura", lambda c, h, p: c.get("/wall"), "page.wall"),
    ("POST", "/logout"): ("operator.segura",
                          lambda c, h, p: c.post("/logout", data={"csrf": h["csrf"]},
                                                 follow_redirects=False),
                          "auth.session.close"),
    ("POST", "/api/v1/me/password"): (
        "operator.segura",
        lambda c, h, p: c.post("/api/v1/me/password", headers=h, json={
            "current_password": "sereno-demo-2026", "new_password": "una frase bien larga"}),
        "user.password.change"),
    ("DELETE", "/api/v1/users/{user_id}/second-factor"): (
        "admin.segura",
        lambda c, h, p: c.delete(f"/api/v1/users/{_user_id(p, 'auditor.segura')}/second-factor",
                                 headers=h),
        "user.totp.reset"),
    ("GET", "/account"): ("operator.segura", lambda c, h, p: c.get("/account"), "user.read"),
    ("POST", "/account/password"): (
        "operator.segura",
        lambda c, h, p: c.post("/account/password", follow_redirects=False, data={
            "csrf": h["csrf"], "current_password": "sereno-demo-2026",
            "new_password": "una frase bien larga", "new_password_again": "una frase bien larga"}),
        "user.password.change"),
    ("POST", "/account/second-factor"): (
        "operator.segura",
        lambda c, h, p: c.post("/account/second-factor", data={"csrf": h["csrf"]},
                               follow_redirects=False),
        "auth.totp.enrol.begin"),
    **SECURITY_AUDITED,
    **GOVERNANCE_AUDITED,
    **RETENTION_AUDITED,
    **EVIDENCE_AUDITED,
    **AUDIT_CONSOLE_AUDITED,
    **ALERT_AUDITED,
    **AGREEMENT_AUDITED,
    **CAP_AUDITED,
    **INTEGRATION_AUDITED,
    **ALERT_STREAM_AUDITED,
    **INCIDENT_CONSOLE_AUDITED,
    **SHARED_WATCHLIST_AUDITED,
    **FEDERATION_AUDITED,
    **DISPATCH_AUDITED,
    **OPERATION_AUDITED,
    **INCIDENT_AUDITED,
}


def test_audit_cases_cover_every_route(client: TestClient) -> None:
    assert set(ALLOWED) == set(CASES) == all_routes(client.app) - PUBLIC  # type: ignore[arg-type]


@pytest.mark.parametrize("route", sorted(ALLOWED), ids=lambda r: f"{r[0]} {r[1]}")
def test_every_route_records_who_did_what(client: TestClient, platform: Platform,
                                          route: tuple[str, str]) -> None:
    username, call, action = ALLOWED[route]
    if route[1].startswith("/api/"):
        headers = bearer(client, username)
    else:
        _console_login(client, username)
        page = client.get("/map").text
        headers = {"csrf": page.split('name="csrf" value="')[1].split('"')[0]}
    first_new = len(audit_rows(platform))
    response = call(client, headers, platform)
    assert response.status_code < 400, response.text  # type: ignore[attr-defined]
    new = audit_rows(platform)[first_new:]
    mine = [r for r in new if r.action == action]
    assert mine, f"no {action} record among {[r.action for r in new]}"
    record = mine[-1]
    assert record.outcome == "allowed"
    assert record.actor_username == username and record.actor_agency_id == "segura-ep"
    assert record.actor_roles == username.split(".")[0]
    assert record.address == "testclient"
    assert record.channel == ("api" if route[1].startswith("/api/") else "web")
    assert record.at is not None


def test_refusals_are_recorded(client: TestClient, platform: Platform) -> None:
    first_new = len(audit_rows(platform))
    assert client.get("/api/v1/cameras").status_code == 401
    assert client.get("/api/v1/cameras", headers={"Authorization": "Bearer forged"}
                      ).status_code == 401
    police = bearer(client, "operator.policia")
    assert client.get("/api/v1/cameras/SEG-006", headers=police).status_code == 404
    assert client.post("/api/v1/cameras", json=NEW_CAMERA, headers=police).status_code == 403
    new = audit_rows(platform)[first_new:]
    denied = [r for r in new if r.outcome == "denied"]
    assert [r.actor_username for r in denied[:2]] == [None, None]
    assert all(r.action == "GET /api/v1/cameras" for r in denied[:2])
    out_of_scope = next(r for r in denied if r.action == "camera.read")
    assert out_of_scope.object_id == "SEG-006" and out_of_scope.object_agency_id == "segura-ep"
    assert "another agency" in out_of_scope.reason
    assert any(r.action == "camera.create" and r.actor_username == "operator.policia"
               for r in denied)


def test_purpose_is_recorded(client: TestClient, platform: Platform) -> None:
    headers = {**bearer(client, "operator.segura"), "X-Sereno-Purpose": "incidente 2026-0042"}
    assert client.get("/api/v1/cameras/SEG-001", headers=headers).status_code == 200
    assert audit_rows(platform)[-1].purpose == "incidente 2026-0042"


def test_change_and_its_record_share_one_transaction(client: TestClient, platform: Platform,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """If the audit record cannot be written, the change it records is not kept either."""
    headers = bearer(client, "admin.segura")
    original = AuditRecord.for_principal

    def unwritable(*args: object, **kwargs: object) -> AuditRecord:
        record = original(*args, **kwargs)  # type: ignore[arg-type]
        record.channel = None  # type: ignore[assignment]  # NOT NULL: the INSERT fails
        return record

    monkeypatch.setattr(AuditRecord, "for_principal", unwritable)
    with TestClient(client.app, raise_server_exceptions=False) as failing:
        response = failing.post("/api/v1/cameras", json=NEW_CAMERA, headers=headers)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    with platform.engine.connect() as connection:
        assert connection.scalar(select(cameras.c.id).where(cameras.c.id == "SEG-100")) is None
