"""The sharing enforcement point (ADR 0025) on both engines: what the agreements and the policy
door let through reaches the partner's queue (redacted, watermarked), every refusal is audited,
received copies are never shared on, updates and cancels follow, actions go back to the origin,
peers get outbox messages, and camera footage follows the agreements."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import cv2
import numpy as np
import pytest

from sereno.bootstrap import Platform
from sereno.domain import commands, events
from sereno.domain.access import Principal
from sereno.domain.agencies import Agency, AgencyKind
from sereno.domain.alerts import Alert
from sereno.domain.errors import AccessDenied
from sereno.domain.governance import PolicyVersion
from sereno.governance.policy.engine import packaged_policies
from sereno.services import access_control, agreements, sharing
from sereno.services.accounts import principal_for
from sereno.video import marking
from tests.conftest import FakeClock, audit_rows
from tests.support.evidence import jpeg

SEGURA, POLICE = "segura-ep", "policia-nacional"


def _user(platform: Platform, username: str) -> Principal:
    with platform.uow() as uow:
        user = uow.users.by_username(username)
        assert user is not None
        return principal_for(user, channel="api", address=None)


def _detect(platform: Platform, camera_id: str = "SEG-001", rule_kind: str = "zone",
            box: tuple[float, float, float, float] = (0.1, 0.1, 0.2, 0.3),
            picture: bytes | None = None, **detail: object) -> str:
    event = platform.bus.handle(commands.RecordDetection(
        camera_id, None, rule_kind, ("person",), (1,), 0.9, box, platform.clock().timestamp(),
        snapshot_jpeg=picture if picture is not None else jpeg(), detail=detail))
    return str(event.event_id)


def _raise(platform: Platform, username: str, category: str = "Security",
           severity: str = "Severe", **place: Any) -> Alert:
    alert: Alert = platform.bus.handle(commands.RaiseAlert(
        _user(platform, username), category, severity, "Immediate", "Observed", "Robo",
        "Robo en curso", **place))
    return alert


def _queue(platform: Platform, agency_id: str) -> list[Alert]:
    with platform.uow() as uow:
        return list(uow.alerts.queue(agency_id))


def _shares(platform: Platform, alert_id: str) -> list[Any]:
    return [r for r in audit_rows(platform)
            if r.action == "alert.share" and r.object_id == alert_id]


def _agreement(platform: Platform, admin: str, to: str, **terms: Any) -> str:
    draft = agreements.AgreementDraft(to_agency_id=to, title=terms.pop("title", "Prueba"),
                                      categories=terms.pop("categories", ["Security"]),
                                      **terms)
    return agreements.create_agreement(platform.uow(), _user(platform, admin), draft,
                                       platform.clock).id


def _revoke_demo(platform: Platform, admin: str = "admin.segura") -> None:
    for found in agreements.list_agreements(platform.uow(), _user(platform, admin)):
        if found.from_agency_id == _user(platform, admin).agency_id \
                and found.status.value == "active":
            agreements.revoke_agreement(platform.uow(), _user(platform, admin), found.id,
                                        "fin de la prueba", platform.clock)


def _sharpness(image: np.ndarray, box: tuple[int, int, int, int]) -> float:  # type: ignore[type-arg]
    x1, y1, x2, y2 = box
    grey = cv2.cvtColor(image[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def test_a_segura_alert_reaches_the_police_redacted_and_watermarked(
        platform: Platform) -> None:
    _detect(platform)
    [origin] = _queue(platform, SEGURA)
    [copy] = _queue(platform, POLICE)
    assert copy.origin_alert_id == origin.id and copy.origin_agency_id == SEGURA
    assert copy.source.value == "partner" and copy.redacted and copy.headline == origin.headline
    assert copy.snapshot_key == f"alerts/{copy.id}/snapshot.jpg"
    shared = platform.media.get(copy.snapshot_key)
    assert shared is not None and shared != jpeg()
    [share] = [r for r in _shares(platform, origin.id) if r.outcome == "allowed"]
    assert share.detail["to_agency"] == POLICE and share.detail["delivery"] == "local"
    assert share.detail["policies"] == ["share-under-agreement"]
    assert "redaction" in share.detail and share.detail["copy_id"] == copy.id
    with platform.uow() as uow:
        issue = uow.watermarks.get(share.detail["watermark_payload"])
    assert issue is not None and issue.kind.value == "alert_share"
    assert issue.agency_id == POLICE and issue.owner_agency_id == SEGURA


def test_refusals_name_their_reason_and_nothing_flows(platform: Platform) -> None:
    health = _raise(platform, "operator.segura", category="Health")  # not in the agreement
    minor = _raise(platform, "operator.policia", severity="Minor")  # under Moderate
    assert [a.id for a in _queue(platform, POLICE)] == [minor.id]
    assert [a.id for a in _queue(platform, SEGURA)] == [health.id]
    [refused] = _shares(platform, health.id)
    assert refused.outcome == "denied" and refused.detail["policies"] == ["share-category"]
    [refused] = _shares(platform, minor.id)
    assert refused.detail["policies"] == ["share-severity"]
    assert "minimum severity" in refused.reason

    # No agreement at all with a third agency: nothing flows, and that is recorded.
    with platform.uow() as uow:
        uow.agencies.add(Agency("bomberos", "Cuerpo de Bomberos", AgencyKind.OTHER))
        uow.commit()
    alert = _raise(platform, "operator.segura")
    outcomes = {r.detail["to_agency"]: (r.outcome, r.detail["policies"])
                for r in _shares(platform, alert.id)}
    assert outcomes == {"bomberos": ("denied", ["share-needs-agreement"]),
                        POLICE: ("allowed", ["share-under-agreement"])}
    assert _queue(platform, "bomberos") == []


def test_area_expiry_and_revocation_stop_the_flow(platform: Platform,
                                                  clock: FakeClock) -> None:
    _revoke_demo(platform)
    revoked = _raise(platform, "operator.segura")
    assert [r.detail["policies"] for r in _shares(platform, revoked.id)] == [
        ["share-agreement-revoked"]]
    far_away = {"type": "Polygon", "coordinates": [[[-78.6, -0.3], [-78.4, -0.3],
                                                    [-78.4, -0.1], [-78.6, -0.1],
                                                    [-78.6, -0.3]]]}  # Quito
    _agreement(platform, "admin.segura", POLICE, area=far_away)
    outside = _raise(platform, "operator.segura", latitude=-2.19, longitude=-79.88)
    assert [r.detail["policies"] for r in _shares(platform, outside.id)] == [["share-area"]]
    inside = _raise(platform, "operator.segura", latitude=-0.2, longitude=-78.5)
    assert [r.outcome for r in _shares(platform, inside.id)] == ["allowed"]
    _revoke_demo(platform)
    _agreement(platform, "admin.segura", POLICE, valid_until=clock() + timedelta(minutes=5))
    clock.advance(minutes=10)
    expired = _raise(platform, "operator.segura")
    assert [r.detail["policies"] for r in _shares(platform, expired.id)] == [
        ["share-agreement-not-in-force"]]
    assert [a.origin_alert_id for a in _queue(platform, POLICE)] == [inside.id]


def test_received_copies_are_never_shared_on(platform: Platform) -> None:
    origin = _raise(platform, "operator.segura")  # Security Severe: police→Segura covers it too
    [copy] = _queue(platform, POLICE)
    assert copy.category.value == "Security" and copy.severity.value == "Severe"
    assert [a.id for a in _queue(platform, SEGURA)] == [origin.id]  # nothing came back
    assert _shares(platform, copy.id) == []


def test_updates_and_cancels_follow_and_actions_go_back(platform: Platform,
                                                        clock: FakeClock) -> None:
    _detect(platform)
    clock.advance(seconds=20)
    _detect(platform)  # correlated: the origin counts 2, and so does the copy
    [origin] = _queue(platform, SEGURA)
    [copy] = _queue(platform, POLICE)
    assert origin.count == copy.count == 2
    platform.bus.handle(commands.HandleAlert(_user(platform, "operator.policia"), copy.id,
                                             "acknowledge"))
    with platform.uow() as uow:
        timeline = list(uow.alerts.actions(origin.id))
    back = [a for a in timeline if a.kind.value == "partner_acknowledged"]
    assert [(a.by, a.detail["partner_action"]) for a in back] == [
        (f"partner:{POLICE}", "acknowledged")]
    with platform.uow() as uow:  # the source withdraws it (as a CAP Cancel would)
        alert = uow.alerts.get(origin.id)
        assert alert is not None
        alert.cancel(clock())
        uow.emit(events.AlertChanged(alert.id, SEGURA, "cancelled", alert.status.value,
                                     alert.version, clock()))
        uow.commit()
        pending = list(uow.collect_new_events())
    for event in pending:
        platform.bus.publish(event)
    [copy] = _queue(platform, POLICE)
    assert copy.status.value == "cancelled"


def test_a_remote_partner_gets_outbox_messages_and_acts_back(platform: Platform) -> None:
    with platform.uow() as uow:
        uow.peers.add({"node_id": "node-bomberos", "agency_id": "bomberos-gye",
                       "public_key": "0" * 64, "base_url": "https://bomberos.example",
                       "registered_by": "admin.segura", "registered_at": platform.clock()})
        uow.commit()
    _agreement(platform, "admin.segura", "bomberos-gye", include_media=True,
               redact_faces=False, redact_plates=False)
    _detect(platform)
    _detect(platform)
    [origin] = _queue(platform, SEGURA)
    with platform.uow() as uow:
        sent = uow.outbox.pending("peer", "node-bomberos")
    assert [m.kind for m in sent] == ["alert.raised", "alert.updated"]
    first = sent[0]
    assert first.source_agency_id == SEGURA
    assert first.payload["to_agency_id"] == "bomberos-gye"
    assert first.payload["alert"]["id"] == origin.id
    assert set(first.payload["terms"]) == {"agreement_id", "include_media", "redact_faces",
                                           "redact_plates"}
    assert first.payload["media"]["snapshot_jpeg_b64"] and not first.payload["media"]["redacted"]
    # The peer's operator acknowledged its copy: the origin hears of it.
    with platform.uow() as uow:
        sharing.accept_partner_action(uow, {
            "origin_alert_id": origin.id, "by_agency": "bomberos-gye",
            "action": "acknowledged", "at": platform.clock().isoformat()},
            clock=platform.clock, peer_agency_id="bomberos-gye")
        uow.commit()
        kinds = [a.kind.value for a in uow.alerts.actions(origin.id)]
    assert "partner_acknowledged" in kinds
    # A copy of the peer's alert on this node: acting on it queues the way back.
    payload = {"to_agency_id": POLICE, "alert": {**first.payload["alert"], "id": "remote-1",
                                                 "agency_id": "bomberos-gye"},
               "terms": first.payload["terms"], "media": {}}
    with platform.uow() as uow:
        received = sharing.accept_shared_alert(uow, payload, origin_node="node-bomberos",
                                               clock=platform.clock, store=platform.media)
        uow.commit()
        pending = list(uow.collect_new_events())
    for event in pending:
        platform.bus.publish(event)
    platform.bus.handle(commands.HandleAlert(_user(platform, "operator.policia"), received.id,
                                             "acknowledge"))
    with platform.uow() as uow:
        back = [m for m in uow.outbox.pending("peer", "node-bomberos")
                if m.kind == "alert.acknowledged"]
    assert [m.payload["origin_alert_id"] for m in back] == ["remote-1"]
    assert back[0].payload["by_agency"] == POLICE and back[0].source_agency_id == POLICE


def test_plate_hits_stay_with_the_watching_agency_or_leave_blurred(
        platform: Platform) -> None:
    box = (0.3, 0.35, 0.7, 0.9)
    _detect(platform, rule_kind="plate", box=box, watching_agency=SEGURA, plate="GBC1234",
            watched_plate="GBC1234")
    [hit] = _queue(platform, SEGURA)
    assert _queue(platform, POLICE) == []
    assert [r.detail["policies"] for r in _shares(platform, hit.id)] == [
        ["share-watchlist-hits"]]
    _agreement(platform, "admin.segura", POLICE, include_media=True, share_watchlists=True,
               redact_faces=False, redact_plates=True)
    _detect(platform, "SEG-002", rule_kind="plate", box=box, watching_agency=SEGURA,
            plate="GBC1234", watched_plate="GBC1234")
    assert _queue(platform, POLICE) == []  # not even under an agreement sharing watchlists
    # A node may publish policies that let hits flow where watchlists are shared: then the
    # vehicle (and the plate written above it) is blurred before the picture leaves.
    looser = packaged_policies().replace(
        "when { resource.watchlist_hit };",
        "when { resource.watchlist_hit && !resource.shares_watchlists };")
    assert looser != packaged_policies()
    with platform.uow() as uow:
        uow.policies.publish(PolicyVersion(
            version=uow.policies.next_version(), text=looser,
            sha256=PolicyVersion.digest(looser), published_by="admin.segura",
            published_at=platform.clock(), note="prueba"))
        uow.commit()
    _detect(platform, "SEG-003", rule_kind="plate", box=box, watching_agency=SEGURA,
            plate="GBC1234", watched_plate="GBC1234")
    [copy] = _queue(platform, POLICE)
    assert copy.redacted
    shared = marking.decode_jpeg(platform.media.get(copy.snapshot_key or "") or b"")
    original = marking.decode_jpeg(jpeg())
    height, width = original.shape[:2]
    inside = (int(0.35 * width), int(0.45 * height), int(0.65 * width), int(0.85 * height))
    assert _sharpness(shared, inside) < _sharpness(original, inside) / 5


def test_footage_sharing_follows_the_agreements(platform: Platform) -> None:
    with platform.uow() as uow:
        camera = uow.cameras.get("SEG-001")
        assert camera is not None and camera.classification.value == "shared"
        assert access_control.camera_resource(uow, camera).shared_with == {POLICE}
    _revoke_demo(platform)
    with platform.uow() as uow:
        assert access_control.camera_resource(uow, camera).shared_with == frozenset()
    _agreement(platform, "admin.segura", POLICE, share_footage=False)
    with platform.uow() as uow:
        assert access_control.camera_resource(uow, camera).shared_with == frozenset()
    _agreement(platform, "admin.segura", POLICE, share_footage=True)
    with platform.uow() as uow:
        assert access_control.camera_resource(uow, camera).shared_with == {POLICE}


def test_the_policy_door_decides(platform: Platform) -> None:
    stricter = packaged_policies() + '''
@id("no-fire-sharing-this-week")
@reason("el comité suspendió el intercambio de alertas de incendio")
forbid (principal, action == Action::"alert.share", resource)
when { resource.category == "Fire" };
'''
    with platform.uow() as uow:
        uow.policies.publish(PolicyVersion(
            version=uow.policies.next_version(), text=stricter,
            sha256=PolicyVersion.digest(stricter), published_by="admin.segura",
            published_at=platform.clock(), note="prueba"))
        uow.commit()
    fire = _raise(platform, "operator.segura", category="Fire")
    [refused] = _shares(platform, fire.id)
    assert refused.outcome == "denied"
    assert refused.detail["policies"] == ["no-fire-sharing-this-week"]
    assert refused.detail["policy_version"] == 2
    assert _queue(platform, POLICE) == []


def test_only_the_giver_revokes(platform: Platform) -> None:
    police_admin = _user(platform, "admin.policia")
    segura_to_police = next(a for a in agreements.list_agreements(platform.uow(), police_admin)
                            if a.from_agency_id == SEGURA)
    with pytest.raises(AccessDenied):
        agreements.revoke_agreement(platform.uow(), police_admin, segura_to_police.id,
                                    "no lo queremos", platform.clock)
    with pytest.raises(AccessDenied):  # nor gives on another agency's behalf
        agreements.create_agreement(platform.uow(), police_admin, agreements.AgreementDraft(
            to_agency_id=POLICE, title="Falsa", categories=["Security"],
            from_agency_id=SEGURA), platform.clock)
    denied = [r for r in audit_rows(platform) if r.action.startswith("agreement.")
              and r.outcome == "denied"]
    assert [r.action for r in denied] == ["agreement.revoke", "agreement.create"]


def test_alerts_on_a_private_camera_stay_with_the_owner(platform: Platform) -> None:
    _detect(platform, "SEG-006")  # Segura EP's private camera
    [alert] = _queue(platform, SEGURA)
    assert _queue(platform, POLICE) == []
    [refused] = _shares(platform, alert.id)
    assert refused.detail["policies"] == ["private-camera-alerts-stay"]
