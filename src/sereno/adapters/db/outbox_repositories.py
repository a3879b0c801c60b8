"""The transactional outbox and the federation inbox.

A message is added to ``exchange_outbox`` in the same transaction as the change that caused it,
so what is committed is sent and what is rolled back never is. Senders read the pending messages
of one destination in ``seq`` order and mark them delivered or failed (with the next attempt's
time): a message is never removed, so what was sent, when and after how many tries stays on
record. The inbox remembers every envelope id accepted from a peer: receiving twice is a no-op.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from sereno.adapters.db.tables import exchange_inbox, exchange_outbox


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

    def add(self, *, envelope_id: str, peer_node_id: str, source_agency_id: str, seq: int,
            kind: str, now: datetime) -> None:
        self.session.execute(insert(exchange_inbox).values(
            envelope_id=envelope_id, peer_node_id=peer_node_id,
            source_agency_id=source_agency_id, seq=seq, kind=kind, received_at=now))
