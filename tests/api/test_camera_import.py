"""Bulk import: all rows or none, a per-row report of every problem, CSV and GeoJSON."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from tests.conftest import audit_rows, bearer

HEADER = "id,name,centre_id,latitude,longitude,heading_deg,main_stream_url,tags,classification\n"
GOOD_ROWS = (
    "SEG-201,Cerro Santa Ana — escalinata,segura-centro,-2.1810,-79.8745,90,"
    "rtsp://10.1.1.9/s1,turismo;escalinata,shared\n"
    "SEG-202,Av. Machala y Sucre,segura-centro,-2.1930,-79.8890,180,rtsp://10.1.1.10/s1,,private\n"
)


@pytest.fixture
def admin(client: TestClient) -> dict[str, str]:
    return bearer(client, "admin.segura")


def _post_csv(client: TestClient, headers: dict[str, str], text: str, query: str = ""):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/camera-imports{query}", content=text.encode(),
                       headers={**headers, "Content-Type": "text/csv"})


def _ids(client: TestClient, headers: dict[str, str]) -> set[str]:
    return {c["id"] for c in client.get("/api/v1/cameras", headers=headers).json()["items"]}


def test_csv_import(client: TestClient, admin: dict[str, str]) -> None:
    response = _post_csv(client, admin, HEADER + GOOD_ROWS)
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == ["SEG-201", "SEG-202"]
    camera = client.get("/api/v1/cameras/SEG-201", headers=admin).json()
    assert camera["tags"] == ["turismo", "escalinata"] and camera["classification"] == "shared"


def test_bad_rows_are_each_reported_and_nothing_is_imported(
        client: TestClient, platform: Platform, admin: dict[str, str]) -> None:
    bad = (
        HEADER + GOOD_ROWS
        + "SEG-203,Coordenadas malas,segura-centro,-95,-79.88,0,rtsp://10.1.1.11/s1,,\n"
        + "SEG-001,Ya existe,segura-centro,-2.19,-79.88,0,rtsp://10.1.1.12/s1,,\n"
        + "SEG-201,Repetida en el archivo,segura-centro,-2.19,-79.88,0,rtsp://10.1.1.13/s1,,\n"
        + "SEG-204,Centro desconocido,centro-fantasma,-2.19,-79.88,0,rtsp://10.1.1.14/s1,,\n"
        + "SEG-205,URL inválida,segura-centro,-2.19,-79.88,0,smb://10.1.1.15/s1,,\n"
        + "SEG-206,Varios problemas,pn-zona8,abc,-79.88,999,notaurl,,\n"
    )
    before = _ids(client, admin)
    response = _post_csv(client, admin, bad)
    assert response.status_code == 422
    error = response.json()["error"]
    assert "nothing was imported" in error["message"]
    problems = {(d["row"], d["field"]): d["reason"] for d in error["details"]}
    assert "latitude must be a number between -90 and 90" in problems[(3, "coordinates")]
    assert problems[(4, "id")] == "duplicate id: already registered"
    assert problems[(5, "id")] == "duplicate id: repeated in file"
    assert "unknown centre 'centro-fantasma'" in problems[(6, "centre_id")]
    assert "scheme 'smb'" in problems[(7, "main_stream_url")]
    assert {(8, "centre_id"), (8, "coordinates"), (8, "heading_deg"),
            (8, "main_stream_url")} <= set(problems)
    assert not any(row in (1, 2) for row, _ in problems)  # the good rows are not blamed
    assert _ids(client, admin) == before  # not even the good rows went in
    last = [r for r in audit_rows(platform) if r.action == "camera.import"][-1]
    assert last.outcome == "rejected"
    assert last.detail["rejected_count"] == len(error["details"])


def test_dry_run_checks_without_importing(client: TestClient, admin: dict[str, str]) -> None:
    response = _post_csv(client, admin, HEADER + GOOD_ROWS, "?dry_run=true")
    assert response.status_code == 200 and response.json()["dry_run"] is True
    assert "SEG-201" not in _ids(client, admin)


def test_geojson_round_trip(client: TestClient, admin: dict[str, str]) -> None:
    exported = client.get("/api/v1/cameras.geojson?centre_id=segura-norte", headers=admin).json()
    for feature in exported["features"]:
        feature["id"] = feature["properties"]["id"] = feature["id"] + "-B"
        feature["properties"]["main_stream_url"] = "rtsp://10.2.0.1/main"
        feature["properties"]["sub_stream_url"] = None
    response = client.post("/api/v1/camera-imports", content=json.dumps(exported),
                           headers={**admin, "Content-Type": "application/geo+json"})
    assert response.status_code == 200, response.text
    assert sorted(response.json()["imported"]) == ["SEG-007-B", "SEG-008-B", "SEG-009-B"]
    copy = client.get("/api/v1/cameras/SEG-007-B", headers=admin).json()
    assert (copy["latitude"], copy["longitude"]) == (-2.1397, -79.8918)


@pytest.mark.parametrize(("body", "content_type", "needle"), [
    ("{not json", "application/geo+json", "not valid JSON"),
    ('{"type": "Feature"}', "application/geo+json", "FeatureCollection"),
    ("name;lat\nx;1\n", "text/csv", "unknown CSV column"),
    ("", "text/csv", "no header row"),
    ("id,name\n", "text/csv", "no camera rows"),
    ("id,name\nA,b\n", "application/xml", "text/csv or application/geo+json"),
])
def test_unreadable_files_get_a_precise_error(client: TestClient, admin: dict[str, str],
                                              body: str, content_type: str, needle: str) -> None:
    response = client.post("/api/v1/camera-imports", content=body.encode(),
                           headers={**admin, "Content-Type": content_type})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert needle in error["message"] + json.dumps(error["details"])


def test_geojson_rows_report_missing_geometry(client: TestClient, admin: dict[str, str]) -> None:
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "SEG-300", "geometry": None,
         "properties": {"name": "Sin geometría", "centre_id": "segura-centro",
                        "main_stream_url": "rtsp://10.1.1.20/s1"}}]}
    response = client.post("/api/v1/camera-imports", json=collection, headers=admin)
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert {"latitude", "longitude"} <= fields


def test_only_writers_import(client: TestClient) -> None:
    operator = bearer(client, "operator.segura")
    assert _post_csv(client, operator, HEADER + GOOD_ROWS).status_code == 403
