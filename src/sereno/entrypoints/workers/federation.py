"""The federation sender: delivers the outbox's messages to peer nodes (ADR 0026).

It sleeps until the next round (``workers.federation_interval_seconds``), until the earliest
retry falls due, or until a transaction of this process enqueues something (the outbox wakes
it after the commit), whichever comes first.
"""

from __future__ import annotations

import logging
import threading

from sereno.bootstrap import Platform
from sereno.services.federation import Federation

logger = logging.getLogger(__name__)


def run_forever(federation: Federation, interval_s: float, stop: threading.Event) -> None:
    """Send what is due, then wait for a wake-up, a due retry or the interval."""
    while not stop.is_set():
        federation.wakeup.clear()  # before looking: an enqueue during the pass wakes us again
        try:
            next_due = federation.send_all_due()
        except Exception:  # the database away for a moment: try again next round
            logger.exception("federation round failed; retrying")
            next_due = None
        wait = interval_s
        if next_due is not None:
            wait = min(wait, max(0.0, (next_due - federation.clock()).total_seconds()))
        federation.wakeup.wait(wait)


def start_in_thread(platform: Platform) -> threading.Event:
    """Run the sender in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    federation = platform.federation
    interval = platform.settings.workers.federation_interval_seconds

    def run() -> None:
        run_forever(federation, interval, stop)

    def stopping() -> None:
        stop.wait()
        federation.wake()  # let a sleeping round see the stop at once

    threading.Thread(target=run, name="federation", daemon=True).start()
    threading.Thread(target=stopping, name="federation-stop", daemon=True).start()
    return stop
