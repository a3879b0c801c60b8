"""Data-protection impact assessments: a centre's cameras are analysed and recorded only while an
approved assessment is in force; drafted by administrators, approved by auditors (not the
author)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.demo.city import CENTRES
from sereno.domain import commands, events
from sereno.domain.agencies import MonitoringCentre
from sereno.domain.errors import AccessDenied, Conflict, InvalidInput
from sereno.domain.impact import ImpactAssessment
from sereno.services.video import camera_specs
from tests.api.security_cases import ASSESSMENT, _as
from tests.conftest import bearer


def _specs(platform: Platform, now: datetime | None = None) -> dict[str, tuple[bool, bool]]:
    """camera -> (analysed, recorded)"""
    found = camera_specs(platform.uow(), analytics_fps=2, detect_fps=1, transport="tcp",
                         recordings_root="/tmp/recordings", now=now)  # noqa: S108
    return {s.camera_id: (s.analytics, s.record_url is not None) for s in found}


def test_the_demo_centres_have_assessments_in_force(platform: Platform) -> None:
    with platform.uow() as uow:
        in_force = {a.centre_id for a in uow.impact_assessments.approved()
                    if a.in_force(platform.clock())}
    assert in_force == {c.id for c in CENTRES}
    specs = _specs(platform)
    assert specs["SEG-001"] == (True, True) and specs["PN-001"] == (True, True)


def test_an_expired_assessment_holds_the_cameras_back(platform: Platform) -> None:
    later = platform.clock() + timedelta(days=400)
    assert set(_specs(platform, later).values()) == {(False, False)}


def test_a_new_centre_runs_its_cameras_only_once_its_assessment_is_approved(
        platform: Platform) -> None:
    with platform.uow() as uow:
        uow.centres.add(MonitoringCentre("segura-sur", "segura-ep", "Centro Sur", -2.25, -79.9))
        uow.commit()
    admin, auditor = _as(platform, "admin.segura"), _as(platform, "auditor.segura")
    platform.bus.handle(commands.RegisterCamera(admin, {
        "id": "SEG-500", "name": "Guasmo", "centre_id": "segura-sur", "latitude": -2.26,
        "longitude": -79.89, "main_stream_url": "rtsp://10.9.9.9/s1"}))
    platform.bus.handle(commands.UpdateCamera(admin, "SEG-500", {"status": "online"}))
    assert _specs(platform)["SEG-500"] == (False, False)
    changed: list[events.Event] = []
    platform.bus.subscribe(events.ImpactAssessmentChanged, changed.append)
    draft = platform.bus.handle(commands.RecordImpactAssessment(admin, "segura-sur",
                                                                dict(ASSESSMENT)))
    assert _specs(platform)["SEG-500"] == (False, False)  # a draft is not enough
    platform.bus.handle(commands.ApproveImpactAssessment(auditor, draft.id, "revisada"))
    assert _specs(platform)["SEG-500"] == (True, True)
    assert [e.status for e in changed] == ["draft", "approved"]  # type: ignore[attr-defined]


def test_four_eyes_and_completeness() -> None:
    now = datetime.now(UTC)
    with pytest.raises(InvalidInput) as incomplete:
        ImpactAssessment.draft(assessment_id="a", agency_id="x", centre_id="c",
                               fields={"title": "t"}, by_id="u1", by="admin", at=now)
    assert {d["field"] for d in incomplete.value.details} == {
        "processing", "necessity", "risks", "measures", "legal_basis"}
    draft = ImpactAssessment.draft(assessment_id="a", agency_id="x", centre_id="c",
                                   fields=dict(ASSESSMENT), by_id="u1", by="admin", at=now)
    with pytest.raises(AccessDenied):
        draft.approve(by_id="u1", by="admin", at=now)
    with pytest.raises(Conflict):
        draft.approve(by_id="u2", by="auditor", at=now + timedelta(days=366))
    draft.approve(by_id="u2", by="auditor", at=now)
    assert draft.in_force(now) and not draft.in_force(now + timedelta(days=366))


def test_the_api_for_admins_and_auditors(client: TestClient) -> None:
    admin, auditor = bearer(client, "admin.segura"), bearer(client, "auditor.segura")
    made = client.post("/api/v1/impact-assessments", headers=admin,
                       json={**ASSESSMENT, "centre_id": "segura-norte"})
    assert made.status_code == 201 and made.json()["status"] == "draft"
    assert made.json()["in_force"] is False
    assert client.post(f"/api/v1/impact-assessments/{made.json()['id']}/approve",
                       headers=admin).status_code == 403  # admins do not approve
    approved = client.post(f"/api/v1/impact-assessments/{made.json()['id']}/approve",
                           headers=auditor, json={"note": "conforme"})
    assert approved.status_code == 200 and approved.json()["in_force"] is True
    assert client.post("/api/v1/impact-assessments", headers=auditor,
                       json={**ASSESSMENT, "centre_id": "segura-norte"}).status_code == 403
    missing = client.post("/api/v1/impact-assessments", headers=admin,
                          json={**ASSESSMENT, "centre_id": "nowhere"})
    assert missing.status_code == 404
    listed = client.get("/api/v1/impact-assessments", headers=auditor).json()
    assert {a["centre_id"] for a in listed} >= {"segura-centro", "segura-norte"}
    assert client.get("/api/v1/impact-assessments",
                      headers=bearer(client, "operator.segura")).status_code == 403
