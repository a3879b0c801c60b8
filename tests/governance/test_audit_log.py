"""The tamper-evident audit log: sealing, proofs, verification and cross-agency witnessing.

Node A is the municipal node (the test's ``platform``); node B, the ministry's, is a second
platform with its own database and key. Tampering is done the way an administrator with database
access would: SQL on the tables, behind Sereno's back.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, text, update

from sereno.adapters.db import tables
from sereno.bootstrap import Platform, bootstrap
from sereno.demo.seed import seed_demo_city
from sereno.domain.access import Principal
from sereno.entrypoints.api.app import create_app
from sereno.governance import merkle
from sereno.governance.transparency import TreeHead, leaf_bytes
from sereno.services import audit_log
from sereno.services.audit import record
from sereno.services.audit_log import Peer, WitnessRefused
from tests.conftest import FakeClock, bearer
from tests.conftest import test_settings as node_settings
from tests.support.audit_log import cover_up, edit_record


def _write_records(platform: Platform, count: int, action: str = "test.event") -> None:
    with platform.uow() as uow:
        who = Principal.system("test", "segura-ep")
        for n in range(count):
            record(uow, who, action, object_type="camera", object_id=f"SEG-{n % 9:03d}",
                   detail={"n": n})
        uow.commit()


@pytest.fixture
def ministry(tmp_path: Path, media_root: Path, clock: FakeClock) -> Iterator[Platform]:
    """Node B: the ministry's own installation (SQLite), seeded like the demo."""
    url = f"sqlite:///{tmp_path / 'ministry.db'}"
    node = bootstrap(node_settings(tmp_path / "ministry", url, media_root,
                                   node_name="ministerio"), clock=clock)
    seed_demo_city(node)
    yield node
    node.close()


def _peers(a: Platform, b: Platform) -> tuple[Peer, Peer]:
    """Each node as the other registers it (pinned public keys)."""
    as_seen_by_b = Peer(a.audit_log.key.node_id, "segura-ep", a.audit_log.key.public_key_b64,
                        "http://127.0.0.1:1")
    as_seen_by_a = Peer(b.audit_log.key.node_id, "policia-nacional",
                        b.audit_log.key.public_key_b64, "http://127.0.0.1:2")
    for node, peer in ((b, as_seen_by_b), (a, as_seen_by_a)):
        with node.uow() as uow:
            if uow.peers.get(peer.node_id) is None:
                uow.peers.add({"node_id": peer.node_id, "agency_id": peer.agency_id,
                               "public_key": peer.public_key, "base_url": peer.base_url,
                               "registered_by": "admin", "registered_at": node.clock()})
                uow.commit()
    return as_seen_by_b, as_seen_by_a


def _witness(a: Platform, b: Platform, clock: FakeClock) -> dict[str, object]:
    a_for_b, b_for_a = _peers(a, b)
    envelope = a.audit_log.witness_envelope(b_for_a.node_id)
    answer = b.audit_log.receive(envelope, a_for_b)
    assert a.audit_log.witnessed(envelope["head"], b_for_a, str(answer["countersignature"]))
    clock.advance(seconds=1)
    return answer


def test_sealed_records_prove_inclusion_and_consistency(platform: Platform) -> None:
    _write_records(platform, 40)
    first = platform.audit_log.sign_head()
    _write_records(platform, 25)
    head = platform.audit_log.sign_head()
    assert head.tree_size >= first.tree_size + 25
    assert head.verify(platform.audit_log.key.public_key)

    proof = platform.audit_log.inclusion(7)
    leaf = merkle.leaf_hash(leaf_bytes(_record_row(platform, 7)))
    assert leaf.hex() == proof["leaf_hash"]
    assert merkle.verify_inclusion(leaf, 7, head.tree_size,
                                   [bytes.fromhex(p) for p in proof["proof"]],
                                   bytes.fromhex(head.root_hash))

    consistency = platform.audit_log.consistency(first.tree_size, head.tree_size)
    assert consistency["old_root"] == first.root_hash
    assert merkle.verify_consistency(first.tree_size, head.tree_size,
                                     bytes.fromhex(first.root_hash),
                                     bytes.fromhex(head.root_hash),
                                     [bytes.fromhex(p) for p in consistency["proof"]])
    assert platform.audit_log.verify().ok


def _record_row(platform: Platform, index: int) -> dict[str, object]:
    row = platform.audit_log.store.record_at(index)
    assert row is not None
    return row


@pytest.mark.parametrize("tamper", ["edit", "delete", "swap"])
def test_verify_names_the_first_rewritten_record(platform: Platform, tamper: str) -> None:
    _write_records(platform, 30)
    platform.audit_log.sign_head()
    records = tables.audit_records
    with platform.engine.begin() as connection:
        leaves = tables.audit_leaves
        ids = list(connection.scalars(select(leaves.c.record_id).where(leaves.c.leaf_index >= 10)
                                      .order_by(leaves.c.leaf_index).limit(2)))
        if tamper == "edit":
            connection.execute(update(records).where(records.c.id == ids[0])
                               .values(actor_username="nobody"))
        elif tamper == "delete":
            connection.execute(delete(records).where(records.c.id == ids[0]))
        else:
            a, b = (connection.execute(select(records.c.action, records.c.detail)
                                       .where(records.c.id == i)).one() for i in ids)
            connection.execute(update(records).where(records.c.id == ids[0])
                               .values(action=b.action, detail=b.detail))
            connection.execute(update(records).where(records.c.id == ids[1])
                               .values(action=a.action, detail=a.detail))
    report = platform.audit_log.verify()
    assert not report.ok and report.first_bad_index == 10, report.as_dict()


def test_the_witness_countersigns_an_honest_log(platform: Platform, ministry: Platform,
                                                clock: FakeClock) -> None:
    _write_records(platform, 20)
    first = _witness(platform, ministry, clock)
    _write_records(platform, 20)
    second = _witness(platform, ministry, clock)
    assert int(str(second["tree_size"])) > int(str(first["tree_size"]))
    latest = platform.audit_log.store.latest_head()
    assert latest is not None and latest.witnessed_by == "ministerio"
    assert ministry.audit_log.store.mirror(platform.audit_log.key.node_id) == \
        platform.audit_log.store.stored_leaf_hashes()


def test_a_full_cover_up_is_caught_by_the_other_agency(platform: Platform, ministry: Platform,
                                                       clock: FakeClock) -> None:
    """The admin edits a record, re-hashes the leaves, rebuilds the tree and deletes every
    signed head: the node's own checks pass, the ministry's mirror does not."""
    _write_records(platform, 30)
    _witness(platform, ministry, clock)
    witnessed_size = ministry.audit_log.store.last_witnessed(platform.audit_log.key.node_id)
    assert witnessed_size is not None
    victim = 12
    edit_record(platform, victim, reason="nothing happened here")
    assert platform.audit_log.current_leaf_hashes()[1] == victim
    cover_up(platform)
    assert platform.audit_log.verify().ok  # the node alone cannot tell any more

    a_for_b, b_for_a = _peers(platform, ministry)
    envelope = platform.audit_log.witness_envelope(b_for_a.node_id)
    with pytest.raises(WitnessRefused) as refused:
        ministry.audit_log.receive(envelope, a_for_b)
    assert refused.value.first_bad_index == victim
    with ministry.uow() as uow:
        alerts = uow.security_alerts.for_agency("policia-nacional")
    assert any(a.kind.value == "audit_fork" and a.detail["first_bad_index"] == victim
               for a in alerts)


def test_the_witness_refuses_forged_replayed_and_future_heads(
        platform: Platform, ministry: Platform, clock: FakeClock) -> None:
    _write_records(platform, 5)
    a_for_b, b_for_a = _peers(platform, ministry)
    envelope = platform.audit_log.witness_envelope(b_for_a.node_id)

    forged = {**envelope, "head": {**envelope["head"],
                                   "signature": ministry.audit_log.key.sign(b"x")}}
    with pytest.raises(WitnessRefused, match="signature"):
        ministry.audit_log.receive(forged, a_for_b)

    ministry.audit_log.receive(envelope, a_for_b)
    with pytest.raises(WitnessRefused, match="replayed or stale"):
        ministry.audit_log.receive(envelope, a_for_b)

    clock.advance(hours=2)
    future = platform.audit_log.witness_envelope(b_for_a.node_id)
    clock.advance(hours=-2)
    with pytest.raises(WitnessRefused, match="future"):
        ministry.audit_log.receive(future, a_for_b)

    with pytest.raises(WitnessRefused, match="malformed"):
        ministry.audit_log.receive({"head": {"node_id": "x"}}, a_for_b)
    # Nothing was lost: the ministry still holds exactly what it accepted.
    assert len(ministry.audit_log.store.mirror(a_for_b.node_id)) == envelope["head"]["tree_size"]


def test_witness_endpoint_and_auditor_api(platform: Platform, ministry: Platform,
                                          clock: FakeClock) -> None:
    a_for_b, b_for_a = _peers(platform, ministry)
    _write_records(platform, 8)
    envelope = platform.audit_log.witness_envelope(b_for_a.node_id)
    with TestClient(create_app(ministry)) as b_client:
        unknown = b_client.post("/api/v1/witness/tree-heads", json=envelope)
        assert unknown.status_code == 401
        accepted = b_client.post("/api/v1/witness/tree-heads", json=envelope,
                                 headers={"X-Sereno-Node": a_for_b.node_id})
        assert accepted.status_code == 200, accepted.text
        replay = b_client.post("/api/v1/witness/tree-heads", json=envelope,
                               headers={"X-Sereno-Node": a_for_b.node_id})
        assert replay.status_code == 409
        assert "replayed" in replay.json()["error"]["message"]

    with TestClient(create_app(platform)) as client:
        auditor = bearer(client, "auditor.segura")
        head = client.post("/api/v1/audit/tree-heads", headers=auditor)
        assert head.status_code == 201
        size = head.json()["tree_size"]
        verified = client.get("/api/v1/audit/verify", headers=auditor).json()
        assert verified["ok"] is True and verified["tree_size"] >= size
        proof = client.get("/api/v1/audit/proofs/inclusion", params={"index": 3},
                           headers=auditor).json()
        signed = TreeHead.from_dict(proof["tree_head"])
        assert merkle.verify_inclusion(bytes.fromhex(proof["leaf_hash"]), 3, signed.tree_size,
                                       [bytes.fromhex(p) for p in proof["proof"]],
                                       bytes.fromhex(signed.root_hash))
        bad = client.get("/api/v1/audit/proofs/consistency", params={"from": 5, "to": 10 ** 9},
                         headers=auditor)
        assert bad.status_code == 422
        operator = bearer(client, "operator.segura")
        assert client.get("/api/v1/audit/verify", headers=operator).status_code == 403


def test_sealing_is_incremental_and_keeps_up(platform: Platform) -> None:
    _write_records(platform, 12_000)
    added = platform.audit_log.seal()
    assert added >= 12_000
    size, root = platform.audit_log.store.size_and_root()
    assert root == merkle.root_from_hashes(platform.audit_log.store.stored_leaf_hashes())
    assert platform.audit_log.store.unsealed_count() == 0
    with platform.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_leaves")).scalar() == size


def test_audit_records_of_the_log_itself(platform: Platform) -> None:
    assert audit_log.peer_of(platform.audit_log, "nobody") is None


def test_a_clock_set_back_signs_nothing_and_alerts(platform: Platform, clock: FakeClock) -> None:
    platform.audit_log.sign_head()
    clock.advance(minutes=-10)
    with pytest.raises(audit_log.ClockWentBack, match="behind its last signed tree head"):
        platform.audit_log.sign_head()
    with pytest.raises(audit_log.ClockWentBack):
        platform.audit_log.sign_head()
    with platform.uow() as uow:
        alerts = [a for a in uow.security_alerts.for_agency("segura-ep")
                  if "clock went back" in a.summary]
    assert len(alerts) == 1  # raised once, not at every scheduled round
    clock.advance(minutes=11)
    assert platform.audit_log.sign_head().tree_size > 0


def test_a_long_log_reaches_its_witness_in_bounded_envelopes(
        platform: Platform, ministry: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_log, "LEAVES_PER_ENVELOPE", 8)
    _write_records(platform, 30)
    a_for_b, b_for_a = _peers(platform, ministry)
    sizes = []
    for _ in range(10):  # the clock does not move: heads stay ordered by the millisecond nudge
        envelope = platform.audit_log.witness_envelope(b_for_a.node_id)
        assert len(envelope["leaf_hashes"]) <= 8
        answer = ministry.audit_log.receive(envelope, a_for_b)
        assert platform.audit_log.witnessed(envelope["head"], b_for_a,
                                            str(answer["countersignature"]))
        sizes.append(envelope["head"]["tree_size"])
        if envelope["head"]["tree_size"] == envelope["log_size"]:
            break
    assert sizes == sorted(sizes) and sizes[-1] == platform.audit_log.store.size_and_root()[0]
    assert len(sizes) >= 4
    assert ministry.audit_log.store.mirror(a_for_b.node_id) == \
        platform.audit_log.store.stored_leaf_hashes()[:sizes[-1]]
