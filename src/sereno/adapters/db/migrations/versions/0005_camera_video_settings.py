"""camera video settings

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 14:05:48.539840
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.add_column(sa.Column("video", sa.JSON(), server_default="{}", nullable=False))


def downgrade() -> None:

    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_column("video")
