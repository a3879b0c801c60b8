"""Plate watchlists of the caller's agency."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from sereno.domain import commands
from sereno.entrypoints.api.context import Caller, platform_of
from sereno.entrypoints.api.schemas import ErrorResponse, Strict
from sereno.services import watchlist
from sereno.video.plates.watchlist import WatchlistEntry

router = APIRouter(tags=["watchlist"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 422)}


class EntryIn(Strict):
    plate: str = Field(min_length=3, max_length=16, examples=["GBC-1234"])
    reason: str = Field(min_length=1, max_length=300)
    expires_at: datetime | None = None
    tolerance: int | None = Field(default=None, ge=0, le=2)
    published: bool = Field(default=False, description=(
        "partners with an agreement that shares watchlists match it on their cameras too; "
        "hits come to this agency only"))


class EntryOut(BaseModel):
    id: str
    plate: str
    reason: str
    agency: str
    expires_at: datetime | None
    tolerance: int | None
    published: bool


def _out(entry: WatchlistEntry) -> EntryOut:
    return EntryOut(id=entry.entry_id or "", plate=entry.plate, reason=entry.reason,
                    agency=entry.agency_id, expires_at=entry.expires, tolerance=entry.tolerance,
                    published=entry.published)


@router.get("/watchlist", response_model=list[EntryOut], responses=ERRORS)
def list_entries(request: Request, caller: Caller) -> list[EntryOut]:
    """The plates the caller's agency wants found."""
    return [_out(e) for e in watchlist.list_entries(platform_of(request).uow(), caller)]


@router.post("/watchlist", response_model=EntryOut, status_code=201, responses=ERRORS)
def add_entry(request: Request, caller: Caller, body: EntryIn) -> EntryOut:
    """Add a wanted plate; cameras the agency may see will report it (dispatchers,
    supervisors)."""
    return _out(platform_of(request).bus.handle(commands.AddWatchlistEntry(
        caller, body.plate, body.reason, body.expires_at, body.tolerance, body.published)))


@router.delete("/watchlist/{entry_id}", status_code=204, responses=ERRORS)
def remove_entry(request: Request, caller: Caller, entry_id: str) -> None:
    """Remove a plate from the list."""
    platform_of(request).bus.handle(commands.RemoveWatchlistEntry(caller, entry_id))


@router.post("/watchlist/{entry_id}/publish", response_model=EntryOut, responses=ERRORS)
def publish_entry(request: Request, caller: Caller, entry_id: str) -> EntryOut:
    """Publish the entry: partners sharing watchlists with this agency match it on their
    cameras, and the hits come here only (they never see the plate)."""
    return _out(platform_of(request).bus.handle(
        commands.PublishWatchlistEntry(caller, entry_id, published=True)))


@router.post("/watchlist/{entry_id}/unpublish", response_model=EntryOut, responses=ERRORS)
def unpublish_entry(request: Request, caller: Caller, entry_id: str) -> EntryOut:
    """Take the entry back from partners' cameras."""
    return _out(platform_of(request).bus.handle(
        commands.PublishWatchlistEntry(caller, entry_id, published=False)))
