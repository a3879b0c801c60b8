"""The console in real headless Chromium against a real server: log in, see the cameras on the
map, open one, watch its snapshot refresh, switch language, log out."""

from __future__ import annotations

import time
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser
SHOTS = Path("test-results")


def _login(page: Page, server: str, username: str) -> None:
    page.goto(f"{server}/map")
    expect(page).to_have_url(f"{server}/login?next=/map")
    expect(page.locator("h1")).to_have_text("Iniciar sesión")
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill("sereno-demo-2026")
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(f"{server}/map")


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
