"""Route-catalogue cases of the evidence-export routes: scoping (a police user never reads,
decides on or downloads Segura EP's exports, nor exports its footage) and the audited calls.
``test_agency_scoping``, ``test_audit`` and ``test_auth`` merge them in."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.services import evidence
from sereno.services.accounts import principal_for
from tests.support.evidence import CASE, detection, open_case

Check = Callable[[TestClient, dict[str, str], str], None]
EXPORTS = "/api/v1/evidence-exports"
PATH_IDS = ("{export_id}",)


def _platform(client: TestClient) -> Platform:
    platform: Platform = client.app.state.platform  # type: ignore[attr-defined]
    return platform


def _who(platform: Platform, username: str):  # type: ignore[no-untyped-def]
    with platform.uow() as uow:
        user = uow.users.by_username(username)
    assert user is not None
    return principal_for(user, channel="api", address=None)


def ready(platform: Platform, camera_id: str = "SEG-001") -> str:
    """Segura's case is open; a fresh detection (snapshot only) on ``camera_id``."""
    with platform.uow() as uow:
        opened = uow.cases.get("segura-ep", CASE) is not None
    if not opened:
        open_case(platform)
    return detection(platform, camera_id, clip=False)


def body(detection_id: str) -> dict[str, object]:
    return {"items": [{"kind": "snapshot", "detection_id": detection_id}],
            "recipient": {"name": "Ab. María Torres", "organisation": "Fiscalía del Guayas"},
            "justification": "Oficio FGE 2026-123", "purpose": "judicial_request",
            "case": CASE}


def segura_export(platform: Platform, *, approved: bool = False,
                  camera_id: str = "SEG-006") -> str:
    """An export of Segura EP requested by analyst.segura (approved by approver.segura)."""
    detection_id = ready(platform, camera_id)
    export = evidence.request_export(
        platform.uow(), _who(platform, "analyst.segura"),
        items=[evidence.ItemRequest("snapshot", detection_id)],
        recipient=evidence.Recipient("Ab. María Torres", "Fiscalía del Guayas"),
        justification="Oficio FGE 2026-123", media=platform.media,
        recordings_root=platform.settings.recordings_root, clock=platform.clock,
        purpose="judicial_request", case=CASE)
    if approved:
        evidence.approve_export(platform.uow(), _who(platform, "approver.segura"), export.id,
                                None, platform.clock)
    return export.id


def _denied(response, *allowed: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in (allowed or (403, 404)), response.text
    assert "error" in response.json()


def _status(platform: Platform, export_id: str) -> str:
    with platform.uow() as uow:
        export = uow.evidence_exports.get(export_id)
    assert export is not None
    return export.status.value


# -- scoping -------------------------------------------------------------------------------------

def request_export(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    for camera in ("SEG-006", "SEG-001"):  # private, and shared (still Segura's footage)
        _denied(client.post(EXPORTS, json=body(ready(platform, camera)), headers=headers),
                403, 404, 422)


def list_exports(client: TestClient, headers: dict[str, str], _: str) -> None:
    segura_export(_platform(client))
    response = client.get(EXPORTS, headers=headers)
    if response.status_code == 200:
        assert all(e["agency"] == "policia-nacional" for e in response.json())
    else:
        _denied(response, 403)


def get_export(client: TestClient, headers: dict[str, str], _: str) -> None:
    export_id = segura_export(_platform(client))
    _denied(client.get(f"{EXPORTS}/{export_id}", headers=headers), 404)


def approve_export(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    export_id = segura_export(platform)
    _denied(client.post(f"{EXPORTS}/{export_id}/approve", json={}, headers=headers))
    assert _status(platform, export_id) == "requested"


def reject_export(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    export_id = segura_export(platform)
    _denied(client.post(f"{EXPORTS}/{export_id}/reject", json={"note": "no corresponde"},
                        headers=headers))
    assert _status(platform, export_id) == "requested"


def export_package(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    export_id = segura_export(platform, approved=True)
    _denied(client.get(f"{EXPORTS}/{export_id}/package.zip", headers=headers))
    assert _status(platform, export_id) == "approved"


SCOPING: dict[tuple[str, str], Check] = {
    ("POST", EXPORTS): request_export,
    ("GET", EXPORTS): list_exports,
    ("GET", f"{EXPORTS}/{{export_id}}"): get_export,
    ("POST", f"{EXPORTS}/{{export_id}}/approve"): approve_export,
    ("POST", f"{EXPORTS}/{{export_id}}/reject"): reject_export,
    ("GET", f"{EXPORTS}/{{export_id}}/package.zip"): export_package,
}

# route -> (acting user, the call, the audit action it must record)
AUDITED: dict[tuple[str, str], tuple[str, Callable[..., object], str]] = {
    ("POST", EXPORTS): (
        "analyst.segura", lambda c, h, p: c.post(EXPORTS, json=body(ready(p)), headers=h),
        "evidence.request"),
    ("GET", EXPORTS): ("analyst.segura", lambda c, h, p: c.get(EXPORTS, headers=h),
                       "evidence.list"),
    ("GET", f"{EXPORTS}/{{export_id}}"): (
        "analyst.segura", lambda c, h, p: c.get(f"{EXPORTS}/{segura_export(p)}", headers=h),
        "evidence.read"),
    ("POST", f"{EXPORTS}/{{export_id}}/approve"): (
        "approver.segura",
        lambda c, h, p: c.post(f"{EXPORTS}/{segura_export(p)}/approve", json={}, headers=h),
        "evidence.approve"),
    ("POST", f"{EXPORTS}/{{export_id}}/reject"): (
        "approver.segura",
        lambda c, h, p: c.post(f"{EXPORTS}/{segura_export(p)}/reject",
                               json={"note": "el oficio no cubre esta cámara"}, headers=h),
        "evidence.reject"),
    ("GET", f"{EXPORTS}/{{export_id}}/package.zip"): (
        "analyst.segura",
        lambda c, h, p: c.get(f"{EXPORTS}/{segura_export(p, approved=True)}/package.zip",
                              headers=h),
        "evidence.export"),
}
