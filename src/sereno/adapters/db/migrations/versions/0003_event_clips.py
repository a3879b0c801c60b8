"""event clips

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 13:51:42.404645
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("detection_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("clip_key", sa.String(length=300), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("detection_events", schema=None) as batch_op:
        batch_op.drop_column("clip_key")
