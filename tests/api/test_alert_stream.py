"""The live alert stream (``GET /api/v1/alerts/stream``, ADR 0028) on SQLite and PostgreSQL:
only the caller's agency's alerts, each as the API's alert JSON, pushed without polling; who may
open it, and that a revoked credential ends it."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.domain import events
from sereno.entrypoints.api.routes import alert_stream as route
from sereno.services.event_stream import EventStream
from tests.api.alert_cases import segura_alert
from tests.api.alert_stream_cases import STREAM, police_detection, read_stream
from tests.api.test_agency_scoping import _console_login
from tests.conftest import audit_rows, bearer


def test_the_stream_carries_the_agency_s_alerts_as_the_api_shapes_them(
        client: TestClient, platform: Platform) -> None:
    headers = bearer(client, "operator.segura")
    raised: list[str] = []

    def trigger() -> None:
        police_detection(platform)  # not Segura's: must not come
        alert_id = segura_alert(platform)
        raised.append(alert_id)
        acked = client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=headers)
        assert acked.status_code == 200, acked.text

    status, received = read_stream(
        client, headers, trigger,
        lambda got: any(a["status"] == "acknowledged" for _, a in got))
    assert status == 200
    # Segura EP's queue only: its own alerts and the copies the demo agreement brings from the
    # police (held by Segura EP, marked with their origin), never the police's original.
    assert {a["agency"] for _, a in received} == {"segura-ep"}
    assert all(a["origin_agency"] == "policia-nacional" for _, a in received
               if a["cameras"] == ["PN-001"])
    mine = [(name, a) for name, a in received if a["id"] == raised[0]]
    names = [name for name, _ in mine]  # raised; its clip attached, acknowledged: changed
    assert names[0] == "AlertRaised" and set(names[1:]) == {"AlertChanged"}
    first, last = mine[0][1], mine[-1][1]
    assert first["status"] == "open" and first["origin_agency"] is None
    assert last["acknowledged_by"] == "operator.segura"
    # The same JSON as reading the alert (without its timeline): no extra request needed.
    detail = client.get(f"/api/v1/alerts/{raised[0]}", headers=headers).json()
    detail.pop("timeline")
    assert last == detail
    assert last["has_snapshot"] and last["cameras"] == ["SEG-006"]


def test_the_police_stream_never_carries_segura_s_alerts(client: TestClient,
                                                          platform: Platform) -> None:
    segura: list[str] = []

    def trigger() -> None:
        segura.append(segura_alert(platform))
        segura.append(segura_alert(platform, "SEG-001"))  # a shared camera: still Segura's
        police_detection(platform)

    status, received = read_stream(
        client, bearer(client, "operator.policia"), trigger,
        lambda got: any(a["cameras"] == ["PN-001"] for _, a in got))
    assert status == 200
    assert {a["agency"] for _, a in received} == {"policia-nacional"}
    assert not set(segura) & {a["id"] for _, a in received}  # never Segura's originals
    own = [a for _, a in received if a["origin_agency"] is None]
    assert [a["cameras"] for a in own] == [["PN-001"]]
    # What else came are the police's copies under the demo agreement, marked as Segura's.
    assert all(a["origin_agency"] == "segura-ep" for _, a in received if a not in own)


def test_opening_is_audited_and_needs_alert_read(client: TestClient,
                                                 platform: Platform) -> None:
    assert client.get(STREAM).status_code == 401
    assert client.get(STREAM, headers={"Authorization": "Bearer forged"}).status_code == 401
    first_new = len(audit_rows(platform))
    refused = client.get(STREAM, headers=bearer(client, "admin.segura"))  # no ALERT_READ
    assert refused.status_code == 403 and "error" in refused.json()
    denied = [r for r in audit_rows(platform)[first_new:] if r.action == "alert.stream"]
    assert [r.outcome for r in denied] == ["denied"]
    status, _ = read_stream(client, bearer(client, "analyst.segura"),
                            lambda: segura_alert(platform), lambda got: bool(got))
    assert status == 200  # analysts read the queue (and cannot act on it)
    opened = [r for r in audit_rows(platform)[first_new:] if r.action == "alert.stream"
              and r.outcome == "allowed"]
    assert [r.actor_username for r in opened] == ["analyst.segura"]


def test_the_console_session_opens_it(client: TestClient, platform: Platform) -> None:
    _console_login(client, "operator.segura")
    status, received = read_stream(client, {}, lambda: segura_alert(platform),
                                   lambda got: bool(got))
    assert status == 200 and received[0][0] == "AlertRaised"


def test_a_revoked_token_ends_the_stream(client: TestClient, platform: Platform,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(route, "RECHECK_S", 0.2)
    monkeypatch.setattr(route, "KEEPALIVE_S", 0.6)
    headers = bearer(client, "operator.segura")
    with client.stream("GET", STREAM, headers=headers) as response:
        lines = response.iter_lines()
        assert next(lines).startswith("retry: ")
        assert client.post("/api/v1/auth/revoke", headers=headers).status_code in (200, 204)
        started = time.monotonic()
        rest = list(lines)  # ends only when the server closes the stream
    assert time.monotonic() - started < 10
    assert all(not line.startswith("data: ") for line in rest)


def test_a_publish_wakes_a_listener_at_once_and_plain_subscribers_still_get_it() -> None:
    stream = EventStream()
    event = events.AlertChanged("a1", "segura-ep", "acknowledged", "acknowledged", 2,
                                datetime.now(UTC))

    async def listen() -> tuple[float, list[events.Event], list[events.Event]]:
        with stream.subscribe() as plain:
            async with stream.listen() as listener:
                assert await listener.next(timeout=0.05) == []  # nothing yet: a timeout
                published = threading.Event()
                sent_at: list[float] = []

                def publish() -> None:
                    published.wait()
                    sent_at.append(time.monotonic())
                    stream.publish(event)

                threading.Thread(target=publish, daemon=True).start()
                published.set()
                batch = await listener.next(timeout=5)
                return time.monotonic() - sent_at[0], batch, list(plain)

    delay, batch, plain = asyncio.run(listen())
    assert batch == [event] and plain == [event]
    assert delay < 0.1, f"woken after {delay * 1000:.0f} ms (the old stream polled every 250)"
