"""The password policy wherever a password is set (new account, administrator's reset, own
change through the API and the console), and what a change does to the other credentials."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from tests.api.test_agency_scoping import _console_login
from tests.conftest import audit_rows, bearer

NEW = "una frase nueva y bastante larga"


def _codes(response: Any) -> set[str]:
    return {d["code"] for d in response.json()["error"]["details"]}


def _user_id(client: TestClient, admin: dict[str, str], username: str) -> str:
    return next(u["id"] for u in client.get("/api/v1/users", headers=admin).json()
                if u["username"] == username)


@pytest.mark.parametrize(("password", "codes"), [
    ("too-short", {"password.too_short"}),
    ("x" * 129, {"password.too_long", "password.trivial"}),
    ("iloveyou2026", {"password.common"}),
    ("soy new.operator y ya", {"password.contains_username"}),
    ("aaaaaaaaaaaaaaaa", {"password.trivial"}),
])
def test_new_accounts_follow_the_policy(client: TestClient, password: str,
                                        codes: set[str]) -> None:
    admin = bearer(client, "admin.segura")
    response = client.post("/api/v1/users", headers=admin, json={
        "username": "new.operator", "display_name": "Nueva", "password": password,
        "roles": ["operator"]})
    assert response.status_code == 422, response.text
    assert _codes(response) == codes
    ok = client.post("/api/v1/users", headers=admin, json={
        "username": "new.operator", "display_name": "Nueva", "password": NEW,
        "roles": ["operator"]})
    assert ok.status_code == 201 and ok.json()["password_changed_at"] is not None


def test_an_administrators_reset_follows_the_policy_and_ends_the_users_credentials(
        client: TestClient) -> None:
    admin = bearer(client, "admin.segura")
    operator = bearer(client, "operator.segura")
    operator_id = _user_id(client, admin, "operator.segura")
    common = client.patch(f"/api/v1/users/{operator_id}", headers=admin,
                          json={"password": "password123!"})
    assert common.status_code == 422 and _codes(common) == {"password.common"}
    same = client.patch(f"/api/v1/users/{operator_id}", headers=admin,
                        json={"password": "sereno-demo-2026"})
    assert same.status_code == 422 and _codes(same) == {"password.reused"}
    assert client.get("/api/v1/me", headers=operator).status_code == 200  # nothing changed
    assert client.patch(f"/api/v1/users/{operator_id}", headers=admin,
                        json={"password": NEW}).status_code == 200
    assert client.get("/api/v1/me", headers=operator).status_code == 401
    assert bearer(client, "operator.segura", NEW)


def test_changing_ones_own_password(client: TestClient, platform: Platform) -> None:
    current = bearer(client, "supervisor.segura")
    other = bearer(client, "supervisor.segura")
    with TestClient(client.app) as browser:
        _console_login(browser, "supervisor.segura")
        wrong = client.post("/api/v1/me/password", headers=current, json={
            "current_password": "not-it", "new_password": NEW})
        assert wrong.status_code == 403 and "current password" in wrong.json()["error"]["message"]
        with platform.uow() as uow:
            assert uow.users.by_username("supervisor.segura").failed_logins == 1
        reused = client.post("/api/v1/me/password", headers=current, json={
            "current_password": "sereno-demo-2026", "new_password": "sereno-demo-2026"})
        assert reused.status_code == 422 and _codes(reused) == {"password.reused"}
        named = client.post("/api/v1/me/password", headers=current, json={
            "current_password": "sereno-demo-2026", "new_password": "supervisor.segura 2026"})
        assert _codes(named) == {"password.contains_username"}
        assert client.post("/api/v1/me/password", headers=current, json={
            "current_password": "sereno-demo-2026", "new_password": NEW}).status_code == 204
        assert client.get("/api/v1/me", headers=current).status_code == 200  # kept
        assert client.get("/api/v1/me", headers=other).status_code == 401  # ended
        assert browser.get("/map", follow_redirects=False).status_code == 303  # ended
    assert client.post("/api/v1/auth/token", data={
        "username": "supervisor.segura", "password": "sereno-demo-2026"}).status_code == 401
    assert bearer(client, "supervisor.segura", NEW)
    records = [r for r in audit_rows(platform) if r.action == "user.password.change"]
    assert [r.outcome for r in records] == ["denied", "rejected", "rejected", "allowed"]
    assert records[0].reason == "wrong current password"
    assert records[-1].detail == {"credentials_ended": 2}
    assert all(NEW not in str(r._mapping) for r in audit_rows(platform))


def test_changing_ones_password_in_the_console(client: TestClient) -> None:
    _console_login(client, "dispatcher.segura")
    page = client.get("/account")
    assert page.status_code == 200 and "dispatcher.segura" in page.text
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    form = {"csrf": csrf, "current_password": "sereno-demo-2026", "new_password": NEW,
            "new_password_again": NEW + "!"}
    mismatch = client.post("/account/password", data=form)
    assert mismatch.status_code == 422 and "no coinciden" in mismatch.text
    weak = client.post("/account/password", data={**form, "new_password": "qwerty123456",
                                                   "new_password_again": "qwerty123456"})
    assert weak.status_code == 422 and "demasiado común" in weak.text
    short = client.post("/account/password", data={**form, "new_password": "corta",
                                                    "new_password_again": "corta"})
    assert short.status_code == 422 and "al menos 12 caracteres" in short.text
    wrong = client.post("/account/password", data={**form, "current_password": "nope",
                                                    "new_password_again": NEW})
    assert wrong.status_code == 403 and "actual no es correcta" in wrong.text
    no_csrf = client.post("/account/password", data={**form, "csrf": "forged",
                                                      "new_password_again": NEW})
    assert no_csrf.status_code == 403
    done = client.post("/account/password", data={**form, "new_password_again": NEW},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/account?done=password"
    assert "Contraseña cambiada" in client.get(done.headers["location"]).text
    client.get("/lang/en")
    assert "Password changed" in client.get("/account?done=password").text
