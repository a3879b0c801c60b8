"""The embedded profile's transport: the JetStream semantics in memory, in one process.

One append-only log per transport (the "stream"); each group keeps a cursor into it, the
attempts of the messages it has not acknowledged, and when to redeliver the failed ones. Each
subscription has a worker thread that claims the group's next message under one lock, so
subscribers of one group never get the same message at once. Nothing survives the process:
the embedded profile keeps its durable state in the database, not on the bus.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sereno.adapters.bus.transport import (
    DEAD_LETTER_ROOT,
    Delivery,
    Handler,
    TransportError,
    check_name,
    check_subject,
    dead_letter_subject,
    retry_delay,
    subject_matches,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Stored:
    subject: str
    data: bytes
    msg_id: str
    published: datetime


@dataclass
class _Group:
    subject: str
    next_index: int = 0  # first log entry the group has not looked at yet
    attempts: dict[int, int] = field(default_factory=dict)  # unacknowledged: index -> tries
    due: dict[int, float] = field(default_factory=dict)  # failed: index -> redeliver at
    in_flight: set[int] = field(default_factory=set)


class InProcessTransport:
    """``Transport`` in memory (see ``transport.py`` for the semantics)."""

    def __init__(self, stream: str = "SERENO", subjects: tuple[str, ...] = ("sereno.>",), *,
                 max_deliver: int = 5, retry_backoff: float = 0.5, max_backoff: float = 30.0,
                 duplicate_window: float = 120.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_deliver < 1:
            raise ValueError("max_deliver must be at least 1")
        self.stream = check_name("stream", stream)
        self.subjects = tuple(check_subject(s, wildcards=True) for s in subjects)
        # As on JetStream, the stream also holds the dead letters.
        self._stored_subjects = (*self.subjects, f"{DEAD_LETTER_ROOT}.{stream}.>")
        self.max_deliver = max_deliver
        self.retry_backoff = retry_backoff
        self.max_backoff = max_backoff
        self.duplicate_window = duplicate_window
        self._clock = clock
        self._cond = threading.Condition()
        self._log: list[_Stored] = []
        self._seen: OrderedDict[str, float] = OrderedDict()  # msg_id -> stored at (clock)
        self._groups: dict[str, _Group] = {}
        self._subscriptions: list[InProcessSubscription] = []
        self._closed = False

    def publish(self, subject: str, data: bytes, *, msg_id: str) -> None:
        """Append to the log unless ``msg_id`` was stored within the dedupe window."""
        check_subject(subject, wildcards=False)
        if not any(subject_matches(p, subject) for p in self._stored_subjects):
            raise TransportError(f"subject {subject!r} is not in stream {self.stream}")
        with self._cond:
            self._append(subject, data, msg_id)

    def subscribe(self, subject: str, group: str, handler: Handler) -> InProcessSubscription:
        """Start a worker thread delivering ``group``'s messages of ``subject`` to ``handler``."""
        check_subject(subject, wildcards=True)
        check_name("group", group)
        with self._cond:
            if self._closed:
                raise TransportError("the transport is closed")
            state = self._groups.setdefault(group, _Group(subject))
            if state.subject != subject:
                raise ValueError(f"group {group!r} already consumes {state.subject!r}, "
                                 f"not {subject!r}: use another group name")
            sub = InProcessSubscription(self, subject, group, handler)
            self._subscriptions.append(sub)
        sub.start()
        return sub

    def dead_letter_subject(self, subject: str, group: str) -> str:
        """``deadletter.<stream>.<group>.<subject>``."""
        return dead_letter_subject(self.stream, subject, group)

    def close(self) -> None:
        """Stop every subscription; later publishes fail."""
        with self._cond:
            self._closed = True
            subs, self._subscriptions = self._subscriptions, []
        for sub in subs:
            sub.close()

    # -- called with self._cond held -------------------------------------------------------

    def _append(self, subject: str, data: bytes, msg_id: str) -> None:
        if self._closed:
            raise TransportError("the transport is closed")
        now = self._clock()
        while self._seen:
            oldest_id, stored_at = next(iter(self._seen.items()))
            if now - stored_at < self.duplicate_window:
                break
            del self._seen[oldest_id]
        if msg_id in self._seen:
            return
        self._seen[msg_id] = now
        self._log.append(_Stored(subject, bytes(data), msg_id, datetime.now(UTC)))
        self._cond.notify_all()

    def _claim(self, group: str) -> tuple[int, Delivery] | float:
        """The group's next message (marked in flight), else how long to wait for one."""
        state = self._groups[group]
        now = self._clock()
        ready = [i for i, at in state.due.items() if at <= now and i not in state.in_flight]
        if ready:
            index = min(ready)
            del state.due[index]
        else:
            while (state.next_index < len(self._log)
                   and not subject_matches(state.subject, self._log[state.next_index].subject)):
                state.next_index += 1
            if state.next_index >= len(self._log):
                waits = [at - now for at in state.due.values()]
                return max(min(waits), 0.001) if waits else 1.0
            index = state.next_index
            state.next_index += 1
        state.attempts[index] = state.attempts.get(index, 0) + 1
        state.in_flight.add(index)
        stored = self._log[index]
        return index, Delivery(stored.subject, stored.data, stored.msg_id,
                               state.attempts[index], stored.published)

    def _settle(self, group: str, index: int, error: BaseException | None) -> None:
        state = self._groups[group]
        state.in_flight.discard(index)
        if error is None:
            state.attempts.pop(index, None)
            return
        attempt = state.attempts[index]
        stored = self._log[index]
        if attempt >= self.max_deliver:
            del state.attempts[index]
            dead = self.dead_letter_subject(stored.subject, group)
            logger.error("group %s gave up on %s (msg %s) after %d attempts; parked on %s",
                         group, stored.subject, stored.msg_id, attempt, dead,
                         exc_info=error)
            if not self._closed:
                self._append(dead, stored.data, f"{DEAD_LETTER_ROOT}:{group}:{stored.msg_id}")
            return
        logger.warning("group %s failed on %s (msg %s), attempt %d/%d: %r", group,
                       stored.subject, stored.msg_id, attempt, self.max_deliver, error)
        state.due[index] = self._clock() + retry_delay(attempt, self.retry_backoff,
                                                       self.max_backoff)
        self._cond.notify_all()


class InProcessSubscription:
    """One member of a group: a worker thread running the handler."""

    def __init__(self, transport: InProcessTransport, subject: str, group: str,
                 handler: Handler) -> None:
        self._transport = transport
        self._subject = subject
        self._group = group
        self._handler = handler
        self._stopped = False
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"bus-{group}-{subject}")

    @property
    def subject(self) -> str:
        """The subject filter."""
        return self._subject

    @property
    def group(self) -> str:
        """The durable group."""
        return self._group

    def start(self) -> None:
        """Start the worker thread."""
        self._thread.start()

    def close(self) -> None:
        """Stop after the handler call in progress, if any."""
        cond = self._transport._cond
        with cond:
            self._stopped = True
            cond.notify_all()
        if threading.current_thread() is not self._thread and self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        cond = self._transport._cond
        while True:
            with cond:
                while True:
                    if self._stopped:
                        return
                    claimed = self._transport._claim(self._group)
                    if not isinstance(claimed, float):
                        break
                    cond.wait(claimed)
            index, delivery = claimed
            error: BaseException | None = None
            try:
                self._handler(delivery)
            except BaseException as exc:  # a failing handler must not kill the worker
                error = exc
            with cond:
                self._transport._settle(self._group, index, error)
            if error is not None and not isinstance(error, Exception):
                raise error
