"""The latest live picture of a camera, passed from its worker process to the API process
through shared memory — no second decoder, no copy through a pipe.

Layout of one camera's block: a 32-byte header, then the JPEG.
  sequence (u64)      odd while the writer is writing (a seqlock: readers retry)
  wanted_until (f64)  wall-clock time until which somebody watches (set by readers)
  frame_time (f64)    wall-clock time of the picture
  length (u32)        bytes of JPEG that follow
The main process creates the blocks (and removes them); workers attach by name.
"""

from __future__ import annotations

import contextlib
import struct
import time
from multiprocessing import resource_tracker, shared_memory

HEADER = struct.Struct("<QddI4x")
MAX_JPEG = 2 * 1024 * 1024


class SharedFrame:
    """One camera's block, seen from either side."""

    def __init__(self, name: str, *, create: bool = False) -> None:
        self.name = name
        if create:
            with contextlib.suppress(FileNotFoundError):  # left by a killed node: start clean
                stale = shared_memory.SharedMemory(name=name)
                stale.close()
                stale.unlink()
        self._shm = shared_memory.SharedMemory(name=name, create=create,
                                               size=HEADER.size + MAX_JPEG)
        buffer = self._shm.buf
        assert buffer is not None
        self._buf: memoryview = buffer
        if create:
            HEADER.pack_into(self._buf, 0, 0, 0.0, 0.0, 0)
        else:
            # Python 3.11 registers attached blocks with the resource tracker too, which would
            # remove the block when a worker exits; only the creating process owns it.
            resource_tracker.unregister(self._shm._name, "shared_memory")  # type: ignore[attr-defined]
        self._owner = create

    # -- writer (worker process) -----------------------------------------------------------

    def wanted(self) -> bool:
        """Is somebody watching right now?"""
        _sequence, wanted_until, _at, _length = HEADER.unpack_from(self._buf, 0)
        return bool(wanted_until > time.time())

    def publish(self, jpeg: bytes, at: float) -> None:
        """Replace the picture (a JPEG larger than the block is dropped)."""
        if len(jpeg) > MAX_JPEG:
            return
        buffer = self._buf
        sequence, wanted_until, _at, _length = HEADER.unpack_from(buffer, 0)
        HEADER.pack_into(buffer, 0, sequence + 1, wanted_until, at, len(jpeg))  # odd: writing
        buffer[HEADER.size:HEADER.size + len(jpeg)] = jpeg
        _s, wanted_until, _a, _l = HEADER.unpack_from(buffer, 0)  # a reader may have renewed it
        HEADER.pack_into(buffer, 0, sequence + 2, wanted_until, at, len(jpeg))

    # -- reader (API process) --------------------------------------------------------------

    def want(self, seconds: float = 3.0) -> None:
        """Ask the worker to keep publishing for ``seconds``."""
        sequence, _wanted, at, length = HEADER.unpack_from(self._buf, 0)
        HEADER.pack_into(self._buf, 0, sequence, time.time() + seconds, at, length)

    def read(self) -> tuple[int, float, bytes] | None:
        """(sequence, picture time, JPEG) of a consistent picture, or None if none yet."""
        buffer = self._buf
        for _ in range(5):
            before, _wanted, at, length = HEADER.unpack_from(buffer, 0)
            if before == 0:
                return None
            if before % 2:
                time.sleep(0.001)
                continue
            data = bytes(buffer[HEADER.size:HEADER.size + length])
            after = HEADER.unpack_from(buffer, 0)[0]
            if after == before:
                return before, at, data
        return None

    def close(self) -> None:
        """Detach; the creating side also removes the block."""
        self._shm.close()
        if self._owner:
            with contextlib.suppress(FileNotFoundError):
                self._shm.unlink()
