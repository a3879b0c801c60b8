"""Alerts from detections (correlated), by hand, and the operators' timestamped actions, through
the API on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.domain import commands, events
from tests.conftest import FakeClock, audit_rows, bearer

ALERTS = "/api/v1/alerts"


def _detect(platform: Platform, camera_id: str = "SEG-001", rule_kind: str = "line",
            at: float | None = None, **detail: object) -> str:
    event = platform.bus.handle(commands.RecordDetection(
        camera_id, None, rule_kind, ("person",), (1,), 0.9, (0.1, 0.1, 0.2, 0.3),
        at if at is not None else platform.clock().timestamp(),
        snapshot_jpeg=b"\xff\xd8picture\xff\xd9", detail=detail))
    return str(event.event_id)


def _queue(client: TestClient, username: str, **params: str) -> list[dict[str, object]]:
    response = client.get(ALERTS, headers=bearer(client, username), params=params)
    assert response.status_code == 200, response.text
    return list(response.json())


def test_repeated_detections_update_one_alert_with_a_count(client: TestClient,
                                                           platform: Platform) -> None:
    start = platform.clock().timestamp()
    _detect(platform, at=start)
    _detect(platform, at=start + 30)
    _detect(platform, at=start + 100)  # each within 2 minutes of the one before
    queue = _queue(client, "operator.segura")
    assert len(queue) == 1
    alert = queue[0]
    assert alert["count"] == 3 and alert["source"] == "detection"
    assert alert["category"] == "Security" and alert["severity"] == "Minor"
    assert alert["cameras"] == ["SEG-001"] and alert["has_snapshot"]
    assert alert["latitude"] is not None
    _detect(platform, at=start + 100 + 121)  # quiet for longer than the window: a new one
    _detect(platform, "SEG-002", at=start + 222)  # another camera: its own alert
    assert [a["count"] for a in _queue(client, "operator.segura")] == [1, 1, 3]
    detail = client.get(f"{ALERTS}/{alert['id']}", headers=bearer(client, "operator.segura"))
    kinds = [a["kind"] for a in detail.json()["timeline"]]
    assert kinds == ["raised", "repeated", "repeated"]


def test_a_watchlist_hit_goes_to_the_watching_agency_only(client: TestClient,
                                                          platform: Platform) -> None:
    _detect(platform, "SEG-001", rule_kind="plate", watching_agency="policia-nacional",
            plate="GBC1234", watched_plate="GBC1234")
    police = _queue(client, "operator.policia")
    assert [a["severity"] for a in police] == ["Severe"]
    assert police[0]["urgency"] == "Immediate" and police[0]["certainty"] == "Observed"
    assert _queue(client, "operator.segura") == []  # the camera's owner does not see it


def test_operator_actions_are_timestamped_and_audited(client: TestClient, platform: Platform,
                                                      clock: FakeClock) -> None:
    _detect(platform)
    operator = bearer(client, "operator.segura")
    alert_id = _queue(client, "operator.segura")[0]["id"]
    clock.advance(seconds=40)
    acked = client.post(f"{ALERTS}/{alert_id}/acknowledge", headers=operator)
    assert acked.status_code == 200, acked.text
    assert acked.json()["status"] == "acknowledged"
    assert acked.json()["acknowledged_by"] == "operator.segura"
    again = client.post(f"{ALERTS}/{alert_id}/acknowledge", headers=operator)
    assert again.status_code == 409
    clock.advance(seconds=20)
    escalated = client.post(f"{ALERTS}/{alert_id}/escalate", headers=operator).json()
    assert escalated["escalation_level"] == 1 and escalated["escalated_at"]
    other_agency = client.post(f"{ALERTS}/{alert_id}/assign", headers=operator,
                               json={"to": "dispatcher.policia"})
    assert other_agency.status_code == 422
    assigned = client.post(f"{ALERTS}/{alert_id}/assign", headers=operator,
                           json={"to": "supervisor.segura"}).json()
    assert assigned["assigned_to"] == "supervisor.segura"
    no_reason = client.post(f"{ALERTS}/{alert_id}/dismiss", headers=operator, json={})
    assert no_reason.status_code == 422
    dismissed = client.post(f"{ALERTS}/{alert_id}/dismiss", headers=operator,
                            json={"note": "un reflejo en el vidrio"}).json()
    assert dismissed["status"] == "dismissed"
    assert dismissed["dismiss_reason"] == "un reflejo en el vidrio"
    closed = client.post(f"{ALERTS}/{alert_id}/close", headers=operator)
    assert closed.status_code == 409  # already finished
    timeline = client.get(f"{ALERTS}/{alert_id}", headers=operator).json()["timeline"]
    assert [a["kind"] for a in timeline] == ["raised", "acknowledged", "escalated", "assigned",
                                             "dismissed"]
    raised_at = timeline[0]["at"]
    assert timeline[1]["at"] > raised_at  # time to acknowledge is measurable
    actions = [r.action for r in audit_rows(platform) if r.object_id == alert_id]
    assert {"alert.raise", "alert.acknowledge", "alert.escalate", "alert.assign",
            "alert.dismiss"} <= set(actions)
    refused = [r for r in audit_rows(platform)
               if r.object_id == alert_id and r.outcome.value != "allowed"]
    assert len(refused) >= 3  # the double acknowledge, the foreign assignee, the bare dismiss


def test_manual_alert_on_a_camera_takes_its_place(client: TestClient, platform: Platform) -> None:
    response = client.post(ALERTS, headers=bearer(client, "dispatcher.policia"), json={
        "category": "Security", "severity": "Extreme", "urgency": "Immediate",
        "certainty": "Observed", "event": "Asalto", "headline": "Asalto a mano armada",
        "camera_id": "SEG-001"})  # Segura's shared camera, visible to the police
    assert response.status_code == 201, response.text
    alert = response.json()
    assert alert["agency"] == "policia-nacional" and alert["source"] == "manual"
    assert alert["raised_by"] == "dispatcher.policia" and alert["latitude"] is not None
    bad = client.post(ALERTS, headers=bearer(client, "dispatcher.policia"), json={
        "severity": "Catastrophic", "event": "x", "headline": "x"})
    assert bad.status_code == 422
    admin = client.post(ALERTS, headers=bearer(client, "admin.policia"), json={
        "severity": "Minor", "event": "x", "headline": "x"})
    assert admin.status_code == 403


def test_alert_changes_reach_the_event_stream(platform: Platform) -> None:
    with platform.event_stream.subscribe() as queue:
        _detect(platform)
        # (Segura EP's own queue: the police's received copy has its own events, ADR 0025.)
        raised = [e for e in queue if isinstance(e, events.AlertRaised)
                  and e.agency_id == "segura-ep"]
        assert len(raised) == 1
        _detect(platform)
        changed = [e for e in queue if isinstance(e, events.AlertChanged)
                   and e.agency_id == "segura-ep"]
        assert [c.action for c in changed] == ["repeated"]


@pytest.mark.parametrize("which", ["snapshot.jpg", "clip.mp4"])
def test_alert_media_goes_through_the_policy_door(client: TestClient, platform: Platform,
                                                  which: str) -> None:
    from tests.api.alert_cases import segura_alert

    alert_id = segura_alert(platform, "SEG-001")
    own = client.get(f"{ALERTS}/{alert_id}/{which}", headers=bearer(client, "operator.segura"))
    assert own.status_code == 200 and len(own.content) > 1000
    decisions = [r for r in audit_rows(platform)
                 if r.action.startswith("footage.") and r.object_type == "detection"]
    assert decisions and decisions[-1].detail.get("policy_version") is not None
