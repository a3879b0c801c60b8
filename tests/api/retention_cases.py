"""Route-catalogue cases of the retention routes (periods, purge and its reports, legal holds):
the scoping checks (a police user never sees or changes Segura EP's) and the audited calls.
``test_agency_scoping``, ``test_audit`` and ``test_auth`` merge them in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from sereno.adapters.db.tables import detection_events, legal_holds, retention_policies
from sereno.bootstrap import Platform
from sereno.domain import commands
from sereno.domain.access import Principal
from sereno.services.accounts import principal_for

Check = Callable[[TestClient, dict[str, str], str], None]
SEGURA = "segura-ep"
PATH_IDS = ("{data_class}", "{hold_id}")
CONSOLE = {("GET", "/retention")}  # console pages among the routes below


def _platform(client: TestClient) -> Platform:
    platform: Platform = client.app.state.platform  # type: ignore[attr-defined]
    return platform


def _who(platform: Platform, username: str) -> Principal:
    with platform.uow() as uow:
        user = uow.users.by_username(username)
    assert user is not None
    return principal_for(user, channel="api", address=None)


def segura_detection(platform: Platform, days_old: float = 0) -> str:
    at = (datetime.now(UTC) - timedelta(days=days_old)).timestamp()
    event = platform.bus.handle(commands.RecordDetection(
        "SEG-006", None, "zone", ("person",), (1,), 0.9, (0.1, 0.1, 0.2, 0.3), at))
    return str(event.event_id)


def segura_hold(platform: Platform) -> str:
    """An active legal hold of Segura EP on its private camera and one detection."""
    now = datetime.now(UTC)
    hold = platform.bus.handle(commands.PlaceLegalHold(
        _who(platform, "supervisor.segura"), "FGE-2026-000123", "pedido de la Fiscalía",
        ("SEG-006",), now - timedelta(hours=1), now, (segura_detection(platform),)))
    return str(hold.id)


def _denied(response, *allowed: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in (allowed or (403, 404)), response.text
    assert "error" in response.json()


def _only_police(response) -> None:  # type: ignore[no-untyped-def]
    if response.status_code == 200:
        assert all(item["agency"] == "policia-nacional" for item in response.json())
    else:
        _denied(response, 403)


def _segura_rows(platform: Platform) -> list[object]:
    with platform.engine.connect() as connection:
        policies = list(connection.execute(select(retention_policies).where(
            retention_policies.c.agency_id == SEGURA)))
        holds = list(connection.execute(select(legal_holds).where(
            legal_holds.c.agency_id == SEGURA).order_by(legal_holds.c.id)))
    return [*policies, *holds]


# -- periods and the purge ---------------------------------------------------------------------

def list_policies(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    platform.bus.handle(commands.SetRetentionPolicy(_who(platform, "admin.segura"),
                                                    "snapshot", 7))
    response = client.get("/api/v1/retention/policies", headers=headers)
    _only_police(response)
    if response.status_code == 200:
        snapshot = next(p for p in response.json() if p["data_class"] == "snapshot")
        assert snapshot["period_days"] == 90  # Segura's 7 days are Segura's


def set_policy(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    before = _segura_rows(platform)
    for camera in ("SEG-006", "SEG-001"):  # private and shared: never the police's to set
        _denied(client.put("/api/v1/retention/policies/recording", headers=headers,
                           json={"period_days": 1, "camera_id": camera}))
    smuggled = {"period_days": 1, "agency": SEGURA}
    _denied(client.put("/api/v1/retention/policies/snapshot", headers=headers, json=smuggled),
            403, 422)
    response = client.put("/api/v1/retention/policies/snapshot", headers=headers,
                          json={"period_days": 1})
    if response.status_code == 200:
        assert response.json()["agency"] == "policia-nacional"
    else:
        _denied(response, 403)
    assert _segura_rows(platform) == before


def run_purge(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    old = segura_detection(platform, days_old=400)
    response = client.post("/api/v1/retention/purge", headers=headers, json={})
    if response.status_code == 200:
        assert response.json()["agency"] == "policia-nacional"
    else:
        _denied(response, 403)
    with platform.engine.connect() as connection:
        assert connection.scalar(select(detection_events.c.id).where(
            detection_events.c.id == old)) == old  # Segura's old detection is Segura's to purge


def list_purges(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    platform.bus.handle(commands.PurgeExpired(_who(platform, "admin.segura")))
    _only_police(client.get("/api/v1/retention/purges", headers=headers))


# -- legal holds -------------------------------------------------------------------------------

def list_holds(client: TestClient, headers: dict[str, str], _: str) -> None:
    hold_id = segura_hold(_platform(client))
    response = client.get("/api/v1/legal-holds", headers=headers)
    _only_police(response)
    if response.status_code == 200:
        assert hold_id not in {h["id"] for h in response.json()}


def place_hold(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    before = _segura_rows(platform)
    now = datetime.now(UTC)
    span = {"start": (now - timedelta(hours=1)).isoformat(), "end": now.isoformat()}
    for camera in ("SEG-006", "SEG-001"):
        _denied(client.post("/api/v1/legal-holds", headers=headers, json={
            "case_reference": "FGE-2026-000999", "reason": "intento ajeno",
            "camera_ids": [camera], **span}))
    _denied(client.post("/api/v1/legal-holds", headers=headers, json={
        "case_reference": "FGE-2026-000999", "reason": "intento ajeno",
        "detection_ids": [segura_detection(platform)]}))
    assert _segura_rows(platform) == before


def get_hold(client: TestClient, headers: dict[str, str], _: str) -> None:
    hold_id = segura_hold(_platform(client))
    _denied(client.get(f"/api/v1/legal-holds/{hold_id}", headers=headers))


def release_hold(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    hold_id = segura_hold(platform)
    _denied(client.post(f"/api/v1/legal-holds/{hold_id}/release", headers=headers,
                        json={"reason": "liberación ajena"}))
    with platform.uow() as uow:
        hold = uow.retention.get_hold(hold_id)
    assert hold is not None and hold.active


# -- the console page --------------------------------------------------------------------------

def retention_page(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    hold_id = segura_hold(platform)
    platform.bus.handle(commands.PurgeExpired(_who(platform, "admin.segura")))
    response = client.get("/retention", headers={"Accept": "text/html"})
    assert response.status_code in (200, 403), response.text
    assert hold_id not in response.text and "FGE-2026-000123" not in response.text
    assert "admin.segura" not in response.text  # nor Segura's purge reports


SCOPING: dict[tuple[str, str], Check] = {
    ("GET", "/api/v1/retention/policies"): list_policies,
    ("PUT", "/api/v1/retention/policies/{data_class}"): set_policy,
    ("POST", "/api/v1/retention/purge"): run_purge,
    ("GET", "/api/v1/retention/purges"): list_purges,
    ("GET", "/api/v1/legal-holds"): list_holds,
    ("POST", "/api/v1/legal-holds"): place_hold,
    ("GET", "/api/v1/legal-holds/{hold_id}"): get_hold,
    ("POST", "/api/v1/legal-holds/{hold_id}/release"): release_hold,
    ("GET", "/retention"): retention_page,
}


def _hold_body() -> dict[str, object]:
    now = datetime.now(UTC)
    return {"case_reference": "INC-2026-0042", "reason": "riña en el parque",
            "camera_ids": ["SEG-006"], "start": (now - timedelta(hours=1)).isoformat(),
            "end": now.isoformat()}


# route -> (acting user, the call, the audit action it must record)
AUDITED: dict[tuple[str, str], tuple[str, Callable[..., object], str]] = {
    ("GET", "/api/v1/retention/policies"): (
        "auditor.segura", lambda c, h, p: c.get("/api/v1/retention/policies", headers=h),
        "retention.policy.list"),
    ("PUT", "/api/v1/retention/policies/{data_class}"): (
        "admin.segura",
        lambda c, h, p: c.put("/api/v1/retention/policies/snapshot", headers=h,
                              json={"period_days": 60}),
        "retention.policy.set"),
    ("POST", "/api/v1/retention/purge"): (
        "admin.segura", lambda c, h, p: c.post("/api/v1/retention/purge", headers=h, json={}),
        "retention.purge"),
    ("GET", "/api/v1/retention/purges"): (
        "auditor.segura", lambda c, h, p: c.get("/api/v1/retention/purges", headers=h),
        "retention.purge.list"),
    ("GET", "/api/v1/legal-holds"): (
        "supervisor.segura", lambda c, h, p: c.get("/api/v1/legal-holds", headers=h),
        "legal_hold.list"),
    ("POST", "/api/v1/legal-holds"): (
        "supervisor.segura",
        lambda c, h, p: c.post("/api/v1/legal-holds", headers=h, json=_hold_body()),
        "legal_hold.place"),
    ("GET", "/api/v1/legal-holds/{hold_id}"): (
        "auditor.segura",
        lambda c, h, p: c.get(f"/api/v1/legal-holds/{segura_hold(p)}", headers=h),
        "legal_hold.read"),
    ("POST", "/api/v1/legal-holds/{hold_id}/release"): (
        "approver.segura",
        lambda c, h, p: c.post(f"/api/v1/legal-holds/{segura_hold(p)}/release", headers=h,
                               json={"reason": "caso archivado por la Fiscalía"}),
        "legal_hold.release"),
    ("GET", "/retention"): ("auditor.segura", lambda c, h, p: c.get("/retention"),
                            "page.retention"),
}
