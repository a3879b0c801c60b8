"""Retention worker: runs the purge for every agency, as ``system:retention``, on a timer.

On the embedded profile (and wherever the video workers run) ``sereno serve`` runs it in a
thread; elsewhere run ``sereno retention purge --as system`` from a timer. A run that deletes
nothing leaves no audit record (it would write one a minute); one that deletes does, with counts
and hashes (ADR 0014).
"""

from __future__ import annotations

import logging
import threading

from sereno.bootstrap import Platform
from sereno.domain import commands
from sereno.domain.access import Principal
from sereno.services.retention import PurgeReport

logger = logging.getLogger(__name__)
COMPONENT = "retention"


def purge_all(platform: Platform, *, dry_run: bool = False, record_empty: bool = False,
              component: str = COMPONENT) -> list[PurgeReport]:
    """One purge per agency, each scoped to that agency's own data."""
    with platform.uow() as uow:
        agencies = [a.id for a in uow.agencies.list()]
    return [platform.bus.handle(commands.PurgeExpired(Principal.system(component, agency),
                                                      dry_run=dry_run,
                                                      record_empty=record_empty))
            for agency in agencies]


def run_forever(platform: Platform, interval_s: float, stop: threading.Event) -> None:
    """Purge every ``interval_s`` seconds until ``stop`` is set."""
    while not stop.is_set():
        try:
            purge_all(platform)
        except Exception:  # a database hiccup must not kill the worker; try next round
            logger.exception("retention purge failed")
        stop.wait(interval_s)


def start_in_thread(platform: Platform, interval_s: float) -> threading.Event:
    """Run the worker in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(platform, interval_s, stop), name="retention",
                     daemon=True).start()
    return stop
