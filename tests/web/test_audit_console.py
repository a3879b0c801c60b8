"""The auditor's console: audit search, break-glass reviews, access anomalies, integrity."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from sereno.adapters.db import tables
from sereno.bootstrap import Platform
from sereno.domain.governance import BreakGlassAccess
from sereno.services.security import raise_security_alert
from tests.api.test_agency_scoping import _console_login
from tests.conftest import audit_rows


def _csrf(page: str) -> str:
    return page.split('name="csrf" value="')[1].split('"')[0]


def _break_glass(platform: Platform, username: str = "dispatcher.segura") -> str:
    with platform.uow() as uow:
        user = uow.users.by_username(username)
        assert user is not None
        now = platform.clock()
        access = BreakGlassAccess(
            id=str(uuid.uuid4()), agency_id=user.agency_id, user_id=user.id,
            username=user.username, action="footage.playback", object_type="camera",
            object_id="SEG-001", justification="persecución en curso por el Malecón",
            at=now - timedelta(hours=30), review_due=now - timedelta(hours=6))
        uow.break_glass.add(access)
        uow.commit()
    return access.id


def _anomaly(platform: Platform, agency: str = "segura-ep") -> str:
    with platform.uow() as uow:
        alert = raise_security_alert(
            uow, agency_id=agency, kind="access_anomaly", severity="high",
            summary="analyst.segura: 40 download accesses within 60 min",
            detail={"detector": "bulk_pull", "user": "analyst.segura", "category": "download",
                    "count": 40, "threshold": 150, "record_ids": [11, 12, 13],
                    "first_at": "2030-01-09T15:00:00+00:00",
                    "last_at": "2030-01-09T15:20:00+00:00"})
        uow.commit()
    return alert.id


def test_auditor_searches_the_log(client: TestClient, platform: Platform) -> None:
    _console_login(client, "auditor.segura")
    page = client.get("/map")
    assert 'data-testid="nav-audit"' in page.text
    page = client.get("/audit")
    assert page.status_code == 200 and 'data-testid="audit-table"' in page.text
    assert "Bitácora de auditoría" in page.text
    found = client.get("/audit", params={"user": "auditor.segura", "action": "auth.*"})
    assert found.status_code == 200
    assert "auth.session.open" in found.text or "auth.login" in found.text
    assert "<td>auditor.segura<br>" in found.text  # the actor cell the scoping case looks at
    assert "operator.policia" not in found.text
    row = audit_rows(platform)[-1]
    assert (row.action, row.actor_username, row.channel) == ("page.audit", "auditor.segura",
                                                             "web")
    assert row.detail["user"] == "auditor.segura" and row.detail["action"] == "auth.*"
    # Other agencies' records never show, whatever the filter.
    police = client.get("/audit", params={"user": "operator.policia"})
    assert police.status_code == 200 and 'data-testid="audit-empty"' in police.text
    bad = client.get("/audit", params={"from": "yesterday"})
    assert bad.status_code == 422 and 'data-testid="audit-error"' in bad.text
    assert audit_rows(platform)[-1].outcome == "rejected"


def test_search_pages_backwards(client: TestClient, platform: Platform) -> None:
    from sereno.domain.audit import AuditRecord, Outcome

    with platform.uow() as uow:
        for n in range(60):
            uow.audit.add(AuditRecord(at=platform.clock(), action="camera.read",
                                      outcome=Outcome.ALLOWED, actor_username="analyst.segura",
                                      actor_agency_id="segura-ep", object_type="camera",
                                      object_id=f"SEG-{n:03d}", object_agency_id="segura-ep"))
        uow.commit()
    _console_login(client, "auditor.segura")
    first = client.get("/audit")
    older = first.text.split('data-testid="audit-older"')[0].rsplit('href="', 1)[1].split('"')[0]
    ids_first = [int(x.split('"')[0]) for x in first.text.split('data-record-id="')[1:]]
    second = client.get(older.replace("&amp;", "&"))
    ids_second = [int(x.split('"')[0]) for x in second.text.split('data-record-id="')[1:]]
    assert len(ids_first) == 50 and ids_second and max(ids_second) < min(ids_first)
    assert 'data-testid="audit-newest"' in second.text


def test_an_operator_is_refused(client: TestClient) -> None:
    _console_login(client, "operator.segura")
    assert 'data-testid="nav-audit"' not in client.get("/map").text
    for path in ("/audit", "/audit/anomalies", "/audit/integrity", "/audit/break-glass"):
        page = client.get(path)
        assert page.status_code == 403 and "Acceso denegado" in page.text, path


def test_supervisor_records_a_break_glass_verdict(client: TestClient,
                                                  platform: Platform) -> None:
    access_id = _break_glass(platform)
    _console_login(client, "supervisor.segura")
    page = client.get("/audit/break-glass")
    assert page.status_code == 200 and f'data-bg-id="{access_id}"' in page.text
    assert 'data-state="overdue"' in page.text and 'data-testid="bg-submit"' in page.text
    action = f"/audit/break-glass/{access_id}/review"
    refused = client.post(action, data={"verdict": "justified", "note": "ok"})
    assert refused.status_code == 403  # no CSRF token
    short = client.post(action, data={"verdict": "justified", "note": "ok",
                                      "csrf": _csrf(page.text)})
    assert short.status_code == 422 and 'data-testid="bg-error"' in short.text
    done = client.post(action, data={"verdict": "unjustified", "csrf": _csrf(page.text),
                                     "note": "no había emergencia registrada"},
                       follow_redirects=False)
    assert done.status_code == 303
    with platform.uow() as uow:
        stored = uow.break_glass.get(access_id)
        assert stored is not None and stored.verdict is not None
        assert stored.verdict.value == "unjustified"
    assert 'data-state="reviewed"' in client.get("/audit/break-glass?done=reviewed").text


def test_auditor_sees_break_glass_but_does_not_judge(client: TestClient,
                                                    platform: Platform) -> None:
    _break_glass(platform)
    _console_login(client, "auditor.segura")
    page = client.get("/audit/break-glass")
    assert page.status_code == 200 and "persecución en curso" in page.text
    assert 'data-testid="bg-submit"' not in page.text


def test_auditor_handles_an_anomaly(client: TestClient, platform: Platform) -> None:
    alert_id = _anomaly(platform)
    police_alert = _anomaly(platform, "policia-nacional")
    _console_login(client, "auditor.segura")
    page = client.get("/audit/anomalies")
    assert page.status_code == 200
    assert f'data-alert-id="{alert_id}"' in page.text and police_alert not in page.text
    assert "Descarga masiva" in page.text and "11, 12, 13" in page.text
    assert 'data-user="operator.segura"' in page.text  # the baselines table
    csrf = _csrf(page.text)
    ack = client.post(f"/audit/anomalies/{alert_id}/acknowledge",
                      data={"csrf": csrf, "note": "revisando"}, follow_redirects=False)
    assert ack.status_code == 303
    no_note = client.post(f"/audit/anomalies/{alert_id}/close", data={"csrf": csrf})
    assert no_note.status_code == 422 and 'data-testid="an-error"' in no_note.text
    closed = client.post(f"/audit/anomalies/{alert_id}/close",
                         data={"csrf": csrf, "note": "exportación autorizada por fiscalía"},
                         follow_redirects=False)
    assert closed.status_code == 303
    with platform.uow() as uow:
        alert = uow.security_alerts.get(alert_id)
        assert alert is not None and alert.status.value == "closed"
    assert client.post(f"/audit/anomalies/{police_alert}/close",
                       data={"csrf": csrf, "note": "x"}).status_code == 404


def test_integrity_page_verifies_and_proves(client: TestClient, platform: Platform) -> None:
    _console_login(client, "auditor.segura")
    page = client.get("/audit/integrity")
    assert page.status_code == 200 and 'data-state="verified"' in page.text
    head = platform.audit_log.sign_head()
    leaves, records = tables.audit_leaves, tables.audit_records
    with platform.engine.connect() as connection:
        leaf, action = connection.execute(
            select(leaves.c.leaf_index, records.c.action)
            .join(records, records.c.id == leaves.c.record_id)
            .where(records.c.actor_agency_id == "segura-ep")
            .order_by(leaves.c.leaf_index.desc()).limit(1)).one()
    proof = client.get(f"/audit/integrity?index={leaf}")
    assert 'data-testid="latest-head"' in proof.text and head.root_hash in proof.text
    assert 'data-valid="true"' in proof.text and action in proof.text
    beyond = client.get(f"/audit/integrity?index={head.tree_size + 10}")
    assert 'data-testid="proof-error"' in beyond.text
