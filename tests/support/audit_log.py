"""Tampering with a node's audit log the way an administrator with database access would."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update

from sereno.adapters.db import tables
from sereno.bootstrap import Platform
from sereno.governance import merkle


def edit_record(platform: Platform, leaf_index: int, **values: Any) -> None:
    """Change the audit record sealed as ``leaf_index`` behind Sereno's back."""
    records, leaves = tables.audit_records, tables.audit_leaves
    with platform.engine.begin() as connection:
        record_id = connection.scalar(select(leaves.c.record_id)
                                      .where(leaves.c.leaf_index == leaf_index))
        connection.execute(update(records).where(records.c.id == record_id).values(**values))


def cover_up(platform: Platform) -> None:
    """Make the node's own checks pass again after an edit: re-hash every leaf from the rows as
    they are, rebuild the tree's state and delete every signed head."""
    current, _ = platform.audit_log.current_leaf_hashes()
    leaves = tables.audit_leaves
    with platform.engine.begin() as connection:
        for index, leaf in enumerate(current):
            connection.execute(update(leaves).where(leaves.c.leaf_index == index)
                               .values(leaf_hash=leaf.hex()))
        frontier = merkle.CompactRange.from_leaf_hashes(current)
        connection.execute(update(tables.audit_log_state).values(
            tree_size=frontier.size, frontier=[h.hex() for h in frontier.hashes()]))
        connection.execute(delete(tables.audit_tree_heads))
