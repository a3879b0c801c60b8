"""camera rules and detection events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 13:31:49.489323
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "camera_rules",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "zone", "line", "loiter", "crowd", name="rulekind", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("points", sa.JSON(), nullable=False),
        sa.Column("classes", sa.JSON(), nullable=False),
        sa.Column(
            "direction",
            sa.Enum(
                "any",
                "left_to_right",
                "right_to_left",
                name="direction",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("dwell_s", sa.Float(), nullable=False),
        sa.Column("min_count", sa.Integer(), nullable=False),
        sa.Column("cooldown_s", sa.Float(), nullable=False),
        sa.Column("schedule", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_camera_rules_camera_id_cameras")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_rules")),
    )
    with op.batch_alter_table("camera_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_camera_rules_camera_id"), ["camera_id"], unique=False)

    op.create_table(
        "detection_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("owner_agency_id", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=36), nullable=True),
        sa.Column("rule_kind", sa.String(length=16), nullable=False),
        sa.Column("classes", sa.JSON(), nullable=False),
        sa.Column("track_ids", sa.JSON(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("box", sa.JSON(), nullable=False),
        sa.Column("snapshot_key", sa.String(length=300), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"], ["cameras.id"], name=op.f("fk_detection_events_camera_id_cameras")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detection_events")),
    )
    with op.batch_alter_table("detection_events", schema=None) as batch_op:
        batch_op.create_index("ix_detection_events_camera_at", ["camera_id", "at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("detection_events", schema=None) as batch_op:
        batch_op.drop_index("ix_detection_events_camera_at")

    op.drop_table("detection_events")
    with op.batch_alter_table("camera_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_camera_rules_camera_id"))

    op.drop_table("camera_rules")
