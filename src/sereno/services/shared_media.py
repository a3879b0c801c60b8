"""The media that goes with a shared alert: chosen, redacted and watermarked before it leaves.

Only when the agreement includes media. The snapshot is blurred (faces and/or plates, as the
agreement says; a plate hit's vehicle box too) and watermarked with a payload registered to the
recipient agency (``IssueKind.ALERT_SHARE``). The clip goes only when the agreement asks for no
redaction (frames are not redacted one by one: ADR 0025), watermarked; otherwise it is withheld.
A picture that cannot be decoded, redacted or marked is withheld, never sent as it is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sereno.adapters.media_store import LocalMediaStore
from sereno.domain.access import Principal
from sereno.domain.agreements import ShareTerms
from sereno.domain.alerts import Alert
from sereno.domain.evidence import IssueKind, WatermarkIssue
from sereno.services.footage_release import issue_payload, load_or_create_key, watermark_key_path
from sereno.services.unit_of_work import UnitOfWork
from sereno.video import marking, redaction

logger = logging.getLogger(__name__)

#: The shared pictures of one alert's camera to one agreement within this window carry one
#: payload (a correlated alert re-shares its newest snapshot on every repeat).
PAYLOAD_SESSION = timedelta(hours=1)
MAX_CLIP_BYTES = 12 * 1024 * 1024
#: Above the vehicle box of a plate hit: the annotated snapshot writes the plate there.
TAG_ROOM = 0.08


@dataclass
class SharedMedia:
    """What goes: ``files`` (``snapshot``/``clip`` bytes), whether it was redacted, whether
    the origin had media that stays home, and what the audit record says of it."""

    files: dict[str, bytes] = field(default_factory=dict)
    redacted: bool = False
    withheld: bool = False
    detail: dict[str, Any] = field(default_factory=dict)


def prepare_media(uow: UnitOfWork, alert: Alert, terms: ShareTerms, *, to_agency_id: str,
                  watermark: bool, store: LocalMediaStore, data_dir: Path,
                  now: datetime, with_snapshot: bool = True,
                  with_clip: bool = True) -> SharedMedia:
    """The media of ``alert`` for ``to_agency_id`` under ``terms`` (runs in the caller's
    transaction: the watermark payload is registered with the share)."""
    has_media = bool(alert.snapshot_key or alert.clip_key)
    if not terms.include_media:
        return SharedMedia(withheld=has_media, detail={"media": "not included by the agreement"})
    result = SharedMedia(detail={})
    redact = terms.redact_faces or terms.redact_plates
    issue: WatermarkIssue | None = None
    key = load_or_create_key(watermark_key_path(data_dir)) if watermark else None
    if watermark:
        issue = _payload(uow, alert, terms, to_agency_id, now)
        result.detail["watermark_payload"] = issue.payload
    if alert.snapshot_key and with_snapshot:
        picture = store.get(alert.snapshot_key)
        try:
            if picture is None:
                raise marking.UnreadableImage("the snapshot file is missing")
            image = marking.decode_jpeg(picture)
            if redact:
                boxes = _plate_hit_boxes(uow, alert, image.shape[1], image.shape[0]) \
                    if terms.redact_plates else []
                image, report = redaction.redact(image, faces=terms.redact_faces,
                                                 plates=terms.redact_plates, boxes=boxes)
                result.redacted = True
                result.detail["redaction"] = report.as_detail()
            image = marking.mark_frame(image, payload=issue.payload if issue else None,
                                       key=key, label=None)
            result.files["snapshot"] = marking.encode_jpeg(image)
        except Exception as error:  # never send a picture that could not be redacted/marked
            logger.warning("snapshot of alert %s withheld: %s", alert.id, error)
            result.withheld = True
            result.detail["snapshot_withheld"] = str(error)[:200]
    if alert.clip_key and with_clip:
        reason = _clip(result, alert.clip_key, store, redact, issue, key)
        if reason:
            result.withheld = True
            result.detail["clip_withheld"] = reason
    return result


def _clip(result: SharedMedia, clip_key: str, store: LocalMediaStore, redact: bool,
          issue: WatermarkIssue | None, key: bytes | None) -> str | None:
    """Attach the clip when allowed; the reason it is withheld otherwise."""
    if redact:
        return "the agreement requires redaction, which clips do not get"
    data = store.get(clip_key)
    if data is None:
        return "the clip file is missing"
    if len(data) > MAX_CLIP_BYTES:
        return "the clip is larger than a shared message allows"
    if issue is not None and key is not None:
        try:
            data = marking.watermark_video(data, issue.payload, key)
        except Exception as error:  # PyAV raises many kinds of errors on damaged input
            return f"the clip could not be watermarked: {str(error)[:120]}"
    result.files["clip"] = data
    return None


def _payload(uow: UnitOfWork, alert: Alert, terms: ShareTerms, to_agency_id: str,
             now: datetime) -> WatermarkIssue:
    """One payload per agreement, camera and hour; the registry names the recipient agency
    (the issue's ``user_id`` is the agreement: nobody of the recipient is known yet)."""
    camera_id = alert.camera_ids[0] if alert.camera_ids else None
    if camera_id is not None:
        recent = uow.watermarks.recent(terms.agreement_id, camera_id, IssueKind.ALERT_SHARE,
                                       now - PAYLOAD_SESSION)
        if recent is not None:
            return recent
    receiver = Principal(user_id=terms.agreement_id, username="system:sharing",
                         agency_id=to_agency_id, roles=frozenset(), channel="system")
    return issue_payload(uow, kind=IssueKind.ALERT_SHARE, reference=alert.id, who=receiver,
                         recipient=f"agency {to_agency_id} (agreement {terms.agreement_id})",
                         owner_agency_id=alert.agency_id, camera_id=camera_id, now=now)


def _plate_hit_boxes(uow: UnitOfWork, alert: Alert, width: int,
                     height: int) -> list[redaction.Box]:
    """The vehicle box of the plate hit whose snapshot the alert shows (grown upwards over the
    plate's tag)."""
    for detection_id in reversed(alert.detection_ids):
        detection = uow.detections.get(detection_id)
        if detection is None or detection.rule_kind != "plate":
            continue
        if detection.snapshot_key not in (None, alert.snapshot_key):
            continue
        x1, y1, x2, y2 = detection.box
        return [redaction.pixel_box((x1, max(0.0, y1 - TAG_ROOM), x2, y2), width, height)]
    return []
