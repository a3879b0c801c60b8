"""Use-cases of the tamper-evident audit log: seal, sign, verify, prove, witness.

Sealing turns audit records into Merkle leaves in batches and signs tree heads. Verification
re-hashes every record as the database holds it now and compares with the sealed leaves and the
signed heads, naming the first bad index. Witnessing: each node sends its signed head, the leaf
hashes the peer has not seen and a consistency proof to the other agency's node, which checks
them against its mirror of the leaf hashes, countersigns, or raises a fork alert.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sereno.adapters.db.audit_log import AuditLogStore
from sereno.domain.access import Permission, Principal
from sereno.domain.audit import Outcome
from sereno.domain.errors import InvalidInput
from sereno.domain.security import AlertKind, Severity
from sereno.governance import merkle
from sereno.governance.node_key import NodeKey
from sereno.governance.transparency import (
    TreeHead,
    first_difference,
    public_key_from_b64,
    verify_signature,
)
from sereno.services.audit import Clock, record, require
from sereno.services.security import raise_security_alert
from sereno.services.unit_of_work import UnitOfWork

MAX_CLOCK_SKEW = timedelta(minutes=5)
SEAL_BATCH = 5_000
LEAVES_PER_ENVELOPE = 50_000  # ≈ 3.4 MB of JSON: well inside the upload limit
MAX_ENVELOPES_PER_ROUND = 200
HEAD_NUDGE_MS = 5_000  # heads signed in a burst may run this far ahead of the clock


class ClockWentBack(InvalidInput):
    """The clock is behind the last signed head: signing now would date history backwards."""


class WitnessRefused(Exception):
    """The witness would not countersign; ``first_bad_index`` when history was rewritten."""

    def __init__(self, reason: str, first_bad_index: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.first_bad_index = first_bad_index


@dataclass
class VerificationReport:
    """What ``verify`` found. ``ok`` only when every check passed."""

    tree_size: int = 0
    checked_heads: int = 0
    problems: list[str] = field(default_factory=list)
    first_bad_index: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "tree_size": self.tree_size, "checked_heads": self.checked_heads,
                "first_bad_index": self.first_bad_index, "problems": self.problems}


@dataclass(frozen=True)
class Peer:
    """Another agency's node, with its pinned public key."""

    node_id: str
    agency_id: str
    public_key: str
    base_url: str


class TransparencyLog:
    """The node's audit log as a Merkle tree, with its key and its witnesses."""

    def __init__(self, store: AuditLogStore, key: NodeKey, uow: Callable[[], UnitOfWork],
                 clock: Clock) -> None:
        self.store, self.key, self.uow, self.clock = store, key, uow, clock
        self._clock_alerted_for: int | None = None
        self._tamper_alerted_at: int | None = None

    # -- sealing and heads ----------------------------------------------------------------------

    def seal(self, batch: int = SEAL_BATCH) -> int:
        """Hash every unsealed record into the log; returns how many were added."""
        start = size = self.store.size_and_root()[0]
        while True:
            before = size
            size, _ = self.store.seal_batch(batch)
            if size - before < batch:
                return size - start

    def sign_head(self) -> TreeHead:
        """Seal what is pending and sign the current root (a new head even if nothing moved:
        the timestamp says the log was this size at least until now)."""
        self.seal()
        size, root = self.store.size_and_root()
        now_ms = self._head_time()
        head = TreeHead(self.key.node_id, size, root.hex(), now_ms)
        head = TreeHead(**{**head.as_dict(), "signature": self.key.sign(head.signed_bytes())})
        self.store.add_head(head, self.key.key_id)
        return head

    def alert_every_agency(self, kind: AlertKind, severity: Severity, summary: str,
                           detail: dict[str, Any]) -> None:
        """A security alert to each agency of this node: the log is theirs together."""
        with self.uow() as uow:
            for agency in uow.agencies.list():
                raise_security_alert(uow, agency_id=agency.id, kind=kind, severity=severity,
                                     summary=summary, detail=detail, now=self.clock())
            uow.commit()

    def _alert_clock(self, last_ms: int, now_ms: int) -> None:
        self.alert_every_agency(AlertKind.AUDIT_TAMPERED, Severity.HIGH,
                                "the node's clock went back behind its last signed tree head",
                                {"last_head_ms": last_ms, "now_ms": now_ms})

    def seal_and_sign_if_grown(self) -> TreeHead | None:
        """The scheduled job: seal, and sign a head when the log grew since the last one."""
        self.seal()
        latest = self.store.latest_head()
        size, _ = self.store.size_and_root()
        if latest is not None and latest.head.tree_size == size:
            return None
        return self.sign_head()

    # -- verification -------------------------------------------------------------------------

    def current_leaf_hashes(self) -> tuple[list[bytes], int | None]:
        """Every leaf re-hashed from the record as stored now, and the first index whose
        record no longer matches what was sealed (``None`` when all match)."""
        current, _, first_bad = self._rehash()
        return current, first_bad

    def _rehash(self) -> tuple[list[bytes], list[bytes], int | None]:
        """One pass over the leaves and their records: the hashes as they are now, as sealed,
        and the first index where they part."""
        current: list[bytes] = []
        sealed: list[bytes] = []
        first_bad: int | None = None
        for index, sealed_hash, now in self.store.recomputed_leaves():
            if first_bad is None and (sealed_hash != now or index != len(current)):
                first_bad = index
            current.append(now)
            sealed.append(sealed_hash)
        return current, sealed, first_bad

    def verify(self) -> VerificationReport:
        """Re-hash every record, rebuild the tree, check every stored head (signature and
        root at its size) and the log's own state."""
        report = VerificationReport()
        self.seal()
        current, sealed, first_bad = self._rehash()
        report.tree_size = len(sealed)
        if first_bad is not None:
            report.first_bad_index = first_bad
            report.problems.append(f"record at leaf {first_bad} was changed, deleted or moved "
                                   "after it was sealed")
        size, root = self.store.size_and_root()
        if size != len(sealed) or merkle.root_from_hashes(sealed) != root:
            report.problems.append("the stored leaves do not produce the log's own root")
        # Every signed head, smallest first, against the records as they are now: one pass,
        # growing a compact range instead of rebuilding the tree for each head.
        growing, fed = merkle.CompactRange(), 0
        for stored in sorted(self.store.heads(limit=10_000), key=lambda h: h.head.tree_size):
            head = stored.head
            report.checked_heads += 1
            if head.node_id == self.key.node_id and not head.verify(self.key.public_key):
                report.problems.append(f"tree head of size {head.tree_size} has a bad signature")
                continue
            if head.tree_size <= len(current) and head.tree_size > fed:
                growing.extend(current[fed:head.tree_size])
                fed = head.tree_size
            if head.tree_size > len(current) or head.tree_size < fed or \
                    growing.root().hex() != head.root_hash:
                bad = self._first_bad_against(current, sealed, head)
                report.first_bad_index = _earliest(report.first_bad_index, bad)
                report.problems.append(
                    f"the records no longer produce the signed root of size {head.tree_size}"
                    + (f" (first bad index {bad})" if bad is not None else ""))
        return report

    @staticmethod
    def _first_bad_against(current: list[bytes], sealed: list[bytes],
                           head: TreeHead) -> int | None:
        if merkle.root_from_hashes(sealed[:head.tree_size]).hex() == head.root_hash:
            return first_difference(sealed[:head.tree_size], current[:head.tree_size])
        return None  # the sealed leaves were rewritten too: the witness's mirror locates it

    def inclusion(self, index: int) -> dict[str, Any]:
        """Proof that leaf ``index`` is in the latest signed head (raises ValueError)."""
        latest = self.store.latest_head()
        if latest is None or not 0 <= index < latest.head.tree_size:
            size = latest.head.tree_size if latest else 0
            raise ValueError(f"leaf {index} is not in the latest signed head (size {size})")
        hashes = self.store.stored_leaf_hashes(0, latest.head.tree_size)
        proof = merkle.inclusion_proof_from_hashes(hashes, index)
        return {"leaf_index": index, "leaf_hash": hashes[index].hex(),
                "record": _jsonable(self.store.record_at(index)),
                "proof": [p.hex() for p in proof], "tree_head": latest.head.as_dict(),
                "public_key": self.key.public_key_b64}

    def consistency(self, old_size: int, new_size: int) -> dict[str, Any]:
        """Proof that the log of ``new_size`` extends the one of ``old_size``."""
        size, _ = self.store.size_and_root()
        if not 0 < old_size <= new_size <= size:
            raise ValueError(f"need 0 < from ≤ to ≤ {size} (the log's size)")
        hashes = self.store.stored_leaf_hashes(0, new_size)
        proof = merkle.consistency_proof_from_hashes(hashes, old_size, new_size)
        return {"from": old_size, "to": new_size,
                "old_root": merkle.root_from_hashes(hashes[:old_size]).hex(),
                "new_root": merkle.root_from_hashes(hashes).hex(),
                "proof": [p.hex() for p in proof]}

    # -- witnessing: the sending side -----------------------------------------------------------

    def witness_envelope(self, peer_node_id: str) -> dict[str, Any]:
        """What to send to ``peer_node_id``: a head over the records *as they are now*, the
        leaf hashes the peer lacks, and a consistency proof from the last head it countersigned.
        Records edited in the database change these hashes, so the peer sees the rewrite.

        An envelope carries at most ``LEAVES_PER_ENVELOPE`` new leaves (a head over that
        prefix); ``log_size`` says how far the log goes, so the sender repeats until caught up.
        """
        self.seal()
        witnessed = [h for h in self.store.heads(limit=1_000, witnessed_only=True)
                     if h.witnessed_by == peer_node_id]
        old_size = witnessed[0].head.tree_size if witnessed else 0
        current, first_bad = self.current_leaf_hashes()
        if first_bad is not None and self._tamper_alerted_at != first_bad:
            self._alert_locally(AlertKind.AUDIT_TAMPERED, first_bad,
                                "audit records were changed after they were sealed")
            self._tamper_alerted_at = first_bad
        start = min(old_size, first_bad if first_bad is not None else old_size, len(current))
        size = min(len(current), max(old_size, start + LEAVES_PER_ENVELOPE))
        prefix = current[:size]
        head = TreeHead(self.key.node_id, size, merkle.root_from_hashes(prefix).hex(),
                        self._head_time())
        head = TreeHead(**{**head.as_dict(), "signature": self.key.sign(head.signed_bytes())})
        if first_bad is None:
            self.store.add_head(head, self.key.key_id)
        proof = (merkle.consistency_proof_from_hashes(prefix, old_size)
                 if 0 < old_size <= size else [])
        return {"head": head.as_dict(), "from_index": start, "old_size": old_size,
                "log_size": len(current), "leaf_hashes": [h.hex() for h in prefix[start:]],
                "consistency_proof": [p.hex() for p in proof]}

    def _head_time(self) -> int:
        """Milliseconds for a new head, strictly after the last signed one: heads signed within
        the same moment are nudged a millisecond apart, but a clock set back further than
        ``HEAD_NUDGE_MS`` signs nothing (``ClockWentBack``, one security alert)."""
        now_ms = int(self.clock().timestamp() * 1000)
        latest = self.store.latest_head()
        if latest is None:
            return now_ms
        last_ms = latest.head.timestamp_ms
        if now_ms < last_ms - HEAD_NUDGE_MS:
            if self._clock_alerted_for != last_ms:
                self._alert_clock(last_ms, now_ms)
                self._clock_alerted_for = last_ms
            raise ClockWentBack("the node's clock is behind its last signed tree head "
                                f"({last_ms} ms > now {now_ms} ms): fix the clock; no head "
                                "is signed until it moves past it")
        return max(now_ms, last_ms + 1)

    def witnessed(self, head: Mapping[str, Any], witness: Peer, countersignature: str) -> bool:
        """Store the peer's countersignature if it is the peer's signature of ``head``."""
        parsed = TreeHead.from_dict(head)
        if not verify_signature(public_key_from_b64(witness.public_key), countersignature,
                                parsed.countersigned_bytes(witness.node_id)):
            return False
        self.store.mark_witnessed(parsed, witness.node_id, countersignature, self.clock())
        return True

    # -- witnessing: the receiving side ---------------------------------------------------------

    def receive(self, envelope: Mapping[str, Any], peer: Peer) -> dict[str, Any]:
        """Check a peer's envelope; countersign it or raise ``WitnessRefused`` (audited, and a
        security alert when the peer's history was rewritten or the head was forged)."""
        try:
            return self._receive(envelope, peer)
        except WitnessRefused as refused:
            fork = refused.first_bad_index is not None
            self.alert_every_agency(
                AlertKind.AUDIT_FORK if fork else AlertKind.AUDIT_TAMPERED,
                Severity.CRITICAL if fork else Severity.HIGH,
                f"witness refused {peer.node_id}'s tree head: {refused.reason}",
                {"peer": peer.node_id, "first_bad_index": refused.first_bad_index})
            raise

    def _receive(self, envelope: Mapping[str, Any], peer: Peer) -> dict[str, Any]:
        try:
            head = TreeHead.from_dict(envelope["head"])
            start = int(envelope["from_index"])
            hashes = [bytes.fromhex(h) for h in envelope["leaf_hashes"]]
            proof = [bytes.fromhex(p) for p in envelope.get("consistency_proof", [])]
        except (KeyError, TypeError, ValueError) as error:
            raise WitnessRefused(f"malformed envelope: {error}") from None
        if head.node_id != peer.node_id:
            raise WitnessRefused("the head names another node than the registered peer")
        if not head.verify(public_key_from_b64(peer.public_key)):
            raise WitnessRefused("the tree head's signature does not match the peer's "
                                 "registered key (forged or re-signed)")
        now_ms = int(self.clock().timestamp() * 1000)
        if head.timestamp_ms > now_ms + MAX_CLOCK_SKEW.total_seconds() * 1000:
            raise WitnessRefused("the tree head is dated in the future (clock changed?)")
        last = self.store.last_witnessed(peer.node_id)
        if last is not None and head.timestamp_ms <= last.timestamp_ms:
            raise WitnessRefused("replayed or stale tree head (not newer than the last one "
                                 "countersigned)")
        mirror = self.store.mirror(peer.node_id)
        if not 0 <= start <= len(mirror) or start + len(hashes) != head.tree_size:
            raise WitnessRefused("the leaf hashes do not cover the head from the given index")
        full = mirror[:start] + hashes
        if any(len(h) != merkle.HASH_SIZE for h in hashes) or \
                merkle.root_from_hashes(full).hex() != head.root_hash:
            raise WitnessRefused("the leaf hashes do not produce the signed root")
        bad = first_difference(mirror, full[:len(mirror)])
        if bad is not None or head.tree_size < len(mirror):
            index = bad if bad is not None else head.tree_size
            raise WitnessRefused(f"history rewritten: leaf {index} differs from what was "
                                 "witnessed before", first_bad_index=index)
        if last is not None and last.tree_size and not merkle.verify_consistency(
                last.tree_size, head.tree_size, bytes.fromhex(last.root_hash),
                bytes.fromhex(head.root_hash), proof):
            raise WitnessRefused("the consistency proof from the last witnessed head fails",
                                 first_bad_index=last.tree_size)
        countersignature = self.key.sign(head.countersigned_bytes(self.key.node_id))
        self.store.accept_witnessed(head, full[len(mirror):], len(mirror), countersignature,
                                    self.clock())
        return {"witness": self.key.node_id, "countersignature": countersignature,
                "tree_size": head.tree_size}

    def _alert_locally(self, kind: AlertKind, index: int, summary: str) -> None:
        self.alert_every_agency(kind, Severity.CRITICAL, f"{summary} (first bad index {index})",
                                {"first_bad_index": index})
        with self.uow() as uow:
            record(uow, Principal.system("audit-log", "-"), "audit.tamper_detected",
                   object_type="audit_log", object_id=str(index),
                   reason=summary, detail={"first_bad_index": index}, now=self.clock())
            uow.commit()


def _earliest(a: int | None, b: int | None) -> int | None:
    values = [v for v in (a, b) if v is not None]
    return min(values) if values else None


def _jsonable(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}


# -- use-cases for auditors (permission-checked and audited) -------------------------------------

def _audited(log: TransparencyLog, who: Principal, action: str, permission_ok: bool,
             detail: dict[str, Any] | None = None) -> None:
    with log.uow() as uow:
        require(uow, who, permission_ok, action, object_type="audit_log")
        record(uow, who, action, object_type="audit_log", detail=detail, now=log.clock())
        uow.commit()


def _auditor(who: Principal) -> bool:
    return who.can(Permission.AUDIT_READ)


def verify_for(log: TransparencyLog, who: Principal) -> VerificationReport:
    """Verify the whole log now (auditors); the outcome is audited."""
    _audited(log, who, "audit.verify", _auditor(who))
    report = log.verify()
    _audited(log, who, "audit.verify.result", True, report.as_dict())
    return report


def node_key_for(log: TransparencyLog, who: Principal) -> None:
    """Record that ``who`` read the node's public key (anyone signed in may)."""
    _audited(log, who, "audit.node_key", True)


def sign_head_for(log: TransparencyLog, who: Principal) -> TreeHead:
    """Seal and sign a tree head on demand (auditors)."""
    _audited(log, who, "audit.sign_head", _auditor(who))
    return log.sign_head()


def heads_for(log: TransparencyLog, who: Principal, limit: int = 20) -> list[dict[str, Any]]:
    """The latest signed heads with their witness countersignatures (auditors)."""
    _audited(log, who, "audit.heads", _auditor(who))
    return [{**h.head.as_dict(), "key_id": h.key_id, "witnessed_by": h.witnessed_by,
             "witness_signature": h.witness_signature,
             "witnessed_at": h.witnessed_at.isoformat() if h.witnessed_at else None}
            for h in log.store.heads(limit=limit)]


def inclusion_for(log: TransparencyLog, who: Principal, index: int) -> dict[str, Any]:
    """An inclusion proof of leaf ``index`` (auditors)."""
    _audited(log, who, "audit.prove", _auditor(who), {"index": index})
    proof = log.inclusion(index)
    record_ = proof.get("record") or {}
    if who.agency_id not in (record_.get("actor_agency_id"), record_.get("object_agency_id")):
        proof["record"] = None  # another agency's record: the hash proves, the content stays
    return proof


def consistency_for(log: TransparencyLog, who: Principal, old: int, new: int) -> dict[str, Any]:
    """A consistency proof between two sizes (auditors)."""
    _audited(log, who, "audit.consistency", _auditor(who), {"from": old, "to": new})
    return log.consistency(old, new)


def peer_of(log: TransparencyLog, node_id: str) -> Peer | None:
    """A registered peer node by id."""
    with log.uow() as uow:
        found = uow.peers.get(node_id)
    if found is None:
        return None
    return Peer(found["node_id"], found["agency_id"], found["public_key"], found["base_url"])


def receive_audited(log: TransparencyLog, envelope: Mapping[str, Any],
                    peer: Peer) -> dict[str, Any]:
    """``receive`` with its outcome in this node's audit log (as the peer node)."""
    who = Principal.system(f"peer:{peer.node_id}", peer.agency_id)
    try:
        result = log.receive(envelope, peer)
    except WitnessRefused as refused:
        with log.uow() as uow:
            record(uow, who, "witness.receive", outcome=Outcome.DENIED, object_type="peer",
                   object_id=peer.node_id, reason=refused.reason,
                   detail={"first_bad_index": refused.first_bad_index}, now=log.clock())
            uow.commit()
        raise
    with log.uow() as uow:
        record(uow, who, "witness.receive", object_type="peer", object_id=peer.node_id,
               detail={"tree_size": result["tree_size"]}, now=log.clock())
        uow.commit()
    return result


def witness_round(log: TransparencyLog, egress: Any, peer: Peer,
                  node_agency_id: str) -> dict[str, Any]:
    """Send this node's head to ``peer`` through the egress client (the peer's address must be
    an approved ``federation_peer`` destination of ``node_agency_id``, the agency operating
    this node) and keep its countersignature. Returns the peer's answer; a refusal (history
    rewritten) raises a local security alert too."""
    for _ in range(MAX_ENVELOPES_PER_ROUND):
        envelope = log.witness_envelope(peer.node_id)
        response = egress.send(
            Principal.system("witness", node_agency_id), purpose="federation_peer",
            method="POST", url=f"{peer.base_url}/api/v1/witness/tree-heads",
            data_class="operational", body=json.dumps(envelope).encode(),
            headers={"Content-Type": "application/json", "X-Sereno-Node": log.key.node_id})
        try:
            answer: dict[str, Any] = json.loads(response.body or b"{}")
        except ValueError:
            answer = {}
        if response.status != 200 or not log.witnessed(
                envelope["head"], peer, str(answer.get("countersignature", ""))):
            break
        if envelope["head"]["tree_size"] >= envelope["log_size"]:
            return {"ok": True, **answer}
    else:
        return {"ok": False, "status": 200, "reason": "not caught up after "
                f"{MAX_ENVELOPES_PER_ROUND} envelopes; continues next round",
                "first_bad_index": None}
    details = (answer.get("error") or {}).get("details") or [{}]
    index = details[0].get("first_bad_index") if details else None
    message = (answer.get("error") or {}).get("message", f"HTTP {response.status}")
    log.alert_every_agency(AlertKind.AUDIT_FORK, Severity.CRITICAL,
                           f"witness {peer.node_id} refused our tree head: {message}",
                           {"peer": peer.node_id, "first_bad_index": index})
    return {"ok": False, "status": response.status, "reason": message,
            "first_bad_index": index}
