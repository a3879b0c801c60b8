"""Plate watchlists through the API: own agency only, validated, audited."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.services.video import camera_specs
from tests.conftest import audit_rows, bearer


def test_watchlist_lifecycle_and_scoping(client: TestClient, platform: Platform) -> None:
    police = bearer(client, "dispatcher.policia")
    added = client.post("/api/v1/watchlist", headers=police, json={
        "plate": "gbc 1234", "reason": "vehículo robado, denuncia 2026-0042"})
    assert added.status_code == 201, added.text
    entry = added.json()
    assert entry["plate"] == "GBC1234" and entry["agency"] == "policia-nacional"
    assert [e["plate"] for e in client.get("/api/v1/watchlist", headers=police).json()] == [
        "GBC1234"]
    segura = bearer(client, "supervisor.segura")
    assert client.get("/api/v1/watchlist", headers=segura).json() == []  # not theirs to see
    assert client.delete(f"/api/v1/watchlist/{entry['id']}", headers=segura).status_code == 404
    # Cameras the police may see report the plate: its own, and Segura's shared ones.
    specs = {s.camera_id: s for s in camera_specs(platform.uow(), analytics_fps=2,
                                                  detect_fps=1, transport="tcp")}
    assert specs["PN-003"].watchlist and specs["SEG-001"].watchlist
    assert not specs["SEG-006"].watchlist  # Segura's private camera
    assert client.delete(f"/api/v1/watchlist/{entry['id']}", headers=police).status_code == 204
    assert client.get("/api/v1/watchlist", headers=police).json() == []
    actions = [r.action for r in audit_rows(platform) if r.object_type == "watchlist"]
    assert {"watchlist.add", "watchlist.list", "watchlist.remove"} <= set(actions)


def test_bad_entries_and_roles(client: TestClient) -> None:
    dispatcher = bearer(client, "dispatcher.segura")
    for body, needle in (({"plate": "PARE", "reason": "x"}, "plate"),
                         ({"plate": "GBC1234", "reason": ""}, "reason"),
                         ({"plate": "GBC1234", "reason": "x",
                           "expires_at": "2020-01-01T00:00:00Z"}, "past"),
                         ({"plate": "GBC1234", "reason": "x", "agency": "policia-nacional"},
                          "agency")):
        response = client.post("/api/v1/watchlist", headers=dispatcher, json=body)
        assert response.status_code == 422, body
        assert needle in str(response.json()["error"])
    operator = bearer(client, "operator.segura")
    assert client.get("/api/v1/watchlist", headers=operator).status_code == 200
    assert client.post("/api/v1/watchlist", headers=operator,
                       json={"plate": "GBC1234", "reason": "x"}).status_code == 403
    auditor = bearer(client, "auditor.segura")
    assert client.get("/api/v1/watchlist", headers=auditor).status_code == 403
