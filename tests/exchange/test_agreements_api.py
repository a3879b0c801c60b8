"""The agreements API: the giver's administrators create and revoke, both agencies read, bad
input is refused with a clear error and changes nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import bearer

AGREEMENTS = "/api/v1/agreements"


def test_create_read_and_revoke(client: TestClient) -> None:
    admin = bearer(client, "admin.segura")
    created = client.post(AGREEMENTS, headers=admin, json={
        "to_agency": "policia-nacional", "title": "Incendios", "categories": ["Fire"],
        "min_severity": "Moderate", "include_media": True})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["from_agency"] == "segura-ep" and body["redact_faces"] is True
    police = bearer(client, "operator.policia")
    read = client.get(f"{AGREEMENTS}/{body['id']}", headers=police)  # the receiving party
    assert read.status_code == 200 and read.json()["categories"] == ["Fire"]
    listed = client.get(AGREEMENTS, headers=police).json()
    assert body["id"] in {a["id"] for a in listed}
    assert client.post(f"{AGREEMENTS}/{body['id']}/revoke", headers=admin,
                       json={"reason": "x"}).status_code == 422  # too short a reason
    revoked = client.post(f"{AGREEMENTS}/{body['id']}/revoke", headers=admin,
                          json={"reason": "fin del convenio"})
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    again = client.post(f"{AGREEMENTS}/{body['id']}/revoke", headers=admin,
                        json={"reason": "otra vez"})
    assert again.status_code == 409


def test_bad_agreements_are_refused(client: TestClient) -> None:
    admin = bearer(client, "admin.segura")
    before = len(client.get(AGREEMENTS, headers=admin).json())
    for body, status in (
            ({"to_agency": "nadie", "title": "Nada", "categories": ["Fire"]}, 422),
            ({"to_agency": "segura-ep", "title": "A mí", "categories": ["Fire"]}, 422),
            ({"to_agency": "policia-nacional", "title": "Zona", "categories": ["Fire"],
              "area": {"type": "Point", "coordinates": [0, 0]}}, 422),
            ({"to_agency": "policia-nacional", "title": "Fechas", "categories": ["Fire"],
              "valid_from": "2026-02-01T00:00:00Z", "valid_until": "2026-01-01T00:00:00Z"},
             422),
            ({"to_agency": "policia-nacional", "title": "Nada", "categories": []}, 422),
            ({"to_agency": "policia-nacional", "title": "Nada", "categories": ["Fire"],
              "from_agency": "policia-nacional"}, 403)):
        response = client.post(AGREEMENTS, headers=admin, json=body)
        assert response.status_code == status, (body, response.text)
        assert "error" in response.json()
    assert len(client.get(AGREEMENTS, headers=admin).json()) == before
    operator = bearer(client, "operator.segura")
    assert client.post(AGREEMENTS, headers=operator, json={
        "to_agency": "policia-nacional", "title": "Nada",
        "categories": ["Fire"]}).status_code == 403
