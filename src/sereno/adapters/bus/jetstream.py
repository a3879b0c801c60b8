"""The production profile's transport: NATS JetStream behind the synchronous ``Transport``.

nats-py is asyncio; the platform is threads. The transport owns an event loop on a daemon
thread and every call crosses over with ``asyncio.run_coroutine_threadsafe`` and a deadline, so
a caller never waits forever on a broker that is down. Each subscription is a durable pull
consumer (explicit ack) with a worker thread that fetches a batch and runs the handler on that
thread (never on the loop: a handler may publish, which needs the loop).

The server is told ``max_deliver + 1``: the extra delivery only happens when the last attempt
never settled (the process died, or the handler outlived ``ack_wait``), and then the message is
parked without running the handler again, so nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import nats.errors
import nats.js.errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)

from sereno.adapters.bus.transport import (
    DEAD_LETTER_ROOT,
    Delivery,
    Handler,
    TransportError,
    TransportUnavailable,
    check_name,
    check_subject,
    dead_letter_subject,
    retry_delay,
)
from sereno.config import mask_url

logger = logging.getLogger(__name__)

T = TypeVar("T")
MSG_ID_HEADER = "Nats-Msg-Id"
# Errors meaning "the broker is not there (now)"; anything else from nats is a refusal.
_UNREACHABLE = (TimeoutError, OSError, nats.errors.ConnectionClosedError,
                nats.errors.NoServersError, nats.errors.StaleConnectionError,
                nats.errors.ConnectionDrainingError, nats.errors.ConnectionReconnectingError)


class JetStreamTransport:
    """``Transport`` on a NATS JetStream stream (see ``transport.py`` for the semantics)."""

    def __init__(self, url: str = "nats://127.0.0.1:4222", stream: str = "SERENO",
                 subjects: tuple[str, ...] = ("sereno.>",), *, max_deliver: int = 5,
                 ack_wait: float = 30.0, retry_backoff: float = 0.5, max_backoff: float = 30.0,
                 duplicate_window: float = 120.0, timeout: float = 5.0,
                 connect_timeout: float = 3.0, reconnect_wait: float = 1.0,
                 fetch_wait: float = 1.0, batch: int = 64) -> None:
        if max_deliver < 1:
            raise ValueError("max_deliver must be at least 1")
        self.url = url
        self.stream = check_name("stream", stream)
        self.subjects = tuple(check_subject(s, wildcards=True) for s in subjects)
        self.max_deliver = max_deliver
        self.ack_wait = ack_wait
        self.retry_backoff = retry_backoff
        self.max_backoff = max_backoff
        self.duplicate_window = duplicate_window
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.reconnect_wait = reconnect_wait
        self.fetch_wait = fetch_wait
        self.batch = batch
        self._nc = NatsClient()
        self._js: JetStreamContext | None = None
        self._lock = threading.Lock()
        self._subscriptions: list[JetStreamSubscription] = []
        self._closed = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name=f"bus-nats-{stream}")
        self._thread.start()
        try:
            self.call(self._connect(), connect_timeout + timeout)
        except BaseException:
            self._stop_loop()
            raise

    # -- the Transport API -----------------------------------------------------------------

    def publish(self, subject: str, data: bytes, *, msg_id: str) -> None:
        """Publish and wait for JetStream's acknowledgement (the message is stored)."""
        check_subject(subject, wildcards=False)
        self.call(self._publish(subject, data, msg_id), self.timeout + 1)

    def subscribe(self, subject: str, group: str, handler: Handler) -> JetStreamSubscription:
        """Bind (creating if needed) the durable consumer ``group`` and start its worker."""
        check_subject(subject, wildcards=True)
        check_name("group", group)
        with self._lock:
            if self._closed:
                raise TransportError("the transport is closed")
        pull = self.call(self._bind(subject, group), self.timeout * 3)
        sub = JetStreamSubscription(self, subject, group, handler, pull)
        with self._lock:
            self._subscriptions.append(sub)
        sub.start()
        return sub

    def dead_letter_subject(self, subject: str, group: str) -> str:
        """``deadletter.<stream>.<group>.<subject>`` (stored in the same stream)."""
        return dead_letter_subject(self.stream, subject, group)

    def close(self) -> None:
        """Stop the subscriptions, flush pending acks, close the connection and the loop."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            subs, self._subscriptions = self._subscriptions, []
        for sub in subs:
            sub.close()
        try:
            self.call(self._nc.close(), self.timeout)
        except TransportError as exc:
            logger.warning("closing the NATS connection: %s", exc)
        self._stop_loop()

    # -- the bridge ------------------------------------------------------------------------

    def call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coro`` on the transport's loop and wait at most ``timeout`` seconds.

        Broker-side absence (timeouts, no connection) becomes ``TransportUnavailable``; other
        nats errors become ``TransportError``; anything else propagates as is.
        """
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("synchronous transport call from the transport's own loop")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except TransportError:
            raise
        except nats.js.errors.NoStreamResponseError as exc:
            raise TransportError(f"no JetStream stream answered ({exc}): subject outside "
                                 f"stream {self.stream}, or JetStream disabled") from exc
        except _UNREACHABLE as exc:
            future.cancel()
            raise TransportUnavailable(f"NATS at {mask_url(self.url)} did not answer in time "
                                       f"({type(exc).__name__}: {exc})") from exc
        except nats.errors.Error as exc:
            raise TransportError(f"NATS refused: {type(exc).__name__}: {exc}") from exc

    def _stop_loop(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()

    # -- coroutines (run on the loop) -------------------------------------------------------

    async def _connect(self) -> None:
        try:
            # Unlimited reconnects (the broker may restart); the deadline bounds the first try.
            await asyncio.wait_for(self._nc.connect(
                servers=[self.url], name=f"sereno-{self.stream}",
                connect_timeout=max(1, round(self.connect_timeout)),
                reconnect_time_wait=self.reconnect_wait,  # type: ignore[arg-type]  # float ok
                max_reconnect_attempts=-1, error_cb=self._on_error,
                disconnected_cb=self._on_disconnected, reconnected_cb=self._on_reconnected),
                timeout=self.connect_timeout)
        except (*_UNREACHABLE, nats.errors.Error) as exc:
            await self._nc.close()
            raise TransportUnavailable(f"NATS at {mask_url(self.url)} is not reachable "
                                       f"({type(exc).__name__}: {exc})") from exc
        self._js = self._nc.jetstream(timeout=self.timeout)
        await self._ensure_stream()

    @property
    def _jetstream(self) -> JetStreamContext:
        assert self._js is not None, "connected in __init__"
        return self._js

    async def _ensure_stream(self) -> None:
        """Create the stream, or add our subjects to it (other nodes' subjects are kept)."""
        wanted = [*self.subjects, f"{DEAD_LETTER_ROOT}.{self.stream}.>"]
        try:
            info = await self._jetstream.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await self._jetstream.add_stream(StreamConfig(
                name=self.stream, subjects=wanted, storage=StorageType.FILE,
                retention=RetentionPolicy.LIMITS, duplicate_window=self.duplicate_window))
            return
        config = info.config
        have = list(config.subjects or [])
        missing = [s for s in wanted if s not in have]
        if missing or abs(config.duplicate_window - self.duplicate_window) > 0.001:
            config.subjects = have + missing
            config.duplicate_window = self.duplicate_window
            await self._jetstream.update_stream(config)

    async def _publish(self, subject: str, data: bytes, msg_id: str) -> None:
        await self._jetstream.publish(subject, data, timeout=self.timeout,
                                      headers={MSG_ID_HEADER: msg_id})

    async def _bind(self, subject: str, group: str) -> JetStreamContext.PullSubscription:
        js = self._jetstream
        try:
            info = await js.consumer_info(self.stream, group)
        except nats.js.errors.NotFoundError:
            await js.add_consumer(self.stream, ConsumerConfig(
                durable_name=group, name=group, filter_subject=subject,
                deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.EXPLICIT,
                ack_wait=self.ack_wait, max_deliver=self.max_deliver + 1))
        else:
            if info.config.filter_subject != subject:
                raise ValueError(f"group {group!r} already consumes "
                                 f"{info.config.filter_subject!r}, not {subject!r}: "
                                 "use another group name")
        return await js.pull_subscribe_bind(durable=group, stream=self.stream)

    async def _on_error(self, exc: Exception) -> None:
        # Called on every failed (re)connect attempt: keep it out of the error log.
        logger.debug("NATS connection error: %r", exc)

    async def _on_disconnected(self) -> None:
        if self._closed:
            return  # our own close()
        logger.warning("disconnected from NATS at %s; reconnecting", mask_url(self.url))

    async def _on_reconnected(self) -> None:
        logger.warning("reconnected to NATS at %s", mask_url(self.url))


class JetStreamSubscription:
    """One member of a group: a worker thread pulling batches from the durable consumer."""

    def __init__(self, transport: JetStreamTransport, subject: str, group: str,
                 handler: Handler, pull: JetStreamContext.PullSubscription) -> None:
        self._transport = transport
        self._subject = subject
        self._group = group
        self._handler = handler
        self._pull = pull
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"bus-{group}-{subject}")

    @property
    def subject(self) -> str:
        """The subject filter (the consumer's filter subject)."""
        return self._subject

    @property
    def group(self) -> str:
        """The durable consumer's name."""
        return self._group

    def start(self) -> None:
        """Start the worker thread."""
        self._thread.start()

    def close(self) -> None:
        """Stop after the current fetch (at most ``fetch_wait``) and handler call.

        The worker waits for its pending pull request to expire rather than abandoning it: a
        message the server sent to an abandoned request would wait ``ack_wait`` before anyone
        else could get it.
        """
        self._stopped.set()
        if threading.current_thread() is not self._thread and self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        t = self._transport
        try:
            while not self._stopped.is_set():
                messages = self._fetch()
                for i, msg in enumerate(messages):
                    if self._stopped.is_set():
                        # Fetched but not handled: give them back at once.
                        for rest in messages[i:]:
                            self._settle(rest.nak())
                        break
                    self._handle(msg)
        finally:
            try:
                t.call(self._pull.unsubscribe(), t.timeout)
            except (TransportError, ValueError) as exc:
                logger.debug("unsubscribing %s: %s", self._group, exc)

    def _fetch(self) -> list[Msg]:
        t = self._transport
        try:
            return t.call(self._pull.fetch(t.batch, timeout=t.fetch_wait),
                          t.fetch_wait + t.timeout)
        except TransportUnavailable as exc:
            if isinstance(exc.__cause__, nats.errors.TimeoutError):
                return []  # nothing to deliver within fetch_wait
            logger.warning("group %s cannot fetch: %s", self._group, exc)
        except TransportError as exc:
            # E.g. the consumer or the stream vanished (a broker restarted without its
            # store): recreate them, then carry on.
            logger.warning("group %s cannot fetch: %s; binding again", self._group, exc)
            try:
                t.call(t._ensure_stream(), t.timeout * 2)
                self._pull = t.call(t._bind(self._subject, self._group), t.timeout * 3)
            except TransportError as again:
                logger.warning("group %s cannot bind: %s", self._group, again)
        self._stopped.wait(t.reconnect_wait)
        return []

    def _handle(self, msg: Msg) -> None:
        t = self._transport
        meta = msg.metadata
        delivery = Delivery(subject=msg.subject, data=msg.data,
                            msg_id=(msg.headers or {}).get(MSG_ID_HEADER, ""),
                            num_delivered=meta.num_delivered, published=meta.timestamp)
        if delivery.num_delivered > t.max_deliver:
            # The last attempt never settled (crash or ack_wait): park without a new attempt.
            self._park(msg, delivery, None)
            return
        try:
            self._handler(delivery)
        except Exception as exc:  # the handler's failure is the message's, not the worker's
            if delivery.num_delivered >= t.max_deliver:
                self._park(msg, delivery, exc)
                return
            logger.warning("group %s failed on %s (msg %s), attempt %d/%d: %r", self._group,
                           delivery.subject, delivery.msg_id, delivery.num_delivered,
                           t.max_deliver, exc)
            self._settle(msg.nak(delay=retry_delay(delivery.num_delivered, t.retry_backoff,
                                                   t.max_backoff)))
            return
        self._settle(msg.ack())

    def _park(self, msg: Msg, delivery: Delivery, error: Exception | None) -> None:
        t = self._transport
        dead = t.dead_letter_subject(delivery.subject, self._group)
        try:
            t.publish(dead, delivery.data,
                      msg_id=f"{DEAD_LETTER_ROOT}:{self._group}:{delivery.msg_id}")
        except TransportError as exc:
            # Not parked: keep it on the consumer; the server redelivers after ack_wait.
            logger.error("group %s could not park msg %s on %s: %s", self._group,
                         delivery.msg_id, dead, exc)
            return
        logger.error("group %s gave up on %s (msg %s) after %d attempts; parked on %s",
                     self._group, delivery.subject, delivery.msg_id, delivery.num_delivered,
                     dead, exc_info=error)
        self._settle(msg.term())

    def _settle(self, ack: Coroutine[Any, Any, None]) -> None:
        try:
            self._transport.call(ack, self._transport.timeout)
        except TransportError as exc:
            # Unsettled: the server redelivers after ack_wait (at least once).
            logger.warning("group %s could not settle a message: %s", self._group, exc)
