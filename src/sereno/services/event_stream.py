"""An in-process fan-out of domain events to live subscribers (the console's live views).

Bounded per subscriber: a slow consumer loses its oldest events rather than holding memory.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from sereno.domain.events import Event


class EventStream:
    """Thread-safe publish/subscribe of domain events inside one process."""

    def __init__(self, per_subscriber: int = 1000) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[deque[Event]] = []
        self._capacity = per_subscriber

    def publish(self, event: Event) -> None:
        """Hand ``event`` to every current subscriber."""
        with self._lock:
            for queue in self._subscribers:
                queue.append(event)

    @contextmanager
    def subscribe(self) -> Iterator[deque[Event]]:
        """A queue that receives every event published while the block runs."""
        queue: deque[Event] = deque(maxlen=self._capacity)
        with self._lock:
            self._subscribers.append(queue)
        try:
            yield queue
        finally:
            with self._lock:
                self._subscribers.remove(queue)
