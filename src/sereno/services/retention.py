"""Retention use-cases: periods per data class, legal holds, and the purge (ADR 0014).

The purge works on one agency at a time (the caller's): it deletes what is older than its
period and not under an active legal hold, and writes one audit record with what it deleted —
counts and bytes per class, the id and SHA-256 of each deleted file, a digest over all of them.
Files are hashed outside any database transaction, deleted, and then their rows change in the
same transaction as the audit record (see the ADR for why this order).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sereno.adapters.db.retention_repository import OwnCamera, StoredEvent, StoredRow
from sereno.domain import commands, events
from sereno.domain.access import Permission, Principal
from sereno.domain.audit import AuditRecord, Outcome
from sereno.domain.errors import InvalidInput, NotFound
from sereno.domain.governance import validate_case_reference
from sereno.domain.retention import (
    AUDIT_KEPT_NOTE,
    DataClass,
    EffectivePolicies,
    HoldSet,
    LegalHold,
    RetentionPolicy,
    parse_data_class,
    validate_hold_scope,
    validate_period,
    validate_reason,
)
from sereno.services.audit import Clock, record, refuse, require
from sereno.services.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)

POLICY, HOLD, PURGE = "retention_policy", "legal_hold", "retention"
PURGE_ACTION, DRY_RUN_ACTION = "retention.purge", "retention.purge.dry_run"
LISTED = 500  # files and ids listed by name per class in one audit record (the digest covers all)
_ONE_PURGE_AT_A_TIME = threading.Lock()


class MediaFiles(Protocol):
    """The media store as the purge needs it."""

    def fingerprint(self, key: str, *, digest: bool = True) -> tuple[int, str | None] | None: ...

    def delete(self, key: str) -> None: ...


@dataclass(frozen=True)
class Storage:
    """Where the purge finds files, and the node's own storage limits for recordings."""

    media: MediaFiles
    recordings_root: Path
    max_age_hours: float  # the node's default recording age limit (a camera may set its own)
    max_mb_per_camera: float  # the node's default recording size budget per camera
    batch: int = 2000  # rows per class per run; the next run continues


# -- policies -------------------------------------------------------------------------------------

def list_policies(uow: UnitOfWork, who: Principal) -> list[RetentionPolicy]:
    """The periods that apply to the caller's agency: one line per class (the agency's own or
    the default, which has no ``updated_at``) and the per-camera recording lines."""
    action = "retention.policy.list"
    with uow:
        require(uow, who, who.can(Permission.RETENTION_READ), action, object_type=POLICY,
                object_agency_id=who.agency_id)
        policies = EffectivePolicies(who.agency_id,
                                     tuple(uow.retention.policies_for(who.agency_id)))
        record(uow, who, action, object_type=POLICY, object_agency_id=who.agency_id)
        uow.commit()
        return policies.listing()


def set_policy(cmd: commands.SetRetentionPolicy, uow: UnitOfWork,
               clock: Clock) -> RetentionPolicy:
    """Change one period of the caller's agency (administrators only; audited with the old
    and the new value)."""
    who, action = cmd.by, "retention.policy.set"
    with uow:
        require(uow, who, who.can(Permission.RETENTION_WRITE), action, object_type=POLICY,
                object_id=cmd.data_class[:64], object_agency_id=who.agency_id)
        try:
            data_class = parse_data_class(cmd.data_class)
            if cmd.period_days is not None:
                validate_period(data_class, cmd.period_days)
            if cmd.camera_id is not None and data_class is not DataClass.RECORDING:
                raise InvalidInput("only recordings have a period per camera")
        except InvalidInput as error:
            refuse(uow, who, action, error, object_type=POLICY, object_id=cmd.data_class[:64],
                   object_agency_id=who.agency_id)
        object_id = f"{data_class.value}:{cmd.camera_id}" if cmd.camera_id else data_class.value
        if cmd.camera_id is not None:
            camera = uow.cameras.get(cmd.camera_id)
            if camera is None or camera.owner_agency_id != who.agency_id:
                refuse(uow, who, action, NotFound(f"no camera {cmd.camera_id!r}"),
                       object_type=POLICY, object_id=object_id, object_agency_id=who.agency_id,
                       internal_reason=None if camera is None else "another agency's camera")
        before = EffectivePolicies(who.agency_id,
                                   tuple(uow.retention.policies_for(who.agency_id)))
        old_days = before.period_days(data_class, cmd.camera_id)
        now = clock()
        if cmd.period_days is None:
            uow.retention.remove_policy(who.agency_id, data_class, cmd.camera_id)
        else:
            uow.retention.save_policy(RetentionPolicy(
                who.agency_id, data_class, cmd.period_days, cmd.camera_id, now, who.username))
        after = EffectivePolicies(who.agency_id,
                                  tuple(uow.retention.policies_for(who.agency_id)))
        new_days = after.period_days(data_class, cmd.camera_id)
        record(uow, who, action, object_type=POLICY, object_id=object_id,
               object_agency_id=who.agency_id, now=now,
               detail={"data_class": data_class.value, "camera_id": cmd.camera_id,
                       "old_days": old_days, "new_days": new_days,
                       "reset": cmd.period_days is None})
        uow.commit()
        line = next((p for p in after.policies if p.data_class is data_class
                     and p.camera_id == cmd.camera_id), None)
        return line or RetentionPolicy(who.agency_id, data_class, new_days, cmd.camera_id)


# -- legal holds ----------------------------------------------------------------------------------

def list_holds(uow: UnitOfWork, who: Principal, *, active_only: bool = False) -> list[LegalHold]:
    """The caller's agency's legal holds, newest first."""
    action = "legal_hold.list"
    with uow:
        require(uow, who, who.can(Permission.HOLD_READ), action, object_type=HOLD,
                object_agency_id=who.agency_id)
        holds = uow.retention.holds_for(who.agency_id, active_only=active_only)
        record(uow, who, action, object_type=HOLD, object_agency_id=who.agency_id,
               detail={"count": len(holds), "active_only": active_only})
        uow.commit()
        return holds


def _own_hold(uow: UnitOfWork, who: Principal, hold_id: str, action: str) -> LegalHold:
    hold = uow.retention.get_hold(hold_id)
    if hold is None or hold.agency_id != who.agency_id:
        refuse(uow, who, action, NotFound(f"no legal hold {hold_id[:64]!r}"), object_type=HOLD,
               object_id=hold_id[:128], object_agency_id=hold.agency_id if hold else None,
               internal_reason=None if hold is None else "another agency's legal hold")
    return hold


def get_hold(uow: UnitOfWork, who: Principal, hold_id: str) -> LegalHold:
    """One of the caller's agency's holds (another agency's is "not found")."""
    action = "legal_hold.read"
    with uow:
        require(uow, who, who.can(Permission.HOLD_READ), action, object_type=HOLD,
                object_id=hold_id[:128])
        hold = _own_hold(uow, who, hold_id, action)
        record(uow, who, action, object_type=HOLD, object_id=hold.id,
               object_agency_id=hold.agency_id)
        uow.commit()
        return hold


def place_hold(cmd: commands.PlaceLegalHold, uow: UnitOfWork, clock: Clock) -> LegalHold:
    """Keep data of the caller's agency for a case: cameras over a range and/or detections."""
    who, action = cmd.by, "legal_hold.place"
    camera_ids = list(dict.fromkeys(c.strip() for c in cmd.camera_ids if c.strip()))
    detection_ids = list(dict.fromkeys(d.strip() for d in cmd.detection_ids if d.strip()))
    with uow:
        require(uow, who, who.can(Permission.HOLD_PLACE), action, object_type=HOLD,
                object_agency_id=who.agency_id)
        try:
            reference = validate_case_reference(cmd.case_reference)
            reason = validate_reason(cmd.reason)
            validate_hold_scope(camera_ids, cmd.start, cmd.end, detection_ids)
        except InvalidInput as error:
            refuse(uow, who, action, error, object_type=HOLD, object_agency_id=who.agency_id,
                   detail={"case_reference": cmd.case_reference[:40]})
        for camera_id in camera_ids:
            camera = uow.cameras.get(camera_id)
            if camera is None or camera.owner_agency_id != who.agency_id:
                refuse(uow, who, action, NotFound(f"no camera {camera_id[:64]!r}"),
                       object_type=HOLD, object_agency_id=who.agency_id,
                       internal_reason=None if camera is None else
                       f"camera {camera_id} of another agency",
                       detail={"case_reference": reference})
        found = uow.retention.own_detection_ids(who.agency_id, detection_ids)
        missing = [d for d in detection_ids if d not in found]
        if missing:
            refuse(uow, who, action, NotFound(
                f"no detection {missing[0][:64]!r}" + (f" (and {len(missing) - 1} more)"
                                                       if len(missing) > 1 else ""),
                details=[{"detection_id": d[:64]} for d in missing[:50]]),
                object_type=HOLD, object_agency_id=who.agency_id,
                detail={"case_reference": reference})
        now = clock()
        hold = LegalHold(id=str(uuid.uuid4()), agency_id=who.agency_id,
                         case_reference=reference, reason=reason, placed_by=who.user_id,
                         placed_by_username=who.username, placed_at=now,
                         camera_ids=camera_ids, start=cmd.start, end=cmd.end,
                         detection_ids=detection_ids)
        uow.retention.add_hold(hold)
        record(uow, who, action, object_type=HOLD, object_id=hold.id,
               object_agency_id=who.agency_id, reason=reason, now=now,
               detail={"case_reference": reference, "camera_ids": camera_ids,
                       "start": cmd.start.isoformat() if cmd.start else None,
                       "end": cmd.end.isoformat() if cmd.end else None,
                       "detection_ids": detection_ids})
        uow.commit()
        return hold


def release_hold(cmd: commands.ReleaseLegalHold, uow: UnitOfWork, clock: Clock) -> LegalHold:
    """Lift a hold (evidence custodians): what it kept ages normally from the next purge."""
    who, action = cmd.by, "legal_hold.release"
    with uow:
        require(uow, who, who.can(Permission.HOLD_RELEASE), action, object_type=HOLD,
                object_id=cmd.hold_id[:128], object_agency_id=who.agency_id)
        hold = _own_hold(uow, who, cmd.hold_id, action)
        now = clock()
        try:
            hold.release(who.user_id, who.username, cmd.reason, now)
        except InvalidInput as error:
            refuse(uow, who, action, error, object_type=HOLD, object_id=hold.id,
                   object_agency_id=hold.agency_id)
        uow.retention.save_release(hold)
        record(uow, who, action, object_type=HOLD, object_id=hold.id,
               object_agency_id=hold.agency_id, reason=hold.release_reason, now=now,
               detail={"case_reference": hold.case_reference,
                       "placed_by": hold.placed_by_username,
                       "placed_at": hold.placed_at.isoformat()})
        uow.commit()
        return hold


# -- the purge ------------------------------------------------------------------------------------

@dataclass
class ClassReport:
    """What the purge did to one data class."""

    deleted: int = 0
    bytes: int = 0
    held: int = 0
    files: list[tuple[str, str | None]] = field(default_factory=list)  # (id, sha256)
    ids: list[str] = field(default_factory=list)  # rows deleted (events, entries, sessions...)
    breakdown: dict[str, int] = field(default_factory=dict)
    cameras: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add_file(self, item_id: str, size: int, sha256: str | None) -> None:
        self.deleted += 1
        self.bytes += size
        self.files.append((item_id, sha256))

    def files_digest(self) -> str | None:
        """SHA-256 over "id sha256" lines of every deleted file, in deletion order."""
        if not self.files:
            return None
        lines = "".join(f"{item} {sha or '-'}\n" for item, sha in self.files)
        return hashlib.sha256(lines.encode()).hexdigest()

    def as_detail(self) -> dict[str, Any]:
        detail: dict[str, Any] = {"deleted": self.deleted, "bytes": self.bytes,
                                  "held": self.held}
        if self.files:
            detail["files"] = [{"id": item, "sha256": sha} for item, sha in self.files[:LISTED]]
            detail["files_total"] = len(self.files)
            detail["files_digest"] = self.files_digest()
        if self.ids:
            detail["ids"] = self.ids[:LISTED]
            detail["ids_total"] = len(self.ids)
        if self.breakdown:
            detail["breakdown"] = dict(self.breakdown)
        if self.cameras:
            detail["cameras"] = self.cameras
        return detail


@dataclass
class PurgeReport:
    """The outcome of one purge of one agency."""

    agency_id: str
    at: datetime
    dry_run: bool
    periods: dict[str, int]
    classes: dict[DataClass, ClassReport] = field(
        default_factory=lambda: {c: ClassReport() for c in DataClass if c is not DataClass.AUDIT})
    more: bool = False  # a class hit the batch size: the next run continues
    recorded: bool = False

    @property
    def deleted(self) -> int:
        return sum(c.deleted for c in self.classes.values())

    @property
    def held(self) -> int:
        return sum(c.held for c in self.classes.values())

    def as_detail(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "at": self.at.isoformat(), "periods": self.periods,
                "deleted": self.deleted, "held": self.held, "more": self.more,
                "classes": {c.value: r.as_detail() for c, r in self.classes.items()},
                "audit": AUDIT_KEPT_NOTE}


def purge(cmd: commands.PurgeExpired, uow: UnitOfWork, clock: Clock,
          storage: Storage) -> PurgeReport:
    """Delete the caller's agency's expired, unheld data of every class; audit and report it.

    Administrators run it by hand; Sereno runs it as ``system:retention`` for each agency."""
    with _ONE_PURGE_AT_A_TIME:
        return _purge(cmd, uow, clock, storage)


def _purge(cmd: commands.PurgeExpired, uow: UnitOfWork, clock: Clock,
           storage: Storage) -> PurgeReport:
    who = cmd.by
    agency = who.agency_id
    action = DRY_RUN_ACTION if cmd.dry_run else PURGE_ACTION
    limit = storage.batch
    with uow:  # 1. read what is due (a short, read-only transaction)
        require(uow, who, who.channel == "system" or who.can(Permission.RETENTION_PURGE),
                action, object_type=PURGE, object_agency_id=agency)
        now = clock()
        policies = EffectivePolicies(agency, tuple(uow.retention.policies_for(agency)))
        holds = HoldSet(tuple(uow.retention.holds_for(agency, active_only=True)))
        cameras = uow.retention.own_cameras(agency)
        snapshots = uow.retention.events_with_media(
            agency, "snapshot_key", now - policies.period(DataClass.SNAPSHOT), limit)
        clips = uow.retention.events_with_media(
            agency, "clip_key", now - policies.period(DataClass.EVENT_CLIP), limit)
        alerts = uow.retention.events_before(
            agency, now - policies.period(DataClass.ALERT), plates=False, limit=limit)
        hits = uow.retention.events_before(
            agency, now - policies.period(DataClass.PERSONAL_DATA), plates=True, limit=limit)
    report = PurgeReport(agency, now, cmd.dry_run,
                         {c.value: policies.period_days(c) for c in DataClass})
    report.more = any(len(found) >= limit for found in (snapshots, clips, alerts, hits))

    # 2. recordings: the segment index and files, no platform transaction involved
    _purge_recordings(report, cameras, policies, holds, storage, now)

    # 3. hash the media files that are due, outside any transaction
    due_keys = {e.snapshot_key for e in snapshots} | {e.clip_key for e in clips}
    for event in (*alerts, *hits):
        due_keys |= {event.snapshot_key, event.clip_key}
    prints: dict[str, tuple[int, str | None] | None] = {
        key: storage.media.fingerprint(key, digest=not cmd.dry_run)
        for key in sorted(k for k in due_keys if k)}

    with uow:  # 4. delete files and rows, record, commit
        holds = HoldSet(tuple(uow.retention.holds_for(agency, active_only=True)))  # latest
        gone: set[str] = set()

        def drop_file(data_class: DataClass, event: StoredEvent, key: str | None) -> None:
            if key is None or key in gone:
                return
            gone.add(key)
            size, checksum = prints.get(key) or (0, None)
            if not cmd.dry_run:
                storage.media.delete(key)
            report.classes[data_class].add_file(f"{event.id}:{key}", size, checksum)

        cleared: dict[str, list[str]] = {"snapshot_key": [], "clip_key": []}
        for data_class, column, due in ((DataClass.SNAPSHOT, "snapshot_key", snapshots),
                                        (DataClass.EVENT_CLIP, "clip_key", clips)):
            for event in due:
                if holds.holds_event(event.id, event.camera_id, event.at):
                    report.classes[data_class].held += 1
                    continue
                drop_file(data_class, event, getattr(event, column))
                cleared[column].append(event.id)
        doomed: list[str] = []
        for data_class, due in ((DataClass.ALERT, alerts), (DataClass.PERSONAL_DATA, hits)):
            part = report.classes[data_class]
            for event in due:
                if holds.holds_event(event.id, event.camera_id, event.at):
                    part.held += 1
                    continue
                drop_file(DataClass.SNAPSHOT, event, event.snapshot_key)
                drop_file(DataClass.EVENT_CLIP, event, event.clip_key)
                doomed.append(event.id)
                part.deleted += 1
                part.ids.append(event.id)
                if data_class is DataClass.PERSONAL_DATA:
                    part.breakdown["plate_hits"] = part.breakdown.get("plate_hits", 0) + 1
        rows = uow.retention.expired_personal_rows(
            agency, now, now - policies.period(DataClass.PERSONAL_DATA), limit)
        report.more = report.more or len(rows) >= limit
        _count_rows(report.classes[DataClass.PERSONAL_DATA], rows)
        if not cmd.dry_run:
            for column, ids in cleared.items():
                uow.retention.clear_media([i for i in ids if i not in doomed], column)
            uow.retention.delete_events(doomed)
            uow.retention.delete_personal_rows(rows)
            if any(r.kind == "watchlist_entry" for r in rows):
                uow.emit(events.WatchlistChanged(agency))
        if cmd.record_empty or report.deleted:
            record(uow, who, action, object_type=PURGE, object_agency_id=agency, now=now,
                   detail=report.as_detail())
            report.recorded = True
        uow.commit()
    if report.deleted:
        logger.info("retention purge of %s%s: %d deleted, %d held", agency,
                    " (dry run)" if cmd.dry_run else "", report.deleted, report.held)
    return report


def _count_rows(part: ClassReport, rows: list[StoredRow]) -> None:
    names = {"watchlist_entry": "watchlist_entries", "web_session": "web_sessions",
             "api_token": "api_tokens"}
    for row in rows:
        part.deleted += 1
        part.ids.append(f"{row.kind}:{row.id}")
        name = names[row.kind]
        part.breakdown[name] = part.breakdown.get(name, 0) + 1


def _purge_recordings(report: PurgeReport, cameras: list[OwnCamera], policies: EffectivePolicies,
                      holds: HoldSet, storage: Storage, now: datetime) -> None:
    """Age and size retention of every own camera's segments; held segments are skipped."""
    from sereno.video.recording.index import SegmentIndex, validate_camera_id
    from sereno.video.recording.retention import apply_retention

    part = report.classes[DataClass.RECORDING]
    for camera in cameras:
        try:
            validate_camera_id(camera.id)
        except ValueError:
            continue  # not a folder name: the recorder cannot have recorded it either
        if not (storage.recordings_root / camera.id / "index.sqlite3").exists():
            continue
        video = camera.video
        policy_hours = policies.period_days(DataClass.RECORDING, camera.id) * 24.0
        storage_hours = float(video.get("retention_hours", storage.max_age_hours))
        max_age = min(policy_hours, storage_hours)
        max_bytes = int(float(video.get("retention_mb", storage.max_mb_per_camera)) * 1_000_000)
        camera_id = camera.id

        def held(segment: Any, camera_id: str = camera_id) -> bool:
            return holds.holds_range(camera_id, segment.start_utc, segment.end_utc)

        result = apply_retention(SegmentIndex(storage.recordings_root, camera_id),
                                 max_age_hours=max_age, max_bytes=max_bytes, hold=held,
                                 now=now, dry_run=report.dry_run)
        folder = storage.recordings_root / camera_id
        for item in result.deleted:
            part.add_file(f"{camera_id}/{item.path.relative_to(folder).as_posix()}", item.size,
                          item.sha256)
        part.held += result.held
        if result.deleted or result.held or result.over_budget:
            part.cameras[camera_id] = {
                "deleted": result.deleted_count, "bytes": result.deleted_bytes,
                "held": result.held, "over_budget": result.over_budget,
                "max_age_hours": round(max_age, 3),
                "by_size": sum(1 for d in result.deleted if d.reason == "size")}
        if result.over_budget:
            logger.warning("camera %s stays over its recording budget: legal holds keep %d "
                           "segments", camera_id, result.held)


def _reports(uow: UnitOfWork, agency_id: str, limit: int) -> list[AuditRecord]:
    return [r for r in uow.audit.for_agency(agency_id, action=PURGE_ACTION,
                                            limit=min(max(limit, 1), 100))
            if r.object_agency_id == agency_id and r.outcome == Outcome.ALLOWED]


def purge_reports(uow: UnitOfWork, who: Principal, *, limit: int = 20) -> list[AuditRecord]:
    """The last purge records of the caller's agency (newest first)."""
    action = "retention.purge.list"
    with uow:
        require(uow, who, who.can(Permission.RETENTION_READ), action, object_type=PURGE,
                object_agency_id=who.agency_id)
        found = _reports(uow, who.agency_id, limit)
        record(uow, who, action, object_type=PURGE, object_agency_id=who.agency_id,
               detail={"count": len(found)})
        uow.commit()
        return found


@dataclass(frozen=True)
class Overview:
    """What the console's retention page shows; None where the caller's roles do not reach."""

    policies: list[RetentionPolicy] | None
    holds: list[LegalHold] | None
    reports: list[AuditRecord] | None


def overview(uow: UnitOfWork, who: Principal, *, action: str = "page.retention",
             limit: int = 10) -> Overview:
    """Periods, legal holds and the last purge reports of the caller's agency, as far as the
    caller may read them (one audit record)."""
    with uow:
        can_read, can_holds = who.can(Permission.RETENTION_READ), who.can(Permission.HOLD_READ)
        require(uow, who, can_read or can_holds, action, object_type=PURGE,
                object_agency_id=who.agency_id)
        agency = who.agency_id
        policies = (EffectivePolicies(agency, tuple(uow.retention.policies_for(agency))).listing()
                    if can_read else None)
        holds = uow.retention.holds_for(agency, limit=100) if can_holds else None
        reports = _reports(uow, agency, limit) if can_read else None
        record(uow, who, action, object_type=PURGE, object_agency_id=agency,
               detail={"holds": len(holds or []), "reports": len(reports or [])})
        uow.commit()
        return Overview(policies, holds, reports)
