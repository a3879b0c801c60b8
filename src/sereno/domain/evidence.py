"""Evidence exports and the registry of forensic watermarks.

An evidence export names detection snapshots, detection clips or ranges of a camera's recording,
the purpose, the case and the recipient. It moves ``requested → approved | rejected`` by the
decision of a second person (an evidence custodian of the same agency, never the requester) and
``approved → exported`` when the signed package is built. Every picture that leaves Sereno
carries an invisible watermark: a payload (a number) registered here with who received it, so
that a leaked frame leads back to its export or viewing session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sereno.domain.errors import AccessDenied, Conflict, InvalidInput

MAX_ITEMS = 50
MAX_RECORDING = timedelta(minutes=5)
MIN_NOTE = 5


class ExportStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPORTED = "exported"


class ItemKind(StrEnum):
    """What an export item is: a detection's snapshot or clip, or a range of a recording."""

    SNAPSHOT = "snapshot"
    CLIP = "clip"
    RECORDING = "recording"


@dataclass(frozen=True)
class ExportItem:
    """One piece of media of an export, fixed (key, size, SHA-256) when it is requested."""

    kind: ItemKind
    camera_id: str
    detection_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    captured_at: datetime | None = None
    media_key: str = ""
    sha256: str = ""
    size: int = 0

    def __post_init__(self) -> None:
        if self.kind is ItemKind.RECORDING:
            if self.start is None or self.end is None:
                raise InvalidInput("a recording item needs start and end")
            if self.start.tzinfo is None or self.end.tzinfo is None:
                raise InvalidInput("start and end need a time zone")
            if not timedelta(seconds=1) <= self.end - self.start <= MAX_RECORDING:
                raise InvalidInput("a recording item is 1 s to "
                                   f"{int(MAX_RECORDING.total_seconds() // 60)} min long")
        elif not self.detection_id:
            raise InvalidInput(f"a {self.kind.value} item names its detection_id")

    @property
    def label(self) -> str:
        """How messages name the item."""
        if self.kind is ItemKind.RECORDING:
            assert self.start is not None and self.end is not None
            return (f"recording of {self.camera_id} {self.start:%Y-%m-%dT%H:%M:%S}Z–"
                    f"{self.end:%H:%M:%S}Z")
        return f"{self.kind.value} of detection {self.detection_id}"

    @property
    def extension(self) -> str:
        return "jpg" if self.kind is ItemKind.SNAPSHOT else "mp4"

    def as_dict(self) -> dict[str, Any]:
        def moment(value: datetime | None) -> str | None:
            return value.astimezone(UTC).isoformat() if value else None

        return {"kind": self.kind.value, "camera_id": self.camera_id,
                "detection_id": self.detection_id, "start": moment(self.start),
                "end": moment(self.end), "captured_at": moment(self.captured_at),
                "media_key": self.media_key, "sha256": self.sha256, "size": self.size}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExportItem:
        def moment(value: Any) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        return cls(kind=ItemKind(data["kind"]), camera_id=data["camera_id"],
                   detection_id=data.get("detection_id"), start=moment(data.get("start")),
                   end=moment(data.get("end")), captured_at=moment(data.get("captured_at")),
                   media_key=data.get("media_key", ""), sha256=data.get("sha256", ""),
                   size=int(data.get("size", 0)))


def parse_item_kind(value: str) -> ItemKind:
    try:
        return ItemKind(value.strip().lower())
    except ValueError:
        known = ", ".join(k.value for k in ItemKind)
        raise InvalidInput(f"unknown item kind {value[:30]!r} (known: {known})") from None


def _text(value: str, name: str, low: int, high: int) -> str:
    value = " ".join(value.split())
    if not low <= len(value) <= high:
        raise InvalidInput(f"{name} is {low} to {high} characters")
    return value


@dataclass(eq=False)
class EvidenceExport:
    """An export request and what became of it. ``items`` and ``custody`` are JSON lists."""

    id: str
    agency_id: str
    purpose: str
    case_reference: str
    justification: str
    recipient_name: str
    recipient_organisation: str
    items: list[dict[str, Any]]
    requested_by: str
    requested_by_username: str
    requested_at: datetime
    status: ExportStatus = ExportStatus.REQUESTED
    decided_by: str | None = None
    decided_by_username: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None
    exported_at: datetime | None = None
    exported_by_username: str | None = None
    package_key: str | None = None
    package_sha256: str | None = None
    package_size: int | None = None
    watermark_payload: int | None = None
    custody: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def request(cls, *, export_id: str, agency_id: str, purpose: str, case_reference: str,
                justification: str, recipient_name: str, recipient_organisation: str,
                items: list[ExportItem], user_id: str, username: str,
                now: datetime) -> EvidenceExport:
        """A new request (the purpose and case were checked by the policy door)."""
        if not items:
            raise InvalidInput("an export names at least one item")
        if len(items) > MAX_ITEMS:
            raise InvalidInput(f"an export has at most {MAX_ITEMS} items")
        keys = [(i.kind, i.detection_id, i.camera_id, i.start, i.end) for i in items]
        if len(set(keys)) != len(keys):
            raise InvalidInput("the same item is named twice")
        export = cls(
            id=export_id, agency_id=agency_id, purpose=purpose, case_reference=case_reference,
            justification=_text(justification, "the justification", MIN_NOTE, 1000),
            recipient_name=_text(recipient_name, "the recipient's name", 3, 200),
            recipient_organisation=_text(recipient_organisation,
                                         "the recipient's organisation", 2, 200),
            items=[i.as_dict() for i in items], requested_by=user_id,
            requested_by_username=username, requested_at=now)
        export._custody("requested", username, now, purpose=purpose, case=case_reference,
                        justification=export.justification,
                        recipient=export.recipient_label)
        return export

    @property
    def export_items(self) -> list[ExportItem]:
        return [ExportItem.from_dict(i) for i in self.items]

    @property
    def recipient_label(self) -> str:
        return f"{self.recipient_name} ({self.recipient_organisation})"

    def _custody(self, event: str, by: str, at: datetime, **detail: Any) -> None:
        # Reassigned, never mutated in place: the ORM sees a new JSON value.
        self.custody = [*self.custody, {"event": event, "by": by,
                                        "at": at.astimezone(UTC).isoformat(), **detail}]

    def check_decider(self, user_id: str, agency_id: str, is_custodian: bool) -> None:
        """Only an evidence custodian of the export's agency who did not request it decides."""
        if not is_custodian:
            raise AccessDenied("only an evidence custodian (approver role) approves or rejects "
                               "an export")
        if agency_id != self.agency_id:
            raise AccessDenied("only a custodian of the export's agency decides on it")
        if user_id == self.requested_by:
            raise AccessDenied("nobody approves or rejects their own export request: a "
                               "second person must decide")

    def _decide(self, status: ExportStatus, user_id: str, username: str, now: datetime,
                note: str | None) -> None:
        if self.status is not ExportStatus.REQUESTED:
            raise Conflict(f"the export was already {self.status.value}")
        self.status, self.decided_by, self.decided_by_username = status, user_id, username
        self.decided_at, self.decision_note = now, note
        self._custody(status.value, username, now, note=note)

    def approve(self, user_id: str, username: str, now: datetime, note: str | None) -> None:
        cleaned = _text(note, "the note", 1, 1000) if note and note.strip() else None
        self._decide(ExportStatus.APPROVED, user_id, username, now, cleaned)

    def reject(self, user_id: str, username: str, now: datetime, note: str) -> None:
        self._decide(ExportStatus.REJECTED, user_id, username, now,
                     _text(note, "the reason for rejecting", MIN_NOTE, 1000))

    def check_exportable(self) -> None:
        if self.status in (ExportStatus.REQUESTED, ExportStatus.REJECTED):
            raise Conflict(f"the export is {self.status.value}: only an approved export is "
                           "packaged")

    def mark_exported(self, username: str, now: datetime, payload: int) -> None:
        """The package is being built now, watermarked with ``payload``."""
        self.check_exportable()
        self.status, self.exported_at, self.exported_by_username = (
            ExportStatus.EXPORTED, now, username)
        self.watermark_payload = payload
        self._custody("exported", username, now, watermark_payload=payload)

    def attach_package(self, key: str, sha256: str, size: int, now: datetime) -> None:
        self.package_key, self.package_sha256, self.package_size = key, sha256, size
        self._custody("packaged", "system:evidence", now, package_sha256=sha256, size=size)


class IssueKind(StrEnum):
    """What a watermark payload was issued for."""

    EXPORT = "export"                  # an evidence package's watermarked copies
    LIVE = "live"                      # a live view (MJPEG) session
    SNAPSHOT = "snapshot"              # a camera's live snapshot
    DETECTION_SNAPSHOT = "detection_snapshot"  # a detection's stored snapshot
    DETECTION_CLIP = "detection_clip"  # a detection's stored clip
    ALERT_SHARE = "alert_share"        # media of an alert shared with a partner agency


@dataclass(eq=False)
class WatermarkIssue:
    """Who received pictures marked with ``payload``: the registry ``trace-leak`` reads."""

    payload: int
    kind: IssueKind
    reference: str            # export id, or a viewing session id
    agency_id: str            # the receiving user's agency
    user_id: str
    username: str
    recipient: str            # an export's recipient, or the viewing agency
    owner_agency_id: str      # whose footage it is
    camera_id: str | None
    issued_at: datetime
