"""Publish → handler latency of a transport, for the exchange benchmark."""

from __future__ import annotations

import threading
import time
import uuid
from functools import partial

from sereno.adapters.bus.transport import Delivery, Transport


def measure(transport: Transport, n: int, *, subject: str = "sereno.bench.roundtrip",
            group: str = "bench-roundtrip", timeout: float = 10.0) -> list[float]:
    """Latencies in milliseconds of ``n`` messages sent one at a time: from just before
    ``publish`` to the handler being called. ``subject`` must be in the transport's stream.

    Messages are sequential (one in flight), so this is latency, not throughput. The group is
    durable and reused by every run; leftovers of an interrupted run are acknowledged and
    ignored.
    """
    run = uuid.uuid4().hex
    received: dict[str, float] = {}
    arrived = threading.Condition()

    def handler(delivery: Delivery) -> None:
        now = time.perf_counter()
        if delivery.msg_id.startswith(run):
            with arrived:
                received.setdefault(delivery.msg_id, now)
                arrived.notify_all()

    latencies: list[float] = []
    sub = transport.subscribe(subject, group, handler)
    try:
        for i in range(n):
            msg_id = f"{run}-{i}"
            start = time.perf_counter()
            transport.publish(subject, b"x" * 64, msg_id=msg_id)
            with arrived:
                if not arrived.wait_for(partial(received.__contains__, msg_id), timeout):
                    raise TimeoutError(f"message {i} not delivered within {timeout} s")
            latencies.append((received[msg_id] - start) * 1000)
    finally:
        sub.close()
    return latencies
