"""GET /api/v1/audit/records: the auditors' search of their agency's audit log."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.domain.audit import AuditRecord, Outcome
from tests.conftest import audit_rows, bearer


def _records(platform: Platform) -> None:
    now = platform.clock()
    with platform.uow() as uow:
        for n in range(30):
            uow.audit.add(AuditRecord(
                at=now - timedelta(minutes=30 - n), action="footage.playback" if n % 2 else
                "footage.live", outcome=Outcome.DENIED if n % 5 == 0 else Outcome.ALLOWED,
                actor_user_id="u-analyst", actor_username="analyst.segura",
                actor_agency_id="segura-ep", object_type="camera", object_id=f"SEG-00{n % 3}",
                object_agency_id="segura-ep", reason="caso 100% urgente" if n == 7 else None,
                detail={"case": "FGE-2026-000123"} if n == 8 else {}))
        uow.commit()


def test_filters_pages_and_refusals(client: TestClient, platform: Platform) -> None:
    _records(platform)
    auditor = bearer(client, "auditor.segura")

    def search(**params: object) -> list[dict]:  # type: ignore[type-arg]
        response = client.get("/api/v1/audit/records", params=params, headers=auditor)
        assert response.status_code == 200, response.text
        items: list[dict] = response.json()["items"]  # type: ignore[type-arg]
        return items

    assert len(search(user="analyst.segura")) == 30
    assert len(search(user="u-analyst", action="footage.*", limit=200)) == 30
    assert {i["action"] for i in search(action="footage.playback")} == {"footage.playback"}
    assert len(search(user="analyst.segura", outcome="denied")) == 6
    assert {i["object_id"] for i in search(object="SEG-001")} == {"SEG-001"}
    assert [i["reason"] for i in search(q="100%")] == ["caso 100% urgente"]  # % is literal
    assert len(search(q="fge-2026-000123", user="analyst.segura")) == 1  # in the detail
    now = platform.clock()
    window = search(user="analyst.segura", **{"from": (now - timedelta(minutes=10)).isoformat(),
                                              "to": now.isoformat()})
    assert len(window) == 10
    first = client.get("/api/v1/audit/records", params={"user": "analyst.segura", "limit": 20},
                       headers=auditor).json()
    assert len(first["items"]) == 20 and first["next_before_id"] == first["items"][-1]["id"]
    rest = search(user="analyst.segura", before_id=first["next_before_id"], limit=20)
    assert len(rest) == 10 and max(i["id"] for i in rest) < first["next_before_id"]
    search_record = audit_rows(platform)[-1]
    assert search_record.action == "audit.search" and search_record.detail["before_id"] > 0

    backwards = client.get("/api/v1/audit/records", headers=auditor, params={
        "from": now.isoformat(), "to": (now - timedelta(hours=1)).isoformat()})
    assert backwards.status_code == 422
    assert audit_rows(platform)[-1].outcome == "rejected"
    police = bearer(client, "auditor.policia")
    found = client.get("/api/v1/audit/records", params={"user": "analyst.segura"},
                       headers=police).json()["items"]
    assert found == []
    operator = bearer(client, "operator.segura")
    assert client.get("/api/v1/audit/records", headers=operator).status_code == 403
    assert audit_rows(platform)[-1].outcome == "denied"
