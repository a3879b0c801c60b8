"""Evidence exports: request, second-person approval, the signed package, and leak tracing.

An analyst or supervisor of the camera's agency requests an export (purpose and case checked by
the policy door, action ``footage.export``); the media are fixed then (key, size, SHA-256). An
evidence custodian of the same agency, never the requester, approves or rejects it; the policy
door is asked again, as the requester, at approval and at export (a case closed meanwhile stops
it). The package (``governance/evidence_package``) holds the originals, copies watermarked for
the recipient, a manifest signed by the node, and the audit records about the export and its
media with inclusion proofs against a tree head signed just before. ``trace_leak`` reads the
watermark of a leaked picture and names the export or viewing session it came from.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import cv2
import numpy as np

from sereno.adapters.media_store import LocalMediaStore
from sereno.domain.access import Permission, Principal
from sereno.domain.audit import Outcome
from sereno.domain.cameras import Camera
from sereno.domain.errors import AccessDenied, Conflict, InvalidInput, NotFound, SerenoError
from sereno.domain.events import Event
from sereno.domain.evidence import (
    EvidenceExport,
    ExportItem,
    ExportStatus,
    IssueKind,
    ItemKind,
    WatermarkIssue,
    parse_item_kind,
)
from sereno.domain.governance import parse_purpose, validate_case_reference
from sereno.governance import evidence_package, merkle, watermark
from sereno.governance.policy.engine import AccessContext, Decision, Subject
from sereno.governance.transparency import TreeHead, leaf_bytes
from sereno.services.access_control import authorize_camera, camera_resource, decision_point
from sereno.services.audit import Clock, record, refuse, require
from sereno.services.audit_log import TransparencyLog
from sereno.services.breaches import open_breach_case
from sereno.services.cameras import visible_or_refuse
from sereno.services.footage_release import issue_payload
from sereno.services.security import raise_security_alert
from sereno.services.unit_of_work import UnitOfWork
from sereno.video import marking

OBJECT = "evidence_export"
EXPORT_ACTION = "footage.export"
PACKAGES = "evidence"


@dataclass(frozen=True)
class ItemRequest:
    """One item as the caller names it."""

    kind: str
    detection_id: str | None = None
    camera_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class Recipient:
    name: str
    organisation: str


# -- helpers --------------------------------------------------------------------------------------

def _stated(who: Principal, purpose: str | None, case: str | None) -> Principal:
    """The caller with the purpose and case of the request (body), which must agree with the
    headers when both are given."""
    for name, given, header in (("purpose", purpose, who.purpose), ("case", case, who.case_ref)):
        if given and header and given.strip().lower() != header.strip().lower():
            raise InvalidInput(f"the {name} in the request ({given[:40]!r}) differs from the one "
                               f"in the X-Sereno-{name.title()} header ({header[:40]!r})")
    return replace(who, purpose=purpose or who.purpose, case_ref=case or who.case_ref)


def _owned_export(uow: UnitOfWork, who: Principal, action: str,
                  export_id: str) -> EvidenceExport:
    export = uow.evidence_exports.get(export_id)
    if export is None or export.agency_id != who.agency_id:
        refuse(uow, who, action, NotFound(f"no evidence export {export_id[:64]!r}"),
               object_type=OBJECT, object_id=export_id[:64],
               object_agency_id=export.agency_id if export else None,
               internal_reason=None if export is None else "another agency's export")
    return export


def _may_read(who: Principal, export: EvidenceExport) -> bool:
    return (who.user_id == export.requested_by or who.can(Permission.EVIDENCE_APPROVE)
            or who.can(Permission.AUDIT_READ))


def _cameras_of(uow: UnitOfWork, export: EvidenceExport) -> list[Camera]:
    cameras = []
    for camera_id in sorted({i.camera_id for i in export.export_items}):
        camera = uow.cameras.get(camera_id)
        if camera is None:
            raise NotFound(f"camera {camera_id} is gone")
        cameras.append(camera)
    return cameras


def _recheck(uow: UnitOfWork, acting: Principal, export: EvidenceExport,
             action: str) -> list[Decision]:
    """Ask the policy door again, as the requester with the request's purpose and case: the
    requester may have lost the role, the case may be closed. Refusals go on ``acting``."""
    target: dict[str, Any] = {"object_type": OBJECT, "object_id": export.id,
                              "object_agency_id": export.agency_id}
    requester = uow.users.get(export.requested_by)
    if requester is None or requester.disabled:
        refuse(uow, acting, action, AccessDenied("the requester's account is disabled or gone: "
                                                 "the request no longer stands"), **target)
    case = uow.cases.get(export.agency_id, export.case_reference)
    profile = uow.access_profiles.get(requester.id)
    subject = Subject(
        user_id=requester.id, agency_id=requester.agency_id,
        roles=frozenset(r.value for r in requester.role_set),
        clearance=profile.clearance if profile else 1,
        centres=frozenset(profile.centre_ids) if profile else frozenset(),
        cameras=frozenset(profile.camera_ids) if profile else frozenset())
    context = AccessContext(purpose=export.purpose, case=export.case_reference,
                            case_open=case is not None and case.is_open, channel=acting.channel)
    decisions = []
    try:
        cameras = _cameras_of(uow, export)
    except NotFound as error:
        refuse(uow, acting, action, Conflict(error.message), **target)
    for camera in cameras:
        decision = decision_point(uow).decide(subject, EXPORT_ACTION, camera_resource(uow, camera),
                                              context)
        if not decision.allowed:
            refuse(uow, acting, action, AccessDenied(
                f"the request no longer passes the access policies for {camera.id}: "
                f"{decision.reason}"), detail=decision.audit_detail(), **target)
        decisions.append(decision)
    return decisions


def _fingerprint(media: LocalMediaStore, key: str) -> tuple[int, str] | None:
    found = media.fingerprint(key)
    if found is None or found[1] is None:
        return None
    return found[0], found[1]


# -- request ---------------------------------------------------------------------------------------

def request_export(uow: UnitOfWork, who: Principal, *, items: Sequence[ItemRequest],
                   recipient: Recipient, justification: str, media: LocalMediaStore,
                   recordings_root: Path, clock: Clock, purpose: str | None = None,
                   case: str | None = None) -> EvidenceExport:
    """Record an export request (analysts and supervisors of the cameras' agency)."""
    action = "evidence.request"
    export_id = str(uuid.uuid4())
    target: dict[str, Any] = {"object_type": OBJECT, "object_id": export_id}
    with uow:
        require(uow, who, who.can(Permission.FOOTAGE_EXPORT), action, **target)
        try:
            who = _stated(who, purpose, case)
            if not items:
                raise InvalidInput("an export names at least one item")
        except InvalidInput as error:
            refuse(uow, who, action, error, **target)
        # Which media: each detection must exist and be visible; each camera then goes
        # through the policy door (purpose, case, owner agency, roles, clearance).
        wanted: list[tuple[ItemKind, ItemRequest, Camera, Any]] = []
        for given in items:
            try:
                kind = parse_item_kind(given.kind)
            except InvalidInput as error:
                refuse(uow, who, action, error, **target)
            if kind is ItemKind.RECORDING:
                camera = visible_or_refuse(uow, who, given.camera_id or "", action)
                wanted.append((kind, given, camera, None))
                continue
            event = uow.detections.get(given.detection_id or "")
            if event is None:
                refuse(uow, who, action, NotFound(f"no detection {given.detection_id!r}"),
                       **target)
            camera = visible_or_refuse(uow, who, event.camera_id, action)
            wanted.append((kind, given, camera, event))
        decisions: dict[str, Decision] = {}
        for _, _, camera, _ in wanted:
            if camera.id not in decisions:
                decisions[camera.id] = authorize_camera(
                    uow, who, EXPORT_ACTION, camera, audit_action=action, object_type=OBJECT,
                    object_id=export_id)
        fixed: list[ExportItem] = []
        try:
            for kind, given, camera, event in wanted:
                fixed.append(_fix_item(kind, given, camera, event, media))
            parsed = parse_purpose(who.purpose)
            assert parsed is not None  # the door refuses an export without a purpose
            export = EvidenceExport.request(
                export_id=export_id, agency_id=who.agency_id, purpose=parsed.value,
                case_reference=validate_case_reference(who.case_ref or ""),
                justification=justification, recipient_name=recipient.name,
                recipient_organisation=recipient.organisation, items=fixed,
                user_id=who.user_id, username=who.username, now=clock())
        except SerenoError as error:
            refuse(uow, who, action, error, object_agency_id=who.agency_id, **target)
        # Recording ranges are cut now (packet copy), so that what is approved is what is sent.
        try:
            fixed = _cut_recordings(export_id, fixed, media, recordings_root)
        except SerenoError as error:
            refuse(uow, who, action, error, object_agency_id=who.agency_id, **target)
        export.items = [i.as_dict() for i in fixed]
        uow.evidence_exports.add(export)
        record(uow, who, action, object_agency_id=who.agency_id, **target,
               reason=export.justification[:500],
               detail={"case": export.case_reference, "purpose": export.purpose,
                       "recipient": export.recipient_label,
                       "items": [{"kind": i.kind.value, "detection_id": i.detection_id,
                                  "camera_id": i.camera_id, "sha256": i.sha256}
                                 for i in fixed],
                       "policies": sorted({p for d in decisions.values()
                                           for p in d.policy_ids})})
        uow.commit()
        return export


def _fix_item(kind: ItemKind, given: ItemRequest, camera: Camera, event: Any,
              media: LocalMediaStore) -> ExportItem:
    if kind is ItemKind.RECORDING:
        start = given.start.astimezone(UTC) if given.start and given.start.tzinfo else given.start
        end = given.end.astimezone(UTC) if given.end and given.end.tzinfo else given.end
        return ExportItem(kind=kind, camera_id=camera.id, start=start, end=end,
                          captured_at=start)
    key = event.snapshot_key if kind is ItemKind.SNAPSHOT else event.clip_key
    if key is None:
        raise NotFound(f"detection {event.event_id} has no {kind.value}"
                       + (" yet (clips are cut a few seconds after the event)"
                          if kind is ItemKind.CLIP else ""))
    found = _fingerprint(media, key)
    if found is None:
        raise NotFound(f"the {kind.value} file of detection {event.event_id} is missing from "
                       "the media store")
    return ExportItem(kind=kind, camera_id=camera.id, detection_id=event.event_id,
                      captured_at=event.at, media_key=key, sha256=found[1], size=found[0])


def _cut_recordings(export_id: str, items: list[ExportItem], media: LocalMediaStore,
                    recordings_root: Path) -> list[ExportItem]:
    from sereno.video.recording.clips import NoFootageError, cut_clip
    from sereno.video.recording.index import SegmentIndex

    done: list[ExportItem] = []
    for number, item in enumerate(items, start=1):
        if item.kind is not ItemKind.RECORDING:
            done.append(item)
            continue
        assert item.start is not None and item.end is not None
        key = f"{PACKAGES}/{export_id}/recording-{number:02d}-{item.camera_id}.mp4"
        try:
            cut_clip(SegmentIndex(recordings_root, item.camera_id), item.start, item.end,
                     0.0, 0.0, media.path_of(key))
        except NoFootageError as error:
            raise NotFound(f"{item.label}: nothing recorded ({error})") from None
        found = _fingerprint(media, key)
        assert found is not None
        done.append(replace(item, media_key=key, size=found[0], sha256=found[1]))
    return done


# -- decisions -------------------------------------------------------------------------------------

def _decide(uow: UnitOfWork, who: Principal, export_id: str, action: str,
            apply: Callable[[EvidenceExport], None]) -> EvidenceExport:
    with uow:
        require(uow, who, who.can(Permission.EVIDENCE_APPROVE), action, object_type=OBJECT,
                object_id=export_id[:64])
        export = _owned_export(uow, who, action, export_id)
        target: dict[str, Any] = {"object_type": OBJECT, "object_id": export.id,
                                  "object_agency_id": export.agency_id}
        try:
            export.check_decider(who.user_id, who.agency_id,
                                 who.can(Permission.EVIDENCE_APPROVE))
            if export.status is not ExportStatus.REQUESTED:
                raise Conflict(f"the export was already {export.status.value}")
        except SerenoError as error:
            refuse(uow, who, action, error, detail={"requested_by": export.requested_by_username},
                   **target)
        decisions = _recheck(uow, who, export, action) if action == "evidence.approve" else []
        try:
            apply(export)
        except SerenoError as error:
            refuse(uow, who, action, error, **target)
        record(uow, who, action, **target, reason=export.decision_note,
               detail={"requested_by": export.requested_by_username,
                       "case": export.case_reference, "purpose": export.purpose,
                       "recipient": export.recipient_label,
                       "policies": sorted({p for d in decisions for p in d.policy_ids})})
        uow.commit()
        return export


def approve_export(uow: UnitOfWork, who: Principal, export_id: str, note: str | None,
                   clock: Clock) -> EvidenceExport:
    """An evidence custodian of the agency, not the requester, approves the export."""
    return _decide(uow, who, export_id, "evidence.approve",
                   lambda e: e.approve(who.user_id, who.username, clock(), note))


def reject_export(uow: UnitOfWork, who: Principal, export_id: str, note: str,
                  clock: Clock) -> EvidenceExport:
    """An evidence custodian of the agency, not the requester, rejects it, saying why."""
    return _decide(uow, who, export_id, "evidence.reject",
                   lambda e: e.reject(who.user_id, who.username, clock(), note))


# -- reading ---------------------------------------------------------------------------------------

def list_exports(uow: UnitOfWork, who: Principal, *, status: str | None = None
                 ) -> list[EvidenceExport]:
    """The agency's exports (custodians and auditors) or one's own requests, newest first."""
    action = "evidence.list"
    with uow:
        everyone = who.can(Permission.EVIDENCE_APPROVE) or who.can(Permission.AUDIT_READ)
        require(uow, who, everyone or who.can(Permission.FOOTAGE_EXPORT), action,
                object_type=OBJECT)
        try:
            wanted = ExportStatus(status) if status else None
        except ValueError:
            refuse(uow, who, action, InvalidInput(f"unknown status {(status or '')[:20]!r} (known: "
                                                  + ", ".join(s.value for s in ExportStatus)
                                                  + ")"), object_type=OBJECT)
        found = [e for e in uow.evidence_exports.for_agency(who.agency_id, status=wanted)
                 if everyone or e.requested_by == who.user_id]
        record(uow, who, action, object_type=OBJECT, object_agency_id=who.agency_id,
               detail={"count": len(found), "status": status})
        uow.commit()
        return found


def get_export(uow: UnitOfWork, who: Principal, export_id: str) -> EvidenceExport:
    action = "evidence.read"
    with uow:
        export = _owned_export(uow, who, action, export_id)
        if not _may_read(who, export):
            refuse(uow, who, action, AccessDenied("only the requester, the agency's evidence "
                                                  "custodians and auditors read an export"),
                   object_type=OBJECT, object_id=export.id, object_agency_id=export.agency_id)
        record(uow, who, action, object_type=OBJECT, object_id=export.id,
               object_agency_id=export.agency_id)
        uow.commit()
        return export


# -- the package ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PackageTools:
    """What building a package needs besides a unit of work."""

    media: LocalMediaStore
    audit_log: TransparencyLog
    watermark_key: bytes
    clock: Clock
    publish: Callable[[Event], None] | None = None


def export_package(uow_factory: Callable[[], UnitOfWork], who: Principal, export_id: str,
                   tools: PackageTools) -> tuple[EvidenceExport, bytes]:
    """The ZIP of an approved export, for its requester or a custodian of the agency: built
    (and watermarked for its recipient) the first time, the same bytes afterwards. Every
    download is audited."""
    action = "evidence.export"
    with uow_factory() as uow:
        export = _owned_export(uow, who, action, export_id)
        target: dict[str, Any] = {"object_type": OBJECT, "object_id": export.id,
                                  "object_agency_id": export.agency_id}
        if who.user_id != export.requested_by and not who.can(Permission.EVIDENCE_APPROVE):
            refuse(uow, who, action, AccessDenied("only the requester or an evidence custodian "
                                                  "of the agency exports the package"), **target)
        try:
            export.check_exportable()
        except SerenoError as error:
            refuse(uow, who, action, error, **target)
        if export.package_key:
            stored = tools.media.get(export.package_key)
            if stored is not None and hashlib.sha256(stored).hexdigest() == export.package_sha256:
                record(uow, who, "evidence.download", **target,
                       detail={"package_sha256": export.package_sha256,
                               "recipient": export.recipient_label})
                uow.commit()
                return export, stored
            if stored is not None:
                _tampered(uow, who, export, tools, "the stored evidence package no longer "
                          "matches its recorded SHA-256")
        _recheck(uow, who, export, action)
        for item in export.export_items:
            if _fingerprint(tools.media, item.media_key) != (item.size, item.sha256):
                _tampered(uow, who, export, tools, f"{item.label} changed or vanished since "
                          "the request (SHA-256 differs)")
        now = tools.clock()
        issue = issue_payload(uow, kind=IssueKind.EXPORT, reference=export.id, who=who,
                              recipient=export.recipient_label,
                              owner_agency_id=export.agency_id,
                              camera_id=export.export_items[0].camera_id, now=now)
        export.mark_exported(who.username, now, issue.payload)
        record(uow, who, action, **target, now=now,
               detail={"watermark_payload": issue.payload, "recipient": export.recipient_label,
                       "case": export.case_reference, "purpose": export.purpose,
                       "approved_by": export.decided_by_username})
        uow.commit()
    # The export's own records are sealed and signed before they are packaged.
    head = tools.audit_log.sign_head()
    try:
        data = _build(uow_factory, export, head, tools)
    except SerenoError as error:
        with uow_factory() as uow:
            refuse(uow, who, "evidence.package", error, **target)
    with uow_factory() as uow:
        stored_export = uow.evidence_exports.get(export.id)
        assert stored_export is not None
        key = f"{PACKAGES}/{export.id}/package-{issue.payload:08x}.zip"
        tools.media.put(key, data)
        digest = hashlib.sha256(data).hexdigest()
        stored_export.attach_package(key, digest, len(data), tools.clock())
        record(uow, who, "evidence.package", **target,
               detail={"package_sha256": digest, "size": len(data),
                       "tree_size": head.tree_size})
        uow.commit()
        return stored_export, data


def _tampered(uow: UnitOfWork, who: Principal, export: EvidenceExport, tools: PackageTools,
              what: str) -> NoReturn:
    """Refuse the export and tell the agency's auditors: evidence changed under Sereno."""
    uow.rollback()
    raise_security_alert(uow, agency_id=export.agency_id, kind="audit_tampered",
                         severity="high", summary=f"evidence export {export.id}: {what}",
                         detail={"export_id": export.id}, now=tools.clock())
    record(uow, who, "evidence.export", outcome=Outcome.DENIED, object_type=OBJECT,
           object_id=export.id, object_agency_id=export.agency_id, reason=what[:500])
    uow.commit()
    _publish(uow, tools.publish)
    raise Conflict(f"{what}: not exported")


def _publish(uow: UnitOfWork, publish: Callable[[Event], None] | None) -> None:
    events = list(uow.collect_new_events())
    if publish is not None:
        for event in events:
            publish(event)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _build(uow_factory: Callable[[], UnitOfWork], export: EvidenceExport, head: TreeHead,
           tools: PackageTools) -> bytes:
    items = export.export_items
    payload = export.watermark_payload
    assert payload is not None
    files: list[evidence_package.PackageFile] = []
    listed: list[dict[str, Any]] = []
    custody: list[dict[str, Any]] = []
    with uow_factory() as uow:
        cameras = {c.id: c for c in _cameras_of(uow, export)}
    for number, item in enumerate(items, start=1):
        data = tools.media.get(item.media_key)
        if data is None:
            raise Conflict(f"{item.label} vanished from the media store")
        name = (f"{number:02d}-{item.kind.value}-"
                f"{(item.detection_id or item.camera_id)[:36]}.{item.extension}")
        try:
            marked = (marking.mark_jpeg(data, payload=payload, key=tools.watermark_key)
                      if item.kind is ItemKind.SNAPSHOT
                      else marking.watermark_video(data, payload, tools.watermark_key))
        except (marking.UnreadableImage, ValueError) as error:
            raise Conflict(f"{item.label} cannot be watermarked: {error}") from None
        files += [evidence_package.PackageFile(f"original/{name}", data, "original"),
                  evidence_package.PackageFile(f"watermarked/{name}", marked, "watermarked")]
        camera = cameras[item.camera_id]
        listed.append({"number": number, "kind": item.kind.value, "camera_id": camera.id,
                       "camera_name": camera.name, "owner_agency": camera.owner_agency_id,
                       "detection_id": item.detection_id, "captured_at": _iso(item.captured_at),
                       "start": _iso(item.start), "end": _iso(item.end),
                       "media_key": item.media_key, "sha256": item.sha256, "size": item.size,
                       "original": f"original/{name}", "watermarked": f"watermarked/{name}"})
        custody.append({"event": "captured", "by": f"camera {camera.id}",
                        "at": _iso(item.captured_at), "item": number})
        custody.append({"event": "stored", "by": "system:media-store", "at": None,
                        "item": number, "media_key": item.media_key, "sha256": item.sha256})
    records, indexes, proofs, object_ids = _audit_trail(export, items, head, tools)
    files += evidence_package.audit_files(records, indexes, proofs)
    key = tools.audit_log.key
    manifest = {
        "generated_at": tools.clock().astimezone(UTC).isoformat(),
        "node": {"node_id": key.node_id, "key_id": key.key_id,
                 "public_key": key.public_key_b64},
        "export": {
            "id": export.id, "agency": export.agency_id, "purpose": export.purpose,
            "case": export.case_reference, "justification": export.justification,
            "recipient": {"name": export.recipient_name,
                          "organisation": export.recipient_organisation},
            "requested_by": export.requested_by_username,
            "requested_at": _iso(export.requested_at),
            "approved_by": export.decided_by_username, "approved_at": _iso(export.decided_at),
            "approval_note": export.decision_note,
            "exported_by": export.exported_by_username, "exported_at": _iso(export.exported_at),
            "watermark": {"payload": payload, "scheme": "sereno-watermark/v1 (ADR 0013)"},
        },
        "items": listed,
        "custody": [*custody, *export.custody],
        "audit": {"tree_head": head.as_dict(), "records": len(records),
                  "about": object_ids, "records_file": evidence_package.RECORDS,
                  "proofs_file": evidence_package.PROOFS},
    }
    return evidence_package.build_package(manifest, files, key.sign)


def _audit_trail(export: EvidenceExport, items: list[ExportItem], head: TreeHead,
                 tools: PackageTools) -> tuple[list[bytes], list[int], list[list[bytes]],
                                                list[str]]:
    """Every sealed record about the export or its detections, with its inclusion proof."""
    store = tools.audit_log.store
    object_ids = [export.id, *sorted({i.detection_id for i in items if i.detection_id})]
    indexes = [i for i in store.leaf_indexes_of(object_ids) if i < head.tree_size]
    hashes = store.stored_leaf_hashes(0, head.tree_size)
    records: list[bytes] = []
    proofs: list[list[bytes]] = []
    for index in indexes:
        row = store.record_at(index)
        leaf = leaf_bytes(row) if row is not None else b""
        if merkle.leaf_hash(leaf) != hashes[index]:
            raise Conflict(f"audit record at leaf {index} no longer matches the sealed log: "
                           "run `sereno audit verify` before exporting")
        records.append(leaf)
        proofs.append(merkle.inclusion_proof_from_hashes(hashes, index, head.tree_size))
    return records, indexes, proofs, object_ids


# -- leak tracing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class TraceResult:
    issue: WatermarkIssue
    export: EvidenceExport | None
    detection: watermark.Detection
    alert_id: str
    breach_case_id: str | None


def read_pictures(data: bytes) -> list[Any]:
    """A still picture (JPEG, PNG, …), or a few frames of a video."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is not None:
        return [image]
    try:
        frames = list(marking.video_frames(data))
    except Exception:  # PyAV raises many kinds of errors on non-media input
        frames = []
    if not frames:
        raise marking.UnreadableImage("not a picture or video Sereno can read")
    return frames


def trace_leak(uow: UnitOfWork, who: Principal, data: bytes, *, source: str, key: bytes,
               clock: Clock, publish: Callable[[Event], None] | None = None) -> TraceResult:
    """Find which export or viewing session a leaked picture came from (auditors). Audited; a
    traced leak raises a ``leak_traced`` alert and opens a breach case for the footage's owner.
    """
    action = "leak.trace"
    digest = hashlib.sha256(data).hexdigest()
    target: dict[str, Any] = {"object_type": "image", "object_id": digest[:32],
                              "detail": {"source": source[:200], "sha256": digest}}
    with uow:
        require(uow, who, who.can(Permission.AUDIT_READ), action, object_type="image",
                object_id=digest[:32])
        try:
            pictures = read_pictures(data)
        except marking.UnreadableImage as error:
            refuse(uow, who, action, InvalidInput(f"{source}: {error}"), **target)
        candidates = uow.watermarks.payloads_for(who.agency_id)
        found = next((d for d in (watermark.extract(p, key, candidates=candidates)
                                  for p in pictures) if d is not None), None)
        if found is None:
            refuse(uow, who, action, InvalidInput(
                f"{source}: no watermark of this node found: the picture was not released by "
                "Sereno with a mark, or it was changed too much (rotated, cut to a small part) "
                "to read it"), **target)
        issue = uow.watermarks.get(found.payload)
        if issue is None or who.agency_id not in (issue.agency_id, issue.owner_agency_id):
            refuse(uow, who, action, NotFound(
                f"{source}: the watermark read does not match any release of your agency"),
                internal_reason=(f"payload {found.payload} " + ("never issued" if issue is None
                                                                else "of another agency")),
                **target)
        export = (uow.evidence_exports.get(issue.reference) if issue.kind is IssueKind.EXPORT
                  else None)
        now = clock()
        facts = {"payload": issue.payload, "kind": issue.kind.value,
                 "reference": issue.reference, "user": issue.username,
                 "user_agency": issue.agency_id, "recipient": issue.recipient,
                 "camera_id": issue.camera_id, "issued_at": issue.issued_at.isoformat(),
                 "image_sha256": digest, "score": round(found.score, 3),
                 "by_candidate": found.by_candidate}
        record(uow, who, action, object_type=OBJECT if export else f"watermark_{issue.kind}",
               object_id=issue.reference, object_agency_id=issue.owner_agency_id,
               detail={**facts, "source": source[:200]}, now=now)
        summary = (f"leaked picture traced to {issue.kind.value} {issue.reference}: user "
                   f"{issue.username} ({issue.agency_id}), recipient {issue.recipient}")
        alert = raise_security_alert(uow, agency_id=issue.owner_agency_id, kind="leak_traced",
                                     severity="high", summary=summary[:300], detail=facts,
                                     now=now)
        if issue.agency_id != issue.owner_agency_id:
            raise_security_alert(uow, agency_id=issue.agency_id, kind="leak_traced",
                                 severity="high", summary=summary[:300], detail=facts, now=now)
        breach = open_breach_case(
            uow, agency_id=issue.owner_agency_id, trigger="leak_traced",
            description=summary, detail=facts, now=now, data_classes=["media"],
            camera_ids=[issue.camera_id] if issue.camera_id else [],
            records=[issue.reference], raise_alert=False)
        uow.commit()
        _publish(uow, publish)
        return TraceResult(issue, export, found, alert.id, breach.id)
