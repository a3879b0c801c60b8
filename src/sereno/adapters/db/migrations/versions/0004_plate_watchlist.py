"""plate watchlist

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 13:55:25.172788
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "plate_watchlist",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("plate", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tolerance", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_plate_watchlist_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plate_watchlist")),
    )
    with op.batch_alter_table("plate_watchlist", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plate_watchlist_agency_id"), ["agency_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_plate_watchlist_plate"), ["plate"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("plate_watchlist", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plate_watchlist_plate"))
        batch_op.drop_index(batch_op.f("ix_plate_watchlist_agency_id"))

    op.drop_table("plate_watchlist")
