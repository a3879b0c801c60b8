"""Access-anomaly worker: scans the new audit records on a timer (ADR 0015).

``sereno serve`` runs it in a thread (``[anomalies] in_server``, on by default); elsewhere run
``sereno anomalies scan`` from a timer. Scanners take turns on the scan position, so a second
one never reads the same records twice. A scan that finds nothing leaves no audit record; each
alert it raises is audited (``security.alert.raise``).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sereno.bootstrap import Platform
from sereno.config import AnomalySettings
from sereno.domain.anomalies import Category, Thresholds
from sereno.services import anomalies

logger = logging.getLogger(__name__)


def thresholds_from(settings: AnomalySettings) -> Thresholds:
    """The detectors' parameters from the settings."""
    return Thresholds(
        lookback_days=settings.lookback_days, min_history_days=settings.min_history_days,
        sigma=settings.sigma, window=timedelta(minutes=settings.window_minutes),
        floors={Category.VIEW: settings.floor_view, Category.PLAYBACK: settings.floor_playback,
                Category.EXPORT: settings.floor_export,
                Category.DOWNLOAD: settings.floor_download},
        denials=settings.denials,
        denial_window=timedelta(minutes=settings.denial_window_minutes),
        shift_grace=timedelta(minutes=settings.shift_grace_minutes),
        settle=timedelta(seconds=settings.settle_seconds))


def scan_once(platform: Platform) -> anomalies.ScanReport:
    """Scan what is new; the alerts' events go on the bus (the console's live feeds)."""
    return anomalies.scan(platform.uow, thresholds_from(platform.settings.anomalies),
                          platform.clock, publish=platform.bus.publish)


def run_forever(platform: Platform, interval_s: float, stop: threading.Event) -> None:
    """Scan every ``interval_s`` seconds until ``stop`` is set."""
    while not stop.is_set():
        try:
            report = scan_once(platform)
            if report.alert_ids:
                logger.info("anomaly scan: %d records, %d alerts", report.scanned,
                            len(report.alert_ids))
        except Exception:  # a database hiccup must not kill the worker; try next round
            logger.exception("anomaly scan failed")
        stop.wait(interval_s)


def start_in_thread(platform: Platform, interval_s: float) -> threading.Event:
    """Run the worker in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(platform, interval_s, stop),
                     name="anomaly-scan", daemon=True).start()
    return stop
