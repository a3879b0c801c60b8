"""Governance use-cases around the policy door: cases, break-glass reviews, policy versions,
access profiles and peer nodes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sereno.domain.access import Permission, Principal, Role
from sereno.domain.errors import Conflict, InvalidInput, NotFound
from sereno.domain.governance import (
    AccessProfile,
    BreakGlassAccess,
    InvestigationCase,
    PolicyVersion,
    ReviewVerdict,
    validate_case_reference,
)
from sereno.governance.policy.engine import validate_policies
from sereno.governance.transparency import public_key_from_b64
from sereno.services.audit import Clock, record, refuse, require
from sereno.services.unit_of_work import UnitOfWork

CASE_ROLES = frozenset({Role.SUPERVISOR, Role.ANALYST, Role.DISPATCHER, Role.AUDITOR})


# -- cases ------------------------------------------------------------------------------------

def open_case(uow: UnitOfWork, who: Principal, reference: str, title: str,
              clock: Clock) -> InvestigationCase:
    """Open a case of the caller's agency (supervisors, analysts, dispatchers, auditors)."""
    action = "case.open"
    with uow:
        require(uow, who, bool(who.roles & CASE_ROLES) and who.can(Permission.CAMERA_READ),
                action, object_type="case")
        try:
            reference = validate_case_reference(reference)
            if not 3 <= len(title.strip()) <= 200:
                raise InvalidInput("a case title is 3 to 200 characters")
        except InvalidInput as error:
            refuse(uow, who, action, error, object_type="case", object_id=reference[:64])
        if uow.cases.get(who.agency_id, reference) is not None:
            refuse(uow, who, action, Conflict(f"case {reference} is already open"),
                   object_type="case", object_id=reference)
        case = InvestigationCase(reference=reference, agency_id=who.agency_id,
                                 title=title.strip(), opened_by=who.username, opened_at=clock())
        uow.cases.add(case)
        record(uow, who, action, object_type="case", object_id=reference,
               object_agency_id=who.agency_id, detail={"title": case.title})
        uow.commit()
        return case


def close_case(uow: UnitOfWork, who: Principal, reference: str,
               clock: Clock) -> InvestigationCase:
    """Close a case: its footage can no longer be replayed under it."""
    action = "case.close"
    with uow:
        require(uow, who, bool(who.roles & CASE_ROLES), action, object_type="case",
                object_id=reference)
        case = uow.cases.get(who.agency_id, reference.strip().upper())
        if case is None:
            refuse(uow, who, action, NotFound(f"no case {reference[:64]!r}"),
                   object_type="case", object_id=reference[:64])
        if not case.is_open:
            refuse(uow, who, action, Conflict("the case is already closed"),
                   object_type="case", object_id=case.reference)
        case.closed_at = clock()
        record(uow, who, action, object_type="case", object_id=case.reference,
               object_agency_id=who.agency_id)
        uow.commit()
        return case


def list_cases(uow: UnitOfWork, who: Principal) -> list[InvestigationCase]:
    """The caller's agency's cases."""
    action = "case.list"
    with uow:
        require(uow, who, who.can(Permission.CAMERA_READ), action, object_type="case")
        cases = list(uow.cases.for_agency(who.agency_id))
        record(uow, who, action, object_type="case", object_agency_id=who.agency_id,
               detail={"count": len(cases)})
        uow.commit()
        return cases


# -- break-glass reviews ----------------------------------------------------------------------

def _may_review(who: Principal) -> bool:
    return bool(who.roles & {Role.SUPERVISOR, Role.AUDITOR})


def list_break_glass(uow: UnitOfWork, who: Principal, *,
                     pending_only: bool = False) -> list[BreakGlassAccess]:
    """The agency's break-glass accesses (supervisors and auditors), newest first."""
    action = "break_glass.list"
    with uow:
        require(uow, who, _may_review(who), action, object_type="break_glass")
        found = list(uow.break_glass.for_agency(who.agency_id, pending_only=pending_only))
        record(uow, who, action, object_type="break_glass", object_agency_id=who.agency_id,
               detail={"count": len(found)})
        uow.commit()
        return found


def review_break_glass(uow: UnitOfWork, who: Principal, access_id: str, verdict: str,
                       note: str, clock: Clock) -> BreakGlassAccess:
    """A supervisor's verdict on someone else's break-glass access (never their own)."""
    action = "break_glass.review"
    with uow:
        require(uow, who, Role.SUPERVISOR in who.roles, action, object_type="break_glass",
                object_id=access_id)
        access = uow.break_glass.get(access_id)
        if access is None or access.agency_id != who.agency_id:
            refuse(uow, who, action, NotFound(f"no break-glass access {access_id!r}"),
                   object_type="break_glass", object_id=access_id)
        try:
            access.review(who.user_id, ReviewVerdict(verdict), note, clock())
        except ValueError:
            refuse(uow, who, action, InvalidInput("verdict is justified or unjustified"),
                   object_type="break_glass", object_id=access_id)
        except InvalidInput as error:
            refuse(uow, who, action, error, object_type="break_glass", object_id=access_id)
        record(uow, who, action, object_type="break_glass", object_id=access_id,
               object_agency_id=who.agency_id, reason=note.strip()[:500],
               detail={"verdict": verdict, "user": access.username})
        uow.commit()
        return access


def overdue_break_glass(uow: UnitOfWork, now: datetime) -> list[BreakGlassAccess]:
    """Every agency's break-glass accesses past their review deadline (the scheduler)."""
    with uow:
        return [access for agency in uow.agencies.list()
                for access in uow.break_glass.for_agency(agency.id, pending_only=True,
                                                         due_before=now)]


# -- policy versions --------------------------------------------------------------------------

def policy_history(uow: UnitOfWork, who: Principal) -> list[PolicyVersion]:
    """Every published version, newest first (admins and auditors)."""
    action = "policy.list"
    with uow:
        require(uow, who, bool(who.roles & {Role.ADMIN, Role.AUDITOR}), action,
                object_type="policy")
        versions = list(uow.policies.history())
        record(uow, who, action, object_type="policy", detail={"count": len(versions)})
        uow.commit()
        return versions


def publish_policies(uow: UnitOfWork, who: Principal, text: str, note: str,
                     clock: Clock, node_agency_id: str) -> PolicyVersion:
    """Validate and activate a new version of the policies (admins of the agency operating the
    node; audited with its hash)."""
    action = "policy.publish"
    with uow:
        require(uow, who, Role.ADMIN in who.roles and who.agency_id == node_agency_id, action,
                object_type="policy")
        try:
            validate_policies(text)
            if not 3 <= len(note.strip()) <= 500:
                raise InvalidInput("say what changed (a note of 3 to 500 characters)")
        except InvalidInput as error:
            refuse(uow, who, action, error, object_type="policy")
        version = PolicyVersion(version=uow.policies.next_version(), text=text,
                                sha256=PolicyVersion.digest(text), published_by=who.username,
                                published_at=clock(), note=note.strip())
        uow.policies.publish(version)
        record(uow, who, action, object_type="policy", object_id=str(version.version),
               reason=version.note, detail={"sha256": version.sha256})
        uow.commit()
        return version


# -- access profiles --------------------------------------------------------------------------

def set_access_profile(uow: UnitOfWork, who: Principal, user_id: str, clearance: int,
                       centre_ids: list[str], camera_ids: list[str]) -> AccessProfile:
    """Set a user's clearance and assignment (admins of the user's agency)."""
    action = "access_profile.set"
    with uow:
        require(uow, who, who.can(Permission.USER_WRITE), action, object_type="user",
                object_id=user_id)
        user = uow.users.get(user_id)
        if user is None or user.agency_id != who.agency_id:
            refuse(uow, who, action, NotFound(f"no user {user_id!r}"), object_type="user",
                   object_id=user_id)
        if not 1 <= clearance <= 3:
            refuse(uow, who, action, InvalidInput("clearance is 1, 2 or 3"), object_type="user",
                   object_id=user_id)
        own_centres = {c.id for c in uow.centres.list_for_agency(who.agency_id)}
        if unknown := sorted(set(centre_ids) - own_centres):
            refuse(uow, who, action, InvalidInput(f"unknown centres: {', '.join(unknown)}"),
                   object_type="user", object_id=user_id)
        profile = AccessProfile(user_id, clearance, sorted(set(centre_ids)),
                                sorted(set(camera_ids)))
        uow.access_profiles.put(profile)
        record(uow, who, action, object_type="user", object_id=user_id,
               object_agency_id=who.agency_id,
               detail={"clearance": clearance, "centres": profile.centre_ids,
                       "cameras": profile.camera_ids})
        uow.commit()
        return profile


# -- peer nodes (witnesses now, federation later) -----------------------------------------------

def register_peer(uow: UnitOfWork, who: Principal, node_id: str, agency_id: str,
                  public_key: str, base_url: str, clock: Clock,
                  node_agency_id: str) -> dict[str, Any]:
    """Register another agency's node and pin its Ed25519 key (admins of the agency operating
    this node)."""
    action = "peer.register"
    with uow:
        require(uow, who, who.can(Permission.USER_WRITE) and who.agency_id == node_agency_id,
                action, object_type="peer", object_id=node_id[:64])
        try:
            public_key_from_b64(public_key)
        except ValueError:
            refuse(uow, who, action, InvalidInput("public_key is 32 raw bytes in base64"),
                   object_type="peer", object_id=node_id[:64])
        if not base_url.startswith(("https://", "http://127.", "http://localhost")):
            refuse(uow, who, action, InvalidInput("a peer is reached over https"),
                   object_type="peer", object_id=node_id[:64])
        peer = {"node_id": node_id, "agency_id": agency_id, "public_key": public_key,
                "base_url": base_url.rstrip("/"), "registered_by": who.username,
                "registered_at": clock()}
        if uow.peers.get(node_id) is not None:
            refuse(uow, who, action, Conflict(f"peer {node_id} is already registered"),
                   object_type="peer", object_id=node_id[:64])
        uow.peers.add(peer)
        record(uow, who, action, object_type="peer", object_id=node_id,
               detail={"agency": agency_id, "base_url": peer["base_url"]})
        uow.commit()
        return peer


def list_peers(uow: UnitOfWork, who: Principal) -> list[dict[str, Any]]:
    """Registered peer nodes (admins and auditors)."""
    action = "peer.list"
    with uow:
        require(uow, who, bool(who.roles & {Role.ADMIN, Role.AUDITOR}), action,
                object_type="peer")
        peers = uow.peers.list()
        record(uow, who, action, object_type="peer", detail={"count": len(peers)})
        uow.commit()
        return peers
