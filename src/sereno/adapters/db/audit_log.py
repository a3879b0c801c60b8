"""Storage of the tamper-evident audit log: sealing records into leaves, heads, the witness mirror.

Plain SQLAlchemy Core, in batches: sealing hashes thousands of records per transaction and keeps
only the compact frontier of the tree (``merkle.CompactRange``), so an append never re-reads the
log. Verification walks the leaves joined to the records they came from.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    String,
    func,
    insert,
    select,
    text,
    type_coerce,
    update,
)

from sereno.adapters.db import tables
from sereno.governance import merkle
from sereno.governance.transparency import (
    LEAF_FIELDS,
    TreeHead,
    leaf_bytes,
    leaf_bytes_of_values,
)

STATE_ROW = 1
# ``at`` and ``detail`` are read as the database stores them (no type processing): the leaf is
# what is on disk, and sealing skips a JSON round trip per record.
RECORD_COLUMNS = [
    type_coerce(tables.audit_records.c[name], String).label(name)
    if name in ("at", "detail") else tables.audit_records.c[name]
    for name in LEAF_FIELDS]  # the leaf's order, so that rows can be used as tuples
MISSING_RECORD = bytes(32)  # stands for a leaf whose record is gone from the database


@dataclass(frozen=True)
class StoredHead:
    head: TreeHead
    key_id: str
    witnessed_by: str | None
    witness_signature: str | None
    witnessed_at: datetime | None


class AuditLogStore:
    """The log's tables on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- sealing ----------------------------------------------------------------------------

    def _state(self, connection: Connection) -> tuple[merkle.CompactRange, int]:
        row = connection.execute(
            select(tables.audit_log_state).where(tables.audit_log_state.c.id == STATE_ROW)
            .with_for_update()).first()
        if row is None:
            return merkle.CompactRange(), 0
        return merkle.CompactRange.from_hashes(
            row.tree_size, [bytes.fromhex(h) for h in row.frontier]), row.last_record_id

    def seal_batch(self, limit: int) -> tuple[int, bytes]:
        """Hash up to ``limit`` unsealed records, oldest first, into the log (one transaction);
        returns the new size and root."""
        records = tables.audit_records
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Waits for transactions still inserting records (whose ids may be lower than
                # ones already committed) and holds new ones back until this batch is sealed,
                # so that "every id up to the high-water mark is sealed" stays true.
                connection.execute(text("LOCK TABLE audit_records IN SHARE ROW EXCLUSIVE MODE"))
            frontier, last_id = self._state(connection)
            rows = connection.execute(
                select(*RECORD_COLUMNS).where(records.c.id > last_id)
                .order_by(records.c.id).limit(limit)).mappings().all()
            if not rows:
                return frontier.size, frontier.root()
            start = frontier.size
            hashes = [merkle.leaf_hash(leaf_bytes(row)) for row in rows]
            frontier.extend(hashes)
            connection.execute(insert(tables.audit_leaves), [
                {"leaf_index": start + i, "record_id": row["id"], "leaf_hash": h.hex()}
                for i, (row, h) in enumerate(zip(rows, hashes, strict=True))])
            state = {"tree_size": frontier.size, "last_record_id": rows[-1]["id"],
                     "frontier": [h.hex() for h in frontier.hashes()]}
            changed = connection.execute(update(tables.audit_log_state)
                                         .where(tables.audit_log_state.c.id == STATE_ROW)
                                         .values(**state)).rowcount
            if not changed:
                connection.execute(insert(tables.audit_log_state).values(id=STATE_ROW, **state))
            return frontier.size, frontier.root()

    def unsealed_count(self) -> int:
        records = tables.audit_records
        with self.engine.connect() as connection:
            _, last_id = self._state(connection)
            return int(connection.scalar(select(func.count()).select_from(records)
                                         .where(records.c.id > last_id)) or 0)

    def size_and_root(self) -> tuple[int, bytes]:
        with self.engine.connect() as connection:
            frontier, _ = self._state(connection)
            return frontier.size, frontier.root()

    # -- reading ----------------------------------------------------------------------------

    def stored_leaf_hashes(self, start: int = 0, end: int | None = None) -> list[bytes]:
        """The leaf hashes as sealed, ``[start, end)``."""
        leaves = tables.audit_leaves
        query = select(leaves.c.leaf_hash).where(leaves.c.leaf_index >= start)
        if end is not None:
            query = query.where(leaves.c.leaf_index < end)
        with self.engine.connect() as connection:
            return [bytes.fromhex(h) for h in
                    connection.scalars(query.order_by(leaves.c.leaf_index))]

    def recomputed_leaves(self, start: int = 0, end: int | None = None,
                          chunk: int = 20_000) -> Iterator[tuple[int, bytes, bytes]]:
        """``(index, sealed hash, hash of the record as it is now)`` for every leaf; a record
        that disappeared gives ``MISSING_RECORD``."""
        leaves, records = tables.audit_leaves, tables.audit_records
        position = start
        with self.engine.connect() as connection:
            while end is None or position < end:
                upper = position + chunk if end is None else min(position + chunk, end)
                # Plain tuples: at a million records, per-row mapping objects cost seconds.
                rows = connection.execute(
                    select(leaves.c.leaf_index, leaves.c.leaf_hash, *RECORD_COLUMNS)
                    .select_from(leaves.outerjoin(records, records.c.id == leaves.c.record_id))
                    .where(leaves.c.leaf_index >= position, leaves.c.leaf_index < upper)
                    .order_by(leaves.c.leaf_index)).all()
                if not rows:
                    return
                for index, sealed, *values in rows:
                    now = (merkle.leaf_hash(leaf_bytes_of_values(values))
                           if values[0] is not None else MISSING_RECORD)
                    yield index, bytes.fromhex(sealed), now
                position = upper

    def record_at(self, index: int) -> dict[str, Any] | None:
        """The record sealed as leaf ``index``, as it is in the database now."""
        leaves, records = tables.audit_leaves, tables.audit_records
        with self.engine.connect() as connection:
            row = connection.execute(
                select(*RECORD_COLUMNS).select_from(
                    leaves.join(records, records.c.id == leaves.c.record_id))
                .where(leaves.c.leaf_index == index)).mappings().first()
            return dict(row) if row else None

    def leaf_indexes_of(self, object_ids: Sequence[str]) -> list[int]:
        """Leaves whose record concerns any of ``object_ids`` (evidence packages)."""
        leaves, records = tables.audit_leaves, tables.audit_records
        with self.engine.connect() as connection:
            return list(connection.scalars(
                select(leaves.c.leaf_index)
                .select_from(leaves.join(records, records.c.id == leaves.c.record_id))
                .where(records.c.object_id.in_(object_ids))
                .order_by(leaves.c.leaf_index)))

    # -- tree heads ---------------------------------------------------------------------------

    def add_head(self, head: TreeHead, key_id: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(insert(tables.audit_tree_heads).values(
                key_id=key_id, **head.as_dict()))

    def latest_head(self) -> StoredHead | None:
        heads = self.heads(limit=1)
        return heads[0] if heads else None

    def heads(self, limit: int = 50, witnessed_only: bool = False) -> list[StoredHead]:
        table = tables.audit_tree_heads
        query = select(table)
        if witnessed_only:
            query = query.where(table.c.witness_signature.is_not(None))
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(table.c.id.desc()).limit(limit)).all()
        return [StoredHead(TreeHead(r.node_id, r.tree_size, r.root_hash, r.timestamp_ms,
                                    r.signature), r.key_id, r.witnessed_by,
                           r.witness_signature, r.witnessed_at) for r in rows]

    def mark_witnessed(self, head: TreeHead, witness: str, countersignature: str,
                       at: datetime) -> None:
        table = tables.audit_tree_heads
        with self.engine.begin() as connection:
            connection.execute(update(table).where(
                table.c.tree_size == head.tree_size, table.c.root_hash == head.root_hash,
                table.c.timestamp_ms == head.timestamp_ms).values(
                witnessed_by=witness, witness_signature=countersignature, witnessed_at=at))

    # -- the witness side: what this node accepted from each peer -------------------------------

    def mirror(self, peer_node_id: str, start: int = 0, end: int | None = None) -> list[bytes]:
        table = tables.witness_mirror
        query = select(table.c.leaf_hash).where(table.c.peer_node_id == peer_node_id,
                                                table.c.leaf_index >= start)
        if end is not None:
            query = query.where(table.c.leaf_index < end)
        with self.engine.connect() as connection:
            return [bytes.fromhex(h) for h in
                    connection.scalars(query.order_by(table.c.leaf_index))]

    def last_witnessed(self, peer_node_id: str) -> TreeHead | None:
        table = tables.witnessed_heads
        with self.engine.connect() as connection:
            row = connection.execute(select(table).where(table.c.peer_node_id == peer_node_id)
                                     .order_by(table.c.id.desc()).limit(1)).first()
        if row is None:
            return None
        return TreeHead(peer_node_id, row.tree_size, row.root_hash, row.timestamp_ms,
                        row.signature)

    def accept_witnessed(self, head: TreeHead, new_hashes: Sequence[bytes], start: int,
                         countersignature: str, at: datetime) -> None:
        """Store an accepted head and extend the mirror with the leaves it added."""
        with self.engine.begin() as connection:
            if new_hashes:
                connection.execute(insert(tables.witness_mirror), [
                    {"peer_node_id": head.node_id, "leaf_index": start + i, "leaf_hash": h.hex()}
                    for i, h in enumerate(new_hashes)])
            connection.execute(insert(tables.witnessed_heads).values(
                peer_node_id=head.node_id, tree_size=head.tree_size, root_hash=head.root_hash,
                timestamp_ms=head.timestamp_ms, signature=head.signature,
                countersignature=countersignature, received_at=at))
