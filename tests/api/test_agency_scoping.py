"""A user of one agency never reads or changes another agency's private cameras or its users,
through any route, whatever their role. Each case runs for every role of the National Police
against Segura EP's private objects, on both database engines."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sereno.adapters.db.tables import camera_rules, cameras, users
from sereno.bootstrap import Platform
from sereno.domain.access import Role
from tests.api.agreement_cases import SCOPING as AGREEMENT_CASES
from tests.api.alert_cases import SCOPING as ALERT_CASES
from tests.api.alert_stream_cases import CONSOLE as ALERT_STREAM_CONSOLE
from tests.api.alert_stream_cases import SCOPING as ALERT_STREAM_CASES
from tests.api.audit_console_cases import CONSOLE as AUDIT_CONSOLE
from tests.api.audit_console_cases import SCOPING as AUDIT_CASES
from tests.api.cap_cases import SCOPING as CAP_CASES
from tests.api.dispatch_cases import SCOPING as DISPATCH_CASES
from tests.api.evidence_cases import SCOPING as EVIDENCE_CASES
from tests.api.federation_cases import SCOPING as FEDERATION_CASES
from tests.api.governance_cases import SCOPING as GOVERNANCE_CASES
from tests.api.incident_cases import SCOPING as INCIDENT_CASES
from tests.api.incident_console_cases import CONSOLE as INCIDENT_CONSOLE
from tests.api.incident_console_cases import SCOPING as INCIDENT_CONSOLE_CASES
from tests.api.integration_cases import SCOPING as INTEGRATION_CASES
from tests.api.operation_cases import SCOPING as OPERATION_CASES
from tests.api.retention_cases import CONSOLE as RETENTION_CONSOLE
from tests.api.retention_cases import SCOPING as RETENTION_CASES
from tests.api.routes_catalogue import PUBLIC, all_routes
from tests.api.security_cases import SCOPING as SECURITY_CASES
from tests.api.shared_watchlist_cases import SCOPING as SHARED_WATCHLIST_CASES
from tests.conftest import bearer, demo_code

PRIVATE_CAMERA = "SEG-006"  # Segura EP, private
SHARED_CAMERA = "SEG-001"  # Segura EP, shared with partners (readable, never changeable)
SEGURA_CENTRE = "segura-centro"
OTHER_ROLES = [f"{role.value}.policia" for role in Role]

Check = Callable[[TestClient, dict[str, str], str], None]


def _segura_user_id(platform: Platform) -> str:
    with platform.engine.connect() as connection:
        return str(connection.scalar(
            select(users.c.id).where(users.c.username == "operator.segura")))


def _denied(response, *allowed: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in (allowed or (403, 404)), response.text
    assert "error" in response.json()


def _no_segura_private(items: list[dict]) -> None:  # type: ignore[type-arg]
    ids = {item["id"] for item in items}
    assert PRIVATE_CAMERA not in ids and "SEG-009" not in ids
    for item in items:
        if item["owner_agency"] == "segura-ep":
            assert item["classification"] == "shared"
            assert item["main_stream_url"] is None and item["privacy_masks"] == []


def list_cameras(client: TestClient, headers: dict[str, str], _: str) -> None:
    response = client.get("/api/v1/cameras", headers=headers)
    if response.status_code == 200:
        _no_segura_private(response.json()["items"])
    for query in ("?owner_agency=segura-ep", f"?q={PRIVATE_CAMERA}", "?status=maintenance"):
        response = client.get(f"/api/v1/cameras{query}", headers=headers)
        if response.status_code == 200:
            _no_segura_private(response.json()["items"])


def export_cameras(client: TestClient, headers: dict[str, str], _: str) -> None:
    response = client.get("/api/v1/cameras.geojson?owner_agency=segura-ep", headers=headers)
    if response.status_code == 200:
        _no_segura_private([{**f["properties"], "id": f["id"]}
                            for f in response.json()["features"]])
    else:
        _denied(response, 403)


def create_camera(client: TestClient, headers: dict[str, str], _: str) -> None:
    body = {"id": "INTRUDER-1", "name": "x", "centre_id": SEGURA_CENTRE, "latitude": -2.19,
            "longitude": -79.88, "main_stream_url": "rtsp://10.0.0.1/live"}
    _denied(client.post("/api/v1/cameras", json=body, headers=headers), 403, 422)
    smuggled = {**body, "centre_id": "pn-zona8", "owner_agency": "segura-ep"}
    _denied(client.post("/api/v1/cameras", json=smuggled, headers=headers), 403, 422)


def get_camera(client: TestClient, headers: dict[str, str], _: str) -> None:
    _denied(client.get(f"/api/v1/cameras/{PRIVATE_CAMERA}", headers=headers), 404)


def patch_camera(client: TestClient, headers: dict[str, str], _: str) -> None:
    _denied(client.patch(f"/api/v1/cameras/{PRIVATE_CAMERA}", json={"name": "hijacked"},
                         headers=headers), 404)
    _denied(client.patch(f"/api/v1/cameras/{SHARED_CAMERA}", json={"name": "hijacked"},
                         headers=headers), 403)


def retire_camera(client: TestClient, headers: dict[str, str], _: str) -> None:
    _denied(client.post(f"/api/v1/cameras/{PRIVATE_CAMERA}/retire", headers=headers), 404)
    _denied(client.post(f"/api/v1/cameras/{SHARED_CAMERA}/retire", headers=headers), 403)


def snapshot(client: TestClient, headers: dict[str, str], _: str) -> None:
    _denied(client.get(f"/api/v1/cameras/{PRIVATE_CAMERA}/snapshot.jpg", headers=headers), 404)


def import_cameras(client: TestClient, headers: dict[str, str], _: str) -> None:
    into_their_centre = ("id,name,centre_id,latitude,longitude,main_stream_url\n"
                         f"INTRUDER-2,x,{SEGURA_CENTRE},-2.19,-79.88,rtsp://10.0.0.1/a\n")
    overwrite_theirs = ("id,name,centre_id,latitude,longitude,main_stream_url\n"
                        f"{PRIVATE_CAMERA},x,pn-zona8,-2.19,-79.88,rtsp://10.0.0.1/a\n")
    for body in (into_their_centre, overwrite_theirs):
        _denied(client.post("/api/v1/camera-imports", content=body,
                            headers={**headers, "Content-Type": "text/csv"}), 403, 422)


def revoke(client: TestClient, headers: dict[str, str], _: str) -> None:
    theirs = bearer(client, "operator.segura")
    assert client.post("/api/v1/auth/revoke", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=theirs).status_code == 200


def me(client: TestClient, headers: dict[str, str], _: str) -> None:
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200
    assert response.json()["agency"] == "policia-nacional"


def list_users(client: TestClient, headers: dict[str, str], _: str) -> None:
    response = client.get("/api/v1/users", headers=headers)
    if response.status_code == 200:
        assert {u["agency"] for u in response.json()} == {"policia-nacional"}
    else:
        _denied(response, 403)


def create_user(client: TestClient, headers: dict[str, str], _: str) -> None:
    body = {"username": "mole.user", "display_name": "x", "password": "long-enough-pass",
            "roles": ["admin"], "agency": "segura-ep"}
    _denied(client.post("/api/v1/users", json=body, headers=headers), 403, 422)
    body.pop("agency")
    response = client.post("/api/v1/users", json=body, headers=headers)
    if response.status_code == 201:
        assert response.json()["agency"] == "policia-nacional"
    else:
        _denied(response, 403)


def get_user(client: TestClient, headers: dict[str, str], segura_user: str) -> None:
    _denied(client.get(f"/api/v1/users/{segura_user}", headers=headers), 404)


def patch_user(client: TestClient, headers: dict[str, str], segura_user: str) -> None:
    _denied(client.patch(f"/api/v1/users/{segura_user}",
                         json={"password": "attacker-password", "disabled": True},
                         headers=headers), 404)


def unlock_user(client: TestClient, headers: dict[str, str], segura_user: str) -> None:
    _denied(client.post(f"/api/v1/users/{segura_user}/unlock", headers=headers), 404)


def list_agencies(client: TestClient, headers: dict[str, str], _: str) -> None:
    # The directory of agencies (id, name, kind) is deliberately public to partners.
    response = client.get("/api/v1/agencies", headers=headers)
    assert response.status_code == 200
    assert set(response.json()[0]) == {"id", "name", "kind"}


def list_centres(client: TestClient, headers: dict[str, str], _: str) -> None:
    response = client.get("/api/v1/centres", headers=headers)
    assert response.status_code == 200
    assert {c["agency_id"] for c in response.json()} == {"policia-nacional"}


def read_audit(client: TestClient, headers: dict[str, str], _: str) -> None:
    response = client.get("/api/v1/audit?limit=1000", headers=headers)
    if response.status_code != 200:
        _denied(response, 403)
        return
    for item in response.json()["items"]:
        assert "policia-nacional" in (item["actor_agency_id"], item["object_agency_id"])


def _segura_rule_id(client: TestClient) -> str:
    platform = client.app.state.platform  # type: ignore[attr-defined]
    with platform.uow() as uow:
        return str(uow.rules.for_camera(PRIVATE_CAMERA)[0].id)


def list_rules(client: TestClient, headers: dict[str, str], _: str) -> None:
    for camera in (PRIVATE_CAMERA, SHARED_CAMERA):  # rules are the owner's set-up, even shared
        _denied(client.get(f"/api/v1/cameras/{camera}/rules", headers=headers), 404)


def create_rule(client: TestClient, headers: dict[str, str], _: str) -> None:
    body = {"kind": "zone", "points": [[0, 0], [1, 0], [1, 1]]}
    for camera in (PRIVATE_CAMERA, SHARED_CAMERA):
        _denied(client.post(f"/api/v1/cameras/{camera}/rules", json=body, headers=headers),
                404)


def patch_rule(client: TestClient, headers: dict[str, str], _: str) -> None:
    rule_id = _segura_rule_id(client)
    _denied(client.patch(f"/api/v1/cameras/{PRIVATE_CAMERA}/rules/{rule_id}",
                         json={"enabled": False}, headers=headers), 404)
    # Naming one's own camera does not reach another camera's rule either.
    _denied(client.patch(f"/api/v1/cameras/PN-001/rules/{rule_id}", json={"enabled": False},
                         headers=headers), 403, 404)


def delete_rule(client: TestClient, headers: dict[str, str], _: str) -> None:
    rule_id = _segura_rule_id(client)
    _denied(client.delete(f"/api/v1/cameras/{PRIVATE_CAMERA}/rules/{rule_id}",
                          headers=headers), 404)
    _denied(client.delete(f"/api/v1/cameras/PN-001/rules/{rule_id}", headers=headers),
            403, 404)


def list_detections(client: TestClient, headers: dict[str, str], _: str) -> None:
    from sereno.domain import commands

    platform = client.app.state.platform  # type: ignore[attr-defined]
    platform.bus.handle(commands.RecordDetection(PRIVATE_CAMERA, None, "zone", ("person",),
                                                 (1,), 0.9, (0.1, 0.1, 0.2, 0.3), 1.8e9))
    response = client.get("/api/v1/detections?limit=500", headers=headers)
    assert response.status_code == 200
    assert all(d["camera_id"] != PRIVATE_CAMERA for d in response.json())
    _denied(client.get(f"/api/v1/detections?camera_id={PRIVATE_CAMERA}", headers=headers), 404)


def camera_health(client: TestClient, headers: dict[str, str], _: str) -> None:
    _denied(client.get(f"/api/v1/cameras/{PRIVATE_CAMERA}/health", headers=headers), 404)


def live_mjpeg(client: TestClient, headers: dict[str, str], _: str) -> None:
    _denied(client.get(f"/api/v1/cameras/{PRIVATE_CAMERA}/live.mjpeg", headers=headers), 404)


def detection_snapshot(client: TestClient, headers: dict[str, str], _: str) -> None:
    from sereno.domain import commands

    platform = client.app.state.platform  # type: ignore[attr-defined]
    event = platform.bus.handle(commands.RecordDetection(
        PRIVATE_CAMERA, None, "zone", ("person",), (1,), 0.9, (0.1, 0.1, 0.2, 0.3), 1.8e9,
        snapshot_jpeg=b"\xff\xd8private\xff\xd9"))
    _denied(client.get(f"/api/v1/detections/{event.event_id}/snapshot.jpg", headers=headers),
            404)


def live_events(client: TestClient, headers: dict[str, str], _: str) -> None:
    from tests.api.streams import read_events

    received = read_events(client, headers, [PRIVATE_CAMERA, SHARED_CAMERA])
    cameras_seen = {e["camera_id"] for e in received}
    assert SHARED_CAMERA in cameras_seen and PRIVATE_CAMERA not in cameras_seen


def list_recordings(client: TestClient, headers: dict[str, str], _: str) -> None:
    _denied(client.get(f"/api/v1/cameras/{PRIVATE_CAMERA}/recordings",
                       params={"start": "2026-11-25T00:00:00Z", "end": "2026-11-25T00:30:00Z"},
                       headers=headers), 404)


def play_recording(client: TestClient, headers: dict[str, str], _: str) -> None:
    from tests.api.recordings import record_sample

    start, end = record_sample(client.app.state.platform, PRIVATE_CAMERA)  # type: ignore[attr-defined]
    _denied(client.get(f"/api/v1/cameras/{PRIVATE_CAMERA}/recordings/clip.mp4",
                       params={"start": start.isoformat(), "end": end.isoformat()},
                       headers=headers), 404)


def detection_clip(client: TestClient, headers: dict[str, str], _: str) -> None:
    from sereno.domain import commands

    platform = client.app.state.platform  # type: ignore[attr-defined]
    event = platform.bus.handle(commands.RecordDetection(
        PRIVATE_CAMERA, None, "zone", ("person",), (1,), 0.9, (0.1, 0.1, 0.2, 0.3), 1.8e9))
    platform.media.put("clips/private.mp4", b"not for partners")
    platform.bus.handle(commands.AttachEventClip(event.event_id, "clips/private.mp4"))
    _denied(client.get(f"/api/v1/detections/{event.event_id}/clip.mp4", headers=headers), 404)


def _segura_entry(client: TestClient) -> str:
    from sereno.domain import commands
    from sereno.services.accounts import principal_for

    platform = client.app.state.platform  # type: ignore[attr-defined]
    with platform.uow() as uow:
        dispatcher = uow.users.by_username("dispatcher.segura")
    who = principal_for(dispatcher, channel="api", address=None)
    entry = platform.bus.handle(commands.AddWatchlistEntry(who, "PBX-0987", "segura-only"))
    return str(entry.entry_id)


def list_watchlist(client: TestClient, headers: dict[str, str], _: str) -> None:
    _segura_entry(client)
    response = client.get("/api/v1/watchlist", headers=headers)
    if response.status_code == 200:
        assert all(e["agency"] == "policia-nacional" for e in response.json())
    else:
        _denied(response, 403)


def add_watchlist(client: TestClient, headers: dict[str, str], _: str) -> None:
    body = {"plate": "ABC-1234", "reason": "x", "agency": "segura-ep"}
    _denied(client.post("/api/v1/watchlist", json=body, headers=headers), 403, 422)


def remove_watchlist(client: TestClient, headers: dict[str, str], _: str) -> None:
    entry_id = _segura_entry(client)
    _denied(client.delete(f"/api/v1/watchlist/{entry_id}", headers=headers), 403, 404)
    platform = client.app.state.platform  # type: ignore[attr-defined]
    with platform.uow() as uow:
        assert uow.watchlist.get(entry_id) is not None


def metrics(client: TestClient, headers: dict[str, str], _: str) -> None:
    from sereno.video.messages import HealthReport
    from sereno.video.supervisor import HealthRegistry

    registry = HealthRegistry()
    for camera in (PRIVATE_CAMERA, SHARED_CAMERA, "PN-003"):
        registry.update(HealthReport(camera, {"online": True, "fps": 5.0, "frames": 10}))
    client.app.state.video_health = registry  # type: ignore[attr-defined]
    response = client.get("/api/v1/metrics", headers=headers)
    if response.status_code == 200:
        assert f'camera="{SHARED_CAMERA}"' in response.text
        assert PRIVATE_CAMERA not in response.text
    else:
        _denied(response, 403)


def _page(path: str) -> Check:
    def check(client: TestClient, headers: dict[str, str], _: str) -> None:
        response = client.get(path, headers={"Accept": "text/html"})
        if path.startswith("/cameras/"):
            assert response.status_code == 404
        else:
            assert response.status_code == 200
            assert PRIVATE_CAMERA not in response.text and "SEG-009" not in response.text
        assert "Parque Centenario" not in response.text  # SEG-006's name
    return check


def wall_page(client: TestClient, headers: dict[str, str], _: str) -> None:
    # Roles with live footage get the wall (without Segura's private cameras or their
    # detections); the others are refused.
    response = client.get("/wall", headers={"Accept": "text/html"})
    assert response.status_code in (200, 403), response.text
    assert PRIVATE_CAMERA not in response.text and "SEG-009" not in response.text
    assert "Parque Centenario" not in response.text


def logout(client: TestClient, headers: dict[str, str], _: str) -> None:
    # Logging out ends only one's own session; the Segura operator's session lives on.
    theirs = TestClient(client.app)
    _console_login(theirs, "operator.segura")
    page = client.get("/map")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    assert client.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert theirs.get("/map", follow_redirects=False).status_code == 200


def change_own_password(client: TestClient, headers: dict[str, str], _: str) -> None:
    # Only one's own password: no field names another account (unknown fields are refused).
    smuggled = {"current_password": "sereno-demo-2026", "new_password": "una frase bien larga",
                "username": "operator.segura"}
    _denied(client.post("/api/v1/me/password", json=smuggled, headers=headers), 422)
    smuggled.pop("username")
    assert client.post("/api/v1/me/password", json=smuggled, headers=headers
                       ).status_code == 204
    me = client.get("/api/v1/me", headers=headers)  # the token in use survives the change
    assert me.status_code == 200 and me.json()["agency"] == "policia-nacional"


def reset_second_factor(client: TestClient, headers: dict[str, str], segura_user: str) -> None:
    _denied(client.delete(f"/api/v1/users/{segura_user}/second-factor", headers=headers), 404)


def _page_csrf(client: TestClient) -> str:
    return client.get("/account").text.split('name="csrf" value="')[1].split('"')[0]


def account_page(client: TestClient, headers: dict[str, str], _: str) -> None:
    page = client.get("/account", headers={"Accept": "text/html"})
    assert page.status_code == 200
    own = page.text.split("<main>")[1]  # only the caller's own account
    assert "segura-ep" not in own and ".segura" not in own and "policia-nacional" in own


def account_password(client: TestClient, headers: dict[str, str], _: str) -> None:
    form = {"csrf": _page_csrf(client), "current_password": "sereno-demo-2026",
            "new_password": "una frase bien larga", "new_password_again": "una frase bien larga",
            "username": "operator.segura"}  # a stray field names nobody: the caller changes
    response = client.post("/account/password", data=form, follow_redirects=False)
    assert response.status_code == 303


def account_second_factor(client: TestClient, headers: dict[str, str], _: str) -> None:
    response = client.post("/account/second-factor", follow_redirects=False,
                           data={"csrf": _page_csrf(client), "user_id": "operator.segura"})
    assert response.status_code in (303, 409)  # 409: the role's app is already enrolled


CASES: dict[tuple[str, str], Check] = {
    ("GET", "/api/v1/cameras"): list_cameras,
    ("GET", "/api/v1/cameras.geojson"): export_cameras,
    ("POST", "/api/v1/cameras"): create_camera,
    ("GET", "/api/v1/cameras/{camera_id}"): get_camera,
    ("PATCH", "/api/v1/cameras/{camera_id}"): patch_camera,
    ("POST", "/api/v1/cameras/{camera_id}/retire"): retire_camera,
    ("GET", "/api/v1/cameras/{camera_id}/snapshot.jpg"): snapshot,
    ("POST", "/api/v1/camera-imports"): import_cameras,
    ("POST", "/api/v1/auth/revoke"): revoke,
    ("GET", "/api/v1/me"): me,
    ("GET", "/api/v1/users"): list_users,
    ("POST", "/api/v1/users"): create_user,
    ("GET", "/api/v1/users/{user_id}"): get_user,
    ("PATCH", "/api/v1/users/{user_id}"): patch_user,
    ("POST", "/api/v1/users/{user_id}/unlock"): unlock_user,
    ("GET", "/api/v1/agencies"): list_agencies,
    ("GET", "/api/v1/centres"): list_centres,
    ("GET", "/api/v1/audit"): read_audit,
    ("GET", "/api/v1/cameras/{camera_id}/rules"): list_rules,
    ("POST", "/api/v1/cameras/{camera_id}/rules"): create_rule,
    ("PATCH", "/api/v1/cameras/{camera_id}/rules/{rule_id}"): patch_rule,
    ("DELETE", "/api/v1/cameras/{camera_id}/rules/{rule_id}"): delete_rule,
    ("GET", "/api/v1/detections"): list_detections,
    ("GET", "/api/v1/cameras/{camera_id}/health"): camera_health,
    ("GET", "/api/v1/cameras/{camera_id}/live.mjpeg"): live_mjpeg,
    ("GET", "/api/v1/detections/{event_id}/snapshot.jpg"): detection_snapshot,
    ("GET", "/api/v1/events"): live_events,
    ("GET", "/api/v1/cameras/{camera_id}/recordings"): list_recordings,
    ("GET", "/api/v1/metrics"): metrics,
    ("GET", "/api/v1/watchlist"): list_watchlist,
    ("POST", "/api/v1/watchlist"): add_watchlist,
    ("DELETE", "/api/v1/watchlist/{entry_id}"): remove_watchlist,
    ("GET", "/api/v1/detections/{event_id}/clip.mp4"): detection_clip,
    ("GET", "/api/v1/cameras/{camera_id}/recordings/clip.mp4"): play_recording,
    ("GET", "/map"): _page("/map"),
    ("GET", "/cameras"): _page("/cameras?agency=segura-ep"),
    ("GET", "/cameras/{camera_id}"): _page(f"/cameras/{PRIVATE_CAMERA}"),
    ("GET", "/wall"): wall_page,
    ("POST", "/logout"): logout,
    ("POST", "/api/v1/me/password"): change_own_password,
    ("DELETE", "/api/v1/users/{user_id}/second-factor"): reset_second_factor,
    ("GET", "/account"): account_page,
    ("POST", "/account/password"): account_password,
    ("POST", "/account/second-factor"): account_second_factor,
    **SECURITY_CASES,
    **GOVERNANCE_CASES,
    **RETENTION_CASES,
    **EVIDENCE_CASES,
    **AUDIT_CASES,
    **ALERT_CASES,
    **AGREEMENT_CASES,
    **CAP_CASES,
    **INTEGRATION_CASES,
    **ALERT_STREAM_CASES,
    **SHARED_WATCHLIST_CASES,
    **FEDERATION_CASES,
    **DISPATCH_CASES,
    **OPERATION_CASES,
    **INCIDENT_CASES,
    **INCIDENT_CONSOLE_CASES,
}
CONSOLE = {("GET", "/map"), ("GET", "/cameras"), ("GET", "/cameras/{camera_id}"),
           ("GET", "/wall"), ("POST", "/logout"), ("GET", "/account"),
           ("POST", "/account/password"), ("POST", "/account/second-factor")}
CONSOLE |= RETENTION_CONSOLE
CONSOLE |= AUDIT_CONSOLE
CONSOLE |= ALERT_STREAM_CONSOLE
CONSOLE |= INCIDENT_CONSOLE


def _console_login(client: TestClient, username: str) -> None:
    """Log in through the console: the password, then the one-time code when the demo user
    needs one."""
    page = client.get("/login")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    response = client.post("/login", data={"username": username,
                                           "password": "sereno-demo-2026", "csrf": csrf},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    if response.headers["location"].startswith("/login/code"):
        code = demo_code(client.app.state.platform, username)  # type: ignore[attr-defined]
        response = client.post("/login/code", data={"code": code, "csrf": csrf},
                               follow_redirects=False)
        assert response.status_code == 303, response.text
    assert "sereno_session" in client.cookies


def _segura_state(platform: Platform) -> str:
    with platform.engine.connect() as connection:
        cams = [dict(r._mapping) for r in connection.execute(
            select(cameras).where(cameras.c.owner_agency_id == "segura-ep")
            .order_by(cameras.c.id))]
        people = [dict(r._mapping) for r in connection.execute(
            select(users).where(users.c.agency_id == "segura-ep").order_by(users.c.id))]
        rules = [dict(r._mapping) for r in connection.execute(
            select(camera_rules).order_by(camera_rules.c.id))]
    return json.dumps([cams, people, rules], default=str, sort_keys=True)


def test_every_route_is_catalogued(client: TestClient) -> None:
    routes = all_routes(client.app)  # type: ignore[arg-type]
    assert routes - PUBLIC == set(CASES), "add new routes to CASES (and the audit test)"


@pytest.mark.parametrize("route", sorted(CASES), ids=lambda r: f"{r[0]} {r[1]}")
def test_other_agency_cannot_reach_private_objects(client: TestClient, platform: Platform,
                                                   route: tuple[str, str]) -> None:
    before = _segura_state(platform)
    segura_user = _segura_user_id(platform)
    for username in OTHER_ROLES:
        if route in CONSOLE:
            with TestClient(client.app) as browser:
                _console_login(browser, username)
                CASES[route](browser, {}, segura_user)
        else:
            CASES[route](client, bearer(client, username), segura_user)
    assert _segura_state(platform) == before, "Segura EP's cameras or users changed"
