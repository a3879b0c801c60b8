"""Federation between two Sereno installations: signed envelopes from the transactional outbox
to a peer node over HTTP, received in order, exactly once, in one transaction (ADR 0026).

Sending: whatever a use-case put in ``exchange_outbox`` for a peer node (destination kind
``peer``) is read in ``seq`` order, signed with this node's key and POSTed in batches through
the egress client to ``{peer}/api/v1/federation/envelopes``. A 2xx marks the batch delivered;
anything else marks it failed with the next attempt after an exponential backoff with jitter.
The head of a peer's stream blocks what follows it, so a source's message ``n + 1`` never
leaves before ``n`` is delivered.

Receiving: the batch is checked (known peer, signature against its pinned key, the agency it
claims is the peer's registered one, addressed to us, signed within ±5 min of our clock); then,
in one transaction, each envelope not yet in the inbox must follow the last one accepted from
its (peer, source) stream, is applied by the receiver registered for its kind, and is recorded
in the inbox and the audit log. An envelope seen before is acknowledged as a duplicate and not
applied again. Every refusal is audited; a forged signature also raises a security alert.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from sereno.adapters.db.outbox_repositories import WAKE, OutboxMessage
from sereno.domain.access import Permission, Principal
from sereno.domain.audit import Outcome
from sereno.domain.errors import NotFound, SerenoError
from sereno.domain.events import Event
from sereno.domain.security import AlertKind, Severity
from sereno.exchange.federation.envelope import (
    Envelope,
    MalformedEnvelope,
    batch_body,
    canonical,
    timestamp,
)
from sereno.governance.node_key import NodeKey
from sereno.governance.transparency import public_key_from_b64
from sereno.services.audit import Clock, record, refuse, require
from sereno.services.audit_log import Peer
from sereno.services.security import raise_security_alert
from sereno.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger(__name__)

PEER = "peer"  # the outbox destination kind of federation messages
PATH = "/api/v1/federation/envelopes"
MAX_CLOCK_SKEW = timedelta(minutes=5)
MAX_ENVELOPES_PER_BATCH = 1_000
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 30.0
OBJECT = "federation_envelope"
ACTION_RECEIVE = "federation.receive"


@dataclass(frozen=True)
class Inbound:
    """An accepted envelope handed to the receiver of its kind."""

    envelope: Envelope
    peer: Peer
    received_at: datetime


# A receiver applies one envelope inside the receiving transaction (it must not commit) and
# returns facts for the audit record; a ``SerenoError`` rejects the envelope (recorded, not
# applied, the stream moves on).
Receiver = Callable[[UnitOfWork, Inbound], dict[str, Any] | None]


class EnvelopeRefused(Exception):
    """The batch is refused as a whole: nothing in it was applied (HTTP ``status``)."""

    def __init__(self, status: int, code: str, message: str,
                 details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or []

    def as_body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class _Rejected(Exception):
    def __init__(self, envelope_id: str, reason: str) -> None:
        super().__init__(reason)
        self.envelope_id, self.reason = envelope_id, reason


@dataclass
class SendReport:
    """What one sending pass to a peer did."""

    delivered: int = 0
    failed: int = 0
    rejected: int = 0
    next_due: datetime | None = None
    errors: list[str] = field(default_factory=list)


def backoff_seconds(attempts: int, rng: random.Random | None = None, *,
                    cap_s: float = BACKOFF_CAP_S) -> float:
    """Delay before the next attempt after ``attempts`` failed ones: 0.5 s doubling, capped at
    ``cap_s`` (30 s), with jitter (50-100 % of it) so that senders do not retry in step."""
    delay = min(cap_s, BACKOFF_BASE_S * float(2 ** min(attempts, 16)))
    return delay * (rng or random.Random()).uniform(0.5, 1.0)  # noqa: S311 (jitter, not a secret)


def hosted_here(uow: UnitOfWork, agency_id: str) -> bool:
    """Whether ``agency_id`` is an agency of this node: known here and not the agency of a
    registered peer node (whose alerts arrive from that node)."""
    if uow.agencies.get(agency_id) is None:
        return False
    return all(p["agency_id"] != agency_id for p in uow.peers.list())


def node_of(uow: UnitOfWork, agency_id: str) -> str | None:
    """The registered peer node hosting ``agency_id`` (None: it is hosted here or unknown)."""
    for peer in uow.peers.list():
        if peer["agency_id"] == agency_id:
            return str(peer["node_id"])
    return None


def enqueue(uow: UnitOfWork, *, peer_node_id: str, source_agency_id: str, kind: str,
            payload: dict[str, Any], now: datetime, message_id: str | None = None) -> str:
    """Put a message for a peer node in the outbox, in the caller's transaction (it leaves
    once that commits; the sender is woken then). Returns its id (the envelope id)."""
    return uow.outbox.enqueue(destination_kind=PEER, destination=peer_node_id,
                              source_agency_id=source_agency_id, kind=kind, payload=payload,
                              now=now, message_id=message_id)


class Federation:
    """This node's side of federation: the receivers by kind, the sender, the receiving door."""

    def __init__(self, uow: UnitOfWorkFactory, *, clock: Clock, key: NodeKey,
                 egress: Callable[[], Any], node_agency_id: str,
                 publish: Callable[[Event], None] | None = None, batch: int = 200,
                 max_body_bytes: int = 4 * 1024 * 1024, timeout_s: float = 10.0,
                 retry_cap_s: float = BACKOFF_CAP_S) -> None:
        self.uow, self.clock, self.key = uow, clock, key
        self._egress = egress
        self.node_agency_id = node_agency_id
        self.publish = publish
        self.batch = batch
        self.max_body_bytes = max_body_bytes
        self.timeout_s = timeout_s
        self.retry_cap_s = retry_cap_s
        self.receivers: dict[str, Receiver] = {}
        self.wakeup = threading.Event()

    def register_receiver(self, kind: str, receiver: Receiver) -> None:
        """Apply envelopes of ``kind`` with ``receiver`` (bootstrap fills these)."""
        self.receivers[kind] = receiver

    def wake(self) -> None:
        """Something was enqueued: let the sender look now instead of at its next round."""
        self.wakeup.set()

    def install_wakeup(self, session_factory: Any) -> None:
        """Have every transaction that enqueues wake the sender once it commits."""
        info = dict(session_factory.kw.get("info") or {})
        info[WAKE] = self.wake
        session_factory.configure(info=info)

    # -- receiving --------------------------------------------------------------------------

    def receive(self, body: bytes, claimed_node: str | None = None) -> dict[str, Any]:
        """Check and apply one POSTed batch; returns the per-envelope results or raises
        ``EnvelopeRefused`` (audited; nothing of the batch applied)."""
        now = self.clock()
        context: dict[str, Any] = {"claimed_node": (claimed_node or "")[:64], "bytes": len(body)}
        peer: Peer | None = None
        try:
            envelopes = self._parse(body)
            context.update(envelopes=len(envelopes), first_id=envelopes[0].id,
                           first_seq=envelopes[0].seq)
            peer = self._peer(envelopes, claimed_node)
            self._authenticate(envelopes, peer, now)
            results, raised = self._apply(peer, envelopes, now)
        except EnvelopeRefused as refused:
            self._audit_refusal(refused, peer, context, now)
            raise
        for event in raised:
            if self.publish is not None:
                self.publish(event)
        return {"node": self.key.node_id, "results": results}

    def _parse(self, body: bytes) -> list[Envelope]:
        if len(body) > self.max_body_bytes:
            raise EnvelopeRefused(413, "too_large", f"the batch is {len(body)} bytes; this "
                                  f"node accepts at most {self.max_body_bytes}")
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            raise EnvelopeRefused(400, "malformed_json",
                                  f"the body is not JSON: {error}"[:300]) from None
        raw = data.get("envelopes") if isinstance(data, dict) else None
        if not isinstance(raw, list) or not raw:
            raise EnvelopeRefused(400, "malformed_envelope",
                                  'a batch is {"envelopes": [...]} with at least one envelope')
        if len(raw) > MAX_ENVELOPES_PER_BATCH:
            raise EnvelopeRefused(413, "too_many", f"{len(raw)} envelopes in one batch; at "
                                  f"most {MAX_ENVELOPES_PER_BATCH}")
        envelopes = []
        for index, item in enumerate(raw):
            try:
                envelopes.append(Envelope.from_dict(item))
            except MalformedEnvelope as error:
                raise EnvelopeRefused(400, "malformed_envelope",
                                      f"envelope {index}: {error}") from None
        return envelopes

    def _peer(self, envelopes: list[Envelope], claimed_node: str | None) -> Peer:
        senders = {e.sender for e in envelopes}
        if len(senders) != 1:
            raise EnvelopeRefused(400, "malformed_envelope",
                                  "every envelope of a batch comes from one sender node")
        sender = senders.pop()
        if claimed_node and claimed_node != sender:
            raise EnvelopeRefused(400, "malformed_envelope", "X-Sereno-Node names another "
                                  "node than the envelopes' sender")
        with self.uow() as uow:
            found = uow.peers.get(sender)
        if found is None:
            raise EnvelopeRefused(401, "unknown_peer", f"{sender[:64]!r} is not a registered "
                                  "peer node of this one")
        return Peer(found["node_id"], found["agency_id"], found["public_key"],
                    found["base_url"])

    def _authenticate(self, envelopes: list[Envelope], peer: Peer, now: datetime) -> None:
        public_key = public_key_from_b64(peer.public_key)
        for envelope in envelopes:
            if not envelope.verify(public_key):
                self._alert(f"envelope {envelope.id} from {peer.node_id} is not signed by its "
                            "pinned key (forged, altered or re-keyed)", peer, envelope)
                raise EnvelopeRefused(401, "bad_signature", f"envelope {envelope.id}: the "
                                      "signature does not match the sender's registered key")
            if envelope.to != self.key.node_id:
                raise EnvelopeRefused(400, "misaddressed", f"envelope {envelope.id} is "
                                      f"addressed to {envelope.to!r}, not to this node")
            if envelope.source_agency_id != peer.agency_id:
                self._alert(f"{peer.node_id} sent an envelope claiming agency "
                            f"{envelope.source_agency_id!r}; it is registered for "
                            f"{peer.agency_id!r}", peer, envelope)
                raise EnvelopeRefused(403, "agency_mismatch", f"envelope {envelope.id} claims "
                                      f"agency {envelope.source_agency_id!r}; the peer is "
                                      f"registered for {peer.agency_id!r}")
            skew = envelope.sent_time() - now
            if abs(skew) > MAX_CLOCK_SKEW:
                side = "ahead of" if skew.total_seconds() > 0 else "behind"
                raise EnvelopeRefused(401, "clock_skew", f"envelope {envelope.id} was signed "
                                      f"{abs(skew.total_seconds()):.0f} s {side} this node's "
                                      "clock (at most 300 s): check both clocks",
                                      [{"sent_at": envelope.sent_at,
                                        "receiver_time": timestamp(now)}])

    def _apply(self, peer: Peer, envelopes: list[Envelope],
               now: datetime) -> tuple[list[dict[str, Any]], list[Event]]:
        rejected: dict[str, str] = {}
        while True:  # at most once more per rejected envelope
            try:
                return self._apply_once(peer, envelopes, now, rejected)
            except _Rejected as rejection:
                rejected[rejection.envelope_id] = rejection.reason

    def _apply_once(self, peer: Peer, envelopes: list[Envelope], now: datetime,
                    rejected: dict[str, str]) -> tuple[list[dict[str, Any]], list[Event]]:
        who = Principal.system(f"peer:{peer.node_id}", peer.agency_id)
        results: list[dict[str, Any]] = []
        with self.uow() as uow:
            sources = sorted({e.source_agency_id for e in envelopes})
            for source in sources:
                uow.inbox.lock_source(peer.node_id, source)
            last = {s: uow.inbox.last_seq(peer.node_id, s) for s in sources}
            for envelope in envelopes:
                source = envelope.source_agency_id
                if uow.inbox.seen(envelope.id):
                    results.append({"id": envelope.id, "seq": envelope.seq,
                                    "status": "duplicate"})
                    record(uow, who, ACTION_RECEIVE, object_type=OBJECT, object_id=envelope.id,
                           detail={"kind": envelope.kind, "seq": envelope.seq,
                                   "result": "duplicate"}, now=now)
                    continue
                if envelope.prev_seq != last[source]:
                    raise EnvelopeRefused(409, "sequence_gap", (
                        f"envelope {envelope.id} (seq {envelope.seq}) follows seq "
                        f"{envelope.prev_seq} of {source}, but the last one accepted is seq "
                        f"{last[source]}: send the one after it"),
                        [{"source_agency_id": source, "last_seq": last[source],
                          "expected_seq": last[source] + 1, "seq": envelope.seq,
                          "prev_seq": envelope.prev_seq}])
                outcome, reason, detail = self._dispatch(uow, envelope, peer, now, rejected)
                uow.inbox.add(envelope_id=envelope.id, peer_node_id=peer.node_id,
                              source_agency_id=source, seq=envelope.seq, kind=envelope.kind,
                              now=now)
                record(uow, who, ACTION_RECEIVE, outcome=outcome, object_type=OBJECT,
                       object_id=envelope.id, object_agency_id=_to_agency(envelope),
                       reason=reason, now=now,
                       detail={"kind": envelope.kind, "seq": envelope.seq,
                               "source_agency_id": source, **(detail or {})})
                status = "applied" if outcome is Outcome.ALLOWED else "rejected"
                results.append({"id": envelope.id, "seq": envelope.seq, "status": status,
                                **({"reason": reason} if reason else {})})
                last[source] = envelope.seq
            try:
                uow.commit()
            except IntegrityError:  # the same envelope committed by a concurrent request
                raise EnvelopeRefused(409, "concurrent_delivery", "another delivery of these "
                                      "envelopes committed first; send them again") from None
            raised = list(uow.collect_new_events())
        return results, raised

    def _dispatch(self, uow: UnitOfWork, envelope: Envelope, peer: Peer, now: datetime,
                  rejected: dict[str, str]
                  ) -> tuple[Outcome, str | None, dict[str, Any] | None]:
        if envelope.id in rejected:
            return Outcome.REJECTED, rejected[envelope.id][:500], None
        receiver = self.receivers.get(envelope.kind)
        if receiver is None:
            return (Outcome.REJECTED, f"this node has no receiver for kind "
                    f"{envelope.kind!r}", None)
        try:
            return Outcome.ALLOWED, None, receiver(uow, Inbound(envelope, peer, now))
        except SerenoError as error:  # undo what it did; the envelope is recorded as rejected
            raise _Rejected(envelope.id, error.message) from None

    def _alert(self, summary: str, peer: Peer, envelope: Envelope) -> None:
        with self.uow() as uow:
            raise_security_alert(uow, agency_id=self.node_agency_id,
                                 kind=AlertKind.FEDERATION_FORGED, severity=Severity.HIGH,
                                 summary=summary[:300],
                                 detail={"peer": peer.node_id, "envelope_id": envelope.id,
                                         "kind": envelope.kind, "seq": envelope.seq},
                                 now=self.clock())
            uow.commit()
            raised = list(uow.collect_new_events())
        for event in raised:
            if self.publish is not None:
                self.publish(event)

    def _audit_refusal(self, refused: EnvelopeRefused, peer: Peer | None,
                       context: dict[str, Any], now: datetime) -> None:
        name = peer.node_id if peer else context["claimed_node"] or "unknown"
        who = Principal.system(f"peer:{name}", peer.agency_id if peer else "-")
        outcome = Outcome.REJECTED if refused.status in (400, 413) else Outcome.DENIED
        with self.uow() as uow:
            record(uow, who, ACTION_RECEIVE, outcome=outcome, object_type=OBJECT,
                   object_id=str(context.get("first_id") or "")[:64] or None,
                   reason=f"{refused.code}: {refused.message}"[:500], now=now,
                   detail={**context, "status": refused.status, "code": refused.code,
                           "details": refused.details})
            uow.commit()

    # -- sending ----------------------------------------------------------------------------

    def send_due(self, peer_node_id: str) -> SendReport:
        """Send what is due to one peer, batch after batch, until nothing is due or a batch
        fails (it is retried after its backoff)."""
        report = SendReport()
        while True:
            now = self.clock()
            with self.uow() as uow:
                pending = uow.outbox.pending(PEER, peer_node_id, limit=self.batch)
                found = uow.peers.get(peer_node_id)
                if not pending:
                    return report
                if pending[0].next_attempt_at > now:  # the head waits: so does the stream
                    report.next_due = pending[0].next_attempt_at
                    return report
                if found is None:
                    self._fail(uow, pending, "no registered peer node with this id", now)
                    uow.commit()
                    report.failed += len(pending)
                    return report
                previous = {source: uow.outbox.previous_seq(PEER, peer_node_id, source,
                                                            first.seq)
                            for source, first in _first_of_each_source(pending).items()}
            peer = Peer(found["node_id"], found["agency_id"], found["public_key"],
                        found["base_url"])
            envelopes = self._sign(pending, peer, previous, now)
            if not self._post(peer, pending[:len(envelopes)], envelopes, report):
                return report

    def _sign(self, pending: list[OutboxMessage], peer: Peer, previous: dict[str, int],
              now: datetime) -> list[Envelope]:
        """The envelopes of the longest prefix of ``pending`` that fits one body (at least
        one: an oversize single message is sent and refused, so it shows as the error)."""
        envelopes: list[Envelope] = []
        size = 32
        for message in pending:
            envelope = Envelope(
                id=message.id, kind=message.kind, seq=message.seq,
                prev_seq=previous[message.source_agency_id],
                source_agency_id=message.source_agency_id, sender=self.key.node_id,
                to=peer.node_id, sent_at=timestamp(now), payload=message.payload,
            ).signed_by(self.key)
            size += len(canonical(envelope.as_dict())) + 1
            if envelopes and size > self.max_body_bytes:
                break
            envelopes.append(envelope)
            previous[message.source_agency_id] = message.seq
        return envelopes

    def _post(self, peer: Peer, messages: list[OutboxMessage], envelopes: list[Envelope],
              report: SendReport) -> bool:
        from sereno.governance.egress import EgressBlocked, EgressFailed

        error: str | None = None
        answer: dict[str, Any] = {}
        try:
            response = self._egress().send(
                Principal.system("federation", self.node_agency_id), purpose="federation_peer",
                method="POST", url=f"{peer.base_url}{PATH}", data_class=_data_class(messages),
                body=batch_body(envelopes), timeout_s=self.timeout_s,
                headers={"Content-Type": "application/json", "X-Sereno-Node": self.key.node_id})
            try:
                parsed = json.loads(response.body or b"{}")
                answer = parsed if isinstance(parsed, dict) else {}
            except ValueError:
                answer = {}
            if not 200 <= response.status < 300:
                message = (answer.get("error") or {}).get("message") or ""
                error = f"HTTP {response.status} {message}".strip()
        except (EgressBlocked, EgressFailed) as failure:
            error = failure.message
        now = self.clock()
        with self.uow() as uow:
            if error is not None:
                self._fail(uow, messages, error, now)
                report.failed += len(messages)
                report.errors.append(error)
            else:
                uow.outbox.mark_delivered([m.id for m in messages], now)
                report.delivered += len(messages)
                report.rejected += self._record_rejections(uow, peer, answer, now)
            uow.commit()
        return error is None

    def _fail(self, uow: UnitOfWork, messages: list[OutboxMessage], error: str,
              now: datetime) -> None:
        delay = backoff_seconds(messages[0].attempts, cap_s=self.retry_cap_s)
        uow.outbox.mark_failed([m.id for m in messages], error,
                               now + timedelta(seconds=delay))
        logger.warning("federation: %d message(s) to %s failed (%s); next try in %.1f s",
                       len(messages), messages[0].destination, error, delay)

    def _record_rejections(self, uow: UnitOfWork, peer: Peer, answer: dict[str, Any],
                           now: datetime) -> int:
        """The peer took these but would not apply them: on record here too."""
        count = 0
        for result in answer.get("results") or []:
            if isinstance(result, dict) and result.get("status") == "rejected":
                count += 1
                record(uow, Principal.system("federation", self.node_agency_id),
                       "federation.deliver", outcome=Outcome.REJECTED, object_type=OBJECT,
                       object_id=str(result.get("id"))[:64], now=now,
                       reason=f"{peer.node_id} rejected it: {result.get('reason')}"[:500])
        return count

    def send_all_due(self) -> datetime | None:
        """One pass over every peer with pending messages; returns when the next one is due."""
        with self.uow() as uow:
            destinations = uow.outbox.destinations_with_pending(PEER)
        next_due: datetime | None = None
        for node_id in destinations:
            try:
                report = self.send_due(node_id)
            except Exception:  # one peer's trouble must not stop the others
                logger.exception("federation: sending to %s failed", node_id)
                continue
            if report.next_due is not None:
                next_due = min(next_due or report.next_due, report.next_due)
        return next_due


def _first_of_each_source(pending: Iterable[OutboxMessage]) -> dict[str, OutboxMessage]:
    first: dict[str, OutboxMessage] = {}
    for message in pending:
        first.setdefault(message.source_agency_id, message)
    return first


def _data_class(messages: list[OutboxMessage]) -> str:
    """The most sensitive class a batch carries (media when any payload has a file)."""
    if any(key.endswith("_b64") for m in messages
           for key in (m.payload.get("media") or {})):
        return "media"
    return "operational"


def _to_agency(envelope: Envelope) -> str | None:
    value = envelope.payload.get("to_agency_id")
    return str(value)[:64] if isinstance(value, str) else None


# -- use-cases for administrators (permission-checked and audited) -------------------------------

def status_for(fed: Federation, who: Principal) -> list[dict[str, Any]]:
    """Per peer node: what the caller's agency has pending there, since when, the last error
    and the last delivery (``exchange:manage``)."""
    action = "federation.status"
    now = fed.clock()
    with fed.uow() as uow:
        require(uow, who, who.can(Permission.EXCHANGE_MANAGE), action, object_type="peer")
        rows = []
        for peer in uow.peers.list():
            stats = uow.outbox.stats(PEER, peer["node_id"], who.agency_id)
            oldest = stats["oldest_pending_at"]
            rows.append({
                "node_id": peer["node_id"], "agency_id": peer["agency_id"],
                "base_url": peer["base_url"], "pending": stats["pending"],
                "oldest_pending_age_s": round((now - oldest).total_seconds(), 3)
                if oldest else None,
                "attempts": stats["attempts"], "last_error": stats["last_error"],
                "next_attempt_at": _iso(stats["next_attempt_at"]) if stats["pending"] else None,
                "last_delivered_at": _iso(stats["last_delivered_at"])})
        record(uow, who, action, object_type="peer", object_agency_id=who.agency_id,
               detail={"peers": len(rows)}, now=now)
        uow.commit()
    return rows


def retry_for(fed: Federation, who: Principal, peer_node_id: str | None = None) -> int:
    """Make what waits for a peer (or every peer) due now, skipping the backoff (admins of the
    agency operating this node, ``exchange:manage``); returns how many messages."""
    action = "federation.retry"
    with fed.uow() as uow:
        require(uow, who, who.can(Permission.EXCHANGE_MANAGE)
                and who.agency_id == fed.node_agency_id, action, object_type="peer",
                object_id=peer_node_id)
        peers = [p["node_id"] for p in uow.peers.list()]
        if peer_node_id is not None and peer_node_id not in peers:
            refuse(uow, who, action, NotFound(f"no peer node {peer_node_id[:64]!r}"),
                   object_type="peer", object_id=peer_node_id[:64])
        now = fed.clock()
        count = sum(uow.outbox.retry_now(PEER, node_id, now)
                    for node_id in ([peer_node_id] if peer_node_id else peers))
        record(uow, who, action, object_type="peer", object_id=peer_node_id,
               detail={"messages": count}, now=now)
        uow.commit()
    fed.wake()
    return count


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# -- measurements (the exchange benchmark) ------------------------------------------------------

def delivery_latencies(sender: UnitOfWorkFactory, receiver: UnitOfWorkFactory, *,
                       peer_node_id: str, sender_node_id: str,
                       since: datetime | None = None) -> list[float]:
    """Seconds from each message's commit into the sender's outbox (``created_at``) to its
    acceptance by the receiver (inbox ``received_at``), for every message both sides hold.
    Both clocks must agree (same machine in the benchmark)."""
    with sender() as uow:
        created = uow.outbox.created_times(PEER, peer_node_id, since)
    with receiver() as uow:
        received = uow.inbox.received(sender_node_id, since)
    return sorted((at - created[envelope_id]).total_seconds()
                  for envelope_id, _, _, _, at in received if envelope_id in created)


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` percentile (nearest rank) of already sorted ``values``."""
    if not values:
        raise ValueError("no values")
    index = min(len(values) - 1, max(0, round(fraction * len(values) + 0.5) - 1))
    return values[index]

