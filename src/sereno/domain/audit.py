"""The audit record: who did what to which object, why, from where, and whether it was allowed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sereno.domain.access import Principal


class Outcome(StrEnum):
    """``allowed`` ran; ``denied`` was refused by authentication or authorisation;
    ``rejected`` was refused because the input broke a rule (nothing changed)."""

    ALLOWED = "allowed"
    DENIED = "denied"
    REJECTED = "rejected"


@dataclass(eq=False)
class AuditRecord:
    """One line of the audit log. Written in the same transaction as what it records."""

    at: datetime
    action: str
    outcome: Outcome
    actor_user_id: str | None = None
    actor_username: str | None = None
    actor_agency_id: str | None = None
    actor_roles: str | None = None
    channel: str = "api"
    address: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    object_agency_id: str | None = None
    purpose: str | None = None
    reason: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    @classmethod
    def for_principal(
        cls,
        who: Principal,
        *,
        at: datetime,
        action: str,
        outcome: Outcome,
        object_type: str | None = None,
        object_id: str | None = None,
        object_agency_id: str | None = None,
        reason: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> AuditRecord:
        """A record whose actor fields come from the verified caller."""
        return cls(
            at=at, action=action, outcome=outcome,
            actor_user_id=who.user_id, actor_username=who.username,
            actor_agency_id=who.agency_id, actor_roles=who.roles_label,
            channel=who.channel, address=who.address, purpose=who.purpose,
            object_type=object_type, object_id=object_id, object_agency_id=object_agency_id,
            reason=reason, detail=detail or {},
        )
