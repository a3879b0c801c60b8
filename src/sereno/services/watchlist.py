"""Plate watchlists: the plates an agency wants found. Plates are personal data: every read
and change is audited, and only an agency's own list is ever shown to it.

An agency may publish entries: partners whose cameras it has an agreement with
(``share_watchlists``) then match them too, and a hit goes to the publishing agency only
(ADR 0030). Publishing never shows the plates to the partner: only its video workers get them.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from sereno.domain import commands, events
from sereno.domain.access import Principal
from sereno.domain.agreements import SharingAgreement
from sereno.domain.cameras import Camera, Classification
from sereno.domain.errors import InvalidInput, NotFound
from sereno.services.access_control import authorize_personal_data
from sereno.services.audit import Clock, record, refuse
from sereno.services.unit_of_work import UnitOfWork
from sereno.video.plates.watchlist import WatchlistEntry, WatchlistError

OBJECT = "watchlist"


def list_entries(uow: UnitOfWork, who: Principal) -> list[WatchlistEntry]:
    """The caller's agency's wanted plates."""
    action = "watchlist.list"
    with uow:
        decision = authorize_personal_data(uow, who, "personal_data.read", audit_action=action)
        entries = uow.watchlist.for_agencies([who.agency_id])
        record(uow, who, action, object_type=OBJECT, object_agency_id=who.agency_id,
               detail={"count": len(entries), **decision.audit_detail()})
        uow.commit()
        return entries


def add_entry(cmd: commands.AddWatchlistEntry, uow: UnitOfWork, clock: Clock) -> WatchlistEntry:
    """Add a wanted plate to the caller's agency's list (dispatchers, supervisors)."""
    who, action = cmd.by, "watchlist.add"
    with uow:
        authorize_personal_data(uow, who, "personal_data.write", audit_action=action)
        try:
            if not 0 < len(cmd.reason.strip()) <= 300:
                raise InvalidInput("reason must be 1 to 300 characters")
            entry = WatchlistEntry.create(cmd.plate, cmd.reason.strip(), who.agency_id,
                                          expires=cmd.expires_at, tolerance=cmd.tolerance,
                                          entry_id=str(uuid.uuid4()), published=cmd.published)
        except (WatchlistError, InvalidInput) as error:
            problem = error if isinstance(error, InvalidInput) else InvalidInput(str(error))
            refuse(uow, who, action, problem, object_type=OBJECT)
        now = clock()
        if entry.expires is not None and entry.expires <= now:
            refuse(uow, who, action, InvalidInput("expires_at is already in the past"),
                   object_type=OBJECT)
        uow.watchlist.add(entry, created_by=who.username, created_at=now)
        record(uow, who, action, object_type=OBJECT, object_id=entry.entry_id,
               object_agency_id=who.agency_id,
               detail={"plate": entry.plate, "published": entry.published}, now=now)
        uow.emit(events.WatchlistChanged(who.agency_id))
        uow.commit()
        return entry


def remove_entry(cmd: commands.RemoveWatchlistEntry, uow: UnitOfWork) -> None:
    """Remove a plate from the caller's agency's list."""
    who, action = cmd.by, "watchlist.remove"
    with uow:
        authorize_personal_data(uow, who, "personal_data.write", audit_action=action)
        entry = _own_or_refuse(uow, who, cmd.entry_id, action)
        uow.watchlist.delete(cmd.entry_id)
        record(uow, who, action, object_type=OBJECT, object_id=cmd.entry_id,
               object_agency_id=who.agency_id, detail={"plate": entry.plate})
        uow.emit(events.WatchlistChanged(who.agency_id))
        uow.commit()


def publish_entry(cmd: commands.PublishWatchlistEntry, uow: UnitOfWork) -> WatchlistEntry:
    """Publish one of the caller's agency's entries to partners' cameras, or take it back
    (watchlist writers). Repeating the current state changes nothing and is still audited."""
    who = cmd.by
    action = "watchlist.publish" if cmd.published else "watchlist.unpublish"
    with uow:
        authorize_personal_data(uow, who, "personal_data.write", audit_action=action)
        entry = _own_or_refuse(uow, who, cmd.entry_id, action)
        changed = entry.published != cmd.published
        if changed:
            uow.watchlist.set_published(cmd.entry_id, cmd.published)
            entry = replace(entry, published=cmd.published)
            uow.emit(events.WatchlistChanged(who.agency_id))
        record(uow, who, action, object_type=OBJECT, object_id=cmd.entry_id,
               object_agency_id=who.agency_id, detail={"plate": entry.plate, "changed": changed})
        uow.commit()
        return entry


def _own_or_refuse(uow: UnitOfWork, who: Principal, entry_id: str,
                   action: str) -> WatchlistEntry:
    """The caller's agency's entry; another agency's is refused as if it did not exist."""
    entry = uow.watchlist.get(entry_id)
    if entry is None or entry.agency_id != who.agency_id:
        refuse(uow, who, action, NotFound(f"no watchlist entry {entry_id!r}"),
               object_type=OBJECT, object_id=entry_id,
               object_agency_id=entry.agency_id if entry else None,
               internal_reason=None if entry is None else "another agency's entry")
    return entry


def agreement_changed(uow: UnitOfWork, agreement: SharingAgreement) -> None:
    """For the use-cases that create or revoke an agreement, inside their transaction: one
    that shares watchlists changes what the receiver's cameras match, so the video workers
    reload (``WatchlistChanged`` for both agencies). Ends and starts of an agreement need no
    call: the workers' entries carry its period."""
    if agreement.share_watchlists:
        uow.emit(events.WatchlistChanged(agreement.from_agency_id))
        uow.emit(events.WatchlistChanged(agreement.to_agency_id))


def camera_watchlist(camera: Camera, wanted: Iterable[WatchlistEntry],
                     agreements: Sequence[SharingAgreement], agencies: Collection[str],
                     at: datetime) -> list[WatchlistEntry]:
    """The entries ``camera``'s video worker matches (Sereno's own view, no caller).

    The agencies that may see the camera (its owner; every agency when it is shared) get their
    whole list matched. Besides, each agreement towards the owner that shares watchlists, has
    not ended and covers the camera's place brings its giver's *published* entries, limited to
    the agreement's period (so an agreement that ends or starts while the workers run is
    honoured without a reload). ``agreements``: the owner's active ones (``active_to``).
    """
    wanted = list(wanted)
    watchers = set(agencies) if camera.classification is Classification.SHARED else {
        camera.owner_agency_id}
    chosen = [e for e in wanted if e.agency_id in watchers]
    for agreement in agreements:
        if (agreement.to_agency_id != camera.owner_agency_id or not agreement.share_watchlists
                or agreement.from_agency_id in watchers
                or (agreement.valid_until is not None and agreement.valid_until <= at)
                or not agreement.covers(camera.latitude, camera.longitude)):
            continue
        for entry in wanted:
            if entry.agency_id != agreement.from_agency_id or not entry.published:
                continue
            ends = agreement.valid_until
            if entry.expires is not None and (ends is None or entry.expires < ends):
                ends = entry.expires
            # Two agreements over one entry give two copies: the stage's cooldown per plate
            # and agency keeps them from raising two hits.
            chosen.append(replace(entry, starts=agreement.valid_from, expires=ends))
    return chosen
