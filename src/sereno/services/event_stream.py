"""An in-process fan-out of domain events to live subscribers (the console's live views).

Bounded per subscriber: a slow consumer loses its oldest events rather than holding memory.
A subscriber may also ask to be woken when something arrives (``wake``), so that a push stream
does not have to poll; ``listen`` does that for an asyncio consumer (ADR 0028).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field

from sereno.domain.events import Event

Wake = Callable[[], None]


@dataclass(eq=False)
class _Subscriber:
    queue: deque[Event]
    wake: Wake | None = field(default=None)


class EventStream:
    """Thread-safe publish/subscribe of domain events inside one process."""

    def __init__(self, per_subscriber: int = 1000) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[_Subscriber] = []
        self._capacity = per_subscriber

    def publish(self, event: Event) -> None:
        """Hand ``event`` to every current subscriber and wake those that asked to be."""
        with self._lock:
            waiting = []
            for subscriber in self._subscribers:
                subscriber.queue.append(event)
                if subscriber.wake is not None:
                    waiting.append(subscriber.wake)
        for wake in waiting:  # outside the lock: a wake must never block a publisher
            wake()

    @contextmanager
    def subscribe(self, wake: Wake | None = None) -> Iterator[deque[Event]]:
        """A queue that receives every event published while the block runs; ``wake`` (if
        given) is called, from the publishing thread, after each event is queued."""
        subscriber = _Subscriber(deque(maxlen=self._capacity), wake)
        with self._lock:
            self._subscribers.append(subscriber)
        try:
            yield subscriber.queue
        finally:
            with self._lock:
                self._subscribers.remove(subscriber)

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[Listener]:
        """A subscription for a coroutine on the running event loop: ``await
        listener.next(timeout)`` returns as soon as an event is published from any thread."""
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()

        def wake() -> None:
            # Queued before this check, so a consumer that cleared the flag will still drain
            # it: skipping the loop hop while the flag is up is safe and spares 500 hops/s.
            if ready.is_set():
                return
            with suppress(RuntimeError):  # the loop is closing: the stream ends anyway
                loop.call_soon_threadsafe(ready.set)

        with self.subscribe(wake) as queue:
            yield Listener(queue, ready)


class Listener:
    """The asyncio side of one subscription (see ``EventStream.listen``)."""

    def __init__(self, queue: deque[Event], ready: asyncio.Event) -> None:
        self._queue = queue
        self._ready = ready

    async def next(self, timeout: float) -> list[Event]:
        """Every event queued so far, waiting at most ``timeout`` seconds for the first one
        (an empty list when none came: time for a keepalive or a credential check)."""
        if not self._queue:
            try:
                await asyncio.wait_for(self._ready.wait(), timeout)
            except TimeoutError:
                return []
        self._ready.clear()  # before draining: an event queued meanwhile sets it again
        batch: list[Event] = []
        while self._queue:
            batch.append(self._queue.popleft())
        return batch
