"""Incidents between agencies on both engines: creation and status changes reach the partner
an agreement (or an active joint operation) names, as a partner incident mirroring the
original; a peer's agency gets outbox messages; copies are never shared on; stale or duplicate
messages change nothing; a peer's message is received through the federation receiver."""

from __future__ import annotations

from typing import Any

import pytest

from sereno.bootstrap import Platform
from sereno.domain.access import Principal
from sereno.domain.errors import InvalidInput
from sereno.domain.incidents import Incident, IncidentSource
from sereno.services import incident_exchange, incidents
from sereno.services.accounts import principal_for
from tests.api.operation_cases import segura_operation
from tests.conftest import audit_rows

SEGURA, POLICE = "segura-ep", "policia-nacional"
MALECON: dict[str, Any] = {"latitude": -2.1950, "longitude": -79.8800}


def _user(platform: Platform, username: str) -> Principal:
    with platform.uow() as uow:
        user = uow.users.by_username(username)
        assert user is not None
        return principal_for(user, channel="api", address=None)


def _open(platform: Platform, username: str, type_code: str, **place: Any) -> Incident:
    return incidents.create(platform.uow(), _user(platform, username), incidents.NewIncident(
        type_code=type_code, title="Riña en el malecón", **place), clock=platform.clock,
        publish=platform.bus.publish)


def _copy(platform: Platform, agency: str, origin: Incident) -> Incident | None:
    with platform.uow() as uow:
        return uow.incidents.partner_copy(agency, origin.agency_id, origin.id)


def _move(platform: Platform, username: str, incident: Incident, to: str) -> Incident:
    with platform.uow() as uow:
        current = uow.incidents.get(incident.id)
        assert current is not None
        version = current.version
    return incidents.transition(platform.uow(), _user(platform, username), incident.id, to,
                                version=version, clock=platform.clock,
                                publish=platform.bus.publish)


def test_an_incident_and_its_changes_reach_the_partner(platform: Platform) -> None:
    # Segura EP → Police shares Security: a fight goes, with every status change
    original = _open(platform, "operator.segura", "rina", **MALECON)
    copy = _copy(platform, POLICE, original)
    assert copy is not None
    assert copy.source is IncidentSource.PARTNER
    assert copy.number != original.number and copy.status.value == "new"
    assert (copy.origin_agency_id, copy.title) == (SEGURA, original.title)
    _move(platform, "operator.segura", original, "acknowledged")
    _move(platform, "dispatcher.segura", original, "dispatched")
    copy = _copy(platform, POLICE, original)
    assert copy is not None and copy.status.value == "dispatched"
    assert copy.acknowledged_at is not None and copy.dispatched_at is not None
    shares = [r for r in audit_rows(platform) if r.action == "incident.share"]
    assert [r.detail["status"] for r in shares] == ["new", "acknowledged", "dispatched"]
    assert all(r.detail["delivery"] == "local" for r in shares)
    # the copy is the police's: their board, never shared back to Segura EP
    with platform.uow() as uow:
        assert uow.incidents.partner_copy(SEGURA, POLICE, copy.id) is None
    receipts = [r for r in audit_rows(platform) if r.action == "incident.receive"]
    assert [r.detail["kind"] for r in receipts] == ["created", "changed", "changed"]


def test_no_agreement_no_operation_nothing_travels(platform: Platform) -> None:
    # Police → Segura shares Security only: a traffic accident stays with the police
    accident = _open(platform, "operator.policia", "accidente_transito", **MALECON)
    assert _copy(platform, SEGURA, accident) is None
    assert [r for r in audit_rows(platform) if r.action == "incident.share"] == []


def test_an_active_operation_carries_incidents_inside_it(platform: Platform) -> None:
    segura_operation(platform, with_police=True)
    accident = _open(platform, "operator.policia", "accidente_transito", **MALECON)
    copy = _copy(platform, SEGURA, accident)
    assert copy is not None
    [share] = [r for r in audit_rows(platform) if r.action == "incident.share"]
    assert share.detail["basis"].startswith("operation:")


def test_a_peer_agency_gets_outbox_messages(platform: Platform) -> None:
    with platform.uow() as uow:
        uow.peers.add({"node_id": "node-policia", "agency_id": "policia-remota",
                       "public_key": "0" * 64, "base_url": "https://policia.example",
                       "registered_by": "admin.segura", "registered_at": platform.clock()})
        uow.commit()
    from sereno.services import agreements

    agreements.create_agreement(platform.uow(), _user(platform, "admin.segura"),
                                agreements.AgreementDraft(to_agency_id="policia-remota",
                                                          title="Incidentes",
                                                          categories=["Security"]),
                                platform.clock)
    original = _open(platform, "operator.segura", "robo", **MALECON)
    _move(platform, "operator.segura", original, "acknowledged")
    with platform.uow() as uow:
        first = uow.outbox.get(incident_exchange._message_id(original.id, "policia-remota",
                                                             "created"))
        second = uow.outbox.get(incident_exchange._message_id(original.id, "policia-remota",
                                                              "v2"))
    assert first is not None and second is not None
    assert first.kind == "incident.created" and second.kind == "incident.changed"
    assert first.destination == "node-policia"
    assert second.payload["incident"]["status"] == "acknowledged"


def test_stale_and_malformed_messages(platform: Platform) -> None:
    original = _open(platform, "operator.segura", "rina", **MALECON)
    _move(platform, "operator.segura", original, "acknowledged")
    with platform.uow() as uow:
        current = uow.incidents.get(original.id)
        assert current is not None
        newer = incident_exchange.to_wire(current)
    older = {**newer, "version": 1, "status": "new"}
    with platform.uow() as uow:
        copy = incident_exchange.accept_partner_incident(uow, POLICE, older,
                                                         origin_node="x", clock=platform.clock)
        uow.commit()
    assert copy.status.value == "acknowledged"  # the older message changed nothing
    for bad in ({**newer, "status": "volando"}, {**newer, "latitude": 95},
                {k: v for k, v in newer.items() if k != "id"}, {**newer, "agency_id": POLICE}):
        with platform.uow() as uow, pytest.raises(InvalidInput):
            incident_exchange.accept_partner_incident(uow, POLICE, bad, origin_node="x",
                                                      clock=platform.clock)


def test_a_peer_message_becomes_a_partner_incident(platform: Platform) -> None:
    from sereno.exchange.federation.envelope import Envelope
    from sereno.services.audit_log import Peer
    from sereno.services.federation import Inbound

    original = _open(platform, "operator.segura", "asalto", **MALECON)
    with platform.uow() as uow:
        current = uow.incidents.get(original.id)
        assert current is not None
        wire = {**incident_exchange.to_wire(current), "agency_id": "policia-remota",
                "id": "remote-1"}
    receiver = platform.federation.receivers["incident.created"]
    peer = Peer("node-policia", "policia-remota", "0" * 64, "https://policia.example")

    def inbound(source: str) -> Inbound:
        return Inbound(Envelope("e1", "incident.created", 1, 0, source, "node-policia",
                                "sereno", platform.clock().isoformat(),
                                {"to_agency_id": SEGURA, "incident": wire}), peer,
                       platform.clock())

    with platform.uow() as uow, pytest.raises(InvalidInput, match="sending agency"):
        receiver(uow, inbound("otra-agencia"))  # an incident of an agency it does not speak for
    with platform.uow() as uow:
        facts = receiver(uow, inbound("policia-remota"))
        uow.commit()
    with platform.uow() as uow:
        copy = uow.incidents.partner_copy(SEGURA, "policia-remota", "remote-1")
    assert copy is not None and facts is not None and copy.id == facts["copy_id"]
    assert copy.origin_node == "node-policia" and copy.status.value == "new"
