"""The second factor (TOTP) and the lockout: required for admins, auditors and approvers on the
API and the console; enrolment; replayed, wrong and mistimed codes; drift; admin reset."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sereno.adapters.totp import code_at
from sereno.bootstrap import Platform
from sereno.demo.city import DEMO_PASSWORD, demo_totp_secret
from tests.api.test_agency_scoping import _console_login
from tests.conftest import FakeClock, audit_rows, bearer, demo_code

SECOND_FACTOR_ROLES = ["admin.segura", "auditor.segura", "approver.policia"]


def _token(client: TestClient, username: str, otp: str | None = None,
           password: str = DEMO_PASSWORD) -> Any:
    form = {"username": username, "password": password}
    if otp is not None:
        form["otp"] = otp
    return client.post("/api/v1/auth/token", data=form)


def _code(username: str, clock: FakeClock, steps: int = 0) -> str:
    return code_at(demo_totp_secret(username), clock() + timedelta(seconds=30 * steps))


def _user(platform: Platform, username: str) -> Any:
    with platform.uow() as uow:
        return uow.users.by_username(username)


def _login_form(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> Any:
    page = client.get("/login")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf": csrf}, follow_redirects=False)
    return response, csrf


@pytest.mark.parametrize("username", SECOND_FACTOR_ROLES)
def test_api_token_needs_the_code_for_each_role(client: TestClient, clock: FakeClock,
                                                username: str) -> None:
    missing = _token(client, username)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "otp_required"
    assert "otp" in missing.json()["error"]["message"]
    wrong = _token(client, username, "000000" if _code(username, clock) != "000000" else "1")
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "otp_invalid"
    good = _token(client, username, _code(username, clock))
    assert good.status_code == 200, good.text
    assert client.get("/api/v1/me", headers={
        "Authorization": f"Bearer {good.json()['access_token']}"}).status_code == 200


@pytest.mark.parametrize("username", SECOND_FACTOR_ROLES)
def test_console_session_needs_the_code_for_each_role(client: TestClient, clock: FakeClock,
                                                      username: str) -> None:
    response, csrf = _login_form(client, username)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login/code")
    assert "sereno_session" not in client.cookies
    assert client.get("/map", follow_redirects=False).status_code == 303  # no session yet
    page = client.get(response.headers["location"])
    assert page.status_code == 200 and 'data-testid="otp"' in page.text
    assert "totp-secret" not in page.text  # enrolled: the secret is never shown again
    wrong = client.post("/login/code", data={"code": "12345", "csrf": csrf})
    assert wrong.status_code == 401 and "Código incorrecto" in wrong.text
    assert "sereno_session" not in client.cookies
    done = client.post("/login/code", data={"code": _code(username, clock), "csrf": csrf,
                                            "next": "/cameras"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/cameras"
    assert client.get("/map", follow_redirects=False).status_code == 200


def test_other_roles_log_in_without_a_code(client: TestClient) -> None:
    assert _token(client, "operator.segura").status_code == 200
    response, _ = _login_form(client, "supervisor.policia")
    assert response.status_code == 303 and response.headers["location"] == "/map"


def test_a_code_works_once(client: TestClient, clock: FakeClock, platform: Platform) -> None:
    code = _code("admin.segura", clock)
    assert _token(client, "admin.segura", code).status_code == 200
    replay = _token(client, "admin.segura", code)
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "otp_invalid"
    assert "already been used" in replay.json()["error"]["message"]
    # An earlier step's code (still within the drift) is a replay too once a later one is used.
    assert _token(client, "admin.segura", _code("admin.segura", clock, -1)).status_code == 401
    clock.advance(seconds=30)
    assert _token(client, "admin.segura", _code("admin.segura", clock)).status_code == 200
    reasons = [r.reason for r in audit_rows(platform)
               if r.action == "auth.login" and r.actor_username == "admin.segura"]
    assert reasons.count("one-time code already used (replay)") == 2


def test_one_step_of_drift_is_accepted(client: TestClient, clock: FakeClock) -> None:
    assert _token(client, "auditor.segura", _code("auditor.segura", clock, -1)
                  ).status_code == 200
    assert _token(client, "auditor.segura", _code("auditor.segura", clock, +1)
                  ).status_code == 200


@pytest.mark.parametrize("steps", [-2, 2, -10])
def test_codes_further_off_are_refused_as_a_clock_problem(client: TestClient, clock: FakeClock,
                                                          platform: Platform,
                                                          steps: int) -> None:
    response = _token(client, "approver.segura", _code("approver.segura", clock, steps))
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "otp_invalid" and "clock" in error["message"]
    assert error["details"] == [{"field": "otp", "reason": "clock"}]
    record = audit_rows(platform)[-2]  # the edge records the refused request after it
    assert record.action == "auth.login" and record.outcome == "denied"
    assert record.reason == f"one-time code of another time ({steps * 30:+d} s): device clock off"
    assert _user(platform, "approver.segura").failed_logins == 1


def test_the_server_clock_going_back_does_not_reopen_used_codes(client: TestClient,
                                                                clock: FakeClock) -> None:
    assert _token(client, "admin.policia", _code("admin.policia", clock)).status_code == 200
    clock.advance(seconds=-90)  # the server's clock was set back
    old = _token(client, "admin.policia", _code("admin.policia", clock))
    assert old.status_code == 401 and "already been used" in old.json()["error"]["message"]


def test_wrong_codes_lock_the_account_for_ten_minutes(client: TestClient, clock: FakeClock,
                                                      platform: Platform) -> None:
    wrong = str((int(_code("admin.segura", clock)) + 1) % 1_000_000).zfill(6)
    codes = [_token(client, "admin.segura", wrong).status_code for _ in range(5)]
    assert codes == [401, 401, 401, 401, 423]
    locked = _token(client, "admin.segura", _code("admin.segura", clock))
    assert locked.status_code == 423 and locked.json()["error"]["code"] == "account_locked"
    clock.advance(minutes=9, seconds=59)
    assert _token(client, "admin.segura", _code("admin.segura", clock)).status_code == 423
    clock.advance(seconds=2)
    assert _token(client, "admin.segura", _code("admin.segura", clock)).status_code == 200
    rows = [r for r in audit_rows(platform) if r.actor_username == "admin.segura"]
    lockouts = [r for r in rows if r.action == "auth.lockout"]
    assert len(lockouts) == 1 and lockouts[0].object_id == _user(platform, "admin.segura").id
    assert lockouts[0].address == "testclient" and lockouts[0].actor_agency_id == "segura-ep"
    assert "wrong one-time code; account locked" in [r.reason for r in rows]


def test_a_known_password_does_not_buy_unlimited_code_guesses(client: TestClient,
                                                              clock: FakeClock) -> None:
    """Asking without a code does not count as a failure, but it does not clear the count
    either: only a complete login (password and code) does."""
    for _ in range(4):
        assert _token(client, "auditor.policia", "999999" if _code(
            "auditor.policia", clock) != "999999" else "999998").status_code == 401
    assert _token(client, "auditor.policia").json()["error"]["code"] == "otp_required"
    assert _token(client, "auditor.policia", "000001" if _code(
        "auditor.policia", clock) != "000001" else "000002").status_code == 423


def test_wrong_passwords_and_codes_count_together(client: TestClient, clock: FakeClock) -> None:
    for _ in range(3):
        assert _token(client, "approver.segura", password="not-the-password").status_code == 401
    assert _token(client, "approver.segura", "abcdef").status_code == 401  # not even digits
    assert _token(client, "approver.segura", password="still-not-it").status_code == 423


def test_console_code_step_expires(client: TestClient, clock: FakeClock) -> None:
    response, csrf = _login_form(client, "admin.segura")
    assert response.headers["location"].startswith("/login/code")
    clock.advance(minutes=5, seconds=1)
    late = client.post("/login/code", data={"code": _code("admin.segura", clock), "csrf": csrf})
    assert late.status_code == 401 and "caducó" in late.text
    assert "sereno_session" not in client.cookies
    assert client.get("/login/code", follow_redirects=False).status_code == 401


def test_code_page_without_a_password_step_sends_back_to_login(client: TestClient) -> None:
    page = client.get("/login/code")
    assert page.status_code == 401 and 'name="password"' in page.text
    forged = client.post("/login/code", data={"code": "123456", "csrf": "x"}, headers={
        "Cookie": "sereno_login_step=forged; sereno_login_csrf=x"})
    assert forged.status_code == 401 and "sereno_session" not in client.cookies


def test_console_lockout_by_codes_ends_the_code_step(client: TestClient, clock: FakeClock) -> None:
    _, csrf = _login_form(client, "auditor.segura")
    good = _code("auditor.segura", clock)
    wrong = "111111" if good != "111111" else "222222"
    statuses = [client.post("/login/code", data={"code": wrong, "csrf": csrf}).status_code
                for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 423]
    after = client.post("/login/code", data={"code": good, "csrf": csrf})
    assert after.status_code == 401 and "sereno_session" not in client.cookies


# -- enrolment -----------------------------------------------------------------------------------

def _reset(client: TestClient, platform: Platform, username: str) -> None:
    admin = bearer(client, "admin.segura")
    user_id = _user(platform, username).id
    response = client.delete(f"/api/v1/users/{user_id}/second-factor", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["second_factor"] is False
    assert response.json()["second_factor_required"] is True


def test_a_required_role_without_an_app_enrols_at_console_login(client: TestClient,
                                                               clock: FakeClock,
                                                               platform: Platform) -> None:
    _reset(client, platform, "approver.segura")
    api = _token(client, "approver.segura", "123456")
    assert api.status_code == 401
    assert api.json()["error"]["code"] == "otp_enrolment_required"
    assert "console" in api.json()["error"]["message"]

    with TestClient(client.app) as browser:
        response, csrf = _login_form(browser, "approver.segura")
        assert response.headers["location"].startswith("/login/code")
        page = browser.get(response.headers["location"])
        assert page.status_code == 200
        secret = page.text.split('data-secret="')[1].split('"')[0]
        assert len(secret) == 32 and secret != demo_totp_secret("approver.segura")
        assert f"secret={secret}" in page.text and "otpauth://totp/Sereno:approver.segura" in (
            page.text)
        again = browser.get(response.headers["location"])  # the same secret until confirmed
        assert f'data-secret="{secret}"' in again.text
        assert "sereno_session" not in browser.cookies
        wrong = browser.post("/login/code", data={"code": "000000" if code_at(secret, clock())
                                                  != "000000" else "999999", "csrf": csrf})
        assert wrong.status_code == 401 and f'data-secret="{secret}"' in wrong.text
        done = browser.post("/login/code", data={"code": code_at(secret, clock()),
                                                 "csrf": csrf}, follow_redirects=False)
        assert done.status_code == 303 and "sereno_session" in browser.cookies
        assert browser.get("/map", follow_redirects=False).status_code == 200

    user = _user(platform, "approver.segura")
    assert user.has_second_factor and user.totp_pending is None
    assert secret not in user.totp_secret  # sealed at rest
    clock.advance(seconds=30)
    assert _token(client, "approver.segura", code_at(secret, clock())).status_code == 200
    enrolled = [r for r in audit_rows(platform) if r.action == "auth.totp.enrol"]
    assert len(enrolled) == 1 and enrolled[0].actor_username == "approver.segura"
    assert enrolled[0].detail == {"voluntary": False, "at_login": True}
    assert all(secret not in str(r._mapping) for r in audit_rows(platform))


def test_other_roles_may_enrol_voluntarily(client: TestClient, clock: FakeClock,
                                           platform: Platform) -> None:
    _console_login(client, "operator.segura")
    account = client.get("/account")
    assert 'data-enrolled="false"' in account.text and "opcional" in account.text
    csrf = account.text.split('name="csrf" value="')[1].split('"')[0]
    assert client.post("/account/second-factor", data={"csrf": csrf},
                       follow_redirects=False).status_code == 303
    page = client.get("/account")
    secret = page.text.split('data-secret="')[1].split('"')[0]
    wrong = client.post("/account/second-factor", data={"csrf": csrf, "code": "12x456"})
    assert wrong.status_code == 422 and "Código incorrecto" in wrong.text
    confirmed = client.post("/account/second-factor", follow_redirects=False,
                            data={"csrf": csrf, "code": code_at(secret, clock())})
    assert confirmed.status_code == 303
    assert 'data-enrolled="true"' in client.get("/account").text
    # From now on the operator's logins need the code too.
    assert _token(client, "operator.segura").json()["error"]["code"] == "otp_required"
    clock.advance(seconds=30)
    assert _token(client, "operator.segura", code_at(secret, clock())).status_code == 200
    again = client.post("/account/second-factor", data={"csrf": csrf})
    assert again.status_code == 409
    actions = [r.action for r in audit_rows(platform) if r.actor_username == "operator.segura"]
    assert "auth.totp.enrol.begin" in actions and "auth.totp.enrol" in actions


def test_admin_resets_a_second_factor(client: TestClient, platform: Platform) -> None:
    auditor = bearer(client, "auditor.segura")
    admin = bearer(client, "admin.segura")
    auditor_id = _user(platform, "auditor.segura").id
    admin_id = _user(platform, "admin.segura").id
    own = client.delete(f"/api/v1/users/{admin_id}/second-factor", headers=admin)
    assert own.status_code == 422 and "another administrator" in own.json()["error"]["message"]
    supervisor = bearer(client, "supervisor.segura")
    assert client.delete(f"/api/v1/users/{auditor_id}/second-factor",
                         headers=supervisor).status_code == 403
    police_admin = bearer(client, "admin.policia")
    assert client.delete(f"/api/v1/users/{auditor_id}/second-factor",
                         headers=police_admin).status_code == 404
    assert client.delete(f"/api/v1/users/{auditor_id}/second-factor",
                         headers=admin).status_code == 200
    assert client.get("/api/v1/me", headers=auditor).status_code == 401  # its tokens ended
    assert _user(platform, "auditor.segura").totp_secret is None
    records = {r.outcome: r for r in audit_rows(platform) if r.action == "user.totp.reset"}
    assert set(records) == {"allowed", "denied", "rejected"}
    assert records["allowed"].object_id == auditor_id
    assert records["allowed"].actor_username == "admin.segura"
    assert records["allowed"].detail["had_second_factor"] is True


def test_the_secret_is_never_returned_and_sealed_at_rest(client: TestClient,
                                                         platform: Platform) -> None:
    admin = bearer(client, "admin.segura")
    for user in client.get("/api/v1/users", headers=admin).json():
        assert set(user) >= {"second_factor", "second_factor_required"}
        assert not any("secret" in key or "totp" in key for key in user)
    stored = _user(platform, "admin.segura").totp_secret
    assert stored.startswith("v1.") and demo_totp_secret("admin.segura") not in stored
    # A sealed secret copied onto another account's row does not open there.
    with platform.uow() as uow:
        other = uow.users.by_username("auditor.segura")
        other.totp_secret = stored
        uow.commit()
    refused = _token(client, "auditor.segura", demo_code(platform, "admin.segura"))
    assert refused.status_code == 401 and "administrator" in refused.json()["error"]["message"]


# -- audit of the whole account life -------------------------------------------------------------

def test_every_login_event_is_audited_with_who_agency_address_and_outcome(
        client: TestClient, clock: FakeClock, platform: Platform) -> None:
    start = len(audit_rows(platform))
    bearer(client, "operator.segura")                                   # success
    _token(client, "operator.segura", password="wrong-password")        # wrong password
    _token(client, "admin.segura", "12345x")                            # wrong code
    code = _code("admin.segura", clock)
    token = _token(client, "admin.segura", code).json()["access_token"]  # success with code
    _token(client, "admin.segura", code)                                # replayed code
    admin = {"Authorization": f"Bearer {token}"}
    operator_id = _user(platform, "operator.segura").id
    client.patch(f"/api/v1/users/{operator_id}", json={"disabled": True}, headers=admin)
    _token(client, "operator.segura")                                   # disabled
    client.patch(f"/api/v1/users/{operator_id}", json={"disabled": False}, headers=admin)
    for _ in range(5):
        _token(client, "analyst.segura", password="wrong-password")     # … lockout
    _token(client, "analyst.segura")                                    # locked
    analyst_id = _user(platform, "analyst.segura").id
    client.post(f"/api/v1/users/{analyst_id}/unlock", headers=admin)     # unlock
    client.post("/api/v1/auth/revoke", headers=admin)                    # token revoked
    _console_login(client, "operator.segura")
    csrf = client.get("/map").text.split('name="csrf" value="')[1].split('"')[0]
    client.post("/logout", data={"csrf": csrf}, follow_redirects=False)  # logout

    rows = audit_rows(platform)[start:]

    def find(action: str, outcome: str, reason: str | None = None, user: str | None = None
             ) -> Any:
        found = [r for r in rows if r.action == action and r.outcome == outcome
                 and (reason is None or r.reason == reason)
                 and (user is None or r.actor_username == user)]
        assert found, f"no {action}/{outcome}/{reason} among {[(r.action, r.reason) for r in rows]}"
        return found[0]

    expected = [
        find("auth.login", "allowed", user="operator.segura"),
        find("auth.login", "denied", "wrong password", "operator.segura"),
        find("auth.login", "denied", "wrong one-time code", "admin.segura"),
        find("auth.login", "allowed", user="admin.segura"),
        find("auth.login", "denied", "one-time code already used (replay)", "admin.segura"),
        find("auth.login", "denied", "account disabled", "operator.segura"),
        find("auth.login", "denied", "wrong password; account locked", "analyst.segura"),
        find("auth.lockout", "allowed", user="analyst.segura"),
        find("auth.login", "denied", "account locked", "analyst.segura"),
        find("user.unlock", "allowed", user="admin.segura"),
        find("auth.token.issue", "allowed", user="admin.segura"),
        find("auth.token.revoke", "allowed", user="admin.segura"),
        find("auth.session.open", "allowed", user="operator.segura"),
        find("auth.session.close", "allowed", user="operator.segura"),
    ]
    for record in expected:
        assert record.actor_agency_id == "segura-ep", record.action
        assert record.address == "testclient", record.action
        assert record.actor_user_id is not None and record.at is not None
    assert find("auth.login", "allowed", user="admin.segura").detail == {
        "second_factor": "totp"}
    assert find("user.unlock", "allowed").object_id == analyst_id
