"""Camera registry through the API: create, read, update, retire, export, snapshot, bad input."""

from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from sereno.bootstrap import Platform
from tests.conftest import audit_rows, bearer

NEW = {"id": "SEG-100", "name": "Av. Quito y Padre Solano", "centre_id": "segura-centro",
       "latitude": -2.1868, "longitude": -79.8905, "heading_deg": 135, "fov_deg": 70,
       "range_m": 90, "main_stream_url": "rtsp://op:secret@10.1.1.5:554/s1",
       "sub_stream_url": "rtsp://op:secret@10.1.1.5:554/s2", "tags": ["Avenida", "avenida"],
       "classification": "shared",
       "privacy_masks": [[[0.0, 0.0], [0.2, 0.0], [0.2, 0.3], [0.0, 0.3]]]}


@pytest.fixture
def admin(client: TestClient) -> dict[str, str]:
    return bearer(client, "admin.segura")


def _count(platform: Platform) -> int:
    with platform.uow() as uow:
        return len(uow.cameras.visible_to_agency("segura-ep"))


def test_create_read_update_retire(client: TestClient, admin: dict[str, str]) -> None:
    created = client.post("/api/v1/cameras", json=NEW, headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["owner_agency"] == "segura-ep"
    assert body["tags"] == ["avenida"]
    assert body["main_stream_url"] == "rtsp://op:***@10.1.1.5:554/s1"  # never read back
    read = client.get("/api/v1/cameras/SEG-100", headers=admin).json()
    assert read["heading_deg"] == 135 and read["privacy_masks"][0][2] == [0.2, 0.3]
    patched = client.patch("/api/v1/cameras/SEG-100", json={"status": "online", "range_m": 120},
                           headers=admin)
    assert patched.status_code == 200 and patched.json()["status"] == "online"
    assert patched.json()["range_m"] == 120
    retired = client.post("/api/v1/cameras/SEG-100/retire", headers=admin)
    assert retired.status_code == 200
    assert retired.json()["status"] == "retired" and retired.json()["retired_at"]
    again = client.post("/api/v1/cameras/SEG-100/retire", headers=admin)
    assert again.status_code == 409
    # Retired cameras stay in the registry, visible for the record.
    assert client.get("/api/v1/cameras/SEG-100", headers=admin).json()["status"] == "retired"


def test_partner_sees_shared_cameras_without_stream_addresses(client: TestClient) -> None:
    police = bearer(client, "operator.policia")
    camera = client.get("/api/v1/cameras/SEG-001", headers=police).json()
    assert camera["owner_agency"] == "segura-ep"
    assert camera["main_stream_url"] is None and camera["centre_id"] is None


def test_list_filters(client: TestClient) -> None:
    headers = bearer(client, "operator.segura")

    def ids(query: str) -> set[str]:
        response = client.get(f"/api/v1/cameras{query}", headers=headers)
        assert response.status_code == 200
        return {c["id"] for c in response.json()["items"]}

    assert ids("?status=maintenance") == {"SEG-009"}
    assert ids("?centre_id=segura-norte") == {"SEG-007", "SEG-008", "SEG-009"}
    assert ids("?owner_agency=policia-nacional") == {"PN-001", "PN-002"}
    assert ids("?tag=turismo") == {"SEG-001", "SEG-003", "SEG-004"}
    assert ids("?q=malec") == {"SEG-001"}
    assert client.get("/api/v1/cameras?status=exploded", headers=headers).status_code == 422


@pytest.mark.parametrize(("change", "status", "needle"), [
    ({"latitude": 91}, 422, "latitude"),
    ({"latitude": 0, "longitude": 0}, 422, "placeholder"),
    ({"longitude": "west"}, 422, "longitude"),
    ({"heading_deg": 400}, 422, "heading"),
    ({"range_m": 0}, 422, "range"),
    ({"main_stream_url": "ftp://10.0.0.1/x"}, 422, "scheme"),
    ({"main_stream_url": "rtsp:///nohost"}, 422, "host"),
    ({"centre_id": "pn-zona8"}, 422, "unknown centre"),
    ({"id": "bad id!"}, 422, "camera id"),
    ({"id": "SEG-001"}, 409, "already registered"),
    ({"owner_agency": "policia-nacional"}, 422, "owner_agency"),
    ({"privacy_masks": [[[0, 0], [1, 1], [1, 0], [0, 1]]]}, 422, "simple polygon"),
    ({"privacy_masks": [[[0, 0], [2, 0], [0, 1]]]}, 422, "0..1"),
    ({"status": "retired"}, 422, "status"),
])
def test_bad_camera_is_refused_and_nothing_written(
        client: TestClient, platform: Platform, admin: dict[str, str],
        change: dict[str, object], status: int, needle: str) -> None:
    before = _count(platform)
    response = client.post("/api/v1/cameras", json={**NEW, **change}, headers=admin)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] in ("invalid_input", "conflict")
    assert needle in (error["message"] + str(error["details"]))
    assert _count(platform) == before
    assert audit_rows(platform)[-1].outcome in ("rejected", "denied")


def test_bad_update_changes_nothing(client: TestClient, admin: dict[str, str]) -> None:
    before = client.get("/api/v1/cameras/SEG-002", headers=admin).json()
    response = client.patch("/api/v1/cameras/SEG-002",
                            json={"name": "renamed", "latitude": -200}, headers=admin)
    assert response.status_code == 422
    assert client.get("/api/v1/cameras/SEG-002", headers=admin).json() == before
    assert client.patch("/api/v1/cameras/SEG-002", json={}, headers=admin).status_code == 422


def test_malformed_json_gets_a_clear_400(client: TestClient, admin: dict[str, str]) -> None:
    response = client.post("/api/v1/cameras", content=b'{"id": "X", "name": ',
                           headers={**admin, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


def test_oversize_body_is_refused_before_parsing(client: TestClient, platform: Platform,
                                                 admin: dict[str, str]) -> None:
    limit = platform.settings.http.max_body_bytes
    body = b'{"name": "' + b"x" * (limit + 10) + b'"}'
    response = client.post("/api/v1/cameras", content=body,
                           headers={**admin, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"

    def chunks():  # no Content-Length: the limit is counted as the body arrives
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536

    streamed = client.post("/api/v1/cameras", content=chunks(),
                           headers={**admin, "Content-Type": "application/json"})
    assert streamed.status_code == 413


def test_unknown_camera_is_404(client: TestClient, admin: dict[str, str]) -> None:
    response = client.get("/api/v1/cameras/NOPE-1", headers=admin)
    assert response.status_code == 404
    assert response.json()["error"] == {"code": "not_found", "message": "no camera 'NOPE-1'",
                                        "details": []}


def test_export_geojson(client: TestClient) -> None:
    response = client.get("/api/v1/cameras.geojson", headers=bearer(client, "analyst.segura"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    collection = response.json()
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == 12
    feature = next(f for f in collection["features"] if f["id"] == "SEG-001")
    assert feature["geometry"] == {"type": "Point", "coordinates": [-79.8797, -2.1953]}
    # An operator has no export permission.
    operator = bearer(client, "operator.segura")
    assert client.get("/api/v1/cameras.geojson", headers=operator).status_code == 403


def test_snapshot_is_a_real_frame_with_privacy_masks_blanked(
        client: TestClient, admin: dict[str, str]) -> None:
    mask = [[0.0, 0.0], [0.5, 0.0], [0.5, 0.5], [0.0, 0.5]]
    assert client.patch("/api/v1/cameras/SEG-002", json={"privacy_masks": [mask]},
                        headers=admin).status_code == 200
    operator = bearer(client, "operator.segura")
    response = client.get("/api/v1/cameras/SEG-002/snapshot.jpg", headers=operator)
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "no-store"
    luma = np.asarray(Image.open(io.BytesIO(response.content)).convert("L"))
    height, width = luma.shape
    assert width >= 320 and height >= 180
    assert luma[: height // 2 - 4, : width // 2 - 4].max() < 40  # black, give or take JPEG
    assert luma[height // 2 + 4:, width // 2 + 4:].max() > 80  # the real picture
    # Administrators manage cameras but do not watch them (least privilege).
    assert client.get("/api/v1/cameras/SEG-002/snapshot.jpg", headers=admin).status_code == 403


def test_snapshot_of_a_broken_stream_is_a_clear_503(client: TestClient,
                                                    admin: dict[str, str]) -> None:
    assert client.patch("/api/v1/cameras/SEG-003", json={
        "main_stream_url": "file:///etc/passwd", "sub_stream_url": "file:///etc/passwd"},
        headers=admin).status_code == 200
    response = client.get("/api/v1/cameras/SEG-003/snapshot.jpg",
                          headers=bearer(client, "operator.segura"))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "stream_unavailable"
    assert "outside the configured media folders" in response.json()["error"]["message"]


def test_retired_camera_has_no_live_view(client: TestClient, admin: dict[str, str]) -> None:
    client.post("/api/v1/cameras/SEG-004/retire", headers=admin)
    response = client.get("/api/v1/cameras/SEG-004/snapshot.jpg",
                          headers=bearer(client, "operator.segura"))
    assert response.status_code == 409
