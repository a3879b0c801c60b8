"""registered CAP sources and their pinned signing certificates

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25 18:34:34
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cap_sources",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("require_signature", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("registered_by", sa.String(length=64), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_by", sa.String(length=64), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_cap_sources_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cap_sources")),
    )
    with op.batch_alter_table("cap_sources", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cap_sources_agency_id_sender", ["agency_id", "sender"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("cap_sources", schema=None) as batch_op:
        batch_op.drop_index("ix_cap_sources_agency_id_sender")

    op.drop_table("cap_sources")
