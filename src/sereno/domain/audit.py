"""The audit record: who did what to which object, why, from where, and whether it was allowed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sereno.domain.access import Principal
from sereno.domain.errors import InvalidInput


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


MAX_PAGE = 500


@dataclass(frozen=True)
class AuditQuery:
    """An auditor's search of the audit log. Every filter is optional; those given must all
    match. ``action`` is exact, or a prefix when it ends in ``*`` (``footage.*``); ``user`` is
    the actor's username or user id; ``text`` is looked for in the action, the actor, the
    object, the reason and the detail. Pages go backwards: ``before_id`` is the last id seen.
    """

    user: str | None = None
    action: str | None = None
    outcome: Outcome | None = None
    object_id: str | None = None
    object_type: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    text: str | None = None
    before_id: int | None = None
    limit: int = 50

    def validate(self) -> None:
        """``InvalidInput`` when the filters cannot make a search."""
        for moment in (self.start, self.end):
            if moment is not None and moment.tzinfo is None:
                raise InvalidInput("search times need a time zone (e.g. 2026-11-25T08:00-05:00)")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise InvalidInput("the search ends before it starts")
        if not 1 <= self.limit <= MAX_PAGE:
            raise InvalidInput(f"a page holds 1 to {MAX_PAGE} records")

    def as_detail(self) -> dict[str, Any]:
        """The filters, for the audit record of the search itself."""
        values = {"user": self.user, "action": self.action,
                  "outcome": self.outcome.value if self.outcome else None,
                  "object_id": self.object_id, "object_type": self.object_type,
                  "from": self.start.isoformat() if self.start else None,
                  "to": self.end.isoformat() if self.end else None, "text": self.text,
                  "before_id": self.before_id}
        return {k: v for k, v in values.items() if v is not None}
