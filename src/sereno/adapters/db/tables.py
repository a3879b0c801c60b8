"""Table definitions. The domain classes are mapped onto them in ``mapping`` (imperative mapping),
so the domain model never imports SQLAlchemy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)

from sereno.domain.rules import Schedule, parse_schedule, schedule_to_dict

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every engine (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


agencies = Table(
    "agencies", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
)

monitoring_centres = Table(
    "monitoring_centres", metadata,
    Column("id", String(64), primary_key=True),
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
)

cameras = Table(
    "cameras", metadata,
    Column("id", String(64), primary_key=True),
    Column("owner_agency_id", String(64), ForeignKey("agencies.id"), nullable=False, index=True),
    Column("centre_id", String(64), ForeignKey("monitoring_centres.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("heading_deg", Float, nullable=False),
    Column("fov_deg", Float, nullable=False),
    Column("range_m", Float, nullable=False),
    Column("main_stream_url", Text, nullable=False),
    Column("sub_stream_url", Text, nullable=True),
    Column("status", String(16), nullable=False, index=True),
    Column("classification", String(16), nullable=False),
    Column("tags", JSON, nullable=False),
    Column("privacy_masks", JSON, nullable=False),
    Column("video", JSON, nullable=False, server_default="{}"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("retired_at", UtcDateTime, nullable=True),
)

users = Table(
    "users", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=False, index=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("roles", JSON, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("failed_logins", Integer, nullable=False),
    Column("first_failure_at", UtcDateTime, nullable=True),
    Column("locked_until", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # The TOTP secret and a pending one, sealed (AES-GCM) with a key kept outside the database.
    Column("totp_secret", String(200), nullable=True),
    Column("totp_pending", String(200), nullable=True),
    Column("totp_last_step", BigInteger, nullable=True),
    Column("totp_enrolled_at", UtcDateTime, nullable=True),
    Column("password_changed_at", UtcDateTime, nullable=True),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("scopes", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

web_sessions = Table(
    "web_sessions", metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
)

# A console login between its password and its one-time code: the password was right for
# ``user_id``; the browser holds the random value whose SHA-256 is ``token_hash``.
login_challenges = Table(
    "login_challenges", metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
)

audit_records = Table(
    "audit_records", metadata,
    # Monotonic index: the position of the record in the log (the Merkle leaf index later).
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("action", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("actor_user_id", String(36), nullable=True),
    Column("actor_username", String(64), nullable=True),
    Column("actor_agency_id", String(64), nullable=True),
    Column("actor_roles", String(200), nullable=True),
    Column("channel", String(16), nullable=False),
    Column("address", String(64), nullable=True),
    Column("object_type", String(32), nullable=True),
    Column("object_id", String(128), nullable=True),
    Column("object_agency_id", String(64), nullable=True),
    Column("purpose", String(500), nullable=True),
    Column("reason", String(500), nullable=True),
    Column("detail", JSON, nullable=False),
)


class ScheduleJson(TypeDecorator[Schedule]):
    """A rule's schedule stored as JSON, read back as the domain's ``Schedule``."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Schedule | None, dialect: Dialect) -> Any:
        return None if value is None else schedule_to_dict(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Schedule | None:
        return None if value is None else parse_schedule(value)


camera_rules = Table(
    "camera_rules", metadata,
    Column("id", String(36), primary_key=True),
    Column("camera_id", String(64), ForeignKey("cameras.id"), nullable=False, index=True),
    Column("name", String(120), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("points", JSON, nullable=False),
    Column("classes", JSON, nullable=False),
    Column("direction", String(16), nullable=False),
    Column("dwell_s", Float, nullable=False),
    Column("min_count", Integer, nullable=False),
    Column("cooldown_s", Float, nullable=False),
    Column("schedule", ScheduleJson, nullable=False),
    Column("enabled", Boolean, nullable=False),
)

detection_events = Table(
    "detection_events", metadata,
    Column("id", String(36), primary_key=True),
    Column("camera_id", String(64), ForeignKey("cameras.id"), nullable=False),
    Column("owner_agency_id", String(64), nullable=False),
    Column("rule_id", String(36), nullable=True),
    Column("rule_kind", String(16), nullable=False),
    Column("classes", JSON, nullable=False),
    Column("track_ids", JSON, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("box", JSON, nullable=False),
    Column("snapshot_key", String(300), nullable=True),
    Column("clip_key", String(300), nullable=True),
    Column("at", UtcDateTime, nullable=False),
    Column("detail", JSON, nullable=False),
)
Index("ix_detection_events_camera_at", detection_events.c.camera_id, detection_events.c.at)

plate_watchlist = Table(
    "plate_watchlist", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=False, index=True),
    Column("plate", String(16), nullable=False, index=True),
    Column("reason", String(300), nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("tolerance", Integer, nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # Published to partner agencies whose agreements share watchlists (issue 5).
    Column("published", Boolean, nullable=False, server_default=false()),
)

Index("ix_audit_records_actor_agency_id", audit_records.c.actor_agency_id)
Index("ix_audit_records_object_agency_id", audit_records.c.object_agency_id)
Index("ix_audit_records_object", audit_records.c.object_type, audit_records.c.object_id)

# -- retention policies and legal holds (issue 4) -----------------------------------------------

# An agency's retention period per data class; ``camera_id`` is "" for the agency-wide line and
# a camera id for a camera's own recording period.
retention_policies = Table(
    "retention_policies", metadata,
    Column("agency_id", String(64), ForeignKey("agencies.id"), primary_key=True),
    Column("data_class", String(32), primary_key=True),
    Column("camera_id", String(64), primary_key=True),
    Column("period_days", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String(64), nullable=False),
)

legal_holds = Table(
    "legal_holds", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=False, index=True),
    Column("case_reference", String(32), nullable=False, index=True),
    Column("reason", String(500), nullable=False),
    Column("placed_by", String(36), nullable=False),
    Column("placed_by_username", String(64), nullable=False),
    Column("placed_at", UtcDateTime, nullable=False),
    Column("camera_ids", JSON, nullable=False),
    Column("start_at", UtcDateTime, nullable=True),
    Column("end_at", UtcDateTime, nullable=True),
    Column("detection_ids", JSON, nullable=False),
    Column("released_at", UtcDateTime, nullable=True),
    Column("released_by", String(36), nullable=True),
    Column("released_by_username", String(64), nullable=True),
    Column("release_reason", String(500), nullable=True),
)

# The purge looks for an agency's detections older than a period.
Index("ix_detection_events_owner_agency_id_at", detection_events.c.owner_agency_id,
      detection_events.c.at)

# -- security alerts, egress registry, breach register, impact assessments (issue 4) -----------

security_alerts = Table(
    "security_alerts", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("summary", String(300), nullable=False),
    Column("detail", JSON, nullable=False),
    Column("raised_at", UtcDateTime, nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("acknowledged_by", String(64), nullable=True),
    Column("acknowledged_at", UtcDateTime, nullable=True),
    Column("acknowledge_note", Text, nullable=True),
    Column("closed_by", String(64), nullable=True),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("close_note", Text, nullable=True),
)

egress_destinations = Table(
    "egress_destinations", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=False, index=True),
    Column("name", String(120), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("scheme", String(8), nullable=False),
    Column("host", String(253), nullable=False),
    Column("port", Integer, nullable=False),
    Column("path_prefix", String(500), nullable=False),
    Column("note", String(500), nullable=True),
    Column("registered_by_id", String(36), nullable=False),
    Column("registered_by", String(64), nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("approved_by_id", String(36), nullable=True),
    Column("approved_by", String(64), nullable=True),
    Column("approved_at", UtcDateTime, nullable=True),
    Column("revoked_by", String(64), nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("revoke_reason", String(500), nullable=True),
)

breach_cases = Table(
    "breach_cases", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=False, index=True),
    Column("trigger", String(32), nullable=False),
    Column("description", Text, nullable=False),
    Column("detected_at", UtcDateTime, nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("opened_by", String(64), nullable=False),
    Column("high_risk", Boolean, nullable=False),
    Column("data_classes", JSON, nullable=False),
    Column("camera_ids", JSON, nullable=False),
    Column("records", JSON, nullable=False),
    Column("detail", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("authority_due_at", UtcDateTime, nullable=False),
    Column("authority_sent_at", UtcDateTime, nullable=True),
    Column("authority_sent_by", String(64), nullable=True),
    Column("authority_reference", String(200), nullable=True),
    Column("subjects_due_at", UtcDateTime, nullable=True),
    Column("subjects_sent_at", UtcDateTime, nullable=True),
    Column("subjects_sent_by", String(64), nullable=True),
    Column("subjects_reference", String(200), nullable=True),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("closed_by", String(64), nullable=True),
    Column("close_note", Text, nullable=True),
)

impact_assessments = Table(
    "impact_assessments", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=False, index=True),
    Column("centre_id", String(64), ForeignKey("monitoring_centres.id"), nullable=False,
           index=True),
    Column("title", Text, nullable=False),
    Column("processing", Text, nullable=False),
    Column("necessity", Text, nullable=False),
    Column("risks", Text, nullable=False),
    Column("measures", Text, nullable=False),
    Column("legal_basis", Text, nullable=False),
    Column("recorded_by_id", String(36), nullable=False),
    Column("recorded_by", String(64), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("valid_until", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("approved_by", String(64), nullable=True),
    Column("approved_at", UtcDateTime, nullable=True),
    Column("approval_note", Text, nullable=True),
)


# -- governance: policy door, purpose-bound access, tamper-evident audit (issue 4) -------------

policy_versions = Table(
    "policy_versions", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("text", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("published_by", String(64), nullable=False),
    Column("published_at", UtcDateTime, nullable=False),
    Column("note", String(500), nullable=False),
    Column("active", Boolean, nullable=False),
)

access_profiles = Table(
    "access_profiles", metadata,
    Column("user_id", String(36), ForeignKey("users.id"), primary_key=True),
    Column("clearance", Integer, nullable=False),
    Column("centre_ids", JSON, nullable=False),
    Column("camera_ids", JSON, nullable=False),
)

investigation_cases = Table(
    "investigation_cases", metadata,
    Column("agency_id", String(64), ForeignKey("agencies.id"), primary_key=True),
    Column("reference", String(32), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("opened_by", String(64), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime, nullable=True),
)

break_glass_accesses = Table(
    "break_glass_accesses", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=False, index=True),
    Column("user_id", String(36), nullable=False),
    Column("username", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("object_type", String(32), nullable=False),
    Column("object_id", String(128), nullable=False),
    Column("justification", String(500), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("review_due", UtcDateTime, nullable=False),
    Column("reviewed_by", String(36), nullable=True),
    Column("reviewed_at", UtcDateTime, nullable=True),
    Column("verdict", String(16), nullable=True),
    Column("review_note", String(1000), nullable=True),
)

# The Merkle log over the audit records: leaf i is the record sealed i-th (RFC 9162 hashing).
audit_leaves = Table(
    "audit_leaves", metadata,
    Column("leaf_index", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=False),
    Column("record_id", BigInteger, nullable=False, unique=True),
    Column("leaf_hash", String(64), nullable=False),
)

# One row: the log's size and compact frontier, so appends never re-read the whole log.
audit_log_state = Table(
    "audit_log_state", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("frontier", JSON, nullable=False),
    # Records with a higher id are not sealed yet (sealing takes them in id order).
    Column("last_record_id", BigInteger, nullable=False),
)

# Tree heads this node signed (and the peer's countersignature once witnessed).
audit_tree_heads = Table(
    "audit_tree_heads", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("node_id", String(64), nullable=False),
    Column("tree_size", BigInteger, nullable=False, index=True),
    Column("root_hash", String(64), nullable=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
    Column("witnessed_by", String(64), nullable=True),
    Column("witness_signature", String(128), nullable=True),
    Column("witnessed_at", UtcDateTime, nullable=True),
)

# Other agencies' nodes this node knows: their signing key and address (witness, federation).
peer_nodes = Table(
    "peer_nodes", metadata,
    Column("node_id", String(64), primary_key=True),
    Column("agency_id", String(64), nullable=False),
    Column("public_key", String(64), nullable=False),
    Column("base_url", String(500), nullable=False),
    Column("registered_by", String(64), nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
)

# What this node, as witness, last accepted from each peer, and its mirror of their leaf hashes.
witnessed_heads = Table(
    "witnessed_heads", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("peer_node_id", String(64), ForeignKey("peer_nodes.node_id"), nullable=False,
           index=True),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", String(64), nullable=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("signature", String(128), nullable=False),
    Column("countersignature", String(128), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
)

witness_mirror = Table(
    "witness_mirror", metadata,
    Column("peer_node_id", String(64), primary_key=True),
    Column("leaf_index", BigInteger, primary_key=True, autoincrement=False),
    Column("leaf_hash", String(64), nullable=False),
)


# -- evidence exports and the forensic-watermark registry (issue 4, points 5 and 6) -------------

evidence_exports = Table(
    "evidence_exports", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("case_reference", String(32), nullable=False),
    Column("justification", String(1000), nullable=False),
    Column("recipient_name", String(200), nullable=False),
    Column("recipient_organisation", String(200), nullable=False),
    Column("items", JSON, nullable=False),
    Column("requested_by", String(36), nullable=False),
    Column("requested_by_username", String(64), nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("decided_by", String(36), nullable=True),
    Column("decided_by_username", String(64), nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("decision_note", String(1000), nullable=True),
    Column("exported_at", UtcDateTime, nullable=True),
    Column("exported_by_username", String(64), nullable=True),
    Column("package_key", String(300), nullable=True),
    Column("package_sha256", String(64), nullable=True),
    Column("package_size", BigInteger, nullable=True),
    Column("watermark_payload", BigInteger, nullable=True),
    Column("custody", JSON, nullable=False),
)

# Every watermark payload handed out: an export's copies, a partner's live view or snapshot.
watermark_issues = Table(
    "watermark_issues", metadata,
    Column("payload", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(32), nullable=False),
    Column("reference", String(64), nullable=False),
    Column("agency_id", String(64), nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("username", String(64), nullable=False),
    Column("recipient", String(420), nullable=False),
    Column("owner_agency_id", String(64), nullable=False),
    Column("camera_id", String(64), nullable=True),
    Column("issued_at", UtcDateTime, nullable=False),
)
Index("ix_watermark_issues_user_camera", watermark_issues.c.user_id, watermark_issues.c.camera_id,
      watermark_issues.c.kind, watermark_issues.c.issued_at)

# -- access anomalies: shifts, per-user baselines, findings, scan position (ADR 0015) ----------

# A weekly shift for every user of a role of an agency (subject_type "role", subject the role)
# or for one user (subject_type "user", subject the user id; it replaces their roles' shifts).
shift_schedules = Table(
    "shift_schedules", metadata,
    Column("agency_id", String(64), ForeignKey("agencies.id"), primary_key=True),
    Column("subject_type", String(8), primary_key=True),
    Column("subject", String(64), primary_key=True),
    Column("schedule", ScheduleJson, nullable=False),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# How many footage accesses of a category a user made on a local day (YYYY-MM-DD), counted by the
# anomaly scan from the audit log as it goes: the users' baselines.
access_daily_counts = Table(
    "access_daily_counts", metadata,
    Column("user_id", String(36), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("category", String(16), primary_key=True),
    Column("agency_id", String(64), nullable=False, index=True),
    Column("records", Integer, nullable=False),
)

# What the scan already reported: a finding with the same key before ``until`` is not raised again.
anomaly_findings = Table(
    "anomaly_findings", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("dedup_key", String(200), nullable=False, index=True),
    Column("detector", String(32), nullable=False),
    Column("agency_id", String(64), nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("until", UtcDateTime, nullable=False),
    Column("alert_id", String(36), nullable=False),
)

# One row: the last audit record the scan has read.
anomaly_scan_state = Table(
    "anomaly_scan_state", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_record_id", BigInteger, nullable=False),
    Column("scanned_at", UtcDateTime, nullable=False),
)

# The scan's windows and the audit search look up one user's records over a time range.
Index("ix_audit_records_actor_user_id_at", audit_records.c.actor_user_id, audit_records.c.at)

# -- alerts and inter-agency exchange (issue 5) ------------------------------------------------

alerts = Table(
    "alerts", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=False),
    Column("source", String(16), nullable=False),
    Column("category", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("urgency", String(16), nullable=False),
    Column("certainty", String(16), nullable=False),
    Column("event", String(160), nullable=False),
    Column("headline", String(160), nullable=False),
    Column("description", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("raised_at", UtcDateTime, nullable=False),
    Column("raised_by", String(64), nullable=False),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
    Column("area", JSON, nullable=True),
    Column("camera_ids", JSON, nullable=False),
    Column("detection_ids", JSON, nullable=False),
    Column("snapshot_key", String(300), nullable=True),
    Column("clip_key", String(300), nullable=True),
    Column("rule_id", String(36), nullable=True),
    Column("correlation_key", String(200), nullable=True),
    Column("count", Integer, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=True),
    Column("acknowledged_by", String(64), nullable=True),
    Column("acknowledged_at", UtcDateTime, nullable=True),
    Column("escalation_level", Integer, nullable=False),
    Column("escalated_at", UtcDateTime, nullable=True),
    Column("assigned_to", String(64), nullable=True),
    Column("assigned_at", UtcDateTime, nullable=True),
    Column("dismissed_at", UtcDateTime, nullable=True),
    Column("dismiss_reason", Text, nullable=True),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("closed_by", String(64), nullable=True),
    Column("close_note", Text, nullable=True),
    Column("origin_agency_id", String(64), nullable=True),
    Column("origin_node", String(64), nullable=True),
    Column("origin_alert_id", String(64), nullable=True),
    Column("redacted", Boolean, nullable=False),
    Column("media_withheld", Boolean, nullable=False),
    Column("cap_sender", String(255), nullable=True),
    Column("cap_identifier", String(255), nullable=True),
    Column("cap_sent", String(32), nullable=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=True),
)
Index("ix_alerts_agency_id_raised_at", alerts.c.agency_id, alerts.c.raised_at)
Index("ix_alerts_correlation_key", alerts.c.correlation_key)
Index("ix_alerts_origin", alerts.c.origin_agency_id, alerts.c.origin_alert_id)
Index("ix_alerts_cap", alerts.c.cap_sender, alerts.c.cap_identifier)

alert_actions = Table(
    "alert_actions", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("alert_id", String(36), ForeignKey("alerts.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("by", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("note", Text, nullable=True),
    Column("detail", JSON, nullable=False),
)

sharing_agreements = Table(
    "sharing_agreements", metadata,
    Column("id", String(36), primary_key=True),
    Column("from_agency_id", String(64), ForeignKey("agencies.id"), nullable=False, index=True),
    Column("to_agency_id", String(64), nullable=False, index=True),
    Column("title", String(160), nullable=False),
    Column("categories", JSON, nullable=False),
    Column("min_severity", String(16), nullable=False),
    Column("valid_from", UtcDateTime, nullable=False),
    Column("valid_until", UtcDateTime, nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("include_media", Boolean, nullable=False),
    Column("redact_faces", Boolean, nullable=False),
    Column("redact_plates", Boolean, nullable=False),
    Column("share_footage", Boolean, nullable=False),
    Column("share_watchlists", Boolean, nullable=False),
    Column("area", JSON, nullable=True),
    Column("status", String(16), nullable=False),
    Column("revoked_by", String(64), nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("revoke_reason", Text, nullable=True),
)

# Transactional outbox: a message is written in the transaction that caused it and sent after
# the commit; ``seq`` orders the messages of one (destination, source) pair.
exchange_outbox = Table(
    "exchange_outbox", metadata,
    Column("id", String(36), primary_key=True),  # the envelope id (idempotency key)
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("destination_kind", String(16), nullable=False),  # peer | webhook | mqtt
    Column("destination", String(64), nullable=False),  # peer node id or subscription id
    Column("source_agency_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),  # alert.raised, alert.updated, ...
    Column("payload", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("last_error", String(500), nullable=True),
)
Index("ix_exchange_outbox_pending", exchange_outbox.c.destination_kind,
      exchange_outbox.c.destination, exchange_outbox.c.delivered_at, exchange_outbox.c.seq)

# Idempotent receive: every envelope accepted from a peer, by id; per source the highest seq.
exchange_inbox = Table(
    "exchange_inbox", metadata,
    Column("envelope_id", String(36), primary_key=True),
    Column("peer_node_id", String(64), nullable=False),
    Column("source_agency_id", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
)
Index("ix_exchange_inbox_source", exchange_inbox.c.peer_node_id,
      exchange_inbox.c.source_agency_id, exchange_inbox.c.seq)

# Every CAP message accepted, as received (nothing accepted is dropped), keyed as CAP dedupes.
cap_messages = Table(
    "cap_messages", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("agency_id", String(64), nullable=False),
    Column("sender", String(255), nullable=False),
    Column("identifier", String(255), nullable=False),
    Column("sent", String(32), nullable=False),
    Column("msg_type", String(16), nullable=False),
    Column("alert_id", String(36), nullable=True),
    Column("received_at", UtcDateTime, nullable=False),
    Column("received_by", String(64), nullable=False),
    Column("signed_by", String(64), nullable=True),
    Column("xml", Text, nullable=False),
    UniqueConstraint("agency_id", "sender", "identifier", "sent",
                     name="uq_cap_messages_agency_id_sender_identifier_sent"),
)

# Outbound integrations: webhooks and MQTT topics of an agency, to approved egress destinations.
alert_subscriptions = Table(
    "alert_subscriptions", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # webhook | mqtt
    Column("destination_id", String(36), nullable=False),
    Column("target", String(500), nullable=False),  # URL path or MQTT topic
    Column("categories", JSON, nullable=False),
    Column("min_severity", String(16), nullable=False),
    Column("secret", String(200), nullable=False),  # HMAC key, sealed
    Column("active", Boolean, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# Registered CAP sources of an agency (ADR 0027): only their messages are imported; a pinned
# certificate is the only key their signatures are checked against. Retired, never deleted.
cap_sources = Table(
    "cap_sources", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=False),
    Column("sender", String(255), nullable=False),
    Column("name", String(200), nullable=False),
    Column("certificate_pem", Text, nullable=True),
    Column("fingerprint", String(64), nullable=True),  # SHA-256 of the certificate (DER)
    Column("require_signature", Boolean, nullable=False, server_default=false()),
    Column("registered_by", String(64), nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("retired_by", String(64), nullable=True),
    Column("retired_at", UtcDateTime, nullable=True),
)
Index("ix_cap_sources_agency_id_sender", cap_sources.c.agency_id, cap_sources.c.sender)

# -- incidents and joint response (issue 6, ADR 0031) -----------------------------------------

# An agency's configurable catalogue of incident types (default priority 1 = highest .. 5);
# each agency has its own codes, so the key is (agency_id, code).
incident_types = Table(
    "incident_types", metadata,
    Column("agency_id", String(64), ForeignKey("agencies.id"), primary_key=True),
    Column("code", String(32), primary_key=True),
    Column("name_es", String(120), nullable=False),
    Column("name_en", String(120), nullable=False),
    Column("default_priority", Integer, nullable=False),
    Column("category", String(16), nullable=False),  # CAP category
    Column("active", Boolean, nullable=False),
)

incidents = Table(
    "incidents", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=False),
    Column("number", String(32), nullable=False, unique=True),  # SEG-2026-000123
    Column("type_code", String(32), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("title", String(160), nullable=False),
    Column("description", Text, nullable=False),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("address", String(200), nullable=True),
    Column("source", String(16), nullable=False),  # alert | form | cap | partner
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),  # optimistic concurrency
    Column("merged_into", String(36), nullable=True),
    Column("operation_id", String(36), nullable=True),
    Column("origin_agency_id", String(64), nullable=True),
    Column("origin_node", String(64), nullable=True),
    Column("origin_incident_id", String(64), nullable=True),
    Column("acknowledged_at", UtcDateTime, nullable=True),
    Column("dispatched_at", UtcDateTime, nullable=True),
    Column("en_route_at", UtcDateTime, nullable=True),
    Column("on_scene_at", UtcDateTime, nullable=True),
    Column("resolved_at", UtcDateTime, nullable=True),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("cancelled_at", UtcDateTime, nullable=True),
)
Index("ix_incidents_agency_id_status", incidents.c.agency_id, incidents.c.status)
Index("ix_incidents_agency_id_created_at", incidents.c.agency_id, incidents.c.created_at)
Index("ix_incidents_origin", incidents.c.origin_agency_id, incidents.c.origin_incident_id)

# The incident's timeline: every transition, note, link, merge and unit report, append-only.
incident_events = Table(
    "incident_events", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("incident_id", String(36), ForeignKey("incidents.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("from_status", String(16), nullable=True),
    Column("to_status", String(16), nullable=True),
    Column("by", String(64), nullable=False),
    Column("by_agency", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("note", Text, nullable=True),
    Column("detail", JSON, nullable=False),
)

incident_alerts = Table(
    "incident_alerts", metadata,
    Column("incident_id", String(36), ForeignKey("incidents.id"), primary_key=True),
    Column("alert_id", String(36), primary_key=True, index=True),
    Column("linked_by", String(64), nullable=False),
    Column("linked_at", UtcDateTime, nullable=False),
)

units = Table(
    "units", metadata,
    Column("id", String(32), primary_key=True),  # call sign, e.g. PN-PAT-014
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),  # patrol_car, motorcycle, foot, ambulance, ...
    Column("name", String(120), nullable=False),
    Column("status", String(16), nullable=False),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
    Column("position_at", UtcDateTime, nullable=True),
    Column("speed_kmh", Float, nullable=True),
    Column("heading_deg", Float, nullable=True),
    Column("incident_id", String(36), nullable=True),
    Column("version", Integer, nullable=False),  # one unit, one active dispatch
    Column("updated_at", UtcDateTime, nullable=False),
)

unit_positions = Table(
    "unit_positions", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("unit_id", String(32), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("speed_kmh", Float, nullable=True),
    Column("heading_deg", Float, nullable=True),
)
Index("ix_unit_positions_unit_id_at", unit_positions.c.unit_id, unit_positions.c.at)

dispatches = Table(
    "dispatches", metadata,
    Column("id", String(36), primary_key=True),
    Column("incident_id", String(36), ForeignKey("incidents.id"), nullable=False, index=True),
    Column("unit_id", String(32), ForeignKey("units.id"), nullable=False, index=True),
    Column("agency_id", String(64), nullable=False),  # the dispatching agency
    Column("status", String(16), nullable=False),
    Column("assigned_by", String(64), nullable=False),
    Column("assigned_at", UtcDateTime, nullable=False),
    Column("acknowledged_at", UtcDateTime, nullable=True),
    Column("en_route_at", UtcDateTime, nullable=True),
    Column("on_scene_at", UtcDateTime, nullable=True),
    Column("cleared_at", UtcDateTime, nullable=True),
    Column("cancelled_at", UtcDateTime, nullable=True),
    Column("eta_s", Float, nullable=True),
    Column("distance_m", Float, nullable=True),
)

joint_operations = Table(
    "joint_operations", metadata,
    Column("id", String(36), primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("title", String(160), nullable=False),
    Column("lead_agency_id", String(64), ForeignKey("agencies.id"), nullable=False, index=True),
    Column("participants", JSON, nullable=False),  # agency ids
    Column("area", JSON, nullable=False),  # GeoJSON Polygon
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("objectives", Text, nullable=False),
    Column("unit_ids", JSON, nullable=False),
    Column("camera_ids", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # planned | active | finished | cancelled
    Column("created_by", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("summary", JSON, nullable=True),
)
