"""Retention policies, legal holds, and the queries the purge needs (Core, one agency at a time).

Every query names the agency: the purge of one agency never sees another agency's data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, or_, select, update
from sqlalchemy.orm import Session

from sereno.adapters.db.tables import (
    api_tokens,
    cameras,
    detection_events,
    legal_holds,
    plate_watchlist,
    retention_policies,
    users,
    web_sessions,
)
from sereno.domain.retention import DataClass, LegalHold, RetentionPolicy

PLATE_KIND = "plate"  # detections of plates on a watchlist: personal data


def _answering_agency() -> ColumnElement[str]:
    """The agency a detection's retention answers to: for a plate hit, the agency whose
    watchlist matched (it is that agency's personal data, hidden even from the camera's owner);
    for any other detection, the camera's owner."""
    c = detection_events.c
    watching = c.detail["watching_agency"].as_string()
    return case((c.rule_kind == PLATE_KIND, func.coalesce(watching, c.owner_agency_id)),
                else_=c.owner_agency_id)


@dataclass(frozen=True)
class StoredEvent:
    """What the purge needs of a detection event."""

    id: str
    camera_id: str
    at: datetime
    rule_kind: str
    snapshot_key: str | None
    clip_key: str | None


@dataclass(frozen=True)
class StoredRow:
    """A row of personal data the purge may delete: its table's name for it, and its id."""

    kind: str  # watchlist_entry, web_session, api_token
    id: str
    label: str | None = None  # e.g. the plate of a watchlist entry (kept in the audit record)


@dataclass(frozen=True)
class OwnCamera:
    id: str
    video: dict[str, Any]


class RetentionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- policies ---------------------------------------------------------------------------

    def policies_for(self, agency_id: str) -> list[RetentionPolicy]:
        c = retention_policies.c
        rows = self.session.execute(select(retention_policies).where(c.agency_id == agency_id)
                                    .order_by(c.data_class, c.camera_id)).all()
        return [RetentionPolicy(agency_id=r.agency_id, data_class=DataClass(r.data_class),
                                period_days=r.period_days, camera_id=r.camera_id or None,
                                updated_at=r.updated_at, updated_by=r.updated_by)
                for r in rows]

    def save_policy(self, policy: RetentionPolicy) -> None:
        """Insert or replace the agency's line for (class, camera)."""
        self.remove_policy(policy.agency_id, policy.data_class, policy.camera_id)
        self.session.execute(retention_policies.insert().values(
            agency_id=policy.agency_id, data_class=policy.data_class.value,
            camera_id=policy.camera_id or "", period_days=policy.period_days,
            updated_at=policy.updated_at, updated_by=policy.updated_by or ""))

    def remove_policy(self, agency_id: str, data_class: DataClass, camera_id: str | None) -> None:
        c = retention_policies.c
        self.session.execute(delete(retention_policies).where(
            c.agency_id == agency_id, c.data_class == data_class.value,
            c.camera_id == (camera_id or "")))

    # -- holds ------------------------------------------------------------------------------

    def holds_for(self, agency_id: str, *, active_only: bool = False,
                  limit: int = 500) -> list[LegalHold]:
        c = legal_holds.c
        query = select(legal_holds).where(c.agency_id == agency_id)
        if active_only:
            query = query.where(c.released_at.is_(None))
        rows = self.session.execute(query.order_by(c.placed_at.desc(), c.id).limit(limit)).all()
        return [self._hold(r) for r in rows]

    def get_hold(self, hold_id: str) -> LegalHold | None:
        row = self.session.execute(select(legal_holds).where(legal_holds.c.id == hold_id)).first()
        return None if row is None else self._hold(row)

    def add_hold(self, hold: LegalHold) -> None:
        self.session.execute(legal_holds.insert().values(
            id=hold.id, agency_id=hold.agency_id, case_reference=hold.case_reference,
            reason=hold.reason, placed_by=hold.placed_by,
            placed_by_username=hold.placed_by_username, placed_at=hold.placed_at,
            camera_ids=list(hold.camera_ids), start_at=hold.start, end_at=hold.end,
            detection_ids=list(hold.detection_ids)))

    def save_release(self, hold: LegalHold) -> None:
        self.session.execute(update(legal_holds).where(
            legal_holds.c.id == hold.id, legal_holds.c.released_at.is_(None)).values(
            released_at=hold.released_at, released_by=hold.released_by,
            released_by_username=hold.released_by_username,
            release_reason=hold.release_reason))

    @staticmethod
    def _hold(r: Any) -> LegalHold:
        return LegalHold(
            id=r.id, agency_id=r.agency_id, case_reference=r.case_reference, reason=r.reason,
            placed_by=r.placed_by, placed_by_username=r.placed_by_username,
            placed_at=r.placed_at, camera_ids=list(r.camera_ids or []), start=r.start_at,
            end=r.end_at, detection_ids=list(r.detection_ids or []),
            released_at=r.released_at, released_by=r.released_by,
            released_by_username=r.released_by_username, release_reason=r.release_reason)

    # -- what the agency owns -----------------------------------------------------------------

    def own_cameras(self, agency_id: str) -> list[OwnCamera]:
        """Every camera of the agency, retired ones included (their recordings age too)."""
        rows = self.session.execute(select(cameras.c.id, cameras.c.video)
                                    .where(cameras.c.owner_agency_id == agency_id)
                                    .order_by(cameras.c.id)).all()
        return [OwnCamera(r.id, dict(r.video or {})) for r in rows]

    def own_detection_ids(self, agency_id: str, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are the agency's detections: on its cameras, or hits of its
        watchlist (on any camera)."""
        if not ids:
            return set()
        c = detection_events.c
        return set(self.session.scalars(select(c.id).where(
            c.id.in_(list(ids)), _answering_agency() == agency_id)))

    # -- the purge's candidates -------------------------------------------------------------

    def events_with_media(self, agency_id: str, column: str, before: datetime,
                          limit: int) -> list[StoredEvent]:
        """Detections older than ``before`` that still have a ``column`` (snapshot_key or
        clip_key), oldest first."""
        c = detection_events.c
        media = c.snapshot_key if column == "snapshot_key" else c.clip_key
        query = (select(detection_events).where(
            _answering_agency() == agency_id, c.at < before, media.is_not(None))
            .order_by(c.at, c.id).limit(limit))
        return [self._event(r) for r in self.session.execute(query).all()]

    def events_before(self, agency_id: str, before: datetime, *, plates: bool,
                      limit: int) -> list[StoredEvent]:
        """Detections older than ``before``: the agency's plate hits (``plates``), or all the
        other detections on its cameras."""
        c = detection_events.c
        mine = (and_(c.rule_kind == PLATE_KIND, _answering_agency() == agency_id) if plates
                else and_(c.rule_kind != PLATE_KIND, c.owner_agency_id == agency_id))
        query = (select(detection_events).where(mine, c.at < before)
                 .order_by(c.at, c.id).limit(limit))
        return [self._event(r) for r in self.session.execute(query).all()]

    def clear_media(self, event_ids: Sequence[str], column: str) -> None:
        if event_ids:
            values = {"snapshot_key": None} if column == "snapshot_key" else {"clip_key": None}
            self.session.execute(update(detection_events)
                                 .where(detection_events.c.id.in_(list(event_ids)))
                                 .values(**values))

    def delete_events(self, event_ids: Sequence[str]) -> None:
        if event_ids:
            self.session.execute(delete(detection_events)
                                 .where(detection_events.c.id.in_(list(event_ids))))

    @staticmethod
    def _event(r: Any) -> StoredEvent:
        return StoredEvent(r.id, r.camera_id, r.at, r.rule_kind, r.snapshot_key, r.clip_key)

    def expired_personal_rows(self, agency_id: str, now: datetime, before: datetime,
                              limit: int) -> list[StoredRow]:
        """Watchlist entries past their expiry (or, without one, created before ``before``),
        and console sessions and API tokens that ended before ``before``."""
        w = plate_watchlist.c
        entries = self.session.execute(
            select(w.id, w.plate).where(w.agency_id == agency_id, or_(
                and_(w.expires_at.is_not(None), w.expires_at <= now),
                and_(w.expires_at.is_(None), w.created_at < before)))
            .order_by(w.created_at, w.id).limit(limit)).all()
        members = select(users.c.id).where(users.c.agency_id == agency_id)
        s = web_sessions.c
        sessions = self.session.scalars(
            select(s.id).where(s.user_id.in_(members), or_(
                s.ended_at < before, and_(s.ended_at.is_(None), s.expires_at < before)))
            .order_by(s.created_at, s.id).limit(limit)).all()
        t = api_tokens.c
        tokens = self.session.scalars(
            select(t.id).where(t.user_id.in_(members), or_(
                t.revoked_at < before, t.expires_at < before))
            .order_by(t.created_at, t.id).limit(limit)).all()
        return ([StoredRow("watchlist_entry", r.id, r.plate) for r in entries]
                + [StoredRow("web_session", i) for i in sessions]
                + [StoredRow("api_token", i) for i in tokens])

    def delete_personal_rows(self, rows: Sequence[StoredRow]) -> None:
        tables = {"watchlist_entry": plate_watchlist, "web_session": web_sessions,
                  "api_token": api_tokens}
        for kind, table in tables.items():
            ids = [r.id for r in rows if r.kind == kind]
            if ids:
                self.session.execute(delete(table).where(table.c.id.in_(ids)))
