"""The video wall, the live events panel and the rule editor in real Chromium against a real
``sereno serve``: tiles that play MJPEG and survive a reload, a dark camera shown as such, rules
drawn with the mouse and saved through the API, and live detections from the video workers."""

from __future__ import annotations

import time

import httpx2 as httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_console_e2e import SHOTS, _login, _wait_for

pytestmark = pytest.mark.browser
PASSWORD = "sereno-demo-2026"


def _token(server: str, username: str) -> dict[str, str]:
    response = httpx.post(f"{server}/api/v1/auth/token",
                          data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _rules(server: str, camera_id: str) -> list[dict]:  # type: ignore[type-arg]
    response = httpx.get(f"{server}/api/v1/cameras/{camera_id}/rules",
                         headers=_token(server, "supervisor.segura"))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _tile(index: int) -> str:
    return f"document.querySelector('[data-testid=\"tile-{index}\"]')"


def _tile_playing(index: int, camera_id: str) -> str:
    image = f"{_tile(index)}.querySelector('img')"
    return (f"{image}.naturalWidth > 0 && {image}.src.includes("
            f"'/api/v1/cameras/{camera_id}/live.mjpeg')")


def test_operator_builds_a_wall_that_survives_a_reload(page: Page, server: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _login(page, server, "operator.segura")
    page.get_by_test_id("nav-wall").click()
    expect(page).to_have_url(f"{server}/wall")
    expect(page.locator("h1")).to_contain_text("Muro de video")
    expect(page.locator("[data-testid^='wall-camera-']")).to_have_count(12)

    page.get_by_test_id("layout-4").click()
    expect(page.get_by_test_id("layout-4")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".tile:visible")).to_have_count(4)

    # Drag and drop: the tile plays the camera's MJPEG stream.
    page.get_by_test_id("wall-camera-SEG-002").drag_to(page.get_by_test_id("tile-0"))
    expect(page.get_by_test_id("tile-0")).to_have_attribute("data-camera-id", "SEG-002")
    _wait_for(page, _tile_playing(0, "SEG-002"), 20)
    expect(page.get_by_test_id("tile-0")).to_contain_text("SEG-002")

    # Keyboard: select a camera with Enter, then a tile with Enter.
    page.get_by_test_id("wall-camera-PN-001").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("wall-selected")).to_contain_text("PN-001")
    page.get_by_test_id("tile-3").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("tile-3")).to_have_attribute("data-camera-id", "PN-001")
    _wait_for(page, _tile_playing(3, "PN-001"), 20)

    # A camera whose stream is down: "no signal", and the tile keeps trying (every 5 s).
    page.get_by_test_id("wall-camera-SEG-010").click()
    page.get_by_test_id("tile-2").click()
    _wait_for(page, f"{_tile(2)}.classList.contains('nosignal')", 30)
    expect(page.get_by_test_id("tile-2")).to_contain_text("Sin señal")
    attempts = int(page.get_by_test_id("tile-2").get_attribute("data-attempts") or 0)
    _wait_for(page, f"Number({_tile(2)}.dataset.attempts) > {attempts}", 10)
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / "console-wall.png")

    # Layout and placement survive a reload.
    page.reload()
    expect(page.get_by_test_id("layout-4")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("tile-0")).to_have_attribute("data-camera-id", "SEG-002")
    expect(page.get_by_test_id("tile-3")).to_have_attribute("data-camera-id", "PN-001")
    _wait_for(page, _tile_playing(0, "SEG-002"), 20)

    # The × empties a tile (and that is remembered too); a bigger layout shows more tiles.
    page.get_by_test_id("tile-2").locator(".tile-clear").click()
    expect(page.get_by_test_id("tile-2")).to_have_class("tile empty")
    page.get_by_test_id("layout-9").click()
    expect(page.locator(".tile:visible")).to_have_count(9)
    page.reload()
    expect(page.get_by_test_id("layout-9")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("tile-2")).to_have_attribute("data-camera-id", "")
    expect(page.get_by_test_id("tile-3")).to_have_attribute("data-camera-id", "PN-001")

    # Past four streams, tiles show refreshed snapshots: a browser opens only six connections
    # per server, and the event feed and the page need theirs.
    for index, camera in enumerate(["SEG-001", "SEG-003", "SEG-004", "SEG-007"], start=4):
        page.get_by_test_id(f"wall-camera-{camera}").click()
        page.get_by_test_id(f"tile-{index}").click()
    expect(page.locator(".tile.snap")).to_have_count(2)
    _wait_for(page, "[...document.querySelectorAll('.tile:not(.empty)')]"
                    ".every(t => t.querySelector('img').naturalWidth > 0)", 30)
    streams = page.evaluate("[...document.querySelectorAll('.tile img')]"
                            ".filter(i => i.src.includes('live.mjpeg')).length")
    assert streams == 4
    expect(page.get_by_test_id("events-state")).to_have_attribute("data-state", "connected")
    assert errors == []


def test_auditor_gets_no_wall(page: Page, server: str) -> None:
    _login(page, server, "auditor.segura")
    expect(page.get_by_test_id("nav-wall")).to_have_count(0)
    response = page.goto(f"{server}/wall")
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_contain_text("Acceso denegado")


def test_supervisor_draws_and_saves_a_line_rule(page: Page, server: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _login(page, server, "supervisor.segura")
    page.goto(f"{server}/cameras/SEG-002")
    _wait_for(page, "document.getElementById('snapshot').naturalWidth > 0")
    overlay = page.get_by_test_id("rule-overlay")
    expect(overlay.locator("g.rule")).to_have_count(1)  # the demo's "Carril central"

    page.get_by_test_id("rule-kind").select_option("line")
    page.get_by_test_id("rule-name").fill("Acera norte")
    page.get_by_test_id("rule-direction").select_option("left_to_right")
    expect(page.get_by_test_id("rule-dwell")).to_be_hidden()  # only loitering has a dwell
    box = overlay.bounding_box()
    assert box is not None
    overlay.click(position={"x": box["width"] * 0.2, "y": box["height"] * 0.3})
    overlay.click(position={"x": box["width"] * 0.8, "y": box["height"] * 0.4})
    expect(page.get_by_test_id("rule-help")).to_contain_text("2")
    page.get_by_test_id("rule-save").click()
    expect(page.get_by_test_id("rule-ok")).to_have_text("Regla guardada.")
    expect(page.get_by_test_id("rule-list")).to_contain_text("Acera norte")
    expect(overlay.locator("g.rule.k-line")).to_have_count(2)
    expect(overlay.locator("g.rule .arrow-head")).to_have_count(3)  # 2 either way, 1 one-way

    saved = [r for r in _rules(server, "SEG-002") if r["name"] == "Acera norte"]
    assert len(saved) == 1
    rule = saved[0]
    assert rule["kind"] == "line" and rule["direction"] == "left_to_right"
    assert rule["classes"] == ["person"]
    (x1, y1), (x2, y2) = rule["points"]
    assert abs(x1 - 0.2) < 0.01 and abs(y1 - 0.3) < 0.01
    assert abs(x2 - 0.8) < 0.01 and abs(y2 - 0.4) < 0.01
    expect(overlay.locator(f"g[data-rule-id='{rule['id']}'] line.shape")).to_have_count(1)

    # A zone of three points on one line has no area: the API says so, next to the form.
    page.get_by_test_id("rule-kind").select_option("zone")
    for x in (0.3, 0.5, 0.7):
        overlay.click(position={"x": box["width"] * x, "y": box["height"] * 0.6})
    page.get_by_test_id("rule-close").click()
    page.get_by_test_id("rule-save").click()
    expect(page.get_by_test_id("rule-error")).to_be_visible()
    expect(page.get_by_test_id("rule-error")).to_contain_text("La regla no se guardó")
    expect(page.get_by_test_id("rule-error")).to_contain_text("no area")
    assert [r["kind"] for r in _rules(server, "SEG-002")] == ["line", "line"]
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / "console-rule-editor.png", full_page=True)

    # The saved rule is there after a reload; deleting it (confirmed) removes it.
    page.reload()
    expect(page.get_by_test_id("rule-list")).to_contain_text("Acera norte")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f".rule-delete[data-rule-id='{rule['id']}']").click()
    expect(page.get_by_test_id("rule-list")).not_to_contain_text("Acera norte")
    assert [r["name"] for r in _rules(server, "SEG-002")] == ["Carril central"]
    assert errors == []


def test_operator_sees_the_rules_read_only(page: Page, server: str) -> None:
    _login(page, server, "operator.segura")
    page.goto(f"{server}/cameras/SEG-002")
    expect(page.get_by_test_id("rule-list")).to_contain_text("Carril central")
    expect(page.get_by_test_id("rule-overlay").locator("g.rule")).to_have_count(1)
    expect(page.get_by_test_id("rule-form")).to_have_count(0)
    expect(page.get_by_test_id("rules-readonly")).to_be_visible()
    expect(page.locator(".rule-delete")).to_have_count(0)


def _event_ids(page: Page) -> set[str]:
    return set(page.evaluate(
        "[...document.querySelectorAll('#events-list [data-event-id]')]"
        ".map(e => e.dataset.eventId)"))


def test_events_panel_shows_live_detections(page: Page, video_server: str) -> None:
    """Real detections from the video workers (SEG-002 plays pedestrians crossing its line;
    PN-001 a crowd), not a test-only path into the server."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _login(page, video_server, "operator.segura")
    page.goto(f"{video_server}/cameras/SEG-002")
    expect(page.get_by_test_id("events-state")).to_have_attribute("data-state", "connected",
                                                                  timeout=15_000)
    expect(page.get_by_test_id("events-state")).to_have_text("Conectado")
    before = _event_ids(page)
    deadline = time.monotonic() + 120
    while not (_event_ids(page) - before):
        assert time.monotonic() < deadline, "no live detection on SEG-002 within 120 s"
        page.wait_for_timeout(500)
    new_id = sorted(_event_ids(page) - before)[0]
    item = page.locator(f"#events-list [data-event-id='{new_id}']")
    expect(item).to_contain_text("Cruce de línea")
    expect(item).to_contain_text("SEG-002")
    # Only this camera's events on its page, newest first.
    cameras = page.evaluate("[...document.querySelectorAll('#events-list .event')]"
                            ".map(e => e.dataset.cameraId)")
    assert set(cameras) == {"SEG-002"}
    assert page.evaluate("document.querySelector('#events-list .event').dataset.eventId") in (
        _event_ids(page) - before)
    # Its snapshot loads as a thumbnail, and opens larger.
    _wait_for(page, f"document.querySelector(\"[data-event-id='{new_id}'] .thumb img\")"
                    ".naturalWidth > 0", 10)
    item.locator(".thumb").click()
    expect(page.get_by_test_id("event-dialog")).to_be_visible()
    _wait_for(page, "document.getElementById('event-dialog-img').naturalWidth > 0")
    page.screenshot(path=SHOTS / "console-events.png")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("event-dialog")).to_be_hidden()

    # Stream health from the video worker, refreshed on the page.
    _wait_for(page, "document.getElementById('stream-health').dataset.reported === 'yes'", 15)
    expect(page.locator("#stream-health [data-field='online']")).to_have_text("sí")
    expect(page.locator("#stream-health [data-field='resolution']")).to_contain_text("h264")

    # After a reload the stored detection is still listed (rendered by the server).
    page.reload()
    expect(page.locator(f"#events-list [data-event-id='{new_id}']")).to_contain_text(
        "Cruce de línea")

    # The wall's panel takes every visible camera's events.
    page.goto(f"{video_server}/wall")
    expect(page.get_by_test_id("events-state")).to_have_attribute("data-state", "connected",
                                                                  timeout=15_000)
    before = _event_ids(page)
    deadline = time.monotonic() + 90
    while not (_event_ids(page) - before):
        assert time.monotonic() < deadline, "no live detection on the wall within 90 s"
        page.wait_for_timeout(500)
    assert len(page.locator("#events-list .event").all()) <= 50

    # Live tiles carry the tracker's boxes over the picture.
    page.get_by_test_id("layout-4").click()
    page.get_by_test_id("wall-camera-SEG-002").drag_to(page.get_by_test_id("tile-0"))
    _wait_for(page, _tile_playing(0, "SEG-002"), 20)
    _wait_for(page, "document.querySelectorAll(\"[data-testid='tile-0'] svg.tile-boxes rect\")"
                    ".length > 0", 60)
    page.screenshot(path=SHOTS / "console-wall-boxes.png")
    assert errors == []
