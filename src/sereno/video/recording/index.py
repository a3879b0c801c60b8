"""The segment index of one camera: a small SQLite file beside its segments.

It is deliberately independent of the platform database: the recorder must keep working when
the database is unreachable, and the integration registers segments there itself (from the
recorder's ``on_segment`` hook). SQLite rather than JSON lines because retention deletes rows
and a recorder thread and a retention job may touch the index at the same time (WAL, one short
transaction per change).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

INDEX_FILE = "index.sqlite3"
_CAMERA_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

SegmentStatus = Literal["open", "closed"]

_COLUMNS = ("id, path, status, start_utc, end_utc, first_pts, last_pts, time_base_num,"
            " time_base_den, packets, payload_bytes, file_size, codec, width, height,"
            " has_audio, discontinuity")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,           -- relative to the camera folder
    status TEXT NOT NULL,                -- open while written, closed once playable to the end
    start_utc REAL NOT NULL,             -- POSIX seconds of the first packet's PTS
    end_utc REAL NOT NULL,               -- POSIX seconds of the last frame's PTS + duration
    first_pts INTEGER NOT NULL,          -- source PTS, in time_base units
    last_pts INTEGER NOT NULL,
    time_base_num INTEGER NOT NULL,
    time_base_den INTEGER NOT NULL,
    packets INTEGER NOT NULL DEFAULT 0,
    payload_bytes INTEGER NOT NULL DEFAULT 0,
    file_size INTEGER NOT NULL DEFAULT 0,
    codec TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    has_audio INTEGER NOT NULL,
    discontinuity INTEGER NOT NULL       -- 1: starts after a timestamp jump or a stream restart
);
CREATE INDEX IF NOT EXISTS segments_by_time ON segments (start_utc, end_utc);
"""


def validate_camera_id(camera_id: str) -> str:
    """``camera_id`` itself; raises ``ValueError`` if it could not be a plain folder name."""
    if not _CAMERA_ID.match(camera_id) or camera_id in {".", ".."}:
        raise ValueError(f"invalid camera id {camera_id!r}")
    return camera_id


def to_epoch(moment: datetime) -> float:
    """POSIX seconds of an aware datetime (naive datetimes are refused: they hide bugs)."""
    if moment.tzinfo is None:
        raise ValueError("datetimes must be timezone-aware (UTC)")
    return moment.timestamp()


def from_epoch(seconds: float) -> datetime:
    """An aware UTC datetime."""
    return datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True)
class SegmentRecord:
    """One segment file as the index knows it."""

    id: int
    path: Path  # absolute
    relative_path: str
    status: SegmentStatus
    start_utc: datetime
    end_utc: datetime
    first_pts: int
    last_pts: int
    time_base: Fraction
    packets: int
    payload_bytes: int
    file_size: int
    codec: str
    width: int
    height: int
    has_audio: bool
    discontinuity: bool

    @property
    def duration_s(self) -> float:
        """Wall-clock length of the segment."""
        return (self.end_utc - self.start_utc).total_seconds()


class SegmentIndex:
    """The index of one camera under ``root`` (created on first use)."""

    def __init__(self, root: Path, camera_id: str) -> None:
        self.camera_id = validate_camera_id(camera_id)
        self.camera_dir = root / camera_id
        self.camera_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.camera_dir / INDEX_FILE
        with self._connect() as connection:
            connection.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # A connection per operation: usable from any thread or process, nothing held open.
        with closing(sqlite3.connect(self.path, timeout=30.0)) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            with connection:  # one transaction, committed on success
                yield connection

    def begin(self, relative_path: str, *, start_utc: datetime, first_pts: int,
              time_base: Fraction, codec: str, width: int, height: int, has_audio: bool,
              discontinuity: bool) -> int:
        """Register a segment as it is opened (status ``open``) and return its id, so that a
        crash leaves a row that ``recover`` can finish from the file."""
        start = to_epoch(start_utc)
        with self._connect() as connection:
            cursor = connection.execute(
                "INSERT INTO segments (path, status, start_utc, end_utc, first_pts, last_pts,"
                " time_base_num, time_base_den, codec, width, height, has_audio, discontinuity)"
                " VALUES (?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (relative_path, start, start, first_pts, first_pts, time_base.numerator,
                 time_base.denominator, codec, width, height, int(has_audio),
                 int(discontinuity)))
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    def finish(self, segment_id: int, *, end_utc: datetime, last_pts: int, packets: int,
               payload_bytes: int, file_size: int, start_utc: datetime | None = None
               ) -> SegmentRecord:
        """Mark a segment closed with its final extent and sizes (and its settled start, for
        live sources whose start is only known once the segment's packets have arrived)."""
        with self._connect() as connection:
            if start_utc is not None:
                connection.execute("UPDATE segments SET start_utc=? WHERE id=?",
                                   (to_epoch(start_utc), segment_id))
            connection.execute(
                "UPDATE segments SET status='closed', end_utc=?, last_pts=?, packets=?,"
                " payload_bytes=?, file_size=? WHERE id=?",
                (to_epoch(end_utc), last_pts, packets, payload_bytes, file_size, segment_id))
        record = self.get(segment_id)
        assert record is not None
        return record

    def get(self, segment_id: int) -> SegmentRecord | None:
        """One segment by id."""
        rows = self._select("WHERE id=?", (segment_id,))
        return rows[0] if rows else None

    def segments(self, status: SegmentStatus | None = "closed") -> list[SegmentRecord]:
        """Segments in time order (closed ones by default; ``None`` for all)."""
        if status is None:
            return self._select("ORDER BY start_utc, id", ())
        return self._select("WHERE status=? ORDER BY start_utc, id", (status,))

    def overlapping(self, start_utc: datetime, end_utc: datetime) -> list[SegmentRecord]:
        """Closed segments that cover any part of [start, end), in time order."""
        return self._select(
            "WHERE status='closed' AND end_utc > ? AND start_utc < ? ORDER BY start_utc, id",
            (to_epoch(start_utc), to_epoch(end_utc)))

    def total_bytes(self) -> int:
        """Bytes on disk of all closed segments."""
        with self._connect() as connection:
            (total,) = connection.execute(
                "SELECT COALESCE(SUM(file_size), 0) FROM segments WHERE status='closed'"
            ).fetchone()
        return int(total)

    def delete(self, segment_id: int) -> None:
        """Forget a segment (the caller removes the file)."""
        with self._connect() as connection:
            connection.execute("DELETE FROM segments WHERE id=?", (segment_id,))

    def _select(self, where: str, parameters: tuple[Any, ...]) -> list[SegmentRecord]:
        with self._connect() as connection:
            # ``where`` is always one of this class's literal clauses, never caller text.
            query = f"SELECT {_COLUMNS} FROM segments {where}"  # noqa: S608
            rows = connection.execute(query, parameters).fetchall()
        return [self._record(row) for row in rows]

    def _record(self, row: Any) -> SegmentRecord:
        (id_, path, status, start, end, first_pts, last_pts, tb_num, tb_den, packets,
         payload_bytes, file_size, codec, width, height, has_audio, discontinuity) = row
        return SegmentRecord(
            id=int(id_), path=self.camera_dir / path, relative_path=str(path),
            status="open" if status == "open" else "closed",
            start_utc=from_epoch(start), end_utc=from_epoch(end),
            first_pts=int(first_pts), last_pts=int(last_pts),
            time_base=Fraction(int(tb_num), int(tb_den)), packets=int(packets),
            payload_bytes=int(payload_bytes), file_size=int(file_size), codec=str(codec),
            width=int(width), height=int(height), has_audio=bool(has_audio),
            discontinuity=bool(discontinuity))
