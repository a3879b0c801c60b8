"""The transactional outbox and the federation inbox.

A message is added to ``exchange_outbox`` in the same transaction as the change that caused it,
so what is committed is sent and what is rolled back never is. Senders read the pending messages
of one destination in ``seq`` order and mark them delivered or failed (with the next attempt's
time): a message is never removed, so what was sent, when and after how many tries stays on
record. The inbox remembers every envelope id accepted from a peer: receiving twice is a no-op.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, func, insert, select, text, update
from sqlalchemy.orm import Session

from sereno.adapters.db.tables import exchange_inbox, exchange_outbox

# A sender may sleep until something is enqueued: the session factory carries its wake-up
# callback in ``info[WAKE]``; the callback runs after the enqueuing transaction commits.
WAKE = "sereno.outbox.wake"
_ENQUEUED = "sereno.outbox.enqueued"


@event.listens_for(Session, "after_commit")
def _wake_senders(session: Session) -> None:
    if session.info.pop(_ENQUEUED, False):
        wake = session.info.get(WAKE)
        if wake is not None:
            wake()


@event.listens_for(Session, "after_rollback")
def _forget_enqueued(session: Session) -> None:
    session.info.pop(_ENQUEUED, None)


def _lock_stream(session: Session, *names: str) -> None:
    """On PostgreSQL, serialise the transactions writing one stream until they commit, so that
    ``seq`` values are unique and become visible in order (SQLite's BEGIN IMMEDIATE already
    serialises every writer)."""
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32("\x1f".join(names).encode()) - 2**31
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


@dataclass(frozen=True)
class OutboxMessage:
    id: str
    seq: int
    destination_kind: str
    destination: str
    source_agency_id: str
    kind: str
    payload: dict[str, Any]
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_error: str | None


class OutboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def enqueue(self, *, destination_kind: str, destination: str, source_agency_id: str,
                kind: str, payload: dict[str, Any], now: datetime,
                message_id: str | None = None) -> str:
        """Add a message after the destination's last one (in the caller's transaction);
        returns its id. ``seq`` grows per (destination kind, destination)."""
        _lock_stream(self.session, "outbox", destination_kind, destination)
        last = self.session.scalar(
            select(func.max(exchange_outbox.c.seq))
            .where(exchange_outbox.c.destination_kind == destination_kind,
                   exchange_outbox.c.destination == destination))
        message_id = message_id or str(uuid.uuid4())
        self.session.execute(insert(exchange_outbox).values(
            id=message_id, seq=(last or 0) + 1, destination_kind=destination_kind,
            destination=destination, source_agency_id=source_agency_id, kind=kind,
            payload=payload, created_at=now, attempts=0, next_attempt_at=now,
            delivered_at=None, last_error=None))
        self.session.info[_ENQUEUED] = True
        return message_id

    def pending(self, destination_kind: str, destination: str | None = None, *,
                limit: int = 100) -> list[OutboxMessage]:
        """Undelivered messages, oldest first (of one destination, or of all of a kind)."""
        query = select(exchange_outbox).where(
            exchange_outbox.c.destination_kind == destination_kind,
            exchange_outbox.c.delivered_at.is_(None))
        if destination is not None:
            query = query.where(exchange_outbox.c.destination == destination)
        query = query.order_by(exchange_outbox.c.destination, exchange_outbox.c.seq).limit(limit)
        return [OutboxMessage(**row._mapping) for row in self.session.execute(query)]

    def destinations_with_pending(self, destination_kind: str) -> list[str]:
        """Destinations of a kind that still have something to send."""
        query = (select(exchange_outbox.c.destination).distinct()
                 .where(exchange_outbox.c.destination_kind == destination_kind,
                        exchange_outbox.c.delivered_at.is_(None)))
        return sorted(str(d) for d in self.session.scalars(query))

    def mark_delivered(self, message_ids: Sequence[str], now: datetime) -> None:
        if message_ids:
            self.session.execute(
                update(exchange_outbox).where(exchange_outbox.c.id.in_(list(message_ids)))
                .values(delivered_at=now, attempts=exchange_outbox.c.attempts + 1,
                        last_error=None))

    def mark_failed(self, message_ids: Sequence[str], error: str,
                    next_attempt_at: datetime) -> None:
        if message_ids:
            self.session.execute(
                update(exchange_outbox).where(exchange_outbox.c.id.in_(list(message_ids)))
                .values(attempts=exchange_outbox.c.attempts + 1, last_error=error[:500],
                        next_attempt_at=next_attempt_at))

    def get(self, message_id: str) -> OutboxMessage | None:
        row = self.session.execute(
            select(exchange_outbox).where(exchange_outbox.c.id == message_id)).first()
        return OutboxMessage(**row._mapping) if row else None

    def previous_seq(self, destination_kind: str, destination: str, source_agency_id: str,
                     before: int) -> int:
        """The ``seq`` of the source's message to the destination just before ``before``
        (0: none), whatever its state."""
        value = self.session.scalar(
            select(func.max(exchange_outbox.c.seq))
            .where(exchange_outbox.c.destination_kind == destination_kind,
                   exchange_outbox.c.destination == destination,
                   exchange_outbox.c.source_agency_id == source_agency_id,
                   exchange_outbox.c.seq < before))
        return int(value or 0)

    def stats(self, destination_kind: str, destination: str,
              source_agency_id: str | None = None) -> dict[str, Any]:
        """Pending count, oldest pending creation time, the head's last error and attempts,
        and the last delivery, of one destination (optionally of one source agency)."""
        where = [exchange_outbox.c.destination_kind == destination_kind,
                 exchange_outbox.c.destination == destination]
        if source_agency_id is not None:
            where.append(exchange_outbox.c.source_agency_id == source_agency_id)
        pending = exchange_outbox.c.delivered_at.is_(None)
        count, oldest = self.session.execute(
            select(func.count(), func.min(exchange_outbox.c.created_at))
            .where(*where, pending)).one()
        head = self.session.execute(
            select(exchange_outbox.c.last_error, exchange_outbox.c.attempts,
                   exchange_outbox.c.next_attempt_at)
            .where(*where, pending).order_by(exchange_outbox.c.seq).limit(1)).first()
        delivered = self.session.scalar(
            select(func.max(exchange_outbox.c.delivered_at)).where(*where))
        return {"pending": int(count), "oldest_pending_at": oldest,
                "last_error": head.last_error if head else None,
                "attempts": int(head.attempts) if head else 0,
                "next_attempt_at": head.next_attempt_at if head else None,
                "last_delivered_at": delivered}

    def retry_now(self, destination_kind: str, destination: str, now: datetime) -> int:
        """Make every pending message of a destination due now; returns how many."""
        result = self.session.execute(
            update(exchange_outbox)
            .where(exchange_outbox.c.destination_kind == destination_kind,
                   exchange_outbox.c.destination == destination,
                   exchange_outbox.c.delivered_at.is_(None))
            .values(next_attempt_at=now))
        return int(getattr(result, "rowcount", 0) or 0)

    def created_times(self, destination_kind: str, destination: str,
                      since: datetime | None = None) -> dict[str, datetime]:
        """Message id → creation time (delivery latency measurements)."""
        query = select(exchange_outbox.c.id, exchange_outbox.c.created_at).where(
            exchange_outbox.c.destination_kind == destination_kind,
            exchange_outbox.c.destination == destination)
        if since is not None:
            query = query.where(exchange_outbox.c.created_at >= since)
        return {str(i): at for i, at in self.session.execute(query)}


class InboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def seen(self, envelope_id: str) -> bool:
        found = self.session.scalar(select(exchange_inbox.c.envelope_id)
                                    .where(exchange_inbox.c.envelope_id == envelope_id))
        return found is not None

    def last_seq(self, peer_node_id: str, source_agency_id: str) -> int:
        """The highest ``seq`` accepted from one source of one peer (0: none yet)."""
        value = self.session.scalar(
            select(func.max(exchange_inbox.c.seq))
            .where(exchange_inbox.c.peer_node_id == peer_node_id,
                   exchange_inbox.c.source_agency_id == source_agency_id))
        return int(value or 0)

    def lock_source(self, peer_node_id: str, source_agency_id: str) -> None:
        """Serialise receivers of one (peer, source) stream until commit (PostgreSQL)."""
        _lock_stream(self.session, "inbox", peer_node_id, source_agency_id)

    def received(self, peer_node_id: str, since: datetime | None = None
                 ) -> list[tuple[str, str, int, str, datetime]]:
        """(envelope id, source agency, seq, kind, received time) of one peer, in order."""
        query = select(exchange_inbox.c.envelope_id, exchange_inbox.c.source_agency_id,
                       exchange_inbox.c.seq, exchange_inbox.c.kind,
                       exchange_inbox.c.received_at).where(
            exchange_inbox.c.peer_node_id == peer_node_id)
        if since is not None:
            query = query.where(exchange_inbox.c.received_at >= since)
        query = query.order_by(exchange_inbox.c.source_agency_id, exchange_inbox.c.seq)
        return [(str(a), str(b), int(c), str(d), e) for a, b, c, d, e in
                self.session.execute(query)]

    def add(self, *, envelope_id: str, peer_node_id: str, source_agency_id: str, seq: int,
            kind: str, now: datetime) -> None:
        self.session.execute(insert(exchange_inbox).values(
            envelope_id=envelope_id, peer_node_id=peer_node_id,
            source_agency_id=source_agency_id, seq=seq, kind=kind, received_at=now))
