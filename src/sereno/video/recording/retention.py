"""Retention of one camera's recordings: by age and by total size, oldest first, never touching
a held segment (evidence, legal holds) nor the segment being written.

Everything deleted is reported with its SHA-256 (computed just before deletion), so the caller
can write an audit record that proves which footage was destroyed and that it was the footage
the index described.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sereno.video.recording.index import SegmentIndex, SegmentRecord

Hold = Callable[[SegmentRecord], bool]  # True: this segment must be kept


@dataclass(frozen=True)
class DeletedSegment:
    """One segment removed by retention."""

    segment_id: int
    path: Path
    start_utc: datetime
    end_utc: datetime
    size: int  # bytes on disk when deleted (0 if the file was already gone)
    sha256: str | None  # None when the file was already gone
    reason: str  # "age" or "size"


@dataclass(frozen=True)
class RetentionReport:
    """The outcome of one retention pass, for the audit log."""

    camera_id: str
    deleted: list[DeletedSegment] = field(default_factory=list)
    held: int = 0  # segments that were due but kept because of a hold
    remaining_segments: int = 0
    remaining_bytes: int = 0
    over_budget: bool = False  # held segments alone keep the camera above max_bytes

    @property
    def deleted_bytes(self) -> int:
        """Bytes freed."""
        return sum(item.size for item in self.deleted)

    @property
    def deleted_count(self) -> int:
        """Segments deleted."""
        return len(self.deleted)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _delete(index: SegmentIndex, segment: SegmentRecord, reason: str,
            dry_run: bool = False) -> DeletedSegment:
    if dry_run:  # what would go: the index's size, no hash, nothing touched
        return DeletedSegment(segment.id, segment.path, segment.start_utc, segment.end_utc,
                              segment.file_size, None, reason)
    try:
        size = segment.path.stat().st_size
        checksum: str | None = _sha256(segment.path)
    except FileNotFoundError:
        size, checksum = 0, None
    segment.path.unlink(missing_ok=True)
    index.delete(segment.id)  # after the file: a crash in between leaves a row, not an orphan
    return DeletedSegment(segment.id, segment.path, segment.start_utc, segment.end_utc, size,
                          checksum, reason)


def apply_retention(index: SegmentIndex, *, max_age_hours: float | None = None,
                    max_bytes: int | None = None, hold: Hold | None = None,
                    now: datetime | None = None, dry_run: bool = False) -> RetentionReport:
    """Delete closed segments that ended more than ``max_age_hours`` ago, then the oldest
    until the camera's segments total at most ``max_bytes``; segments for which ``hold``
    returns True are skipped (and counted). Open segments are never touched. ``dry_run``
    reports what would be deleted (without hashes) and deletes nothing."""
    now = now or datetime.now(UTC)
    is_held = hold or (lambda _segment: False)
    deleted: list[DeletedSegment] = []
    held_ids: set[int] = set()
    segments = index.segments("closed")  # oldest first
    kept: list[SegmentRecord] = []
    for segment in segments:
        too_old = (max_age_hours is not None
                   and segment.end_utc < now - timedelta(hours=max_age_hours))
        if too_old and is_held(segment):
            held_ids.add(segment.id)
        if too_old and segment.id not in held_ids:
            deleted.append(_delete(index, segment, "age", dry_run))
        else:
            kept.append(segment)
    total = sum(segment.file_size for segment in kept)
    remaining: list[SegmentRecord] = []
    for position, segment in enumerate(kept):
        if max_bytes is None or total <= max_bytes:
            remaining.extend(kept[position:])
            break
        if segment.id in held_ids or is_held(segment):
            held_ids.add(segment.id)
            remaining.append(segment)
            continue
        deleted.append(_delete(index, segment, "size", dry_run))
        total -= segment.file_size
    return RetentionReport(
        camera_id=index.camera_id, deleted=deleted, held=len(held_ids),
        remaining_segments=len(remaining), remaining_bytes=total,
        over_budget=max_bytes is not None and total > max_bytes)
