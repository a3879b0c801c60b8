"""Plate watchlists: the plates an agency wants found. Plates are personal data: every read
and change is audited, and only an agency's own list is ever shown to it."""

from __future__ import annotations

import uuid

from sereno.domain import commands, events
from sereno.domain.access import Principal
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
                                          entry_id=str(uuid.uuid4()))
        except (WatchlistError, InvalidInput) as error:
            problem = error if isinstance(error, InvalidInput) else InvalidInput(str(error))
            refuse(uow, who, action, problem, object_type=OBJECT)
        now = clock()
        if entry.expires is not None and entry.expires <= now:
            refuse(uow, who, action, InvalidInput("expires_at is already in the past"),
                   object_type=OBJECT)
        uow.watchlist.add(entry, created_by=who.username, created_at=now)
        record(uow, who, action, object_type=OBJECT, object_id=entry.entry_id,
               object_agency_id=who.agency_id, detail={"plate": entry.plate}, now=now)
        uow.emit(events.WatchlistChanged(who.agency_id))
        uow.commit()
        return entry


def remove_entry(cmd: commands.RemoveWatchlistEntry, uow: UnitOfWork) -> None:
    """Remove a plate from the caller's agency's list."""
    who, action = cmd.by, "watchlist.remove"
    with uow:
        authorize_personal_data(uow, who, "personal_data.write", audit_action=action)
        entry = uow.watchlist.get(cmd.entry_id)
        if entry is None or entry.agency_id != who.agency_id:
            refuse(uow, who, action, NotFound(f"no watchlist entry {cmd.entry_id!r}"),
                   object_type=OBJECT, object_id=cmd.entry_id,
                   object_agency_id=entry.agency_id if entry else None,
                   internal_reason=None if entry is None else "another agency's entry")
        uow.watchlist.delete(cmd.entry_id)
        record(uow, who, action, object_type=OBJECT, object_id=cmd.entry_id,
               object_agency_id=who.agency_id, detail={"plate": entry.plate})
        uow.emit(events.WatchlistChanged(who.agency_id))
        uow.commit()
