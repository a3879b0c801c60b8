"""The registry of approved outbound destinations (use-cases). The client that enforces it is
``sereno.governance.egress``.

Separation of duties: administrators register and revoke destinations (``egress:manage``);
auditors approve them (``egress:approve``) and may revoke them too; nobody approves a destination
they registered. Revoking is always allowed to both, since it only ever narrows what may leave.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

from sereno.domain import commands, events
from sereno.domain.access import Permission, Principal
from sereno.domain.egress import (
    DestinationPurpose,
    EgressDestination,
    Target,
    parse_target,
)
from sereno.domain.errors import InvalidInput, NotFound, SerenoError
from sereno.services.audit import Clock, record, refuse, require
from sereno.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

OBJECT = "egress_destination"
logger = logging.getLogger(__name__)


def _may_read(who: Principal) -> bool:
    return who.can(Permission.EGRESS_MANAGE) or who.can(Permission.EGRESS_APPROVE)


def list_destinations(uow: UnitOfWork, who: Principal) -> list[EgressDestination]:
    """The caller's agency's destinations, every state (administrators, auditors)."""
    action = "egress.destination.list"
    with uow:
        require(uow, who, _may_read(who), action, object_type=OBJECT)
        found = list(uow.egress_destinations.for_agency(who.agency_id))
        record(uow, who, action, object_type=OBJECT, object_agency_id=who.agency_id,
               detail={"count": len(found)})
        uow.commit()
        return found


def register_destination(cmd: commands.RegisterEgressDestination, uow: UnitOfWork,
                         clock: Clock) -> EgressDestination:
    """Register a destination for the caller's agency; it stays blocked until approved."""
    who, action = cmd.by, "egress.destination.register"
    with uow:
        require(uow, who, who.can(Permission.EGRESS_MANAGE), action, object_type=OBJECT)
        now = clock()
        try:
            destination = EgressDestination.register(
                destination_id=str(uuid.uuid4()), agency_id=who.agency_id, name=cmd.name,
                purpose=cmd.purpose, url=cmd.url, by_id=who.user_id, by=who.username, at=now,
                note=cmd.note)
        except SerenoError as error:
            refuse(uow, who, action, error, object_type=OBJECT,
                   detail={"url": cmd.url[:300], "purpose": cmd.purpose})
        uow.egress_destinations.add(destination)
        record(uow, who, action, object_type=OBJECT, object_id=destination.id,
               object_agency_id=who.agency_id, now=now,
               detail={"url": destination.url, "purpose": destination.purpose.value,
                       "name": destination.name})
        uow.emit(events.EgressDestinationChanged(destination.id, who.agency_id,
                                                 destination.state.value))
        uow.commit()
        return destination


def _own(uow: UnitOfWork, who: Principal, action: str, destination_id: str, allowed: bool
         ) -> EgressDestination:
    require(uow, who, allowed, action, object_type=OBJECT, object_id=destination_id)
    destination = uow.egress_destinations.get(destination_id)
    if destination is None or destination.agency_id != who.agency_id:
        refuse(uow, who, action, NotFound(f"no egress destination {destination_id!r}"),
               object_type=OBJECT, object_id=destination_id,
               object_agency_id=destination.agency_id if destination else None,
               internal_reason=None if destination is None else "another agency's destination")
    return destination


def approve_destination(cmd: commands.ApproveEgressDestination, uow: UnitOfWork,
                        clock: Clock) -> EgressDestination:
    """Approve a pending destination (auditors; never the person who registered it)."""
    who, action = cmd.by, "egress.destination.approve"
    with uow:
        destination = _own(uow, who, action, cmd.destination_id,
                           who.can(Permission.EGRESS_APPROVE))
        now = clock()
        try:
            destination.approve(by_id=who.user_id, by=who.username, at=now)
        except SerenoError as error:
            refuse(uow, who, action, error, object_type=OBJECT, object_id=destination.id,
                   object_agency_id=destination.agency_id)
        record(uow, who, action, object_type=OBJECT, object_id=destination.id,
               object_agency_id=destination.agency_id, now=now,
               detail={"url": destination.url, "purpose": destination.purpose.value,
                       "registered_by": destination.registered_by})
        uow.emit(events.EgressDestinationChanged(destination.id, destination.agency_id,
                                                 destination.state.value))
        uow.commit()
        return destination


def revoke_destination(cmd: commands.RevokeEgressDestination, uow: UnitOfWork,
                       clock: Clock) -> EgressDestination:
    """Revoke a destination for good (administrators or auditors)."""
    who, action = cmd.by, "egress.destination.revoke"
    with uow:
        destination = _own(uow, who, action, cmd.destination_id, _may_read(who))
        now = clock()
        try:
            destination.revoke(by=who.username, at=now, reason=cmd.reason)
        except SerenoError as error:
            refuse(uow, who, action, error, object_type=OBJECT, object_id=destination.id,
                   object_agency_id=destination.agency_id)
        record(uow, who, action, object_type=OBJECT, object_id=destination.id,
               object_agency_id=destination.agency_id, now=now, reason=destination.revoke_reason,
               detail={"url": destination.url, "purpose": destination.purpose.value})
        uow.emit(events.EgressDestinationChanged(destination.id, destination.agency_id,
                                                 destination.state.value))
        uow.commit()
        return destination


def approved_destination(uow: UnitOfWork, agency_id: str | None, purpose: DestinationPurpose,
                         target: Target) -> EgressDestination | None:
    """The approved destination covering ``target`` for ``purpose`` (of ``agency_id``, or of
    any agency when None); call inside an open unit of work."""
    for destination in uow.egress_destinations.candidates(
            agency_id, purpose, target.scheme, target.host, target.port):
        if destination.allows(target, purpose):
            return destination
    return None


def approved_tile_url(uow: UnitOfWork, tile_url: str) -> tuple[str, str]:
    """``(url, problem)``: the console's tile URL when it is an approved ``map_tiles``
    destination of an agency on this node, else ``("", why)``. The tile URL is a template
    (``https://tiles.example/{z}/{x}/{y}.png``); a ``{s}`` sub-domain template is refused
    because its hosts cannot be matched exactly."""
    if not tile_url:
        return "", ""
    try:
        target = parse_target(tile_url)
    except InvalidInput as error:
        return "", f"the map tile URL is unusable: {error.message}"
    with uow:
        found = approved_destination(uow, None, DestinationPurpose.MAP_TILES, target)
    if found is None:
        return "", (f"the map tile server {target.origin} is not an approved map_tiles "
                    "destination (sereno egress add --purpose map_tiles …, then approve it)")
    return tile_url, ""


class MapTileGate:
    """The console's map tile URL, only while it is an approved ``map_tiles`` destination.

    The console and the Content-Security-Policy ask this gate instead of the setting: an
    unregistered or revoked tile server gets no requests from browsers (the map shows its plain
    background). The answer is re-read from the registry every ``ttl_s`` seconds and at once
    after any change to the registry (``forget``).
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, tile_url: str, *, ttl_s: float = 30.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._uow_factory = uow_factory
        self._tile_url = tile_url
        self._ttl = ttl_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._checked: tuple[float, str] | None = None
        self.problem = ""

    def url(self) -> str:
        """The tile URL template when allowed, else ``""``."""
        with self._lock:
            now = self._monotonic()
            if self._checked is None or now - self._checked[0] > self._ttl:
                url, problem = approved_tile_url(self._uow_factory(), self._tile_url)
                if problem and problem != self.problem:
                    logger.warning("map tiles off: %s", problem)
                self.problem = problem
                self._checked = (now, url)
            return self._checked[1]

    def origin(self) -> str:
        """The tile origin for the CSP's ``img-src`` from the last check (``""`` when none).
        Never reads the database (the HTTP middleware calls it); the map page's ``url()``
        call, made before its response starts, keeps it current."""
        with self._lock:
            url = self._checked[1] if self._checked else ""
        return parse_target(url).origin if url else ""

    def forget(self, _event: object = None) -> None:
        """Check the registry again on the next request."""
        with self._lock:
            self._checked = None
