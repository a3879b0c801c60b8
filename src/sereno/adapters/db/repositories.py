"""Repositories: collections of domain objects backed by a SQLAlchemy session.

Queries name the table columns (``tables.cameras.c``) rather than mapped attributes, which keeps
them typed without the domain classes knowing about SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from sereno.adapters.db.tables import (
    agencies,
    api_tokens,
    audit_records,
    camera_rules,
    cameras,
    detection_events,
    login_challenges,
    monitoring_centres,
    plate_watchlist,
    users,
    web_sessions,
)
from sereno.domain.agencies import Agency, MonitoringCentre
from sereno.domain.audit import AuditRecord
from sereno.domain.cameras import Camera, CameraStatus, Classification
from sereno.domain.events import DetectionEvent
from sereno.domain.rules import CameraRule
from sereno.domain.users import ApiToken, LoginChallenge, User, WebSession
from sereno.video.plates.watchlist import WatchlistEntry


class AgencyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, agency_id: str) -> Agency | None:
        return self.session.get(Agency, agency_id)

    def list(self) -> Sequence[Agency]:
        return self.session.scalars(select(Agency).order_by(agencies.c.id)).all()

    def add(self, agency: Agency) -> None:
        self.session.add(agency)


class CentreRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, centre_id: str) -> MonitoringCentre | None:
        return self.session.get(MonitoringCentre, centre_id)

    def list_for_agency(self, agency_id: str) -> Sequence[MonitoringCentre]:
        query = (select(MonitoringCentre)
                 .where(monitoring_centres.c.agency_id == agency_id)
                 .order_by(monitoring_centres.c.id))
        return self.session.scalars(query).all()

    def add(self, centre: MonitoringCentre) -> None:
        self.session.add(centre)


class CameraRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, camera_id: str) -> Camera | None:
        return self.session.get(Camera, camera_id)

    def add(self, camera: Camera) -> None:
        self.session.add(camera)

    def existing_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are taken, by any agency (ids are unique platform-wide)."""
        if not ids:
            return set()
        return set(self.session.scalars(select(cameras.c.id).where(cameras.c.id.in_(ids))))

    def all_active(self) -> Sequence[Camera]:
        """Every camera not retired, all agencies: for Sereno's own workers only."""
        query = (select(Camera).where(cameras.c.status != CameraStatus.RETIRED.value)
                 .order_by(cameras.c.id))
        return self.session.scalars(query).all()

    def visible_to_agency(self, agency_id: str) -> Sequence[Camera]:
        """Own cameras and the shared cameras of others, ordered by id (filtered in SQL)."""
        query = (
            select(Camera)
            .where(or_(cameras.c.owner_agency_id == agency_id,
                       cameras.c.classification == Classification.SHARED.value))
            .order_by(cameras.c.id)
        )
        return self.session.scalars(query).all()


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: str) -> User | None:
        return self.session.get(User, user_id)

    def by_username(self, username: str) -> User | None:
        query = select(User).where(users.c.username == username)
        return self.session.scalars(query).one_or_none()

    def list_for_agency(self, agency_id: str) -> Sequence[User]:
        query = select(User).where(users.c.agency_id == agency_id).order_by(users.c.username)
        return self.session.scalars(query).all()

    def add(self, user: User) -> None:
        self.session.add(user)


class CredentialRepository:
    """Bearer tokens and console sessions, looked up by the SHA-256 of their secret."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, credential: ApiToken | WebSession | LoginChallenge) -> None:
        self.session.add(credential)

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        query = select(ApiToken).where(api_tokens.c.token_hash == token_hash)
        return self.session.scalars(query).one_or_none()

    def session_by_id(self, session_id: str) -> WebSession | None:
        return self.session.get(WebSession, session_id)

    def session_by_hash(self, token_hash: str) -> WebSession | None:
        query = select(WebSession).where(web_sessions.c.token_hash == token_hash)
        return self.session.scalars(query).one_or_none()

    def challenge_by_hash(self, token_hash: str) -> LoginChallenge | None:
        query = select(LoginChallenge).where(login_challenges.c.token_hash == token_hash)
        return self.session.scalars(query).one_or_none()

    def end_all_for_user(self, user_id: str, now: datetime, *, keep_session: str | None = None,
                         keep_token_hash: str | None = None) -> int:
        """Revoke every live token and end every live session and login challenge of a user
        (but the caller's own ``keep_…`` credential); returns how many were live."""
        ended = 0
        for table, column in ((api_tokens, api_tokens.c.revoked_at),
                              (web_sessions, web_sessions.c.ended_at),
                              (login_challenges, login_challenges.c.ended_at)):
            query = update(table).where(table.c.user_id == user_id, column.is_(None))
            if table is web_sessions and keep_session is not None:
                query = query.where(table.c.id != keep_session)
            if table is api_tokens and keep_token_hash is not None:
                query = query.where(table.c.token_hash != keep_token_hash)
            result = self.session.execute(query.values({column.name: now}),
                                          execution_options={"synchronize_session": "fetch"})
            ended += int(getattr(result, "rowcount", 0) or 0)
        return ended


class AuditRepository:
    """Append-only: there is deliberately no update or delete here."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, record: AuditRecord) -> None:
        self.session.add(record)

    def count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(audit_records)) or 0)

    def for_agency(
        self, agency_id: str, *, limit: int = 100, before_id: int | None = None,
        since: datetime | None = None, action: str | None = None,
    ) -> Sequence[AuditRecord]:
        """Records where the agency is the actor's or the object owner's, newest first."""
        c = audit_records.c
        query = select(AuditRecord).where(
            or_(c.actor_agency_id == agency_id, c.object_agency_id == agency_id))
        if before_id is not None:
            query = query.where(c.id < before_id)
        if since is not None:
            query = query.where(c.at >= since)
        if action is not None:
            query = query.where(c.action == action)
        return self.session.scalars(query.order_by(c.id.desc()).limit(limit)).all()


class RuleRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, rule_id: str) -> CameraRule | None:
        return self.session.get(CameraRule, rule_id)

    def add(self, rule: CameraRule) -> None:
        self.session.add(rule)

    def delete(self, rule: CameraRule) -> None:
        self.session.delete(rule)

    def for_camera(self, camera_id: str) -> Sequence[CameraRule]:
        query = (select(CameraRule).where(camera_rules.c.camera_id == camera_id)
                 .order_by(camera_rules.c.name, camera_rules.c.id))
        return self.session.scalars(query).all()


class DetectionRepository:
    """Detection events as rows (append-only, like the audit log)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, event: DetectionEvent) -> None:
        self.session.execute(detection_events.insert().values(
            id=event.event_id, camera_id=event.camera_id, owner_agency_id=event.owner_agency_id,
            rule_id=event.rule_id, rule_kind=event.rule_kind, classes=list(event.classes),
            track_ids=list(event.track_ids), confidence=event.confidence, box=list(event.box),
            snapshot_key=event.snapshot_key, at=event.at, detail=dict(event.detail)))

    def attach_clip(self, event_id: str, clip_key: str) -> None:
        self.session.execute(detection_events.update()
                             .where(detection_events.c.id == event_id)
                             .values(clip_key=clip_key))

    def get(self, event_id: str) -> DetectionEvent | None:
        row = self.session.execute(
            select(detection_events).where(detection_events.c.id == event_id)).first()
        return None if row is None else self._event(row)

    def recent(self, camera_ids: Sequence[str], *, since: datetime | None = None,
               limit: int = 100) -> list[DetectionEvent]:
        """Newest first, for the given cameras only."""
        c = detection_events.c
        query = select(detection_events).where(c.camera_id.in_(list(camera_ids)))
        if since is not None:
            query = query.where(c.at >= since)
        rows = self.session.execute(query.order_by(c.at.desc()).limit(limit)).all()
        return [self._event(r) for r in rows]

    @staticmethod
    def _event(r: Any) -> DetectionEvent:
        return DetectionEvent(
            event_id=r.id, camera_id=r.camera_id, owner_agency_id=r.owner_agency_id,
            rule_id=r.rule_id, rule_kind=r.rule_kind, classes=tuple(r.classes),
            track_ids=tuple(r.track_ids), confidence=r.confidence,
            box=(r.box[0], r.box[1], r.box[2], r.box[3]), snapshot_key=r.snapshot_key,
            at=r.at, clip_key=r.clip_key, detail=dict(r.detail or {}))


class WatchlistRepository:
    """Wanted plates, per agency."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, entry: WatchlistEntry, *, created_by: str, created_at: datetime) -> None:
        self.session.execute(plate_watchlist.insert().values(
            id=entry.entry_id, agency_id=entry.agency_id, plate=entry.plate, reason=entry.reason,
            expires_at=entry.expires, tolerance=entry.tolerance, created_by=created_by,
            created_at=created_at, published=entry.published))

    def get(self, entry_id: str) -> WatchlistEntry | None:
        row = self.session.execute(
            select(plate_watchlist).where(plate_watchlist.c.id == entry_id)).first()
        return None if row is None else self._entry(row)

    def delete(self, entry_id: str) -> None:
        self.session.execute(plate_watchlist.delete().where(plate_watchlist.c.id == entry_id))

    def set_published(self, entry_id: str, published: bool) -> None:
        """Publish the entry to partners' cameras (or take it back)."""
        self.session.execute(plate_watchlist.update().where(plate_watchlist.c.id == entry_id)
                             .values(published=published))

    def for_agencies(self, agency_ids: Sequence[str]) -> list[WatchlistEntry]:
        rows = self.session.execute(
            select(plate_watchlist).where(plate_watchlist.c.agency_id.in_(list(agency_ids)))
            .order_by(plate_watchlist.c.plate)).all()
        return [self._entry(r) for r in rows]

    @staticmethod
    def _entry(r: Any) -> WatchlistEntry:
        return WatchlistEntry(plate=r.plate, reason=r.reason, agency_id=r.agency_id,
                              expires=r.expires_at, tolerance=r.tolerance, entry_id=r.id,
                              published=bool(r.published))
