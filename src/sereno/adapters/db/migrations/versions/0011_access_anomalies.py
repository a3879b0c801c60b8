"""access anomalies: shifts, per-user daily access counts, findings, scan position

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 12:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shift_schedules",
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("schedule", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_shift_schedules_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("agency_id", "subject_type", "subject",
                                name=op.f("pk_shift_schedules")),
    )
    op.create_table(
        "access_daily_counts",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "day", "category",
                                name=op.f("pk_access_daily_counts")),
    )
    op.create_index(op.f("ix_access_daily_counts_agency_id"), "access_daily_counts",
                    ["agency_id"])
    op.create_table(
        "anomaly_findings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("detector", sa.String(length=32), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("alert_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anomaly_findings")),
    )
    op.create_index(op.f("ix_anomaly_findings_dedup_key"), "anomaly_findings", ["dedup_key"])
    state = op.create_table(
        "anomaly_scan_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_record_id", sa.BigInteger(), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anomaly_scan_state")),
    )
    # The one row exists from the start, so that concurrent scanners always find it to lock.
    op.bulk_insert(state, [{"id": 1, "last_record_id": 0,
                            "scanned_at": datetime(1970, 1, 1, tzinfo=UTC)}])
    op.create_index("ix_audit_records_actor_user_id_at", "audit_records",
                    ["actor_user_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_records_actor_user_id_at", table_name="audit_records")
    op.drop_table("anomaly_scan_state")
    op.drop_index(op.f("ix_anomaly_findings_dedup_key"), table_name="anomaly_findings")
    op.drop_table("anomaly_findings")
    op.drop_index(op.f("ix_access_daily_counts_agency_id"), table_name="access_daily_counts")
    op.drop_table("access_daily_counts")
    op.drop_table("shift_schedules")
