"""Route-catalogue cases of the live alert queue: the push stream and the console page. A
police user's stream never carries Segura EP's alerts and the page never lists them; opening
either is audited. ``test_agency_scoping``, ``test_audit`` and ``test_auth`` merge them in."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.domain import commands
from tests.api.alert_cases import segura_alert

Check = Callable[[TestClient, dict[str, str], str], None]
STREAM = "/api/v1/alerts/stream"
PATH_IDS: tuple[str, ...] = ()  # no ids in these paths
CONSOLE = {("GET", "/alerts")}


def _platform(client: TestClient) -> Platform:
    platform: Platform = client.app.state.platform  # type: ignore[attr-defined]
    return platform


def police_detection(platform: Platform, camera_id: str = "PN-001") -> None:
    """A detection on a police camera: an alert in the police queue."""
    platform.bus.handle(commands.RecordDetection(
        camera_id, None, "zone", ("person",), (1,), 0.9, (0.1, 0.1, 0.2, 0.3),
        platform.clock().timestamp(), snapshot_jpeg=b"\xff\xd8police\xff\xd9"))


def read_stream(client: TestClient, headers: dict[str, str], trigger: Callable[[], object],
                until: Callable[[list[tuple[str, dict[str, Any]]]], bool],
                timeout_s: float = 10.0, path: str = STREAM,
                ) -> tuple[int, list[tuple[str, dict[str, Any]]]]:
    """Open the stream, run ``trigger`` once it is subscribed, and return the status and the
    (event name, alert) messages received until ``until`` says enough (or the time is up)."""
    received: list[tuple[str, dict[str, Any]]] = []
    with client.stream("GET", path, headers=headers) as response:
        if response.status_code != 200:
            response.read()
            return response.status_code, received
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines).startswith("retry: ")  # sent once the stream is subscribed
        failed: list[BaseException] = []

        def run() -> None:
            try:
                trigger()
            except BaseException as error:  # reported below, not lost in the thread
                failed.append(error)

        threading.Thread(target=run, daemon=True).start()
        deadline = time.monotonic() + timeout_s
        name = ""
        for line in lines:
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                received.append((name, json.loads(line[6:])))
            if failed or until(received) or time.monotonic() > deadline:
                break
        assert not failed, failed
    return 200, received


def alert_stream(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    segura: list[str] = []

    def trigger() -> None:
        segura.append(segura_alert(platform))  # Segura EP's queue: never on a police stream
        police_detection(platform)  # the police's own: ends the reading

    status, received = read_stream(
        client, headers, trigger,
        lambda got: any(a["cameras"] == ["PN-001"] for _, a in got), timeout_s=20)
    if status == 200:
        assert received, "the police's own alert never arrived"
        # Only the police queue: their own alerts and the copies an agreement gives them.
        assert {a["agency"] for _, a in received} == {"policia-nacional"}
        assert segura[0] not in {a["id"] for _, a in received}
        assert all(a["origin_agency"] in (None, "segura-ep") for _, a in received)
    else:
        assert status == 403  # roles without ALERT_READ (admins)


def alerts_page(client: TestClient, headers: dict[str, str], _: str) -> None:
    alert_id = segura_alert(_platform(client))
    response = client.get("/alerts", headers={"Accept": "text/html"})
    assert response.status_code in (200, 403), response.text
    assert alert_id not in response.text
    if response.status_code == 200:
        config = json.loads(response.text.split('id="alerts-config">')[1].split("</script>")[0])
        assert {a["agency"] for a in config["alerts"]} <= {"policia-nacional"}


SCOPING: dict[tuple[str, str], Check] = {
    ("GET", STREAM): alert_stream,
    ("GET", "/alerts"): alerts_page,
}


def _open_stream(client: TestClient, headers: dict[str, str], platform: Platform) -> object:
    status, _ = read_stream(client, headers, lambda: segura_alert(platform),
                            lambda got: bool(got))

    class Done:
        status_code = status
        text = ""

    return Done()


AUDITED: dict[tuple[str, str], tuple[str, Callable[..., object], str]] = {
    ("GET", STREAM): ("operator.segura", _open_stream, "alert.stream"),
    ("GET", "/alerts"): ("operator.segura", lambda c, h, p: c.get("/alerts"), "page.alerts"),
}
