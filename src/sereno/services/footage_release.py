"""Marking footage as it leaves Sereno: the registry of watermark payloads and the per-release
marker used by the live view, the camera snapshot, the detection snapshot and evidence exports.

Every picture released under a policy decision carrying the ``watermark`` obligation (a partner
agency's viewer, an export) gets an invisible payload registered here with who received it; every
live picture also gets a visible overlay (user and time). The watermark key is the node's own
secret (``<data_dir>/keys/watermark.key``, 32 random bytes, made on first use): never the signing
key, and useless to anyone reading the public key.
"""

from __future__ import annotations

import os
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sereno.domain.access import Principal
from sereno.domain.cameras import Camera
from sereno.domain.errors import Conflict
from sereno.domain.evidence import IssueKind, WatermarkIssue
from sereno.governance import watermark
from sereno.governance.policy.engine import Decision
from sereno.services.audit import Clock, record
from sereno.services.unit_of_work import UnitOfWork
from sereno.video import marking

WATERMARK_OBLIGATION = "watermark"
KEY_BYTES = 32
#: A partner's snapshots of one camera within this window share one payload (the wall refreshes
#: tiles every few seconds: one registry row per picture would say nothing more).
SNAPSHOT_SESSION = timedelta(hours=1)
ECUADOR = timezone(timedelta(hours=-5), "ECT")

_keys: dict[Path, bytes] = {}
_keys_lock = threading.Lock()


def watermark_key_path(data_dir: Path) -> Path:
    return data_dir / "keys" / "watermark.key"


def load_or_create_key(path: Path) -> bytes:
    """The node's watermark key at ``path``, made (mode 0600) when there is none."""
    with _keys_lock:
        if path in _keys:
            return _keys[path]
        if path.exists():
            key = path.read_bytes()
            if len(key) < 16:
                raise ValueError(f"{path} is not a watermark key (too short)")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            key = secrets.token_bytes(KEY_BYTES)
            try:
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first
                key = path.read_bytes()
            else:
                with os.fdopen(descriptor, "wb") as handle:
                    handle.write(key)
        _keys[path] = key
        return key


def needs_watermark(decision: Decision) -> bool:
    return WATERMARK_OBLIGATION in decision.obligations


def issue_payload(uow: UnitOfWork, *, kind: IssueKind, reference: str, who: Principal,
                  recipient: str, owner_agency_id: str, camera_id: str | None,
                  now: datetime) -> WatermarkIssue:
    """Register a fresh payload in the current transaction (no commit)."""
    while True:
        payload = 1 + secrets.randbelow((1 << watermark.PAYLOAD_BITS) - 1)
        if uow.watermarks.get(payload) is None:
            break
    issue = WatermarkIssue(payload=payload, kind=kind, reference=reference,
                           agency_id=who.agency_id, user_id=who.user_id,
                           username=who.username, recipient=recipient[:420],
                           owner_agency_id=owner_agency_id, camera_id=camera_id, issued_at=now)
    uow.watermarks.add(issue)
    return issue


def viewing_payload(uow: UnitOfWork, who: Principal, camera: Camera, kind: IssueKind,
                    clock: Clock, *, reference: str | None = None) -> WatermarkIssue:
    """The payload marking what ``who`` sees of ``camera``: a new one per live session, one per
    hour for snapshots. A new payload is audited (``footage.watermark``)."""
    now = clock()
    with uow:
        if kind is not IssueKind.LIVE:
            recent = uow.watermarks.recent(who.user_id, camera.id, kind, now - SNAPSHOT_SESSION)
            if recent is not None:
                return recent
        issue = issue_payload(uow, kind=kind, reference=reference or str(uuid.uuid4()),
                              who=who, recipient=f"agency {who.agency_id}",
                              owner_agency_id=camera.owner_agency_id, camera_id=camera.id,
                              now=now)
        record(uow, who, "footage.watermark", object_type="camera", object_id=camera.id,
               object_agency_id=camera.owner_agency_id,
               detail={"payload": issue.payload, "kind": kind.value,
                       "session": issue.reference, "for": reference}, now=now)
        uow.commit()
        return issue


@dataclass(frozen=True)
class FrameMarker:
    """How the pictures of one release are marked: visible label, invisible payload."""

    username: str | None
    payload: int | None
    key: bytes | None
    clock: Clock

    def label(self) -> str | None:
        if self.username is None:
            return None
        return f"{self.username} {self.clock().astimezone(ECUADOR):%Y-%m-%d %H:%M:%S} ECT"

    def mark_video(self, data: bytes) -> bytes:
        """A clip re-encoded with the watermark (no overlay), or as it is without one."""
        if self.payload is None or self.key is None:
            return data
        try:
            return marking.watermark_video(data, self.payload, self.key)
        except Exception:  # PyAV raises many kinds of errors on damaged input
            raise Conflict("the clip cannot be watermarked, so it is not released (the stored "
                           "file is damaged)") from None

    def mark(self, jpeg: bytes) -> bytes:
        """``jpeg`` with the overlay and watermark. A picture that cannot be decoded is never
        released when it must be watermarked; without that obligation it passes unmarked."""
        try:
            return marking.mark_jpeg(jpeg, payload=self.payload, key=self.key,
                                     label=self.label())
        except marking.UnreadableImage:
            if self.payload is not None:
                raise Conflict("the picture cannot be watermarked, so it is not released "
                               "(the stored file is damaged)") from None
            return jpeg


def live_marker(uow: UnitOfWork, who: Principal, camera: Camera, decision: Decision,
                data_dir: Path, clock: Clock, *, kind: IssueKind = IssueKind.LIVE,
                overlay: bool = True) -> FrameMarker:
    """The marker of a live view (``kind`` LIVE) or snapshot (SNAPSHOT, DETECTION_SNAPSHOT):
    the overlay for everyone (unless ``overlay`` is false), the watermark when the decision
    obliges it."""
    payload, key = None, None
    if needs_watermark(decision):
        key = load_or_create_key(watermark_key_path(data_dir))
        payload = viewing_payload(uow, who, camera, kind, clock).payload
    return FrameMarker(who.username if overlay else None, payload, key, clock)
