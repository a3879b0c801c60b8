"""The breach register: LOPDP deadlines in working days, notices and their drafts, overdue
flags from the clock, and the auditors' API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.domain.breaches import ECUADOR, BreachCase, NoticeKind, add_working_days
from sereno.domain.errors import Conflict, InvalidInput
from sereno.services.breaches import open_breach_case
from tests.conftest import FakeClock, audit_rows, bearer

# Wednesday 2 December 2026, 10:00 in Guayaquil
WEDNESDAY = datetime(2026, 12, 2, 10, 0, tzinfo=ECUADOR).astimezone(UTC)


def _case(**kwargs: object) -> BreachCase:
    defaults: dict[str, object] = {
        "case_id": "c1", "agency_id": "segura-ep", "trigger": "egress_blocked",
        "description": "blocked upload", "detected_at": WEDNESDAY, "opened_at": WEDNESDAY,
        "opened_by": "system:security", "data_classes": ["media"], "camera_ids": ["SEG-006"]}
    return BreachCase.open(**{**defaults, **kwargs})  # type: ignore[arg-type]


def test_deadlines_count_working_days_in_ecuador() -> None:
    # Five working days after a Wednesday: Thu, Fri, Mon, Tue, Wed — end of that Wednesday.
    due = add_working_days(WEDNESDAY, 5)
    assert due.astimezone(ECUADOR) == datetime(2026, 12, 9, 23, 59, 59, tzinfo=ECUADOR)
    # 23:30 on a Friday in Guayaquil is already Saturday in UTC: the day that counts is Friday.
    friday_night = datetime(2026, 12, 4, 23, 30, tzinfo=ECUADOR).astimezone(UTC)
    assert add_working_days(friday_night, 3).astimezone(ECUADOR).date().isoformat() == \
        "2026-12-09"


def test_blocked_egress_is_not_high_risk_but_a_traced_leak_is() -> None:
    blocked = _case()
    assert not blocked.high_risk and [n.kind for n in blocked.notices()] == [
        NoticeKind.AUTHORITY]
    leak = _case(trigger="leak_traced")
    assert leak.high_risk
    assert [n.kind for n in leak.notices()] == [NoticeKind.AUTHORITY, NoticeKind.DATA_SUBJECTS]
    assert leak.subjects_due_at == add_working_days(WEDNESDAY, 3)


def test_overdue_notices_and_marking_them_sent() -> None:
    case = _case(high_risk=True)
    assert case.overdue(WEDNESDAY + timedelta(days=1)) == []
    late = WEDNESDAY + timedelta(days=6)  # past Monday 7th (3 days), not past Wed 9th
    assert case.overdue(late) == [NoticeKind.DATA_SUBJECTS]
    assert case.overdue(WEDNESDAY + timedelta(days=8)) == [NoticeKind.AUTHORITY,
                                                           NoticeKind.DATA_SUBJECTS]
    case.mark_notice_sent("authority", by="auditor.segura", at=late, reference="SPDP-1")
    with pytest.raises(Conflict):
        case.mark_notice_sent("authority", by="auditor.segura", at=late, reference="SPDP-2")
    with pytest.raises(InvalidInput):
        case.mark_notice_sent("press", by="auditor.segura", at=late, reference="x")
    assert case.overdue(WEDNESDAY + timedelta(days=8)) == [NoticeKind.DATA_SUBJECTS]
    case.close(by="auditor.segura", at=late, note="contained")
    assert case.overdue(WEDNESDAY + timedelta(days=30)) == []


@pytest.mark.parametrize("language", ["es", "en"])
def test_notice_drafts_carry_the_facts(language: str) -> None:
    case = _case(description="Intento de envío de clips a 203.0.113.9")
    authority = case.notice_draft("authority", agency_name="Segura EP", language=language)
    assert "Superintendencia de Protección de Datos Personales" in authority
    assert "art. 43" in authority and "SEG-006" in authority and "203.0.113.9" in authority
    subjects = case.notice_draft("data_subjects", agency_name="Segura EP", language=language)
    assert "Segura EP" in subjects and case.id in subjects
    assert ("imágenes y video" if language == "es" else "images and video") in subjects


def test_open_breach_case_is_one_transaction_with_its_record_and_alert(
        platform: Platform) -> None:
    with platform.uow() as uow:
        case = open_breach_case(
            uow, agency_id="segura-ep", trigger="leak_traced",
            description="clip of SEG-006 found on a public site", detail={"url": "x"},
            records=["export-17"], camera_ids=["SEG-006"], data_classes=["media"])
        uow.commit()
    rows = [r for r in audit_rows(platform) if r.object_id == case.id]
    assert [r.action for r in rows] == ["breach.open"]
    with platform.uow() as uow:
        alerts = uow.security_alerts.for_agency("segura-ep")
    assert [(a.kind.value, a.severity.value) for a in alerts] == [("breach_opened",
                                                                    "critical")]
    assert alerts[0].detail["breach_case_id"] == case.id


def test_auditors_work_a_case_through_the_api(client: TestClient, platform: Platform,
                                              clock: FakeClock) -> None:
    auditor = bearer(client, "auditor.segura")
    opened = client.post("/api/v1/breaches", headers=auditor, json={
        "description": "Video de SEG-001 publicado en redes", "data_classes": ["media"],
        "camera_ids": ["SEG-001"], "high_risk": True})
    assert opened.status_code == 201, opened.text
    case = opened.json()
    assert case["trigger"] == "manual" and case["opened_by"] == "auditor.segura"
    assert [n["kind"] for n in case["notices"]] == ["authority", "data_subjects"]
    assert "Superintendencia" in case["notices"][0]["draft"]["es"]
    assert "data protection officer" in case["notices"][0]["draft"]["en"]
    clock.advance(days=10)
    auditor = bearer(client, "auditor.segura")  # the token expired meanwhile
    listed = client.get("/api/v1/breaches?status=open", headers=auditor).json()
    assert listed[0]["id"] == case["id"] and listed[0]["overdue"] is True
    marked = client.post(f"/api/v1/breaches/{case['id']}/notices/authority", headers=auditor,
                         json={"reference": "SPDP-2026-0042"})
    assert marked.status_code == 200
    authority = marked.json()["notices"][0]
    assert authority["sent_by"] == "auditor.segura" and authority["overdue"] is False
    row = [r for r in audit_rows(platform) if r.action == "breach.notice"][-1]
    assert row.detail["late"] is True and row.detail["reference"] == "SPDP-2026-0042"
    assert client.post(f"/api/v1/breaches/{case['id']}/notices/press", headers=auditor,
                       json={"reference": "x"}).status_code == 422
    closed = client.post(f"/api/v1/breaches/{case['id']}/close", headers=auditor,
                         json={"note": "Publicación retirada; titulares notificados"})
    assert closed.json()["status"] == "closed" and closed.json()["overdue"] is False
    assert client.post(f"/api/v1/breaches/{case['id']}/close", headers=auditor,
                       json={"note": "again"}).status_code == 409


@pytest.mark.parametrize("username", ["admin.segura", "operator.segura", "supervisor.segura"])
def test_only_auditors_reach_the_register(client: TestClient, username: str) -> None:
    headers = bearer(client, username)
    assert client.get("/api/v1/breaches", headers=headers).status_code == 403
    assert client.post("/api/v1/breaches", headers=headers,
                       json={"description": "x"}).status_code == 403
