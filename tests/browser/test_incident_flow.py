"""Alert → incident → dispatch → on scene → closed, in real headless Chromium against a real
``sereno serve`` (ADR 0034). A police dispatcher opens an alert raised through the API, clicks
"Crear incidente", acknowledges it, dispatches the unit the panel recommends, watches the board
and the page follow the unit's reports (sent through the mobile-terminal API, so the test is
deterministic), resolves and closes the incident; every timestamp is then checked through the
API, and the map shows the incident's unit."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from sereno.adapters.totp import code_at
from sereno.demo.city import demo_totp_secret
from tests.browser.conftest import _serve
from tests.browser.test_console_e2e import SHOTS, _wait_for

pytestmark = pytest.mark.browser
PASSWORD = "sereno-demo-2026"
CAMERA = ("PN-002", -2.1531, -79.8703)  # Puente de la Unidad Nacional (the police's)
UNIT = "PN-TEST-001"
STAMPS = ("acknowledged_at", "dispatched_at", "en_route_at", "on_scene_at", "resolved_at",
          "closed_at")


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A demo node of its own (its incidents and units must not show in other console tests),
    without the simulated fleet: the unit's reports come from this test, deterministically."""
    yield from _serve(tmp_path_factory.mktemp("incident-node"), SERENO_VIDEO__ENABLED="false",
                      SERENO_DEMO__SIMULATE_FLEET="false")


@functools.cache  # one login per user: an administrator's one-time code cannot be replayed
def _token(server: str, username: str) -> dict[str, str]:
    form = {"username": username, "password": PASSWORD}
    if username.startswith("admin."):
        form["otp"] = code_at(demo_totp_secret(username), datetime.now(UTC))
    response = httpx.post(f"{server}/api/v1/auth/token", data=form)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _api(server: str, username: str, method: str, path: str, **body: object
         ) -> dict:  # type: ignore[type-arg]
    response = httpx.request(method, f"{server}/api/v1{path}", headers=_token(server, username),
                             json=body or None)
    assert response.status_code < 300, (path, response.status_code, response.text)
    return response.json()  # type: ignore[no-any-return]


def _unit_near_the_camera(server: str) -> None:
    """A police patrol car 50 m from the camera (the demo's own units wait at their posts)."""
    _api(server, "admin.policia", "POST", "/units", id=UNIT, name="Patrullero de prueba",
         kind="patrol_car")
    _api(server, "operator.policia", "POST", f"/units/{UNIT}/positions", positions=[{
        "latitude": CAMERA[1] + 0.00045, "longitude": CAMERA[2],
        "at": datetime.now(UTC).isoformat()}])


def _login(page: Page, server: str, username: str) -> None:
    page.goto(f"{server}/login?next=/alerts")
    page.get_by_test_id("username").fill(username)
    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(f"{server}/alerts")


def _status(page: Page, status: str) -> None:
    _wait_for(page, f"document.getElementById('incident-page').dataset.status === '{status}'",
              timeout_s=20)


def test_alert_to_incident_to_unit_on_scene_to_closed(node: str, browser: Browser) -> None:
    server = node
    _unit_near_the_camera(server)
    alert = _api(server, "operator.policia", "POST", "/alerts", category="Security",
                 severity="Severe", event="Riña", headline="Riña en el puente",
                 camera_id=CAMERA[0])
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="es-EC")
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        _flow(page, server, alert["id"])
        assert not errors, errors
    finally:
        context.close()  # open streams would hold the server's shutdown


def _flow(page: Page, server: str, alert_id: str) -> None:
    _login(page, server, "dispatcher.policia")
    row = page.locator(f"tr.alert-row[data-alert-id='{alert_id}']")
    expect(row).to_be_visible()
    row.click()
    expect(page.get_by_test_id("alert-detail")).to_have_attribute("data-alert-id", alert_id)
    page.get_by_test_id("action-incident").click()

    # The incident's page, with the alert linked and its cameras around.
    expect(page).to_have_url(re.compile(r"/incidents/[0-9a-f-]{36}$"))
    incident_id = page.url.rsplit("/", 1)[1]
    expect(page.get_by_test_id("incident-title")).to_have_text("Riña en el puente")
    expect(page.get_by_test_id("incident-status")).to_have_text("Nuevo")
    expect(page.locator(f"[data-testid='linked-alert'][data-alert-id='{alert_id}'] .headline")
           ).to_have_text("Riña en el puente")
    expect(page.locator(f"[data-testid='incident-camera'][data-camera-id='{CAMERA[0]}']")
           ).to_be_visible()

    # The dispatcher acknowledges it, then dispatches the recommended unit.
    page.get_by_test_id("to-acknowledged").click()
    _status(page, "acknowledged")
    recommended = page.get_by_test_id("recommendation").first
    expect(recommended).to_have_attribute("data-unit-id", UNIT)  # the nearest
    expect(recommended.locator(".eta")).to_contain_text("ETA")
    recommended.get_by_test_id("dispatch-unit").click()
    expect(page.get_by_test_id("incident-message")).to_contain_text(f"{UNIT} despachada")
    _status(page, "dispatched")
    expect(page.locator(f"[data-testid='dispatch'][data-unit-id='{UNIT}']")
           ).to_have_attribute("data-status", "assigned")

    # The board shows it with its unit; a report from the street reaches it live.
    page.get_by_test_id("nav-incidents").click()
    board_row = page.locator(f"tr.incident-row[data-incident-id='{incident_id}']")
    expect(board_row).to_be_visible()
    expect(board_row.get_by_test_id("incident-units")).to_have_text(UNIT, timeout=15000)
    expect(page.get_by_test_id("incidents-state")).to_have_attribute("data-state", "connected")
    dispatch = _api(server, "dispatcher.policia", "GET",
                    f"/incidents/{incident_id}/dispatches")[0]  # type: ignore[index]
    for report in ("acknowledge", "en-route"):  # the unit's mobile terminal
        _api(server, "operator.policia", "POST", f"/dispatches/{dispatch['id']}/{report}")
    expect(board_row).to_have_attribute("data-status", "en_route", timeout=15000)

    # Back on the page from the keyboard; the unit arrives.
    for _ in range(50):
        if page.evaluate("(document.querySelector('tr.incident-row.selected') || "
                         "{dataset: {}}).dataset.incidentId") == incident_id:
            break
        page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{server}/incidents/{incident_id}")
    _api(server, "operator.policia", "POST", f"/dispatches/{dispatch['id']}/on-scene")
    _status(page, "on_scene")
    expect(page.locator(f"[data-testid='dispatch'][data-unit-id='{UNIT}']")
           ).to_have_attribute("data-status", "on_scene", timeout=15000)
    expect(page.get_by_test_id("linked-alert").locator(".headline")).to_be_visible()
    SHOTS.mkdir(exist_ok=True)  # docs/images/incident.png is this picture, quantised
    page.screenshot(path=SHOTS / "incident.png")

    # Resolved and closed from the page.
    page.get_by_test_id("to-resolved").click()
    _status(page, "resolved")
    page.get_by_test_id("to-closed").click()
    _status(page, "closed")
    expect(page.get_by_test_id("lifecycle").locator("button")).to_have_count(0)

    incident = _api(server, "dispatcher.policia", "GET", f"/incidents/{incident_id}")
    stamps = [incident[name] for name in STAMPS]
    assert all(stamps), dict(zip(STAMPS, stamps, strict=True))
    times = [datetime.fromisoformat(s) for s in stamps]
    assert times == sorted(times), "the lifecycle's timestamps are out of order"
    assert alert_id in [a["id"] for a in incident["alerts"]]
    kinds = [e["kind"] for e in incident["timeline"]]
    assert kinds[0] == "created" and "transition" in kinds

    # The map shows the open incidents layer and the unit.
    page.goto(f"{server}/map")
    _wait_for(page, "Number(document.getElementById('map').dataset.units || 0) >= 1",
              timeout_s=15)


def test_conflicts_are_shown_and_the_page_reloads(node: str, browser: Browser) -> None:
    """A unit another dispatcher took meanwhile answers "Despachar" with the API's conflict; a
    button pressed on a version someone else changed since reloads the page and says so. The
    page's live stream is cut here, so that it cannot refresh itself before the click."""
    server = node
    unit = "PN-TEST-002"
    _api(server, "admin.policia", "POST", "/units", id=unit, name="Moto de prueba",
         kind="motorcycle")
    _api(server, "operator.policia", "POST", f"/units/{unit}/positions", positions=[{
        "latitude": CAMERA[1] - 0.00045, "longitude": CAMERA[2],
        "at": datetime.now(UTC).isoformat()}])
    form = {"type": "robo", "title": "Robo de celular", "latitude": CAMERA[1],
            "longitude": CAMERA[2]}
    mine = _api(server, "dispatcher.policia", "POST", "/incidents", **form)
    other = _api(server, "dispatcher.policia", "POST", "/incidents", **form)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="es-EC")
    try:
        page = context.new_page()
        page.route("**/api/v1/incidents/stream", lambda route: route.abort())
        page.goto(f"{server}/login?next=/incidents/{mine['id']}")
        page.get_by_test_id("username").fill("dispatcher.policia")
        page.get_by_test_id("password").fill(PASSWORD)
        page.get_by_test_id("login-submit").click()
        expect(page).to_have_url(f"{server}/incidents/{mine['id']}")
        row = page.locator(f"[data-testid='recommendation'][data-unit-id='{unit}']")
        expect(row).to_be_visible()

        # Another dispatcher sends the unit elsewhere; this page still offers it.
        _api(server, "dispatcher.policia", "POST", f"/incidents/{other['id']}/dispatches",
             units=[unit])
        row.get_by_test_id("dispatch-unit").click()
        message = page.get_by_test_id("incident-message")
        expect(message).to_contain_text(f"No se pudo despachar {unit}")
        expect(message).to_have_class(re.compile("failed"))
        expect(row).to_be_hidden()  # the recommendations were read again
        assert page.get_by_test_id("dispatch").count() == 0

        # Someone adds a note (a new version); acknowledging on the old one is refused.
        _api(server, "operator.policia", "POST", f"/incidents/{mine['id']}/notes",
             text="Llamó otra vez el denunciante")
        assert page.get_by_test_id("incident-page").get_attribute("data-version") == "1"
        page.get_by_test_id("to-acknowledged").click()
        expect(message).to_contain_text("cambió desde que lo abrió")
        expect(page.get_by_test_id("incident-page")).to_have_attribute("data-version", "2")
        expect(page.get_by_test_id("incident-status")).to_have_text("Nuevo")
        expect(page.get_by_test_id("incident-timeline")).to_contain_text(
            "Llamó otra vez el denunciante")
        page.get_by_test_id("to-acknowledged").click()  # on what is true now: it lands
        _status(page, "acknowledged")
    finally:
        context.close()
