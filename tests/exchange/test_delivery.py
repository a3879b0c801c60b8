"""``deliver_copy``: a partner's alert becomes (or updates) a received copy in the recipient's
queue, with its media stored under the copy, audited; the same function takes a peer's message."""

from __future__ import annotations

import base64

import pytest

from sereno.bootstrap import Platform
from sereno.domain.agreements import ShareTerms
from sereno.domain.errors import InvalidInput, NotFound
from sereno.services import sharing
from tests.conftest import audit_rows
from tests.support.evidence import jpeg

TERMS = ShareTerms("agreement-1", True, True, True)


def _wire(platform: Platform, **changes: object) -> dict[str, object]:
    now = platform.clock()
    wire: dict[str, object] = {
        "id": "origin-alert-1", "agency_id": "segura-ep", "source": "detection",
        "category": "Security", "severity": "Moderate", "urgency": "Immediate",
        "certainty": "Likely", "event": "Intrusión en zona", "headline": "Intrusión: Malecón",
        "description": "", "status": "open", "latitude": -2.19, "longitude": -79.88,
        "area": None, "count": 1, "version": 1, "raised_at": now.isoformat(),
        "last_seen_at": now.isoformat(), "cameras": ["SEG-001"]}
    wire.update(changes)
    return wire


def test_a_copy_is_created_then_updated_and_cancelled(platform: Platform) -> None:
    picture = jpeg()
    with platform.uow() as uow:
        copy = sharing.deliver_copy(uow, to_agency_id="policia-nacional", wire=_wire(platform),
                                    media={"snapshot": picture}, terms=TERMS,
                                    origin_node="node-a", clock=platform.clock,
                                    store=platform.media)
        uow.commit()
        copy_id = copy.id
    with platform.uow() as uow:
        stored = uow.alerts.get(copy_id)
        assert stored is not None and stored.agency_id == "policia-nacional"
        assert stored.origin_alert_id == "origin-alert-1" and stored.source.value == "partner"
        assert stored.redacted and not stored.media_withheld
        assert stored.snapshot_key == f"alerts/{copy_id}/snapshot.jpg"
        assert platform.media.get(stored.snapshot_key) == picture
    platform.clock.advance(seconds=5)  # type: ignore[attr-defined]
    with platform.uow() as uow:
        again = sharing.deliver_copy(uow, to_agency_id="policia-nacional",
                                     wire=_wire(platform, count=3, severity="Severe"), media={},
                                     terms=TERMS, origin_node="node-a", clock=platform.clock,
                                     store=platform.media)
        assert again.id == copy_id and again.count == 3 and again.severity.value == "Severe"
        sharing.deliver_copy(uow, to_agency_id="policia-nacional",
                             wire=_wire(platform, status="cancelled"), media={}, terms=TERMS,
                             origin_node="node-a", clock=platform.clock, store=platform.media)
        uow.commit()
    with platform.uow() as uow:
        final = uow.alerts.get(copy_id)
        assert final is not None and final.status.value == "cancelled"
        kinds = [a.kind.value for a in uow.alerts.actions(copy_id)]
    assert kinds == ["raised", "updated", "cancelled"]
    received = [r for r in audit_rows(platform) if r.action == "alert.receive"]
    assert [r.detail["kind"] for r in received] == ["raised", "updated", "updated"]


def test_a_peer_message_is_delivered_and_bad_ones_refused(platform: Platform) -> None:
    picture = jpeg()
    payload = {"to_agency_id": "policia-nacional", "alert": _wire(platform),
               "terms": {"agreement_id": "a-1", "include_media": True, "redact_faces": True,
                         "redact_plates": False},
               "media": {"snapshot_jpeg_b64": base64.b64encode(picture).decode()}}
    with platform.uow() as uow:
        copy = sharing.accept_shared_alert(uow, payload, origin_node="node-b",
                                           clock=platform.clock, store=platform.media)
        uow.commit()
        assert copy.origin_node == "node-b" and copy.redacted
    assert platform.media.get(f"alerts/{copy.id}/snapshot.jpg") == picture
    with platform.uow() as uow:
        with pytest.raises(NotFound):
            sharing.accept_shared_alert(uow, {**payload, "to_agency_id": "nobody"},
                                        origin_node="node-b", clock=platform.clock,
                                        store=platform.media)
        with pytest.raises(InvalidInput):
            sharing.accept_shared_alert(uow, {**payload, "media": {"snapshot_jpeg_b64": "%%"}},
                                        origin_node="node-b", clock=platform.clock,
                                        store=platform.media)
        with pytest.raises(InvalidInput):
            sharing.accept_shared_alert(uow, {**payload, "alert": _wire(
                platform, agency_id="policia-nacional")}, origin_node="node-b",
                clock=platform.clock, store=platform.media)
        with pytest.raises(InvalidInput):
            sharing.accept_shared_alert(uow, {"alert": {}}, origin_node="node-b",
                                        clock=platform.clock, store=platform.media)

