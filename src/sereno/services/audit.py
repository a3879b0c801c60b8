"""Writing the audit log from the use-cases.

Every use-case records its own outcome inside its own transaction: the record of a change commits
or rolls back with the change. A refusal is recorded after the transaction has been rolled back,
so that the refused change leaves no trace but the record of its refusal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NoReturn

from sereno.domain.access import Principal
from sereno.domain.audit import AuditRecord, Outcome
from sereno.domain.errors import AccessDenied, InvalidInput, NotFound, SerenoError
from sereno.services.unit_of_work import UnitOfWork

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


def record(
    uow: UnitOfWork, who: Principal, action: str, *, outcome: Outcome = Outcome.ALLOWED,
    object_type: str | None = None, object_id: str | None = None,
    object_agency_id: str | None = None, reason: str | None = None,
    detail: dict[str, Any] | None = None, now: datetime | None = None,
) -> None:
    """Add an audit record to the current transaction (it commits with it)."""
    uow.audit.add(AuditRecord.for_principal(
        who, at=now or utcnow(), action=action, outcome=outcome, object_type=object_type,
        object_id=object_id, object_agency_id=object_agency_id, reason=reason, detail=detail,
    ))


def refuse(
    uow: UnitOfWork, who: Principal, action: str, error: SerenoError, *,
    object_type: str | None = None, object_id: str | None = None,
    object_agency_id: str | None = None, internal_reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> NoReturn:
    """Roll back, record the refusal in its own commit, and raise ``error``.

    ``internal_reason`` is what the auditor reads when it differs from what the caller is told
    (a private camera of another agency answers "not found" but is recorded as out of scope).
    """
    uow.rollback()
    outcome = Outcome.REJECTED if isinstance(error, InvalidInput) else Outcome.DENIED
    if isinstance(error, NotFound) and internal_reason is None:
        internal_reason = error.message
    record(uow, who, action, outcome=outcome, object_type=object_type, object_id=object_id,
           object_agency_id=object_agency_id, reason=internal_reason or error.message,
           detail=detail)
    uow.commit()
    raise error


def require(
    uow: UnitOfWork, who: Principal, permission_ok: bool, action: str, *,
    object_type: str | None = None, object_id: str | None = None,
    object_agency_id: str | None = None,
) -> None:
    """Refuse with 403 unless ``permission_ok``."""
    if not permission_ok:
        refuse(uow, who, action, AccessDenied(f"your roles or token do not allow {action}"),
               object_type=object_type, object_id=object_id, object_agency_id=object_agency_id)
