"""retention policies and legal holds

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retention_policies",
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("data_class", sa.String(length=32), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("period_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"],
                                name=op.f("fk_retention_policies_agency_id_agencies")),
        sa.PrimaryKeyConstraint("agency_id", "data_class", "camera_id",
                                name=op.f("pk_retention_policies")),
    )
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("case_reference", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("placed_by", sa.String(length=36), nullable=False),
        sa.Column("placed_by_username", sa.String(length=64), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("camera_ids", sa.JSON(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detection_ids", sa.JSON(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=36), nullable=True),
        sa.Column("released_by_username", sa.String(length=64), nullable=True),
        sa.Column("release_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"],
                                name=op.f("fk_legal_holds_agency_id_agencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_holds_agency_id"), ["agency_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_legal_holds_case_reference"), ["case_reference"],
                              unique=False)
    with op.batch_alter_table("detection_events", schema=None) as batch_op:
        batch_op.create_index("ix_detection_events_owner_agency_id_at",
                              ["owner_agency_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("detection_events", schema=None) as batch_op:
        batch_op.drop_index("ix_detection_events_owner_agency_id_at")
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_holds_case_reference"))
        batch_op.drop_index(batch_op.f("ix_legal_holds_agency_id"))
    op.drop_table("legal_holds")
    op.drop_table("retention_policies")
