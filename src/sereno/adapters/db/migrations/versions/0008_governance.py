"""governance: tamper-evident audit, policy, break-glass, evidence, egress, breaches

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("published_by", sa.String(64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_policy_versions"),
    )
    op.create_table(
        "access_profiles",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("clearance", sa.Integer(), nullable=False),
        sa.Column("centre_ids", sa.JSON(), nullable=False),
        sa.Column("camera_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name="fk_access_profiles_user_id_users"),
        sa.PrimaryKeyConstraint("user_id", name="pk_access_profiles"),
    )
    op.create_table(
        "investigation_cases",
        sa.Column("agency_id", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("opened_by", sa.String(64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"],
                                name="fk_investigation_cases_agency_id_agencies"),
        sa.PrimaryKeyConstraint("agency_id", "reference", name="pk_investigation_cases"),
    )
    op.create_table(
        "break_glass_accesses",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("agency_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object_type", sa.String(32), nullable=False),
        sa.Column("object_id", sa.String(128), nullable=False),
        sa.Column("justification", sa.String(500), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("review_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(36), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verdict", sa.String(16), nullable=True),
        sa.Column("review_note", sa.String(1000), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"],
                                name="fk_break_glass_accesses_agency_id_agencies"),
        sa.PrimaryKeyConstraint("id", name="pk_break_glass_accesses"),
    )
    op.create_index("ix_break_glass_accesses_agency_id", "break_glass_accesses", ["agency_id"])
    op.create_table(
        "audit_leaves",
        sa.Column("leaf_index", BIG_ID, autoincrement=False, nullable=False),
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        sa.Column("leaf_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("leaf_index", name="pk_audit_leaves"),
        sa.UniqueConstraint("record_id", name="uq_audit_leaves_record_id"),
    )
    op.create_table(
        "audit_log_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.JSON(), nullable=False),
        sa.Column("last_record_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log_state"),
    )
    op.create_table(
        "audit_tree_heads",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("witnessed_by", sa.String(64), nullable=True),
        sa.Column("witness_signature", sa.String(128), nullable=True),
        sa.Column("witnessed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_tree_heads"),
    )
    op.create_index("ix_audit_tree_heads_tree_size", "audit_tree_heads", ["tree_size"])
    op.create_table(
        "peer_nodes",
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("agency_id", sa.String(64), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("base_url", sa.String(500), nullable=False),
        sa.Column("registered_by", sa.String(64), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("node_id", name="pk_peer_nodes"),
    )
    op.create_table(
        "witnessed_heads",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("peer_node_id", sa.String(64), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("countersignature", sa.String(128), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["peer_node_id"], ["peer_nodes.node_id"],
                                name="fk_witnessed_heads_peer_node_id_peer_nodes"),
        sa.PrimaryKeyConstraint("id", name="pk_witnessed_heads"),
    )
    op.create_index("ix_witnessed_heads_peer_node_id", "witnessed_heads", ["peer_node_id"])
    op.create_table(
        "witness_mirror",
        sa.Column("peer_node_id", sa.String(64), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("leaf_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("peer_node_id", "leaf_index", name="pk_witness_mirror"),
    )


def downgrade() -> None:
    for table in ("witness_mirror", "witnessed_heads", "peer_nodes", "audit_tree_heads",
                  "audit_log_state", "audit_leaves", "break_glass_accesses",
                  "investigation_cases", "access_profiles", "policy_versions"):
        op.drop_table(table)
