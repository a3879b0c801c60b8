"""The live alert queue (``/alerts``, ADR 0028) in real Chromium against a real ``sereno serve``:
a detection recorded by a second process of the node and alerts raised through the API appear
within a couple of seconds without a reload, the keyboard acknowledges and (with a reason)
dismisses, the detection's snapshot shows in the detail panel, the page speaks Spanish, and the
police's queue never shows Segura EP's alerts (only the copies the demo agreement gives them).

The node runs as production does across processes: alert events relayed over a real NATS
JetStream stream of its own (``SERENO_SKIP_NATS=1``: in process, the detection recorded before
the page opens)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import _serve
from tests.browser.test_console_e2e import SHOTS, _login, _wait_for
from tests.bus.test_transport_contract import NATS_URL, _delete_stream
from tests.support.evidence import jpeg

pytestmark = pytest.mark.browser
PASSWORD = "sereno-demo-2026"
RELAY = os.environ.get("SERENO_SKIP_NATS") != "1"
# A second process on the same node (as a video worker's supervisor would be): it records a
# detection with its picture; the detection raises an alert in Segura EP's queue.
RECORD_DETECTION = """
import sys, time
from sereno.bootstrap import bootstrap
from sereno.config import Settings
from sereno.domain import commands
platform = bootstrap(Settings(), run_migrations=False)
picture = open(sys.argv[2], "rb").read()
event = platform.bus.handle(commands.RecordDetection(
    sys.argv[1], None, "zone", ("person",), (1,), 0.93, (0.3, 0.2, 0.6, 0.9), time.time(),
    snapshot_jpeg=picture))
platform.close()  # flushes the relayed events to the transport
print(event.event_id)
"""


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """A demo node of its own (its alerts must not show up in the other console tests), whose
    processes share alert events over a private JetStream stream."""
    workdir = tmp_path_factory.mktemp("alerts-node")
    tag = uuid.uuid4().hex[:10]
    bus = ({"SERENO_BUS__KIND": "nats", "SERENO_BUS__NATS_URL": NATS_URL,
            "SERENO_BUS__STREAM": f"TEST_UI_{tag}", "SERENO_BUS__SUBJECT_ROOT": f"ui{tag}",
            "SERENO_BUS__RELAY_EVENTS": "true"} if RELAY else {})
    try:
        for base in _serve(workdir, SERENO_VIDEO__ENABLED="false", **bus):
            yield base, workdir, bus
    finally:
        if RELAY:  # in a thread of its own: Playwright's loop runs in this one
            worker = threading.Thread(
                target=asyncio.run, args=(_delete_stream(bus["SERENO_BUS__STREAM"]),))
            worker.start()
            worker.join(timeout=30)


def _token(server: str, username: str) -> dict[str, str]:
    response = httpx.post(f"{server}/api/v1/auth/token",
                          data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _raise(server: str, username: str, severity: str, headline: str, camera_id: str | None,
           category: str = "Security") -> str:
    response = httpx.post(f"{server}/api/v1/alerts", headers=_token(server, username), json={
        "category": category, "severity": severity, "event": headline, "headline": headline,
        "camera_id": camera_id})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _alert(server: str, username: str, alert_id: str) -> dict:  # type: ignore[type-arg]
    response = httpx.get(f"{server}/api/v1/alerts/{alert_id}",
                         headers=_token(server, username))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _detection_alert(workdir: Path, bus: dict[str, str], camera_id: str) -> None:
    """Record a detection from another process of the node (it raises the alert there)."""
    picture = workdir / "street.jpg"
    picture.write_bytes(jpeg())
    env = {**os.environ, "SERENO_DATA_DIR": str(workdir / "var"), **bus}
    subprocess.run([sys.executable, "-c", RECORD_DETECTION, camera_id, str(picture)],
                   cwd=workdir, env=env, check=True, capture_output=True, timeout=120)


def _row(page: Page, alert_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f"tr.alert-row[data-alert-id='{alert_id}']")


def _selected(page: Page) -> str | None:
    value = page.evaluate("(document.querySelector('tr.alert-row.selected') || {dataset: {}})"
                          ".dataset.alertId || null")
    return str(value) if value else None


def _select(page: Page, alert_id: str) -> None:
    """Move the selection with j/k until it is on ``alert_id``."""
    ids = page.evaluate("[...document.querySelectorAll('tr.alert-row')]"
                        ".map(r => r.dataset.alertId)")
    assert alert_id in ids
    for _ in range(len(ids) + 1):
        current = _selected(page)
        if current == alert_id:
            return
        here = ids.index(current) if current in ids else -1
        page.keyboard.press("j" if ids.index(alert_id) > here else "k")
    assert _selected(page) == alert_id


def test_operator_works_the_live_queue_from_the_keyboard(
        node: tuple[str, Path, dict[str, str]], browser: Browser) -> None:
    server, workdir, bus = node
    if not RELAY:
        _detection_alert(workdir, bus, "SEG-002")  # no relay: before the page opens
    context = browser.new_context(viewport={"width": 1280, "height": 760}, locale="es-EC")
    try:
        _operator_session(context.new_page(), server, workdir, bus)
    finally:
        context.close()  # an open stream would hold the server's shutdown


def _operator_session(page: Page, server: str, workdir: Path, bus: dict[str, str]) -> None:
    _login(page, server, "operator.segura")
    page.get_by_test_id("nav-alerts").click()
    expect(page).to_have_url(f"{server}/alerts")
    errors: list[str] = []  # of this page's script (the map's are the map tests' business)
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    expect(page.locator("h1")).to_contain_text("Cola de alertas")
    expect(page.get_by_test_id("alerts-state")).to_have_attribute("data-state", "connected",
                                                                  timeout=10_000)
    expect(page.get_by_test_id("alerts-state")).to_have_text("En vivo")
    detected = page.locator("tr.alert-row", has_text="Intrusión en zona")
    if RELAY:  # a detection recorded by another process of the node arrives live
        _detection_alert(workdir, bus, "SEG-002")
        recorded = time.monotonic()
        expect(detected).to_have_count(1, timeout=5_000)
        assert time.monotonic() - recorded < 2.5, "the detection took too long to appear"
    expect(detected).to_have_count(1)
    expect(detected).to_contain_text("SEG-002")
    expect(detected).to_contain_text("Moderada")
    expect(detected).to_contain_text("Abierta")
    detection_id = detected.get_attribute("data-alert-id")
    assert detection_id

    # "?" shows the shortcuts (in Spanish); the key press also arms the sound.
    page.keyboard.press("?")
    expect(page.get_by_test_id("alerts-help")).to_be_visible()
    expect(page.get_by_test_id("alerts-help")).to_contain_text("Reconocer")
    expect(page.get_by_test_id("alerts-help")).to_contain_text("Descartar")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("alerts-help")).to_be_hidden()
    expect(page.get_by_test_id("alerts-mute")).to_contain_text("Sonido activado")

    # Raised elsewhere (the API, another operator) while the page is open: it appears live.
    started = time.monotonic()
    robbery = _raise(server, "supervisor.segura", "Severe", "Robo en curso en el Malecón",
                     "SEG-001")
    expect(_row(page, robbery)).to_be_visible(timeout=3_000)
    shown_after = time.monotonic() - started
    assert shown_after < 2.5, f"the alert took {shown_after:.1f} s to appear"
    expect(_row(page, robbery)).to_contain_text("Grave")
    expect(_row(page, robbery)).to_contain_text("SEG-001")
    expect(page.get_by_test_id("alerts-page")).to_have_attribute("data-chimes", "1")
    # Severe comes first: the queue is ordered by severity, then age.
    assert page.evaluate("document.querySelector('tr.alert-row').dataset.alertId") == robbery

    # a = acknowledge: the row changes in place and the API agrees.
    _select(page, robbery)
    page.keyboard.press("a")
    expect(_row(page, robbery)).to_have_attribute("data-status", "acknowledged")
    expect(_row(page, robbery)).to_contain_text("Reconocida")
    acknowledged = _alert(server, "operator.segura", robbery)
    assert acknowledged["status"] == "acknowledged"
    assert acknowledged["acknowledged_by"] == "operator.segura"

    # d = dismiss, which asks the reason first (required).
    noise = _raise(server, "dispatcher.segura", "Minor", "Movimiento en el parqueadero",
                   "SEG-002")
    expect(_row(page, noise)).to_be_visible(timeout=3_000)
    expect(page.get_by_test_id("alerts-page")).to_have_attribute("data-chimes", "1")  # Minor
    _select(page, noise)
    page.keyboard.press("d")
    expect(page.get_by_test_id("dismiss-dialog")).to_be_visible()
    page.get_by_test_id("dismiss-submit").click()
    expect(page.get_by_test_id("dismiss-dialog")).to_contain_text("Escriba el motivo")
    expect(_row(page, noise)).to_have_attribute("data-status", "open")
    page.get_by_test_id("dismiss-reason").fill("Un guardia haciendo su ronda")
    page.get_by_test_id("dismiss-submit").click()
    expect(page.get_by_test_id("dismiss-dialog")).to_be_hidden()
    expect(_row(page, noise)).to_have_attribute("data-status", "dismissed")
    expect(_row(page, noise)).to_contain_text("Descartada")
    dismissed = _alert(server, "operator.segura", noise)
    assert dismissed["status"] == "dismissed"
    assert dismissed["dismiss_reason"] == "Un guardia haciendo su ronda"

    # A repeat of the detection (again from the other process) updates its row in place.
    if RELAY:
        _detection_alert(workdir, bus, "SEG-002")
        expect(_row(page, detection_id)).to_contain_text("×2", timeout=5_000)
        expect(page.locator("tr.alert-row", has_text="Intrusión en zona")).to_have_count(1)
    # The police share their security alerts with Segura EP: a copy, marked as theirs.
    _raise(server, "operator.policia", "Extreme", "Vehículo robado visto en la Av. Quito",
           None)
    partner = page.locator("tr.alert-row", has_text="Vehículo robado visto")
    expect(partner).to_contain_text("De policia-nacional", timeout=3_000)
    expect(partner).to_contain_text("Extrema")
    expect(page.get_by_test_id("alerts-page")).to_have_attribute("data-chimes", "2")

    # Enter opens the detail: the detection's picture and the timeline.
    _select(page, detection_id)
    page.keyboard.press("Enter")
    detail = page.get_by_test_id("alert-detail")
    expect(detail).to_have_attribute("data-alert-id", detection_id)
    _wait_for(page, "document.querySelector('[data-testid=\"detail-snapshot\"]')"
                    ".naturalWidth > 0", 10)
    expect(page.get_by_test_id("detail-timeline")).to_contain_text("Levantada")
    if RELAY:
        expect(page.get_by_test_id("detail-timeline")).to_contain_text("Repetida")
    expect(page.get_by_test_id("detail-withheld")).to_be_hidden()
    expect(detail).to_contain_text("Historial")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / "alerts-queue.png")

    # The mute toggle is remembered across a reload.
    page.get_by_test_id("alerts-mute").click()
    expect(page.get_by_test_id("alerts-mute")).to_have_attribute("aria-pressed", "true")
    page.reload()
    expect(page.get_by_test_id("alerts-mute")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("alerts-mute")).to_contain_text("Sonido silenciado")
    assert [e for e in errors if "/alerts:" in e] == []


def test_the_police_queue_never_shows_segura_s_alerts(
        node: tuple[str, Path, dict[str, str]], browser: Browser) -> None:
    server, workdir, bus = node
    # Health alerts are not in the demo agreement (Segura EP → police): never in their queue.
    kept = _raise(server, "operator.segura", "Extreme", "Persona desmayada en la Bahía",
                  "SEG-001", category="Health")
    context = browser.new_context(viewport={"width": 1280, "height": 760}, locale="es-EC")
    try:
        page = context.new_page()
        _login(page, server, "operator.policia")
        page.goto(f"{server}/alerts")
        expect(page.get_by_test_id("alerts-state")).to_have_attribute(
            "data-state", "connected", timeout=10_000)
        kept_live = _raise(server, "operator.segura", "Severe", "Riña con heridos en la Bahía",
                           "SEG-002", category="Health")
        # A Security alert is shared: the police get their own copy, marked as Segura's and
        # redacted, never the original.
        shared = _raise(server, "operator.segura", "Severe", "Incendio en bodega municipal",
                        "SEG-001")
        own = _raise(server, "operator.policia", "Severe", "Persecución en la Vía a Daule", None)
        expect(_row(page, own)).to_be_visible(timeout=3_000)  # its own alert came live…
        copy = page.locator("tr.alert-row", has_text="Incendio en bodega municipal")
        expect(copy).to_have_count(1, timeout=3_000)
        expect(copy).to_contain_text("De segura-ep")
        assert copy.get_attribute("data-alert-id") != shared
        if RELAY:  # a detection's picture is shared redacted: the copy says so
            _detection_alert(workdir, bus, "SEG-001")
            redacted = page.locator("tr.alert-row", has_text="Intrusión en zona: Malecón")
            expect(redacted).to_have_count(1, timeout=5_000)
            expect(redacted).to_contain_text("redactado")
        for alert_id in (kept, kept_live, shared):  # …and Segura's own alerts never did
            expect(_row(page, alert_id)).to_have_count(0)
        content = page.content()
        assert "Persona desmayada" not in content and "Riña con heridos" not in content
    finally:
        context.close()
