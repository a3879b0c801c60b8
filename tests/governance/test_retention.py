"""Retention periods, legal holds and the purge (ADR 0014), on both database engines: what is
due goes, what is fresh or held stays, and every purge leaves an audit record with counts and
hashes."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from sereno.adapters.db.tables import api_tokens, detection_events, plate_watchlist
from sereno.bootstrap import Platform, retention_storage
from sereno.domain import commands
from sereno.domain.access import Principal
from sereno.domain.errors import AccessDenied, InvalidInput, NotFound
from sereno.domain.retention import DataClass
from sereno.entrypoints.workers.retention import purge_all
from sereno.services import accounts, retention
from sereno.services.retention import PurgeReport
from sereno.video.recording.index import SegmentIndex
from tests.api.recordings import record_sample
from tests.conftest import FakeClock, audit_rows


def who(platform: Platform, username: str) -> Principal:
    with platform.uow() as uow:
        user = uow.users.by_username(username)
    assert user is not None
    return accounts.principal_for(user, channel="api", address="test")


def detection(platform: Platform, camera_id: str, age: timedelta, clock: FakeClock, *,
              kind: str = "zone", snapshot: bytes | None = None,
              clip: bytes | None = None, at_time: datetime | None = None,
              watching: str | None = None) -> str:
    at = (at_time or clock.now - age).timestamp()
    detail: dict[str, Any] = {}
    if kind == "plate":
        detail = {"plate": "GBC1234", **({"watching_agency": watching} if watching else {})}
    event = platform.bus.handle(commands.RecordDetection(
        camera_id, None, kind, ("person",), (1,), 0.9, (0.1, 0.1, 0.2, 0.3), at,
        snapshot_jpeg=snapshot, detail=detail))
    if clip is not None:
        key = f"clips/{camera_id}/{event.event_id}.mp4"
        platform.media.put(key, clip)
        platform.bus.handle(commands.AttachEventClip(event.event_id, key))
    return str(event.event_id)


def events(platform: Platform) -> dict[str, Any]:
    with platform.engine.connect() as connection:
        return {r.id: r for r in connection.execute(select(detection_events))}


def purge(platform: Platform, username: str = "admin.segura", **options: Any) -> PurgeReport:
    report: PurgeReport = platform.bus.handle(commands.PurgeExpired(who(platform, username),
                                                                    **options))
    return report


def last_record(platform: Platform, action: str, outcome: str = "allowed") -> Any:
    return [r for r in audit_rows(platform) if r.action == action and r.outcome == outcome][-1]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_purge_deletes_what_is_due_in_every_class_and_keeps_the_rest(
        platform: Platform, clock: FakeClock) -> None:
    dispatcher = who(platform, "dispatcher.segura")
    platform.bus.handle(commands.AddWatchlistEntry(dispatcher, "GBC-1234", "robo, sin fecha"))
    platform.bus.handle(commands.AddWatchlistEntry(dispatcher, "PBX-0987", "robo, 2 días",
                                                   clock.now + timedelta(days=2)))
    with platform.uow() as uow:
        operator = uow.users.by_username("operator.segura")
    assert operator is not None
    accounts.issue_token(platform.uow(), platform.auth_policy, clock, operator, None, None,
                         address="test")
    start, end = record_sample(platform, "SEG-001")
    clock.advance(days=31)  # the recording, the entries and the token are now 31 days old
    platform.bus.handle(commands.AddWatchlistEntry(dispatcher, "GBA-1111", "robo, reciente"))
    old = detection(platform, "SEG-001", timedelta(days=400), clock, snapshot=b"old-jpeg",
                    clip=b"old-clip")
    middle = detection(platform, "SEG-002", timedelta(days=100), clock, snapshot=b"mid-jpeg",
                       clip=b"mid-clip")
    fresh = detection(platform, "SEG-003", timedelta(days=1), clock, snapshot=b"new-jpeg",
                      clip=b"new-clip")
    old_hit = detection(platform, "SEG-001", timedelta(days=40), clock, kind="plate")
    new_hit = detection(platform, "SEG-001", timedelta(days=5), clock, kind="plate")
    theirs = detection(platform, "PN-001", timedelta(days=400), clock, snapshot=b"pn-jpeg")
    segments = SegmentIndex(platform.settings.recordings_root, "SEG-001").segments()
    assert segments
    segment_hashes = {sha(s.path.read_bytes()) for s in segments}

    report = purge(platform)

    stored = events(platform)
    assert old not in stored and old_hit not in stored  # alert (365 d), plate hit (30 d)
    assert stored[middle].snapshot_key is None and stored[middle].clip_key is None  # 90 d
    assert stored[fresh].snapshot_key and stored[fresh].clip_key
    assert new_hit in stored
    assert theirs in stored and stored[theirs].snapshot_key  # another agency's: untouched
    assert not (platform.settings.media_root / f"clips/SEG-001/{old}.mp4").exists()
    assert platform.media.get(stored[fresh].snapshot_key) == b"new-jpeg"
    assert SegmentIndex(platform.settings.recordings_root, "SEG-001").segments() == []
    with platform.engine.connect() as connection:
        plates = set(connection.scalars(select(plate_watchlist.c.plate)))
        tokens = connection.scalar(select(func.count()).select_from(api_tokens))
    assert plates == {"GBA1111"}  # the entry without end date lapsed, the expired one went
    assert tokens == 0

    classes = report.classes
    assert classes[DataClass.RECORDING].deleted == len(segments)
    record = last_record(platform, "retention.purge")
    assert record.actor_username == "admin.segura" and record.object_agency_id == "segura-ep"
    detail = record.detail
    assert detail["audit"] == "kept (sealed log; pruning handled by the audit log)"
    assert detail["classes"]["snapshot"]["deleted"] == 2  # the old and the middle event's
    assert detail["classes"]["event_clip"]["deleted"] == 2
    assert detail["classes"]["alert"]["ids"] == [old]
    personal = detail["classes"]["personal_data"]
    assert personal["breakdown"] == {"plate_hits": 1, "watchlist_entries": 2, "api_tokens": 1}
    listed = {f["sha256"] for f in detail["classes"]["snapshot"]["files"]}
    assert listed == {sha(b"old-jpeg"), sha(b"mid-jpeg")}
    assert {f["sha256"] for f in detail["classes"]["event_clip"]["files"]} == {
        sha(b"old-clip"), sha(b"mid-clip")}
    recording = detail["classes"]["recording"]
    assert {f["sha256"] for f in recording["files"]} == segment_hashes
    lines = "".join(f"{f['id']} {f['sha256']}\n" for f in recording["files"])
    assert recording["files_digest"] == hashlib.sha256(lines.encode()).hexdigest()
    assert recording["cameras"]["SEG-001"]["max_age_hours"] == 24.0  # the node's limit won
    assert start < end


def test_held_data_survives_age_and_size_until_the_hold_is_released(
        platform: Platform, clock: FakeClock) -> None:
    start, end = record_sample(platform, "SEG-006")
    index = SegmentIndex(platform.settings.recordings_root, "SEG-006")
    kept_segments = index.segments()
    held_event = detection(platform, "SEG-002", timedelta(days=400), clock, snapshot=b"held")
    in_range = detection(platform, "SEG-006", timedelta(0), clock, snapshot=b"range",
                         at_time=start + timedelta(seconds=2))
    loose = detection(platform, "SEG-002", timedelta(days=400), clock, snapshot=b"loose")
    supervisor = who(platform, "supervisor.segura")
    hold = platform.bus.handle(commands.PlaceLegalHold(
        supervisor, "fge-2026-000123", "pedido de la Fiscalía, robo en el parque",
        ("SEG-006",), start, end + timedelta(minutes=5), (held_event,)))
    assert hold.case_reference == "FGE-2026-000123"
    clock.advance(days=400)
    # A size budget only deleting the held segments could meet: they stay all the same.
    storage = replace(retention_storage(platform.settings, platform.media),
                      max_mb_per_camera=1e-6)
    report = retention.purge(commands.PurgeExpired(who(platform, "admin.segura")),
                             platform.uow(), clock, storage)
    assert [s.id for s in index.segments()] == [s.id for s in kept_segments]
    assert report.classes[DataClass.RECORDING].held == len(kept_segments)
    camera = report.classes[DataClass.RECORDING].cameras["SEG-006"]
    assert camera["over_budget"] is True and camera["deleted"] == 0
    stored = events(platform)
    assert held_event in stored and in_range in stored and loose not in stored
    assert report.classes[DataClass.ALERT].held == 2
    detail = last_record(platform, "retention.purge").detail
    assert detail["classes"]["recording"]["cameras"]["SEG-006"]["over_budget"] is True

    with pytest.raises(AccessDenied):  # supervisors place holds, custodians release them
        platform.bus.handle(commands.ReleaseLegalHold(supervisor, hold.id, "caso archivado"))
    approver = who(platform, "approver.segura")
    released = platform.bus.handle(commands.ReleaseLegalHold(approver, hold.id,
                                                             "caso archivado por la Fiscalía"))
    assert released.released_by_username == "approver.segura"
    with pytest.raises(InvalidInput, match="already released"):
        platform.bus.handle(commands.ReleaseLegalHold(approver, hold.id, "otra vez, por error"))
    retention.purge(commands.PurgeExpired(who(platform, "admin.segura")), platform.uow(), clock,
                    storage)
    assert index.segments() == []
    assert held_event not in events(platform)
    release = last_record(platform, "legal_hold.release")
    assert release.actor_username == "approver.segura"
    assert release.reason == "caso archivado por la Fiscalía"
    assert release.detail["case_reference"] == "FGE-2026-000123"


def test_hold_input_is_checked_and_refusals_are_audited(platform: Platform,
                                                        clock: FakeClock) -> None:
    supervisor = who(platform, "supervisor.segura")
    start = clock.now - timedelta(hours=2)
    good = {"case_reference": "INC-2026-0042", "reason": "riña en el malecón",
            "camera_ids": ("SEG-001",), "start": start, "end": start + timedelta(hours=1)}
    theirs = detection(platform, "PN-001", timedelta(hours=1), clock)
    mine = detection(platform, "SEG-001", timedelta(hours=1), clock)
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"case_reference": "CASO-123"}, InvalidInput, "not a case reference"),
        ({"case_reference": "FGE-26-1"}, InvalidInput, "not a case reference"),
        ({"end": start - timedelta(hours=1)}, InvalidInput, "end must be after start"),
        ({"end": None}, InvalidInput, "time range"),
        ({"camera_ids": ()}, InvalidInput, "cameras over a time range, detections, or both"),
        ({"camera_ids": (), "detection_ids": (mine,)}, InvalidInput,
         "a time range is held on cameras"),
        ({"reason": "x"}, InvalidInput, "reason"),
        ({"camera_ids": ("NOPE-1",)}, NotFound, "no camera"),
        ({"camera_ids": ("PN-001",)}, NotFound, "no camera"),  # the police's, shared or not
        ({"camera_ids": (), "start": None, "end": None, "detection_ids": ("nope",)},
         NotFound, "no detection"),
        ({"camera_ids": (), "start": None, "end": None, "detection_ids": (theirs,)},
         NotFound, "no detection"),
    ]
    before = len(audit_rows(platform))
    for change, error, message in cases:
        with pytest.raises(error, match=message):
            platform.bus.handle(commands.PlaceLegalHold(supervisor, **{**good, **change}))
    with pytest.raises(AccessDenied):
        platform.bus.handle(commands.PlaceLegalHold(who(platform, "operator.segura"), **good))
    with pytest.raises(AccessDenied):
        platform.bus.handle(commands.PlaceLegalHold(who(platform, "admin.segura"), **good))
    refusals = [r for r in audit_rows(platform)[before:] if r.action == "legal_hold.place"]
    assert len(refusals) == len(cases) + 2
    assert {r.outcome for r in refusals} == {"rejected", "denied"}
    assert any(r.reason == "camera PN-001 of another agency" for r in refusals)
    assert retention.list_holds(platform.uow(), supervisor) == []

    hold = platform.bus.handle(commands.PlaceLegalHold(supervisor, **good))
    placed = last_record(platform, "legal_hold.place")
    assert placed.outcome == "allowed" and placed.object_id == hold.id
    assert placed.detail["camera_ids"] == ["SEG-001"]
    assert placed.detail["case_reference"] == "INC-2026-0042"
    # Holds are the agency's: the police neither list nor read nor release Segura's.
    police = who(platform, "approver.policia")
    assert retention.list_holds(platform.uow(), police) == []
    with pytest.raises(NotFound):
        retention.get_hold(platform.uow(), police, hold.id)
    with pytest.raises(NotFound):
        platform.bus.handle(commands.ReleaseLegalHold(police, hold.id, "no es nuestro caso"))
    assert retention.get_hold(platform.uow(), supervisor, hold.id).active


def test_periods_are_an_administrators_setting_and_every_change_is_audited(
        platform: Platform, clock: FakeClock) -> None:
    admin = who(platform, "admin.segura")
    before = {p.data_class.value: p.period_days
              for p in retention.list_policies(platform.uow(), admin)}
    assert before == {"recording": 30, "event_clip": 90, "snapshot": 90, "alert": 365,
                      "personal_data": 30, "audit": 1825}
    for username in ("supervisor.segura", "auditor.segura", "approver.segura"):
        with pytest.raises(AccessDenied):
            platform.bus.handle(commands.SetRetentionPolicy(who(platform, username),
                                                            "snapshot", 7))
    denied = [r for r in audit_rows(platform) if r.action == "retention.policy.set"]
    assert [r.outcome for r in denied] == ["denied"] * 3
    for args, error in ((("snapshot", -5), InvalidInput), (("snapshot", 0), InvalidInput),
                        (("audit", 30), InvalidInput), (("photos", 5), InvalidInput),
                        (("snapshot", 5, "SEG-001"), InvalidInput),
                        (("recording", 5, "PN-001"), NotFound),
                        (("recording", 5, "NOPE"), NotFound)):
        with pytest.raises(error):
            platform.bus.handle(commands.SetRetentionPolicy(admin, *args))  # type: ignore[arg-type]
    assert {p.data_class.value: p.period_days
            for p in retention.list_policies(platform.uow(), admin)} == before

    platform.bus.handle(commands.SetRetentionPolicy(admin, "snapshot", 10))
    platform.bus.handle(commands.SetRetentionPolicy(admin, "recording", 60, "SEG-001"))
    changed = last_record(platform, "retention.policy.set")
    assert changed.outcome == "allowed" and changed.object_id == "recording:SEG-001"
    assert changed.detail["old_days"] == 30 and changed.detail["new_days"] == 60
    lines = retention.list_policies(platform.uow(), admin)
    assert any(p.camera_id == "SEG-001" and p.period_days == 60 for p in lines)
    # The police's periods are their own.
    police = {p.data_class.value: p.period_days for p in retention.list_policies(
        platform.uow(), who(platform, "admin.policia")) if p.camera_id is None}
    assert police["snapshot"] == 90

    # The shorter snapshot period takes effect at the next purge.
    event = detection(platform, "SEG-001", timedelta(days=20), clock, snapshot=b"twenty")
    purge(platform)
    assert events(platform)[event].snapshot_key is None
    platform.bus.handle(commands.SetRetentionPolicy(admin, "snapshot", None))  # back to 90
    reset = last_record(platform, "retention.policy.set")
    assert reset.detail == {"data_class": "snapshot", "camera_id": None, "old_days": 10,
                            "new_days": 90, "reset": True}


def test_dry_run_deletes_nothing_and_purging_is_for_administrators(
        platform: Platform, clock: FakeClock) -> None:
    record_sample(platform, "SEG-004")
    index = SegmentIndex(platform.settings.recordings_root, "SEG-004")
    segments = [s.id for s in index.segments()]
    clock.advance(days=2)  # past the node's 24 h recording limit
    event = detection(platform, "SEG-001", timedelta(days=400), clock, snapshot=b"jpeg")
    report = purge(platform, dry_run=True)
    assert report.classes[DataClass.ALERT].deleted == 1
    assert event in events(platform)
    recording = report.classes[DataClass.RECORDING]
    assert recording.deleted == len(segments) and {sha for _, sha in recording.files} == {None}
    assert [s.id for s in index.segments()] == segments
    assert last_record(platform, "retention.purge.dry_run").detail["dry_run"] is True
    assert not [r for r in audit_rows(platform) if r.action == "retention.purge"]
    for username in ("supervisor.segura", "auditor.segura", "approver.segura"):
        with pytest.raises(AccessDenied):
            purge(platform, username)
    assert event in events(platform)
    purge(platform, "admin.policia")  # the police's purge leaves Segura's data alone
    assert event in events(platform)
    purge(platform)
    assert event not in events(platform) and index.segments() == []
    reports = retention.purge_reports(platform.uow(), who(platform, "auditor.segura"))
    assert reports[0].detail["classes"]["alert"]["ids"] == [event]
    assert retention.purge_reports(platform.uow(), who(platform, "auditor.policia"))[0] \
        .detail["deleted"] == 0


def test_the_scheduled_purge_runs_per_agency_and_records_only_deletions(
        platform: Platform, clock: FakeClock) -> None:
    before = len(audit_rows(platform))
    reports = purge_all(platform)
    assert {r.agency_id for r in reports} == {"segura-ep", "policia-nacional"}
    assert not [r for r in audit_rows(platform)[before:] if r.action.startswith("retention")]
    segura = detection(platform, "SEG-001", timedelta(days=400), clock)
    police = detection(platform, "PN-003", timedelta(days=400), clock)
    purge_all(platform)
    records = [r for r in audit_rows(platform)[before:] if r.action == "retention.purge"]
    assert {(r.actor_username, r.object_agency_id) for r in records} == {
        ("system:retention", "segura-ep"), ("system:retention", "policia-nacional")}
    assert {r.object_agency_id: r.detail["classes"]["alert"]["ids"] for r in records} == {
        "segura-ep": [segura], "policia-nacional": [police]}


def test_a_plate_hit_answers_to_the_agency_whose_watchlist_matched(
        platform: Platform, clock: FakeClock) -> None:
    """The police's hit on Segura's shared camera is the police's personal data: Segura's purge
    and holds do not reach it, the police's do."""
    kept = detection(platform, "SEG-001", timedelta(days=40), clock, kind="plate",
                     watching="policia-nacional", snapshot=b"plate")
    gone = detection(platform, "SEG-001", timedelta(days=40), clock, kind="plate",
                     watching="policia-nacional")
    purge(platform)  # Segura's
    assert {kept, gone} <= set(events(platform))
    with pytest.raises(NotFound):
        platform.bus.handle(commands.PlaceLegalHold(
            who(platform, "supervisor.segura"), "FGE-2026-000777", "no es nuestro dato",
            detection_ids=(kept,)))
    platform.bus.handle(commands.PlaceLegalHold(
        who(platform, "supervisor.policia"), "FGE-2026-000777", "placa buscada, robo",
        detection_ids=(kept,)))
    report = purge(platform, "admin.policia")
    stored = events(platform)
    assert kept in stored and stored[kept].snapshot_key and gone not in stored
    assert report.classes[DataClass.PERSONAL_DATA].held == 1
    assert report.classes[DataClass.PERSONAL_DATA].ids == [gone]
