"""Media on the local disk, addressed by relative keys (``snapshots/CAM-1/….jpg``)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePosixPath


class LocalMediaStore:
    """Writes atomically (temp file + rename) and refuses keys that would leave its root."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, key: str) -> Path:
        """The file for ``key``; raises ``ValueError`` for absolute or ``..`` keys."""
        relative = PurePosixPath(key)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise ValueError(f"invalid media key {key!r}")
        return self.root.joinpath(*relative.parts)

    def put(self, key: str, data: bytes) -> Path:
        """Store ``data`` under ``key``, replacing what was there."""
        path = self.path_of(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(data)
        temporary.replace(path)
        return path

    def get(self, key: str) -> bytes | None:
        """The bytes under ``key``, or None."""
        path = self.path_of(key)
        return path.read_bytes() if path.exists() else None

    def fingerprint(self, key: str, *, digest: bool = True) -> tuple[int, str | None] | None:
        """Size and SHA-256 of the file under ``key`` (no hash if not ``digest``); None when
        there is no such file."""
        path = self.path_of(key)
        try:
            size = path.stat().st_size
            if not digest:
                return size, None
            checksum = hashlib.sha256()
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    checksum.update(block)
        except FileNotFoundError:
            return None
        return size, checksum.hexdigest()

    def delete(self, key: str) -> None:
        """Remove the file under ``key`` (nothing if it is already gone)."""
        self.path_of(key).unlink(missing_ok=True)
