"""The console in real headless Chromium against a real server: log in, see the cameras on the
map, open one, watch its snapshot refresh, switch language, log out."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Page, expect

from sereno.adapters.totp import code_at
from sereno.demo.city import USERS, demo_totp_secret

pytestmark = pytest.mark.browser
SHOTS = Path("test-results")
SECOND_FACTOR_USERS = {u.username for u in USERS if u.needs_second_factor}


def _login(page: Page, server: str, username: str) -> None:
    page.goto(f"{server}/map")
    expect(page).to_have_url(f"{server}/login?next=/map")
    expect(page.locator("h1")).to_have_text("Iniciar sesión")
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill("sereno-demo-2026")
    page.get_by_test_id("login-submit").click()
    if username in SECOND_FACTOR_USERS:
        _enter_code(page, demo_totp_secret(username))
    expect(page).to_have_url(f"{server}/map")


def _enter_code(page: Page, secret: str, ahead_s: float = 0) -> None:
    """Type the authenticator app's code on the code page; when this 30-second step's code was
    used already (an earlier login of the same user), wait for the next one, as a person would."""
    expect(page).to_have_url(re.compile(r"/login/code"))
    for _ in range(2):
        at = datetime.now(UTC) + timedelta(seconds=ahead_s)
        page.get_by_test_id("otp").fill(code_at(secret, at))
        page.get_by_test_id("otp-submit").click()
        page.wait_for_load_state()
        if "/login/code" not in page.url:
            return
        expect(page.get_by_test_id("login-error")).to_contain_text("ya se usó")
        time.sleep(30.5 - time.time() % 30)


def _wait_for(page: Page, expression: str, timeout_s: float = 10.0) -> None:
    """Poll a page expression. (page.wait_for_function evaluates strings with eval(), which the
    console's Content-Security-Policy rightly forbids.)"""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(100)


def test_login_map_camera_logout(page: Page, server: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _login(page, server, "operator.segura")

    markers = page.locator("path.camera-marker")
    expect(markers).to_have_count(12)  # Segura's 10 and the police's 2 shared cameras
    expect(page.locator("path.status-offline")).to_have_count(1)
    expect(page.locator(".map-offline")).to_be_visible()  # tiles unreachable: plain background
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / "console-map.png")

    # Open a camera from its marker's popup.
    page.locator("path.camera-marker").first.click(force=True)
    popup_link = page.locator(".leaflet-popup-content a")
    expect(popup_link).to_be_visible()
    popup_link.click()
    expect(page).to_have_url(f"{server}/cameras/PN-001")
    expect(page.get_by_test_id("camera-title")).to_contain_text("PN-001")

    # The snapshot is a real decoded frame and it refreshes.
    snapshot = page.get_by_test_id("snapshot")
    _wait_for(page, "document.getElementById('snapshot').naturalWidth >= 320")
    _wait_for(page, "Number(document.getElementById('snapshot').dataset.loaded) >= 2")
    expect(snapshot).to_be_visible()
    page.screenshot(path=SHOTS / "console-camera.png")

    # The list, with a filter.
    page.get_by_test_id("nav-cameras").click()
    page.get_by_test_id("filter-status").select_option("maintenance")
    page.get_by_role("button", name="Filtrar").click()
    expect(page.locator("[data-camera-id]")).to_have_count(1)
    expect(page.locator("[data-camera-id='SEG-009']")).to_be_visible()

    # English on request.
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_test_id("nav-map")).to_have_text("Map")

    page.get_by_test_id("logout").click()
    expect(page).to_have_url(f"{server}/login")
    page.goto(f"{server}/cameras/SEG-001")
    expect(page).to_have_url(f"{server}/login?next=/cameras/SEG-001")
    assert errors == []


def test_partner_agency_sees_only_what_is_shared(page: Page, server: str) -> None:
    _login(page, server, "operator.policia")
    expect(page.locator("path.camera-marker")).to_have_count(12)  # 4 own + 8 shared by Segura
    page.goto(f"{server}/cameras/SEG-006")  # Segura's private camera
    expect(page.get_by_test_id("error-message")).to_contain_text("no camera")
    # The session cookie is not readable by scripts.
    assert page.evaluate("document.cookie").find("sereno_session") == -1


def test_server_answers_health_without_login(server: str) -> None:
    assert httpx.get(f"{server}/healthz").json() == {"status": "ok", "database": "ok"}
    assert httpx.get(f"{server}/api/v1/cameras").status_code == 401


def test_admin_logs_in_with_a_code_and_an_operator_enrols_one(page: Page, server: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # An administrator: the password, then the authenticator app's code.
    page.goto(f"{server}/login")
    page.get_by_test_id("username").fill("admin.policia")
    page.get_by_test_id("password").fill("sereno-demo-2026")
    page.get_by_test_id("login-submit").click()
    expect(page.locator("h1")).to_have_text("Código de verificación")
    page.get_by_test_id("otp").fill("000000" if code_at(demo_totp_secret("admin.policia"),
                                                        datetime.now(UTC)) != "000000"
                                    else "111111")
    page.get_by_test_id("otp-submit").click()
    expect(page.get_by_test_id("login-error")).to_have_text("Código incorrecto.")
    _enter_code(page, demo_totp_secret("admin.policia"))
    expect(page).to_have_url(f"{server}/map")
    page.get_by_test_id("logout").click()

    # A dispatcher sets up an app on the account page; from then on the login asks for it.
    _login(page, server, "dispatcher.policia")
    page.get_by_test_id("nav-account").click()
    expect(page.get_by_test_id("sf-status")).to_have_attribute("data-enrolled", "false")
    page.get_by_test_id("sf-start").click()
    secret = page.get_by_test_id("totp-secret").get_attribute("data-secret")
    assert secret is not None and len(secret) == 32
    expect(page.get_by_test_id("totp-uri")).to_contain_text("otpauth://totp/Sereno:")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / "console-enrol.png", full_page=True)
    page.get_by_test_id("otp").fill(code_at(secret, datetime.now(UTC)))
    page.get_by_test_id("otp-submit").click()
    expect(page.get_by_test_id("account-done")).to_be_visible()
    expect(page.get_by_test_id("sf-status")).to_have_attribute("data-enrolled", "true")
    expect(page.get_by_test_id("totp-secret")).to_have_count(0)  # never shown again
    page.screenshot(path=SHOTS / "console-account.png")
    page.get_by_test_id("logout").click()
    page.get_by_test_id("username").fill("dispatcher.policia")
    page.get_by_test_id("password").fill("sereno-demo-2026")
    page.get_by_test_id("login-submit").click()
    _enter_code(page, secret, ahead_s=30)  # the next step's code: one step of drift is fine
    expect(page).to_have_url(f"{server}/map")
    assert errors == []
