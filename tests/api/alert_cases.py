"""Route-catalogue cases of the alert queue: a police user never lists, reads, acts on or sees
the media of Segura EP's alerts; every call is audited. ``test_agency_scoping``, ``test_audit``
and ``test_auth`` merge them in."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from tests.support.evidence import detection

Check = Callable[[TestClient, dict[str, str], str], None]
ALERTS = "/api/v1/alerts"
PATH_IDS = ("{alert_id}", "{action}")


def _platform(client: TestClient) -> Platform:
    platform: Platform = client.app.state.platform  # type: ignore[attr-defined]
    return platform


def segura_alert(platform: Platform, camera_id: str = "SEG-006") -> str:
    """The alert a fresh detection (with snapshot and clip) raised in Segura EP's queue."""
    detection_id = detection(platform, camera_id)
    with platform.uow() as uow:
        for alert in uow.alerts.queue("segura-ep"):
            if detection_id in alert.detection_ids:
                return alert.id
    raise AssertionError("the detection raised no alert")


def _status(platform: Platform, alert_id: str) -> str:
    with platform.uow() as uow:
        alert = uow.alerts.get(alert_id)
    assert alert is not None
    return alert.status.value


def _denied(response, *allowed: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in (allowed or (403, 404)), response.text
    assert "error" in response.json()


def list_alerts(client: TestClient, headers: dict[str, str], _: str) -> None:
    segura_alert(_platform(client))
    response = client.get(ALERTS, headers=headers)
    if response.status_code == 200:
        assert all(a["agency"] == "policia-nacional" for a in response.json())
    else:
        _denied(response, 403)


def raise_alert(client: TestClient, headers: dict[str, str], _: str) -> None:
    response = client.post(ALERTS, headers=headers, json={
        "severity": "Severe", "event": "Robo", "headline": "Robo en curso",
        "camera_id": "SEG-006"})  # Segura's private camera: as if it did not exist
    _denied(response, 403, 404)


def read_alert(client: TestClient, headers: dict[str, str], _: str) -> None:
    alert_id = segura_alert(_platform(client))
    _denied(client.get(f"{ALERTS}/{alert_id}", headers=headers), 403, 404)


def act_on_alert(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    alert_id = segura_alert(platform)
    for action in ("acknowledge", "escalate", "dismiss", "close"):
        _denied(client.post(f"{ALERTS}/{alert_id}/{action}", json={"note": "falsa alarma"},
                            headers=headers), 403, 404)
    assert _status(platform, alert_id) == "open"


def alert_snapshot(client: TestClient, headers: dict[str, str], _: str) -> None:
    alert_id = segura_alert(_platform(client))
    _denied(client.get(f"{ALERTS}/{alert_id}/snapshot.jpg", headers=headers), 403, 404)


def alert_clip(client: TestClient, headers: dict[str, str], _: str) -> None:
    alert_id = segura_alert(_platform(client))
    _denied(client.get(f"{ALERTS}/{alert_id}/clip.mp4", headers=headers), 403, 404)


SCOPING: dict[tuple[str, str], Check] = {
    ("GET", ALERTS): list_alerts,
    ("POST", ALERTS): raise_alert,
    ("GET", f"{ALERTS}/{{alert_id}}"): read_alert,
    ("POST", f"{ALERTS}/{{alert_id}}/{{action}}"): act_on_alert,
    ("GET", f"{ALERTS}/{{alert_id}}/snapshot.jpg"): alert_snapshot,
    ("GET", f"{ALERTS}/{{alert_id}}/clip.mp4"): alert_clip,
}

AUDITED: dict[tuple[str, str], tuple[str, Callable[..., object], str]] = {
    ("GET", ALERTS): ("operator.segura", lambda c, h, p: c.get(ALERTS, headers=h), "alert.list"),
    ("POST", ALERTS): (
        "operator.segura",
        lambda c, h, p: c.post(ALERTS, headers=h, json={
            "severity": "Severe", "event": "Robo", "headline": "Robo en curso",
            "camera_id": "SEG-001"}),
        "alert.raise"),
    ("GET", f"{ALERTS}/{{alert_id}}"): (
        "operator.segura", lambda c, h, p: c.get(f"{ALERTS}/{segura_alert(p)}", headers=h),
        "alert.read"),
    ("POST", f"{ALERTS}/{{alert_id}}/{{action}}"): (
        "operator.segura",
        lambda c, h, p: c.post(f"{ALERTS}/{segura_alert(p)}/acknowledge", headers=h),
        "alert.acknowledge"),
    ("GET", f"{ALERTS}/{{alert_id}}/snapshot.jpg"): (
        "operator.segura",
        lambda c, h, p: c.get(f"{ALERTS}/{segura_alert(p, 'SEG-001')}/snapshot.jpg",
                              headers=h),
        "footage.snapshot"),
    ("GET", f"{ALERTS}/{{alert_id}}/clip.mp4"): (
        "operator.segura",
        lambda c, h, p: c.get(f"{ALERTS}/{segura_alert(p, 'SEG-001')}/clip.mp4", headers=h),
        "footage.clip"),
}
