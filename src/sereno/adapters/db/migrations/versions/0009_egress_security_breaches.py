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

    op.create_table(
        "egress_destinations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("scheme", sa.String(length=8), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("path_prefix", sa.String(length=500), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("registered_by_id", sa.String(length=36), nullable=False),
        sa.Column("registered_by", sa.String(length=64), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by_id", sa.String(length=36), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"],
            name=op.f("fk_egress_destinations_agency_id_agencies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_egress_destinations")),
    )
    with op.batch_alter_table("egress_destinations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_egress_destinations_agency_id"), ["agency_id"])

    op.create_table(
        "breach_cases",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(length=64), nullable=False),
        sa.Column("high_risk", sa.Boolean(), nullable=False),
        sa.Column("data_classes", sa.JSON(), nullable=False),
        sa.Column("camera_ids", sa.JSON(), nullable=False),
        sa.Column("records", sa.JSON(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("authority_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("authority_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("authority_sent_by", sa.String(length=64), nullable=True),
        sa.Column("authority_reference", sa.String(length=200), nullable=True),
        sa.Column("subjects_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("subjects_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("subjects_sent_by", sa.String(length=64), nullable=True),
        sa.Column("subjects_reference", sa.String(length=200), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_breach_cases_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breach_cases")),
    )
    with op.batch_alter_table("breach_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_breach_cases_agency_id"), ["agency_id"])

    op.create_table(
        "impact_assessments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("centre_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("processing", sa.Text(), nullable=False),
        sa.Column("necessity", sa.Text(), nullable=False),
        sa.Column("risks", sa.Text(), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.String(length=36), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approval_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"],
            name=op.f("fk_impact_assessments_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["monitoring_centres.id"],
            name=op.f("fk_impact_assessments_centre_id_monitoring_centres"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_impact_assessments")),
    )
    with op.batch_alter_table("impact_assessments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_impact_assessments_agency_id"), ["agency_id"])
        batch_op.create_index(batch_op.f("ix_impact_assessments_centre_id"), ["centre_id"])


def downgrade() -> None:
    with op.batch_alter_table("impact_assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_impact_assessments_centre_id"))
        batch_op.drop_index(batch_op.f("ix_impact_assessments_agency_id"))
    op.drop_table("impact_assessments")
    with op.batch_alter_table("breach_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_breach_cases_agency_id"))
    op.drop_table("breach_cases")
    with op.batch_alter_table("egress_destinations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_egress_destinations_agency_id"))
    op.drop_table("egress_destinations")
    with op.batch_alter_table("security_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_security_alerts_raised_at"))
        batch_op.drop_index(batch_op.f("ix_security_alerts_agency_id"))
    op.drop_table("security_alerts")
