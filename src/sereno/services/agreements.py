"""Sharing agreements: written by the giving agency's administrators, read by both agencies,
revoked (never deleted) by the giver. Every call audited (``agreement.*``). Create and revoke
emit the events of ``watchlist.agreement_changed``: the caller publishes them after return.
What an agreement lets through is decided at the sharing enforcement point (``services/sharing``,
ADR 0025)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sereno.domain.access import Permission, Principal
from sereno.domain.agreements import SharingAgreement
from sereno.domain.errors import AccessDenied, Conflict, InvalidInput, NotFound, SerenoError
from sereno.services import watchlist
from sereno.services.audit import Clock, record, refuse, require
from sereno.services.unit_of_work import UnitOfWork

OBJECT = "agreement"


@dataclass(frozen=True)
class AgreementDraft:
    """What an administrator asks for. ``from_agency_id`` defaults to (and must be) the
    caller's agency: an agency only gives what is its own."""

    to_agency_id: str
    title: str
    categories: list[str]
    min_severity: str = "Minor"
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    include_media: bool = False
    redact_faces: bool = True
    redact_plates: bool = True
    share_footage: bool = False
    share_watchlists: bool = False
    area: dict[str, Any] | None = None
    from_agency_id: str | None = None


def known_agencies(uow: UnitOfWork) -> set[str]:
    """Agencies an agreement may name: this node's and those of registered peer nodes."""
    return {a.id for a in uow.agencies.list()} | {str(p["agency_id"]) for p in uow.peers.list()}


def create_agreement(uow: UnitOfWork, who: Principal, draft: AgreementDraft,
                     clock: Clock) -> SharingAgreement:
    """A new agreement from the caller's agency (its administrators only)."""
    action = "agreement.create"
    with uow:
        require(uow, who, who.can(Permission.AGREEMENT_WRITE), action, object_type=OBJECT)
        giver = draft.from_agency_id or who.agency_id
        if giver != who.agency_id:
            refuse(uow, who, action, AccessDenied(
                "an agency only gives its own alerts and cameras: agreements are written by "
                "the giving agency's administrators"), object_type=OBJECT,
                object_agency_id=giver)
        now = clock()
        try:
            if draft.to_agency_id not in known_agencies(uow):
                raise InvalidInput(f"unknown agency {draft.to_agency_id!r} (neither on this "
                                   "node nor on a registered peer node)")
            agreement = SharingAgreement.draft(
                agreement_id=str(uuid.uuid4()), from_agency_id=giver,
                to_agency_id=draft.to_agency_id, title=draft.title,
                categories=list(draft.categories), min_severity=draft.min_severity,
                valid_from=draft.valid_from or now, valid_until=draft.valid_until,
                by=who.username, at=now, include_media=draft.include_media,
                redact_faces=draft.redact_faces, redact_plates=draft.redact_plates,
                share_footage=draft.share_footage, share_watchlists=draft.share_watchlists,
                area=draft.area)
        except SerenoError as error:
            refuse(uow, who, action, error, object_type=OBJECT, object_agency_id=giver)
        uow.agreements.add(agreement)
        watchlist.agreement_changed(uow, agreement)
        record(uow, who, action, object_type=OBJECT, object_id=agreement.id,
               object_agency_id=giver, reason=agreement.title, detail=summary(agreement),
               now=now)
        uow.commit()
        return agreement


def list_agreements(uow: UnitOfWork, who: Principal) -> list[SharingAgreement]:
    """The agreements the caller's agency gives or receives, newest first."""
    action = "agreement.list"
    with uow:
        require(uow, who, who.can(Permission.AGREEMENT_READ), action, object_type=OBJECT)
        found = list(uow.agreements.involving(who.agency_id))
        record(uow, who, action, object_type=OBJECT, object_agency_id=who.agency_id,
               detail={"count": len(found)})
        uow.commit()
        return found


def get_agreement(uow: UnitOfWork, who: Principal, agreement_id: str) -> SharingAgreement:
    """One agreement the caller's agency is party to."""
    action = "agreement.read"
    with uow:
        agreement = _party_or_refuse(uow, who, agreement_id, action, Permission.AGREEMENT_READ)
        record(uow, who, action, object_type=OBJECT, object_id=agreement.id,
               object_agency_id=agreement.from_agency_id)
        uow.commit()
        return agreement


def revoke_agreement(uow: UnitOfWork, who: Principal, agreement_id: str, reason: str,
                     clock: Clock) -> SharingAgreement:
    """End an agreement now (its giver's administrators); it stays on record."""
    action = "agreement.revoke"
    with uow:
        agreement = _party_or_refuse(uow, who, agreement_id, action,
                                     Permission.AGREEMENT_WRITE)
        if agreement.from_agency_id != who.agency_id:
            refuse(uow, who, action, AccessDenied(
                "only the giving agency's administrators revoke an agreement"),
                object_type=OBJECT, object_id=agreement.id,
                object_agency_id=agreement.from_agency_id)
        now = clock()
        try:
            agreement.revoke(who.username, now, reason)
        except (Conflict, InvalidInput) as error:
            refuse(uow, who, action, error, object_type=OBJECT, object_id=agreement.id,
                   object_agency_id=agreement.from_agency_id)
        watchlist.agreement_changed(uow, agreement)
        record(uow, who, action, object_type=OBJECT, object_id=agreement.id,
               object_agency_id=agreement.from_agency_id, reason=agreement.revoke_reason,
               detail=summary(agreement), now=now)
        uow.commit()
        return agreement


def _party_or_refuse(uow: UnitOfWork, who: Principal, agreement_id: str, action: str,
                     permission: Permission) -> SharingAgreement:
    require(uow, who, who.can(permission), action, object_type=OBJECT, object_id=agreement_id)
    agreement = uow.agreements.get(agreement_id)
    if agreement is None or who.agency_id not in (agreement.from_agency_id,
                                                  agreement.to_agency_id):
        refuse(uow, who, action, NotFound(f"no agreement {agreement_id!r}"),
               object_type=OBJECT, object_id=agreement_id,
               internal_reason=None if agreement is None else "agreement of other agencies")
    return agreement


def summary(agreement: SharingAgreement) -> dict[str, Any]:
    """The terms, as the audit log keeps them."""
    return {"from": agreement.from_agency_id, "to": agreement.to_agency_id,
            "categories": list(agreement.categories),
            "min_severity": agreement.min_severity.value,
            "valid_from": agreement.valid_from.isoformat(),
            "valid_until": agreement.valid_until.isoformat() if agreement.valid_until else None,
            "include_media": agreement.include_media, "redact_faces": agreement.redact_faces,
            "redact_plates": agreement.redact_plates, "share_footage": agreement.share_footage,
            "share_watchlists": agreement.share_watchlists, "area": agreement.area is not None,
            "status": agreement.status.value}
