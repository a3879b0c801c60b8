"""Video use-cases: camera rules, detection events, stream health reads."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

from sereno.domain import commands, events
from sereno.domain.access import Permission, Principal
from sereno.domain.agreements import SharingAgreement
from sereno.domain.cameras import Camera
from sereno.domain.errors import InvalidInput, NotFound
from sereno.domain.impact import camera_needs_assessment
from sereno.domain.rules import (
    CameraRule,
    Direction,
    RuleKind,
    parse_schedule,
    schedule_to_dict,
    validate_rule,
)
from sereno.governance.policy.engine import Decision
from sereno.services.access_control import authorize_camera
from sereno.services.audit import Clock, record, refuse, require
from sereno.services.cameras import changeable_or_refuse, visible_or_refuse
from sereno.services.impact import centres_in_force
from sereno.services.unit_of_work import UnitOfWork
from sereno.services.watchlist import camera_watchlist
from sereno.video.messages import CameraSpec

logger = logging.getLogger(__name__)

RULE_FIELDS = ("name", "kind", "points", "classes", "direction", "dwell_s", "min_count",
               "cooldown_s", "schedule", "enabled")


class MediaWriter(Protocol):
    def put(self, key: str, data: bytes) -> object: ...


def _own_camera(uow: UnitOfWork, who: Principal, camera_id: str, action: str) -> Camera:
    """Rules are the owner agency's operational set-up: partners do not see them."""
    camera = visible_or_refuse(uow, who, camera_id, action)
    if camera.owner_agency_id != who.agency_id:
        refuse(uow, who, action, NotFound(f"no camera {camera_id!r}"), object_type="camera",
               object_id=camera_id, object_agency_id=camera.owner_agency_id,
               internal_reason="rules of another agency's camera")
    return camera


def _changeable_rule(uow: UnitOfWork, who: Principal, camera_id: str, rule_id: str,
                     action: str) -> tuple[Camera, CameraRule]:
    """An own camera the caller may change, and one of its rules; refused otherwise."""
    camera = _own_camera(uow, who, camera_id, action)
    changeable_or_refuse(uow, who, camera, action)
    rule = uow.rules.get(rule_id)
    if rule is None or rule.camera_id != camera.id:
        refuse(uow, who, action, NotFound(f"no rule {rule_id!r} on {camera.id}"),
               object_type="rule", object_id=rule_id, object_agency_id=camera.owner_agency_id)
    return camera, rule


def _apply(rule: CameraRule, values: dict[str, Any]) -> None:
    unknown = sorted(set(values) - set(RULE_FIELDS))
    if unknown:
        raise InvalidInput(f"unknown rule field(s): {', '.join(unknown)}")
    for name, value in values.items():
        if name == "kind":
            value = RuleKind(value)
        elif name == "direction":
            value = Direction(value)
        elif name == "schedule":
            value = parse_schedule(value)
        setattr(rule, name, value)
    validate_rule(rule)


def list_rules(uow: UnitOfWork, who: Principal, camera_id: str) -> list[CameraRule]:
    """The rules of one of the caller's agency's cameras."""
    action = "rule.list"
    with uow:
        camera = _own_camera(uow, who, camera_id, action)
        rules = list(uow.rules.for_camera(camera.id))
        record(uow, who, action, object_type="camera", object_id=camera.id,
               object_agency_id=camera.owner_agency_id, detail={"count": len(rules)})
        uow.commit()
        return rules


def create_rule(cmd: commands.CreateRule, uow: UnitOfWork, clock: Clock) -> CameraRule:
    """Add a rule to an own camera (supervisors, admins)."""
    who, action = cmd.by, "rule.create"
    with uow:
        camera = _own_camera(uow, who, cmd.camera_id, action)
        changeable_or_refuse(uow, who, camera, action)
        rule = CameraRule(id=str(uuid.uuid4()), camera_id=camera.id, name="",
                          kind=RuleKind.ZONE, points=[])
        try:
            if "kind" not in cmd.fields or "points" not in cmd.fields:
                raise InvalidInput("a rule needs at least kind and points")
            _apply(rule, {**cmd.fields,
                          "name": cmd.fields.get("name") or str(cmd.fields["kind"])})
        except (InvalidInput, ValueError) as error:
            problem = error if isinstance(error, InvalidInput) else InvalidInput(str(error))
            refuse(uow, who, action, problem, object_type="camera", object_id=camera.id,
                   object_agency_id=camera.owner_agency_id)
        uow.rules.add(rule)
        record(uow, who, action, object_type="rule", object_id=rule.id,
               object_agency_id=camera.owner_agency_id,
               detail={"camera_id": camera.id, "kind": rule.kind.value}, now=clock())
        uow.emit(events.CameraRulesChanged(camera.id))
        uow.commit()
        return rule


def update_rule(cmd: commands.UpdateRule, uow: UnitOfWork, clock: Clock) -> CameraRule:
    """Change a rule of an own camera."""
    who, action = cmd.by, "rule.update"
    with uow:
        camera, rule = _changeable_rule(uow, who, cmd.camera_id, cmd.rule_id, action)
        try:
            _apply(rule, cmd.changes)
        except (InvalidInput, ValueError) as error:
            problem = error if isinstance(error, InvalidInput) else InvalidInput(str(error))
            refuse(uow, who, action, problem, object_type="rule", object_id=rule.id,
                   object_agency_id=camera.owner_agency_id)
        record(uow, who, action, object_type="rule", object_id=rule.id,
               object_agency_id=camera.owner_agency_id,
               detail={"changed": sorted(cmd.changes)}, now=clock())
        uow.emit(events.CameraRulesChanged(camera.id))
        uow.commit()
        return rule


def delete_rule(cmd: commands.DeleteRule, uow: UnitOfWork, clock: Clock) -> None:
    """Remove a rule of an own camera."""
    who, action = cmd.by, "rule.delete"
    with uow:
        camera, rule = _changeable_rule(uow, who, cmd.camera_id, cmd.rule_id, action)
        uow.rules.delete(rule)
        record(uow, who, action, object_type="rule", object_id=rule.id,
               object_agency_id=camera.owner_agency_id, now=clock())
        uow.emit(events.CameraRulesChanged(camera.id))
        uow.commit()


def record_detection(cmd: commands.RecordDetection, uow: UnitOfWork,
                     media: MediaWriter) -> events.DetectionEvent | None:
    """Store a worker's rule match (and its snapshot) and publish it as a ``DetectionEvent``."""
    with uow:
        camera = uow.cameras.get(cmd.camera_id)
        if camera is None:
            return None
        event_id = str(uuid.uuid4())
        at = datetime.fromtimestamp(cmd.at, UTC)
        snapshot_key = None
        if cmd.snapshot_jpeg:
            snapshot_key = f"snapshots/{camera.id}/{at:%Y/%m/%d}/{event_id}.jpg"
            media.put(snapshot_key, cmd.snapshot_jpeg)
        event = events.DetectionEvent(
            event_id=event_id, camera_id=camera.id, owner_agency_id=camera.owner_agency_id,
            rule_id=cmd.rule_id, rule_kind=cmd.rule_kind, classes=cmd.classes,
            track_ids=cmd.track_ids, confidence=cmd.confidence, box=cmd.box,
            snapshot_key=snapshot_key, at=at, detail=dict(cmd.detail))
        uow.detections.add(event)
        uow.emit(event)
        uow.commit()
        return event


def list_detections(uow: UnitOfWork, who: Principal, *, camera_id: str | None = None,
                    since: datetime | None = None, limit: int = 100
                    ) -> list[events.DetectionEvent]:
    """Recent detection events on cameras the caller may see."""
    action = "detection.list"
    with uow:
        require(uow, who, who.can(Permission.CAMERA_READ), action, object_type="detection")
        visible = [c.id for c in uow.cameras.visible_to_agency(who.agency_id)]
        if camera_id is not None:
            camera = visible_or_refuse(uow, who, camera_id, action)
            visible = [camera.id]
        found = [e for e in uow.detections.recent(visible, since=since,
                                                  limit=min(max(limit, 1), 500))
                 if e.shown_to(who.agency_id)]
        record(uow, who, action, object_type="detection", object_id=camera_id,
               detail={"count": len(found)})
        uow.commit()
        return found


def read_camera_health(uow: UnitOfWork, who: Principal, camera_id: str) -> Camera:
    """Authorise (and audit) reading a camera's stream health; the caller reads the registry."""
    action = "camera.health.read"
    with uow:
        camera = visible_or_refuse(uow, who, camera_id, action)
        record(uow, who, action, object_type="camera", object_id=camera.id,
               object_agency_id=camera.owner_agency_id)
        uow.commit()
        return camera


def camera_specs(uow: UnitOfWork, *, analytics_fps: float, detect_fps: float,
                 transport: str, recordings_root: str | None = None,
                 models_dir: str | None = None, now: datetime | None = None
                 ) -> list[CameraSpec]:
    """What the video workers need for every active camera (Sereno's own view, no caller).

    A camera whose centre has no data-protection impact assessment in force is neither analysed
    nor recorded (LOPDP art. 42; ``services/impact.py``): its spec keeps only the live picture.
    """
    with uow:
        specs = []
        at = now or datetime.now(UTC)
        covered = centres_in_force(uow, at)
        agencies = [a.id for a in uow.agencies.list()]
        wanted = uow.watchlist.for_agencies(agencies)
        agreements: dict[str, Sequence[SharingAgreement]] = {}
        for camera in uow.cameras.all_active():
            # A camera reports the plates wanted by the agencies that may see it, and the
            # published ones of partners sharing watchlists with its owner (ADR 0030).
            owner = camera.owner_agency_id
            if owner not in agreements:
                agreements[owner] = uow.agreements.active_to(owner)
            watchlist = tuple(
                {"plate": e.plate, "reason": e.reason, "agency_id": e.agency_id,
                 "expires": e.expires.isoformat() if e.expires else None,
                 "starts": e.starts.isoformat() if e.starts else None,
                 "tolerance": e.tolerance, "entry_id": e.entry_id}
                for e in camera_watchlist(camera, wanted, agreements[owner], agencies, at))
            rules = tuple(
                {"id": r.id, "camera_id": r.camera_id, "name": r.name, "kind": r.kind.value,
                 "points": r.points, "classes": list(r.classes),
                 "direction": r.direction.value, "dwell_s": r.dwell_s,
                 "min_count": r.min_count, "cooldown_s": r.cooldown_s,
                 "schedule": schedule_to_dict(r.schedule), "enabled": r.enabled}
                for r in uow.rules.for_camera(camera.id))
            masks = tuple(tuple((float(x), float(y)) for x, y in m)
                          for m in camera.privacy_masks)
            video = camera.video
            assessed = camera.centre_id in covered
            if not assessed and camera_needs_assessment(video):
                logger.warning("camera %s is not analysed or recorded: centre %s has no impact "
                               "assessment in force", camera.id, camera.centre_id)
            record = assessed and recordings_root is not None and video.get("record", True)
            specs.append(CameraSpec(
                camera.id, camera.analytics_stream_url, transport, analytics_fps, masks,
                video.get("detector"), rules, float(video.get("detect_fps", detect_fps)),
                camera.main_stream_url if record else None, recordings_root, watchlist,
                assessed and bool(video.get("analytics", True)), models_dir))
        return specs


def open_event_stream(uow: UnitOfWork, who: Principal) -> set[str]:
    """Start a live event feed: the ids of the cameras whose events the caller may receive."""
    return _visible_ids(uow, who, Permission.CAMERA_READ, "events.stream", "detection")


def _visible_ids(uow: UnitOfWork, who: Principal, permission: Permission, action: str,
                 object_type: str) -> set[str]:
    """The ids of the cameras the caller's agency may see, for ``action`` (audited)."""
    with uow:
        require(uow, who, who.can(permission), action, object_type=object_type)
        visible = {c.id for c in uow.cameras.visible_to_agency(who.agency_id)}
        record(uow, who, action, object_type=object_type, detail={"cameras": len(visible)})
        uow.commit()
        return visible


def authorize_detection_snapshot(uow: UnitOfWork, who: Principal, event_id: str) -> str:
    """The media key of a detection's snapshot, if the caller may see that footage (audited)."""
    return release_detection_snapshot(uow, who, event_id).key


class MediaRelease(NamedTuple):
    """A detection's media granted to a caller, with the decision whose obligations (e.g.
    ``watermark`` for a partner agency) the release must honour."""

    key: str
    camera: Camera
    decision: Decision


def release_detection_snapshot(uow: UnitOfWork, who: Principal, event_id: str) -> MediaRelease:
    """``authorize_detection_snapshot`` with the camera and the policy decision."""
    return _detection_media(uow, who, event_id, "footage.snapshot", "snapshot",
                            "this detection has no snapshot")


def _detection_media(uow: UnitOfWork, who: Principal, event_id: str, action: str,
                     which: str, missing: str) -> MediaRelease:
    """The key of a detection's ``which`` media ("snapshot" or "clip"), audited as footage."""
    with uow:
        event = uow.detections.get(event_id)
        if event is None:
            refuse(uow, who, action, NotFound(f"no detection {event_id!r}"),
                   object_type="detection", object_id=event_id)
        if not event.shown_to(who.agency_id):
            refuse(uow, who, action, NotFound(f"no detection {event_id!r}"),
                   object_type="detection", object_id=event_id,
                   internal_reason="another agency's watchlist hit (personal data)")
        camera = visible_or_refuse(uow, who, event.camera_id, action)
        decision = authorize_camera(uow, who, action, camera, object_type="detection",
                                    object_id=event_id)
        key = event.snapshot_key if which == "snapshot" else event.clip_key
        if key is None:
            refuse(uow, who, action, NotFound(missing), object_type="detection",
                   object_id=event_id, object_agency_id=camera.owner_agency_id)
        record(uow, who, action, object_type="detection", object_id=event_id,
               object_agency_id=camera.owner_agency_id,
               detail={"camera_id": camera.id, **decision.audit_detail()})
        uow.commit()
        return MediaRelease(key, camera, decision)


def authorize_playback(uow: UnitOfWork, who: Principal, camera_id: str, start: datetime,
                       end: datetime, *, action: str = "footage.playback") -> Camera:
    """Grant playback (or the listing) of a camera's recording for [start, end) and record it
    (who, when, why)."""
    with uow:
        camera = visible_or_refuse(uow, who, camera_id, action)
        # Listing what was recorded shows no picture: the live-view rules are enough for it.
        policy_action = "footage.playback" if action == "footage.playback" else "footage.live"
        decision = authorize_camera(uow, who, policy_action, camera, audit_action=action)
        if end <= start or (end - start).total_seconds() > 3600:
            refuse(uow, who, action, InvalidInput("a playback range is 1 s to 1 h long"),
                   object_type="camera", object_id=camera.id,
                   object_agency_id=camera.owner_agency_id)
        record(uow, who, action, object_type="camera", object_id=camera.id,
               object_agency_id=camera.owner_agency_id,
               detail={"start": start.isoformat(), "end": end.isoformat(),
                       **decision.audit_detail()})
        uow.commit()
        return camera


def authorize_metrics(uow: UnitOfWork, who: Principal) -> set[str]:
    """The cameras whose stream metrics the caller may scrape (audited)."""
    return _visible_ids(uow, who, Permission.METRICS_READ, "metrics.read", "camera")


def attach_event_clip(cmd: commands.AttachEventClip, uow: UnitOfWork) -> None:
    """Link a detection to its clip and say so on the bus."""
    with uow:
        event = uow.detections.get(cmd.event_id)
        if event is None:
            return
        uow.detections.attach_clip(cmd.event_id, cmd.clip_key)
        uow.emit(events.EventClipReady(cmd.event_id, event.camera_id, cmd.clip_key))
        uow.commit()


def authorize_detection_clip(uow: UnitOfWork, who: Principal, event_id: str) -> str:
    """The media key of a detection's clip, if the caller may see that footage (audited)."""
    return release_detection_clip(uow, who, event_id).key


def release_detection_clip(uow: UnitOfWork, who: Principal, event_id: str) -> MediaRelease:
    """``authorize_detection_clip`` with the camera and the policy decision."""
    return _detection_media(
        uow, who, event_id, "footage.clip", "clip",
        "no clip yet: it is cut from the recording a few seconds after the event, and only "
        "while the camera is recorded")
