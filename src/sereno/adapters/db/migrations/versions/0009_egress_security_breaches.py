"""egress control, security alerts, breach register, impact assessments

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "security_alerts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledge_note", sa.Text(), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_security_alerts_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_alerts")),
    )
    with op.batch_alter_table("security_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_security_alerts_agency_id"), ["agency_id"])
        batch_op.create_index(batch_op.f("ix_security_alerts_raised_at"), ["raised_at"])


def downgrade() -> None:
    with op.batch_alter_table("security_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_security_alerts_raised_at"))
        batch_op.drop_index(batch_op.f("ix_security_alerts_agency_id"))
    op.drop_table("security_alerts")
