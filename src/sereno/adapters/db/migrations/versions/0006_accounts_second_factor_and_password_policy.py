"""accounts second factor and password policy

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("totp_pending", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("totp_enrolled_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("password_changed_at", sa.DateTime(timezone=True),
                                      nullable=True))

    op.create_table(
        "login_challenges",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_challenges_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_challenges")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_challenges_token_hash")),
    )
    with op.batch_alter_table("login_challenges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_challenges_user_id"), ["user_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("login_challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_challenges_user_id"))

    op.drop_table("login_challenges")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("password_changed_at")
        batch_op.drop_column("totp_enrolled_at")
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_pending")
        batch_op.drop_column("totp_secret")
