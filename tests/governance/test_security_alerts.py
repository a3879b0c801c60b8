"""Security alerts: raised inside the caller's transaction with their audit record, seen and
handled only by the agency's auditors."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.domain import events
from sereno.services.security import raise_security_alert
from tests.conftest import audit_rows, bearer


def test_alert_and_its_record_commit_together(platform: Platform) -> None:
    with platform.uow() as uow:
        raise_security_alert(uow, agency_id="segura-ep", kind="audit_fork", severity="critical",
                             summary="never committed")
        # leaving without commit rolls back both
    assert not any(r.action == "security.alert.raise" for r in audit_rows(platform))
    with platform.uow() as uow:
        alert = raise_security_alert(uow, agency_id="segura-ep", kind="egress_blocked",
                                     severity="high", summary="blocked upload to exfil.example",
                                     detail={"host": "exfil.example", "bytes": 12})
        raised = list(uow.collect_new_events())
        uow.commit()
    assert raised == [events.SecurityAlertRaised(alert.id, "segura-ep", "egress_blocked",
                                                 "high", "blocked upload to exfil.example",
                                                 alert.raised_at)]
    row = audit_rows(platform)[-1]
    assert (row.action, row.outcome, row.object_id) == ("security.alert.raise", "allowed",
                                                        alert.id)
    assert row.actor_username == "system:security" and row.channel == "system"
    assert row.detail == {"host": "exfil.example", "bytes": 12, "kind": "egress_blocked",
                          "severity": "high"}
    with platform.uow() as uow:
        stored = uow.security_alerts.get(alert.id)
        assert stored is not None and stored.detail["host"] == "exfil.example"
        assert stored.raised_at.utcoffset() is not None


@pytest.mark.parametrize(("kind", "severity"), [("nonsense", "high"), ("audit_fork", "dire")])
def test_unknown_kind_or_severity_is_a_programming_error(platform: Platform, kind: str,
                                                         severity: str) -> None:
    with platform.uow() as uow, pytest.raises(ValueError, match="unknown"):
        raise_security_alert(uow, agency_id="segura-ep", kind=kind, severity=severity,
                             summary="x")


def test_auditors_acknowledge_and_close(client: TestClient, platform: Platform) -> None:
    with platform.uow() as uow:
        alert = raise_security_alert(uow, agency_id="segura-ep", kind="access_anomaly",
                                     severity="medium", summary="200 snapshots in a minute")
        uow.commit()
    auditor = bearer(client, "auditor.segura")
    listed = client.get("/api/v1/security-alerts?status=open", headers=auditor).json()
    assert [a["id"] for a in listed] == [alert.id]
    assert listed[0]["severity"] == "medium" and listed[0]["status"] == "open"
    ack = client.post(f"/api/v1/security-alerts/{alert.id}/acknowledge", headers=auditor)
    assert ack.status_code == 200 and ack.json()["acknowledged_by"] == "auditor.segura"
    again = client.post(f"/api/v1/security-alerts/{alert.id}/acknowledge", headers=auditor)
    assert again.status_code == 409
    no_note = client.post(f"/api/v1/security-alerts/{alert.id}/close", json={"note": "  "},
                          headers=auditor)
    assert no_note.status_code == 422
    closed = client.post(f"/api/v1/security-alerts/{alert.id}/close",
                         json={"note": "usuario en capacitación"}, headers=auditor)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert client.get("/api/v1/security-alerts?status=open", headers=auditor).json() == []
    assert client.get("/api/v1/security-alerts?status=bogus", headers=auditor
                      ).status_code == 422


@pytest.mark.parametrize("username", ["admin.segura", "operator.segura", "supervisor.segura"])
def test_only_auditors_see_alerts(client: TestClient, username: str) -> None:
    response = client.get("/api/v1/security-alerts", headers=bearer(client, username))
    assert response.status_code == 403
