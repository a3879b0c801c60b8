"""Logins, tokens, sessions, lockout, CSRF, and authentication on every route."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from tests.api.agreement_cases import PATH_IDS as AGREEMENT_IDS
from tests.api.alert_cases import PATH_IDS as ALERT_IDS
from tests.api.alert_stream_cases import PATH_IDS as ALERT_STREAM_IDS
from tests.api.audit_console_cases import PATH_IDS as AUDIT_CONSOLE_IDS
from tests.api.cap_cases import PATH_IDS as CAP_IDS
from tests.api.dispatch_cases import PATH_IDS as DISPATCH_IDS
from tests.api.evidence_cases import PATH_IDS as EVIDENCE_IDS
from tests.api.governance_cases import PATH_IDS as GOVERNANCE_IDS
from tests.api.incident_cases import PATH_IDS as INCIDENT_IDS
from tests.api.incident_console_cases import PATH_IDS as INCIDENT_CONSOLE_IDS
from tests.api.integration_cases import PATH_IDS as INTEGRATION_IDS
from tests.api.operation_cases import PATH_IDS as OPERATION_IDS
from tests.api.retention_cases import PATH_IDS as RETENTION_PATH_IDS
from tests.api.routes_catalogue import PUBLIC, all_routes
from tests.api.security_cases import PATH_IDS
from tests.api.shared_watchlist_cases import PATH_IDS as SHARED_WATCHLIST_IDS
from tests.api.test_agency_scoping import _console_login
from tests.conftest import FakeClock, audit_rows, bearer


def _path(template: str) -> str:
    path = (template.replace("{camera_id}", "SEG-001").replace("{user_id}", "x")
            .replace("{rule_id}", "x").replace("{event_id}", "x").replace("{entry_id}", "x"))
    for name in (*PATH_IDS, *GOVERNANCE_IDS):  # the security and governance routes' ids
        path = path.replace(name, "x")
    for name in (*RETENTION_PATH_IDS, *EVIDENCE_IDS, *AUDIT_CONSOLE_IDS, *ALERT_IDS,
                 *SHARED_WATCHLIST_IDS, *ALERT_STREAM_IDS, *INTEGRATION_IDS):
        path = path.replace(name, "x")
    for name in CAP_IDS:  # the CAP routes' ids
        path = path.replace(name, "x")
    for name in AGREEMENT_IDS:  # the agreement routes' ids
        path = path.replace(name, "x")
    for name in DISPATCH_IDS:  # units and dispatch
        path = path.replace(name, "x")
    for name in OPERATION_IDS:  # joint operations
        path = path.replace(name, "x")
    for name in INCIDENT_IDS:  # incidents and their types
        path = path.replace(name, "x")
    for name in INCIDENT_CONSOLE_IDS:  # the incident console's pages
        path = path.replace(name, "x")
    return path


def test_every_non_public_route_requires_authentication(client: TestClient) -> None:
    for method, template in sorted(all_routes(client.app) - PUBLIC):  # type: ignore[arg-type]
        response = client.request(method, _path(template), follow_redirects=False)
        if template.startswith("/api/"):
            assert response.status_code == 401, (method, template, response.text)
            assert response.json()["error"]["code"] == "unauthenticated"
            assert response.headers["www-authenticate"] == "Bearer"
        else:
            assert response.status_code in (303, 401), (method, template)


def test_token_contract(client: TestClient) -> None:
    response = client.post("/api/v1/auth/token",
                           data={"username": "operator.segura", "password": "sereno-demo-2026"})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and len(body["access_token"]) >= 40
    assert "footage:live" in body["scope"].split()
    assert "users:write" not in body["scope"].split()  # an operator gets no admin scope


def test_wrong_password_and_unknown_user_look_the_same(client: TestClient) -> None:
    wrong = client.post("/api/v1/auth/token", data={"username": "operator.segura",
                                                     "password": "not-the-password"})
    unknown = client.post("/api/v1/auth/token", data={"username": "nobody.here",
                                                       "password": "not-the-password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_repeated_failures_lock_the_account_for_a_while(client: TestClient, clock: FakeClock,
                                                        platform: Platform) -> None:
    form = {"username": "dispatcher.segura", "password": "wrong-password"}
    codes = [client.post("/api/v1/auth/token", data=form).status_code for _ in range(5)]
    assert codes == [401, 401, 401, 401, 423]
    good = {"username": "dispatcher.segura", "password": "sereno-demo-2026"}
    locked = client.post("/api/v1/auth/token", data=good)
    assert locked.status_code == 423 and locked.json()["error"]["code"] == "account_locked"
    clock.advance(minutes=16)
    assert client.post("/api/v1/auth/token", data=good).status_code == 200
    reasons = [r.reason for r in audit_rows(platform) if r.action == "auth.login"]
    assert "wrong password; account locked" in reasons and "account locked" in reasons


def test_admin_can_unlock_early(client: TestClient, platform: Platform) -> None:
    for _ in range(5):
        client.post("/api/v1/auth/token", data={"username": "analyst.segura", "password": "x"})
    admin = bearer(client, "admin.segura")
    user = next(u for u in client.get("/api/v1/users", headers=admin).json()
                if u["username"] == "analyst.segura")
    assert user["locked_until"] is not None
    assert client.post(f"/api/v1/users/{user['id']}/unlock", headers=admin).status_code == 200
    bearer(client, "analyst.segura")


def test_tokens_expire(client: TestClient, clock: FakeClock) -> None:
    headers = bearer(client, "operator.segura", expires_in_minutes="5")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    clock.advance(minutes=6)
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_token_lifetime_is_capped(client: TestClient) -> None:
    response = client.post("/api/v1/auth/token", data={
        "username": "operator.segura", "password": "sereno-demo-2026",
        "expires_in_minutes": "100000"})
    assert response.status_code == 422


def test_scopes_narrow_a_token(client: TestClient) -> None:
    headers = bearer(client, "operator.segura", scope="cameras:read")
    assert client.get("/api/v1/cameras", headers=headers).status_code == 200
    response = client.get("/api/v1/cameras/SEG-001/snapshot.jpg", headers=headers)
    assert response.status_code == 403
    # Asking for more than the roles allow grants only what they allow.
    admin_scope = client.post("/api/v1/auth/token", data={
        "username": "operator.segura", "password": "sereno-demo-2026",
        "scope": "cameras:read users:write"}).json()
    assert admin_scope["scope"] == "cameras:read"
    unknown = client.post("/api/v1/auth/token", data={
        "username": "operator.segura", "password": "sereno-demo-2026", "scope": "root"})
    assert unknown.status_code == 422


def test_revoked_token_stops_working(client: TestClient) -> None:
    headers = bearer(client, "operator.segura")
    assert client.post("/api/v1/auth/revoke", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_disabled_account_loses_access(client: TestClient, platform: Platform) -> None:
    operator = bearer(client, "operator.segura")
    admin = bearer(client, "admin.segura")
    me = client.get("/api/v1/me", headers=operator).json()
    assert client.patch(f"/api/v1/users/{me['id']}", json={"disabled": True},
                        headers=admin).status_code == 200
    assert client.get("/api/v1/me", headers=operator).status_code == 401
    assert client.post("/api/v1/auth/token", data={
        "username": "operator.segura", "password": "sereno-demo-2026"}).status_code == 401


def test_session_cookie_is_httponly_samesite_and_secure_over_https(platform: Platform) -> None:
    from sereno.entrypoints.api.app import create_app

    with TestClient(create_app(platform), base_url="https://sereno.test") as https:
        page = https.get("/login")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        response = https.post("/login", data={"username": "operator.segura",
                                               "password": "sereno-demo-2026", "csrf": csrf},
                              follow_redirects=False)
    cookie = next(h for h in response.headers.get_list("set-cookie")
                  if h.startswith("sereno_session="))
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "samesite=strict", "path=/"} <= attributes


def test_login_form_needs_its_csrf_token(client: TestClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "operator.segura",
                                           "password": "sereno-demo-2026", "csrf": "guess"},
                           follow_redirects=False)
    assert response.status_code == 403
    assert "sereno_session" not in client.cookies


def test_cookie_callers_need_the_csrf_token_to_change_anything(client: TestClient) -> None:
    _console_login(client, "supervisor.segura")
    page = client.get("/map").text
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    change = {"name": "Malecón 2000 — Torre Morisca (norte)"}
    refused = client.patch("/api/v1/cameras/SEG-001", json=change)
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]["message"]
    assert client.patch("/api/v1/cameras/SEG-001", json=change,
                        headers={"X-CSRF-Token": csrf}).status_code == 200
    assert client.post("/logout", data={"csrf": "wrong"}).status_code == 403


def test_sessions_expire_when_idle(client: TestClient, clock: FakeClock) -> None:
    _console_login(client, "operator.segura")
    assert client.get("/map", follow_redirects=False).status_code == 200
    clock.advance(minutes=31)
    response = client.get("/map", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    api = client.get("/api/v1/me")
    assert api.status_code == 401 and "expired" in api.json()["error"]["message"]


def test_logout_ends_the_session(client: TestClient) -> None:
    _console_login(client, "operator.segura")
    csrf = client.get("/map").text.split('name="csrf" value="')[1].split('"')[0]
    assert client.post("/logout", data={"csrf": csrf}, follow_redirects=False
                       ).status_code == 303
    assert client.get("/map", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil"])
def test_login_never_redirects_off_site(client: TestClient, target: str) -> None:
    page = client.get("/login")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    response = client.post("/login", data={"username": "operator.segura", "csrf": csrf,
                                           "password": "sereno-demo-2026", "next": target},
                           follow_redirects=False)
    assert response.headers["location"] == "/map"


def test_passwords_are_stored_as_argon2id(platform: Platform) -> None:
    with platform.uow() as uow:
        user = uow.users.by_username("operator.segura")
    assert user is not None and user.password_hash.startswith("$argon2id$")
    assert "sereno-demo-2026" not in user.password_hash
