"""alerts and inter-agency exchange

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cap_messages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("identifier", sa.String(length=255), nullable=False),
        sa.Column("sent", sa.String(length=32), nullable=False),
        sa.Column("msg_type", sa.String(length=16), nullable=False),
        sa.Column("alert_id", sa.String(length=36), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(length=64), nullable=False),
        sa.Column("signed_by", sa.String(length=64), nullable=True),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cap_messages")),
        sa.UniqueConstraint(
            "agency_id",
            "sender",
            "identifier",
            "sent",
            name="uq_cap_messages_agency_id_sender_identifier_sent",
        ),
    )
    op.create_table(
        "exchange_inbox",
        sa.Column("envelope_id", sa.String(length=36), nullable=False),
        sa.Column("peer_node_id", sa.String(length=64), nullable=False),
        sa.Column("source_agency_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("envelope_id", name=op.f("pk_exchange_inbox")),
    )
    with op.batch_alter_table("exchange_inbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exchange_inbox_source", ["peer_node_id", "source_agency_id", "seq"], unique=False
        )

    op.create_table(
        "exchange_outbox",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("destination_kind", sa.String(length=16), nullable=False),
        sa.Column("destination", sa.String(length=64), nullable=False),
        sa.Column("source_agency_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_outbox")),
    )
    with op.batch_alter_table("exchange_outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exchange_outbox_pending",
            ["destination_kind", "destination", "delivered_at", "seq"],
            unique=False,
        )

    op.create_table(
        "alert_subscriptions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("destination_id", sa.String(length=36), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("min_severity", sa.String(length=16), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_alert_subscriptions_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_subscriptions")),
    )
    with op.batch_alter_table("alert_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_subscriptions_agency_id"), ["agency_id"], unique=False
        )

    op.create_table(
        "alerts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("certainty", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=160), nullable=False),
        sa.Column("headline", sa.String(length=160), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raised_by", sa.String(length=64), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("area", sa.JSON(), nullable=True),
        sa.Column("camera_ids", sa.JSON(), nullable=False),
        sa.Column("detection_ids", sa.JSON(), nullable=False),
        sa.Column("snapshot_key", sa.String(length=300), nullable=True),
        sa.Column("clip_key", sa.String(length=300), nullable=True),
        sa.Column("rule_id", sa.String(length=36), nullable=True),
        sa.Column("correlation_key", sa.String(length=200), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assigned_to", sa.String(length=64), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dismissed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dismiss_reason", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=True),
        sa.Column("origin_agency_id", sa.String(length=64), nullable=True),
        sa.Column("origin_node", sa.String(length=64), nullable=True),
        sa.Column("origin_alert_id", sa.String(length=64), nullable=True),
        sa.Column("redacted", sa.Boolean(), nullable=False),
        sa.Column("media_withheld", sa.Boolean(), nullable=False),
        sa.Column("cap_sender", sa.String(length=255), nullable=True),
        sa.Column("cap_identifier", sa.String(length=255), nullable=True),
        sa.Column("cap_sent", sa.String(length=32), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_alerts_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_alerts_agency_id_raised_at", ["agency_id", "raised_at"], unique=False
        )
        batch_op.create_index("ix_alerts_cap", ["cap_sender", "cap_identifier"], unique=False)
        batch_op.create_index("ix_alerts_correlation_key", ["correlation_key"], unique=False)
        batch_op.create_index(
            "ix_alerts_origin", ["origin_agency_id", "origin_alert_id"], unique=False
        )

    op.create_table(
        "sharing_agreements",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("from_agency_id", sa.String(length=64), nullable=False),
        sa.Column("to_agency_id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=160), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("min_severity", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("include_media", sa.Boolean(), nullable=False),
        sa.Column("redact_faces", sa.Boolean(), nullable=False),
        sa.Column("redact_plates", sa.Boolean(), nullable=False),
        sa.Column("share_footage", sa.Boolean(), nullable=False),
        sa.Column("share_watchlists", sa.Boolean(), nullable=False),
        sa.Column("area", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["from_agency_id"],
            ["agencies.id"],
            name=op.f("fk_sharing_agreements_from_agency_id_agencies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_agreements")),
    )
    with op.batch_alter_table("sharing_agreements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sharing_agreements_from_agency_id"), ["from_agency_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sharing_agreements_to_agency_id"), ["to_agency_id"], unique=False
        )

    op.create_table(
        "alert_actions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("alert_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_actions_alert_id_alerts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_actions")),
    )
    with op.batch_alter_table("alert_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_actions_alert_id"), ["alert_id"], unique=False)

    with op.batch_alter_table("plate_watchlist", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("published", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("plate_watchlist", schema=None) as batch_op:
        batch_op.drop_column("published")

    with op.batch_alter_table("alert_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_actions_alert_id"))

    op.drop_table("alert_actions")
    with op.batch_alter_table("sharing_agreements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharing_agreements_to_agency_id"))
        batch_op.drop_index(batch_op.f("ix_sharing_agreements_from_agency_id"))

    op.drop_table("sharing_agreements")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_origin")
        batch_op.drop_index("ix_alerts_correlation_key")
        batch_op.drop_index("ix_alerts_cap")
        batch_op.drop_index("ix_alerts_agency_id_raised_at")

    op.drop_table("alerts")
    with op.batch_alter_table("alert_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_subscriptions_agency_id"))

    op.drop_table("alert_subscriptions")
    with op.batch_alter_table("exchange_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_exchange_outbox_pending")

    op.drop_table("exchange_outbox")
    with op.batch_alter_table("exchange_inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_exchange_inbox_source")

    op.drop_table("exchange_inbox")
    op.drop_table("cap_messages")
