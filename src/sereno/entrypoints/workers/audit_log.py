"""The audit log's schedule: seal and sign tree heads, send them to the witnesses, and raise an
alert when a break-glass access passes its review deadline unreviewed."""

from __future__ import annotations

import logging
import threading
import time

from sereno.bootstrap import Platform
from sereno.domain.security import AlertKind, Severity
from sereno.services import audit_log, governance
from sereno.services.security import raise_security_alert

logger = logging.getLogger(__name__)


def run_once(platform: Platform, *, witness: bool, alerted: set[str]) -> None:
    """One round: sign a head if the log grew; optionally witness; overdue break-glass."""
    log = platform.audit_log
    try:
        log.seal_and_sign_if_grown()
    except audit_log.ClockWentBack:
        logger.error("clock behind the last signed tree head: not signing (alert raised)")
    if witness:
        with platform.uow() as uow:
            peers = uow.peers.list()
        for peer in peers:
            found = audit_log.peer_of(log, peer["node_id"])
            if found is None:
                continue
            try:
                result = audit_log.witness_round(log, platform.egress, found,
                                                 platform.settings.node_agency_id)
                if not result.get("ok"):
                    logger.error("witness %s refused our head: %s", found.node_id, result)
            except Exception:  # a peer away must not stop the schedule; retried next round
                logger.exception("witness round with %s failed", found.node_id)
    now = platform.clock()
    overdue = [a for a in governance.overdue_break_glass(platform.uow(), now)
               if a.id not in alerted]
    if overdue:
        with platform.uow() as uow:
            for access in overdue:
                raise_security_alert(
                    uow, agency_id=access.agency_id, kind=AlertKind.BREAK_GLASS,
                    severity=Severity.HIGH,
                    summary=f"break-glass access by {access.username} not reviewed in time",
                    detail={"break_glass_id": access.id, "review_due":
                            access.review_due.isoformat()}, now=now)
                alerted.add(access.id)
            uow.commit()


def run_forever(platform: Platform, stop: threading.Event) -> None:
    """Seal every ``audit_seal_interval_seconds``; witness every ``witness_interval_seconds``."""
    workers = platform.settings.workers
    alerted: set[str] = set()
    next_witness = time.monotonic() + 5
    while not stop.is_set():
        witness = time.monotonic() >= next_witness
        if witness:
            next_witness = time.monotonic() + workers.witness_interval_seconds
        try:
            run_once(platform, witness=witness, alerted=alerted)
        except Exception:
            logger.exception("audit log round failed; retrying")
        stop.wait(workers.audit_seal_interval_seconds)


def start_in_thread(platform: Platform) -> threading.Event:
    """Run the schedule in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(platform, stop), name="audit-log",
                     daemon=True).start()
    return stop
