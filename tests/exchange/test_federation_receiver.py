"""The federation door (``POST /api/v1/federation/envelopes``): what a peer node's envelopes
must be to be applied, and that every refusal is clear and on record (ADR 0026).

The node under test is the ministry's (hosting ``policia-nacional``); the peer is a municipal
node hosting ``segura-ep``, whose key the test holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from sereno.adapters.db.tables import alerts, exchange_inbox
from sereno.bootstrap import Platform, bootstrap
from sereno.entrypoints.api.app import create_app
from sereno.governance.node_key import NodeKey
from sereno.services import federation
from tests.conftest import FakeClock, audit_rows
from tests.conftest import test_settings as node_settings
from tests.support.federation import (
    PEER_NODE,
    body,
    envelope,
    peer_key,
    post,
    register,
    shared_alert,
)

NODE = "ministerio"
MAX_BODY = 256 * 1024


@pytest.fixture
def ministry(database_url: str, tmp_path: Path, media_root: Path,
             clock: FakeClock) -> Iterator[Platform]:
    built = bootstrap(node_settings(tmp_path, database_url, media_root, node_name=NODE,
                                    node_agency_id="policia-nacional",
                                    workers={"federation_max_body_bytes": MAX_BODY}),
                      clock=clock)
    yield built
    built.close()


@pytest.fixture
def door(ministry: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(ministry), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def key(ministry: Platform, tmp_path: Path) -> NodeKey:
    made = peer_key(tmp_path)
    register(ministry, made)
    return made


def _copies(platform: Platform) -> list[Any]:
    with platform.engine.connect() as connection:
        return list(connection.execute(
            select(alerts.c.id, alerts.c.origin_alert_id, alerts.c.origin_node)
            .where(alerts.c.agency_id == "policia-nacional",
                   alerts.c.origin_alert_id.is_not(None))))


def _inbox(platform: Platform) -> list[tuple[str, int]]:
    with platform.engine.connect() as connection:
        return [(r.envelope_id, r.seq) for r in connection.execute(
            select(exchange_inbox).order_by(exchange_inbox.c.seq))]


def _refusals(platform: Platform) -> list[Any]:
    return [r for r in audit_rows(platform)
            if r.action == "federation.receive" and r.outcome != "allowed"]


def _forged_alerts(platform: Platform) -> list[Any]:
    with platform.uow() as uow:
        return [a for a in uow.security_alerts.for_agency("policia-nacional")
                if a.kind.value == "federation_forged"]


def _refused(response: Any, status: int, code: str, platform: Platform) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code and error["message"]
    refusal = _refusals(platform)[-1]
    assert refusal.reason.startswith(code)
    assert _copies(platform) == [] and _inbox(platform) == []  # nothing applied
    return error


def test_a_batch_is_applied_in_order_once(ministry: Platform, door: TestClient,
                                          key: NodeKey, clock: FakeClock) -> None:
    first, second = (envelope(key, n, to=NODE, at=clock()) for n in (1, 2))
    response = post(door, body(first, second))
    assert response.status_code == 200, response.text
    assert [r["status"] for r in response.json()["results"]] == ["applied", "applied"]
    copies = _copies(ministry)
    assert sorted(c.origin_alert_id for c in copies) == sorted(
        e.payload["alert"]["id"] for e in (first, second))
    assert all(c.origin_node == PEER_NODE for c in copies)
    assert _inbox(ministry) == [(first.id, 1), (second.id, 2)]
    accepted = [r for r in audit_rows(ministry) if r.action == "federation.receive"]
    assert [r.object_id for r in accepted] == [first.id, second.id]
    assert all(r.outcome == "allowed" and r.actor_username == f"system:peer:{PEER_NODE}"
               and r.object_agency_id == "policia-nacional" for r in accepted)

    # Replayed (the exact bytes again, e.g. the answer was lost): acknowledged, not re-applied.
    clock.advance(seconds=30)
    again = post(door, body(first, second))
    assert again.status_code == 200
    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "duplicate"]
    assert len(_copies(ministry)) == 2 and len(_inbox(ministry)) == 2
    # A batch that starts with what was already taken goes on with the next one.
    third = envelope(key, 3, to=NODE, at=clock())
    mixed = post(door, body(second, third))
    assert [r["status"] for r in mixed.json()["results"]] == ["duplicate", "applied"]
    assert [seq for _, seq in _inbox(ministry)] == [1, 2, 3]


def test_unknown_unsigned_and_forged_envelopes_are_refused(
        ministry: Platform, door: TestClient, key: NodeKey, clock: FakeClock,
        tmp_path: Path) -> None:
    stranger = peer_key(tmp_path, "desconocido")
    error = _refused(post(door, body(envelope(stranger, 1, to=NODE, at=clock())),
                          node="desconocido"), 401, "unknown_peer", ministry)
    assert "not a registered peer" in error["message"]

    unsigned = envelope(key, 1, to=NODE, at=clock(), sign=False)
    _refused(post(door, body(unsigned)), 401, "bad_signature", ministry)

    # Signed by another key in the peer's name (a stolen name, not its pinned key).
    impostor = NodeKey.load_or_create(PEER_NODE, tmp_path / "impostor.pem")
    _refused(post(door, body(envelope(impostor, 1, to=NODE, at=clock()))), 401,
             "bad_signature", ministry)

    # Signed by the peer, then altered on the way (the payload's headline changed).
    genuine = envelope(key, 1, to=NODE, at=clock())
    wire = json.loads(body(genuine))
    wire["envelopes"][0]["payload"]["alert"]["headline"] = "Otra cosa"
    _refused(post(door, json.dumps(wire).encode()), 401, "bad_signature", ministry)
    assert len(_forged_alerts(ministry)) == 3  # registered peer, bad signature: alerted
    assert all(r.outcome == "denied" for r in _refusals(ministry))


def test_a_peer_cannot_speak_for_another_agency(ministry: Platform, door: TestClient,
                                                key: NodeKey, clock: FakeClock) -> None:
    spoofed = envelope(key, 1, to=NODE, at=clock(), source="policia-nacional",
                       payload=shared_alert(clock(), agency_id="policia-nacional"))
    error = _refused(post(door, body(spoofed)), 403, "agency_mismatch", ministry)
    assert "registered for 'segura-ep'" in error["message"]
    assert len(_forged_alerts(ministry)) == 1


@pytest.mark.parametrize("minutes", [6, -6], ids=["ahead", "behind"])
def test_clock_skew_is_refused_both_ways(ministry: Platform, door: TestClient, key: NodeKey,
                                         clock: FakeClock, minutes: int) -> None:
    skewed = envelope(key, 1, to=NODE, at=clock() + timedelta(minutes=minutes))
    error = _refused(post(door, body(skewed)), 401, "clock_skew", ministry)
    assert ("ahead of" if minutes > 0 else "behind") in error["message"]
    # Within five minutes either way is fine.
    fine = envelope(key, 1, to=NODE, at=clock() - timedelta(minutes=4, seconds=50))
    assert post(door, body(fine)).status_code == 200


def test_malformed_oversize_and_misaddressed_batches(ministry: Platform, door: TestClient,
                                                     key: NodeKey, clock: FakeClock) -> None:
    _refused(post(door, b'{"envelopes": [{"id": '), 400, "malformed_json", ministry)
    _refused(post(door, b'{"envelopes": []}'), 400, "malformed_envelope", ministry)
    broken = json.loads(body(envelope(key, 1, to=NODE, at=clock())))
    del broken["envelopes"][0]["seq"]
    error = _refused(post(door, json.dumps(broken).encode()), 400, "malformed_envelope",
                     ministry)
    assert "lacks seq" in error["message"]
    big = envelope(key, 1, to=NODE, at=clock(),
                   payload={**shared_alert(clock()), "padding": "x" * MAX_BODY})
    error = _refused(post(door, body(big)), 413, "too_large", ministry)
    assert str(MAX_BODY) in error["message"]
    elsewhere = envelope(key, 1, to="otro-nodo", at=clock())
    _refused(post(door, body(elsewhere)), 400, "misaddressed", ministry)
    assert {r.outcome for r in _refusals(ministry)} == {"rejected"}


def test_a_gap_is_refused_with_the_expected_seq(ministry: Platform, door: TestClient,
                                                key: NodeKey, clock: FakeClock) -> None:
    error = _refused(post(door, body(envelope(key, 2, to=NODE, at=clock()))), 409,
                     "sequence_gap", ministry)
    assert error["details"][0]["expected_seq"] == 1
    assert post(door, body(envelope(key, 1, to=NODE, at=clock()))).status_code == 200
    # seq 3 after 1 (2 lost on the way) is refused; nothing of the batch is applied.
    batch = body(envelope(key, 3, to=NODE, at=clock()), envelope(key, 4, to=NODE, at=clock()))
    gap = post(door, batch)
    assert gap.status_code == 409 and gap.json()["error"]["details"][0]["expected_seq"] == 2
    assert [seq for _, seq in _inbox(ministry)] == [1]


def test_a_payload_this_node_cannot_apply_is_recorded_and_the_stream_moves_on(
        ministry: Platform, door: TestClient, key: NodeKey, clock: FakeClock) -> None:
    not_here = envelope(key, 1, to=NODE, at=clock(),
                        payload=shared_alert(clock(), to_agency_id="segura-ep"))
    other_origin = envelope(key, 2, to=NODE, at=clock(),
                            payload=shared_alert(clock(), agency_id="policia-nacional"))
    unknown_kind = envelope(key, 3, to=NODE, at=clock(), kind="camera.shared")
    good = envelope(key, 4, to=NODE, at=clock())
    response = post(door, body(not_here, other_origin, unknown_kind, good))
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "rejected", "applied"]
    assert "not hosted on this node" in results[0]["reason"]
    assert "not of the sending agency" in results[1]["reason"]
    assert "no receiver for kind" in results[2]["reason"]
    assert [c.origin_alert_id for c in _copies(ministry)] == [good.payload["alert"]["id"]]
    assert [seq for _, seq in _inbox(ministry)] == [1, 2, 3, 4]
    rejected = [r for r in _refusals(ministry) if r.outcome == "rejected"]
    assert [r.object_id for r in rejected] == [not_here.id, other_origin.id, unknown_kind.id]


def test_receive_in_process_matches_the_route(ministry: Platform, key: NodeKey,
                                              clock: FakeClock) -> None:
    fed = ministry.federation
    with pytest.raises(federation.EnvelopeRefused) as refused:
        fed.receive(body(envelope(key, 5, to=NODE, at=clock())))
    assert refused.value.status == 409
    result = fed.receive(body(envelope(key, 1, to=NODE, at=clock())), PEER_NODE)
    assert result["node"] == NODE and result["results"][0]["status"] == "applied"
