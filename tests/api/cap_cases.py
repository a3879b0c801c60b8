"""Route-catalogue cases of the CAP routes: a police user never exports a Segura EP alert no
agreement lets through, never reads its feed beyond the agreements, never imports into Segura
EP's queue nor sees or changes its CAP sources; every call is audited. ``test_agency_scoping``,
``test_audit`` and ``test_auth`` merge them in."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from lxml import etree

from sereno.bootstrap import Platform
from tests.support.cap import CAP, XML, message, raise_alert, register

Check = Callable[[TestClient, dict[str, str], str], None]
PATH_IDS = ("{agency_id}",)
ATOM = {"a": "http://www.w3.org/2005/Atom"}
SOURCES = f"{CAP}/sources"
FEED = f"{CAP}/feeds/{{agency_id}}.atom"


def _platform(client: TestClient) -> Platform:
    platform: Platform = client.app.state.platform  # type: ignore[attr-defined]
    return platform


def _denied(response, *allowed: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in (allowed or (403, 404)), response.text
    assert "error" in response.json()


def _segura_count(platform: Platform) -> int:
    with platform.uow() as uow:
        return len(uow.alerts.queue("segura-ep", limit=1000))


def export_alert(client: TestClient, headers: dict[str, str], _: str) -> None:
    # Health: a category no demo agreement gives the police.
    alert = raise_alert(_platform(client), category="Health", camera_id="SEG-006")
    _denied(client.get(f"/api/v1/alerts/{alert.id}/cap", headers=headers), 403, 404)


def import_message(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    register(platform)  # Segura EP's source, not the police's
    before = _segura_count(platform)
    response = client.post(CAP, content=message(), headers={**headers, **XML})
    _denied(response, 403)
    assert _segura_count(platform) == before


def read_feed(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    hidden = raise_alert(platform, category="Health", camera_id="SEG-006")
    response = client.get("/api/v1/cap/feeds/segura-ep.atom", headers=headers)
    if response.status_code == 200:  # an agreement in force: only what it lets through
        feed = etree.fromstring(response.content)
        links = [e.get("href") for e in feed.iterfind("a:entry/a:link", ATOM)]
        assert not any(hidden.id in (link or "") for link in links)
    else:
        _denied(response, 403)


def list_sources(client: TestClient, headers: dict[str, str], _: str) -> None:
    register(_platform(client))
    response = client.get(SOURCES, headers=headers)
    if response.status_code == 200:
        assert all(s["sender"] != "alertas@riesgos.gob.ec" for s in response.json())
    else:
        _denied(response, 403)


def add_source(client: TestClient, headers: dict[str, str], _: str) -> None:
    response = client.post(SOURCES, headers=headers, json={
        "sender": "intruso@example.org", "name": "Fuente intrusa"})
    if response.status_code == 201:  # the police admin registers it for the police only
        platform = _platform(client)
        with platform.uow() as uow:
            assert uow.cap_sources.active("segura-ep", "intruso@example.org") is None
    else:
        _denied(response, 403)


SCOPING: dict[tuple[str, str], Check] = {
    ("GET", "/api/v1/alerts/{alert_id}/cap"): export_alert,
    ("POST", CAP): import_message,
    ("GET", FEED): read_feed,
    ("GET", SOURCES): list_sources,
    ("POST", SOURCES): add_source,
}


def _import(client: TestClient, headers: dict[str, str], platform: Platform) -> object:
    register(platform)
    return client.post(CAP, content=message(), headers={**headers, **XML})


AUDITED: dict[tuple[str, str], tuple[str, Callable[..., object], str]] = {
    ("GET", "/api/v1/alerts/{alert_id}/cap"): (
        "operator.segura",
        lambda c, h, p: c.get(f"/api/v1/alerts/{raise_alert(p).id}/cap", headers=h),
        "alert.cap.export"),
    ("POST", CAP): ("dispatcher.segura", _import, "cap.import"),
    ("GET", FEED): (
        "operator.segura", lambda c, h, p: c.get("/api/v1/cap/feeds/segura-ep.atom", headers=h),
        "cap.feed.read"),
    ("GET", SOURCES): ("admin.segura", lambda c, h, p: c.get(SOURCES, headers=h),
                       "cap.source.list"),
    ("POST", SOURCES): (
        "admin.segura",
        lambda c, h, p: c.post(SOURCES, headers=h, json={
            "sender": "alertas@riesgos.gob.ec", "name": "Secretaría de Gestión de Riesgos"}),
        "cap.source.add"),
}
