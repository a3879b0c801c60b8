"""Retention and legal holds through the API: clear errors for bad input, nothing changed, and
the roles of ADR 0014."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sereno.adapters.db.tables import legal_holds, retention_policies
from sereno.bootstrap import Platform
from tests.api.retention_cases import segura_detection
from tests.conftest import audit_rows, bearer


def _counts(platform: Platform) -> tuple[int, int]:
    with platform.engine.connect() as connection:
        return (int(connection.scalar(select(func.count()).select_from(retention_policies))
                    or 0),
                int(connection.scalar(select(func.count()).select_from(legal_holds)) or 0))


def test_bad_periods_are_refused_clearly(client: TestClient, platform: Platform) -> None:
    admin = bearer(client, "admin.segura")
    for path, body, status, needle in (
            ("snapshot", {"period_days": -5}, 422, "1 to 3650 days (got -5)"),
            ("snapshot", {"period_days": 0}, 422, "1 to 3650 days"),
            ("audit", {"period_days": 30}, 422, "365 to 3650 days"),
            ("photos", {"period_days": 30}, 422, "unknown data class"),
            ("snapshot", {"period_days": 30, "camera_id": "SEG-001"}, 422, "per camera"),
            ("recording", {"period_days": 30, "camera_id": "NOPE"}, 404, "no camera"),
            ("snapshot", {"period_days": "many"}, 422, "period_days"),
            ("snapshot", {}, 422, "period_days")):
        response = client.put(f"/api/v1/retention/policies/{path}", headers=admin, json=body)
        assert response.status_code == status, (path, body, response.text)
        assert needle in str(response.json()["error"]), response.text
    assert _counts(platform) == (0, 0)
    supervisor = bearer(client, "supervisor.segura")
    assert client.put("/api/v1/retention/policies/snapshot", headers=supervisor,
                      json={"period_days": 7}).status_code == 403
    ok = client.put("/api/v1/retention/policies/recording", headers=admin,
                    json={"period_days": 14, "camera_id": "SEG-006"})
    assert ok.status_code == 200, ok.text
    assert ok.json() | {"updated_at": None} == {
        "agency": "segura-ep", "data_class": "recording", "camera_id": "SEG-006",
        "period_days": 14, "source": "agency", "updated_at": None, "updated_by": "admin.segura"}
    lines = client.get("/api/v1/retention/policies", headers=supervisor).json()
    assert [line["data_class"] for line in lines] == [
        "recording", "event_clip", "snapshot", "alert", "personal_data", "audit", "recording"]
    assert lines[-1]["camera_id"] == "SEG-006"
    reset = client.put("/api/v1/retention/policies/recording", headers=admin,
                       json={"period_days": None, "camera_id": "SEG-006"})
    assert reset.status_code == 200 and reset.json()["period_days"] == 30
    assert client.get("/api/v1/retention/policies", headers=bearer(client, "operator.segura")
                      ).status_code == 403


def test_bad_holds_are_refused_clearly_and_nothing_is_held(client: TestClient,
                                                           platform: Platform) -> None:
    supervisor = bearer(client, "supervisor.segura")
    now = datetime.now(UTC)
    good = {"case_reference": "FGE-2026-000123", "reason": "pedido de la Fiscalía",
            "camera_ids": ["SEG-006"], "start": (now - timedelta(hours=1)).isoformat(),
            "end": now.isoformat()}
    for change, status, needle in (
            ({"case_reference": "caso 123"}, 422, "not a case reference"),
            ({"case_reference": "FGE-2026-12"}, 422, "not a case reference"),
            ({"end": (now - timedelta(hours=2)).isoformat()}, 422, "end must be after start"),
            ({"start": "2026-11-25T10:00:00"}, 422, "time zone"),
            ({"end": None}, 422, "give start and end"),
            ({"camera_ids": ["NOPE-1"]}, 404, "no camera 'NOPE-1'"),
            ({"camera_ids": ["PN-001"]}, 404, "no camera 'PN-001'"),
            ({"camera_ids": [], "start": None, "end": None, "detection_ids": ["nope"]}, 404,
             "no detection 'nope'"),
            ({"reason": ""}, 422, "reason"),
            ({"agency": "policia-nacional"}, 422, "agency")):
        response = client.post("/api/v1/legal-holds", headers=supervisor,
                               json={**good, **change})
        assert response.status_code == status, (change, response.text)
        assert needle in str(response.json()["error"]), response.text
    assert _counts(platform) == (0, 0)
    operator = bearer(client, "operator.segura")
    assert client.post("/api/v1/legal-holds", headers=operator, json=good).status_code == 403
    assert client.get("/api/v1/legal-holds", headers=operator).status_code == 403

    event = segura_detection(platform)
    placed = client.post("/api/v1/legal-holds", headers=supervisor,
                         json={**good, "detection_ids": [event]})
    assert placed.status_code == 201, placed.text
    hold = placed.json()
    assert hold["active"] and hold["placed_by"] == "supervisor.segura"
    assert hold["detection_ids"] == [event] and hold["agency"] == "segura-ep"
    auditor = bearer(client, "auditor.segura")
    assert [h["id"] for h in client.get("/api/v1/legal-holds?active=true",
                                        headers=auditor).json()] == [hold["id"]]
    assert client.post(f"/api/v1/legal-holds/{hold['id']}/release", headers=auditor,
                       json={"reason": "ya no hace falta"}).status_code == 403
    approver = bearer(client, "approver.segura")
    assert client.post(f"/api/v1/legal-holds/{hold['id']}/release", headers=approver,
                       json={"reason": "x"}).status_code == 422
    assert client.post("/api/v1/legal-holds/nope/release", headers=approver,
                       json={"reason": "caso archivado"}).status_code == 404
    released = client.post(f"/api/v1/legal-holds/{hold['id']}/release", headers=approver,
                           json={"reason": "caso archivado por la Fiscalía"})
    assert released.status_code == 200, released.text
    assert released.json()["released_by"] == "approver.segura"
    assert client.get("/api/v1/legal-holds?active=true", headers=auditor).json() == []
    assert client.get(f"/api/v1/legal-holds/{hold['id']}", headers=auditor
                      ).json()["release_reason"] == "caso archivado por la Fiscalía"


def test_purge_through_the_api_reports_and_is_listed(client: TestClient,
                                                     platform: Platform) -> None:
    old = segura_detection(platform, days_old=400)
    admin = bearer(client, "admin.segura")
    dry = client.post("/api/v1/retention/purge", headers=admin, json={"dry_run": True})
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True and dry.json()["classes"]["alert"]["ids"] == [old]
    assert dry.json()["audit"] == "kept (sealed log; pruning handled by the audit log)"
    done = client.post("/api/v1/retention/purge", headers=admin)
    assert done.status_code == 200 and done.json()["classes"]["alert"]["deleted"] == 1
    assert client.post("/api/v1/retention/purge", headers=bearer(client, "supervisor.segura")
                       ).status_code == 403
    reports = client.get("/api/v1/retention/purges", headers=bearer(client, "auditor.segura"))
    assert reports.status_code == 200
    assert [r["report"]["classes"]["alert"]["ids"] for r in reports.json()] == [[old]]
    assert reports.json()[0]["actor"] == "admin.segura"
    actions = [r.action for r in audit_rows(platform) if r.action.startswith("retention.purge")]
    assert actions == ["retention.purge.dry_run", "retention.purge", "retention.purge",
                       "retention.purge.list"]
