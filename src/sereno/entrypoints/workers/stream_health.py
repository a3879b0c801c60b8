"""Stream health worker: probes each camera's analytics stream and keeps its status true.

One camera at a time, so a hanging stream delays the round but never blocks the API; each probe
has its own open timeout. Status changes go through the message bus (audited, evented).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sereno.bootstrap import Platform
from sereno.domain import commands
from sereno.services.cameras import active_camera_streams

logger = logging.getLogger(__name__)

Prober = Callable[[str], "str | None"]


def probe_all(platform: Platform, probe: Prober) -> dict[str, str | None]:
    """Probe every active camera once; returns camera id → error (None when reachable)."""
    results: dict[str, str | None] = {}
    for camera_id, url in active_camera_streams(platform.uow()):
        error = probe(url)
        results[camera_id] = error
        platform.bus.handle(commands.RecordStreamProbe(camera_id, error))
    return results


def run_forever(platform: Platform, probe: Prober, interval_s: float,
                stop: threading.Event) -> None:
    """Probe all cameras every ``interval_s`` seconds until ``stop`` is set."""
    while not stop.is_set():
        try:
            probe_all(platform, probe)
        except Exception:  # a database hiccup must not kill the worker; try next round
            logger.exception("stream health round failed")
        stop.wait(interval_s)


def start_in_thread(platform: Platform, probe: Prober, interval_s: float) -> threading.Event:
    """Run the worker in a daemon thread (embedded profile); set the returned event to stop."""
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(platform, probe, interval_s, stop),
                              name="stream-health", daemon=True)
    thread.start()
    return stop
