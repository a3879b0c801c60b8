"""The second factor (TOTP): checking a code, enrolling an authenticator app, and an
administrator's reset. The login flow that uses the check lives in ``accounts``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sereno.domain import commands
from sereno.domain.access import Permission, Principal
from sereno.domain.errors import Conflict, InvalidInput, NotFound
from sereno.domain.users import User
from sereno.services.audit import Clock, record, refuse, require
from sereno.services.unit_of_work import UnitOfWork

OBJECT = "user"


class SecondFactor(Protocol):
    """What the use-cases need from the TOTP adapter (``adapters.totp.TotpAuthenticator``)."""

    issuer: str

    def new_secret(self) -> str: ...
    def step_at(self, at: datetime) -> int: ...
    def match(self, secret: str, code: str, at: datetime) -> int | None: ...
    def provisioning_uri(self, secret: str, account: str) -> str: ...
    def seal(self, user_id: str, secret: str) -> str: ...
    def unseal(self, user_id: str, sealed: str) -> str: ...


@dataclass(frozen=True)
class CodeVerdict:
    """The outcome of checking a code: ``step`` when accepted, else why not.

    ``reason`` is for the audit log, ``message`` for the person, ``kind`` for the console's
    translations (``wrong``, ``clock``, ``replay``, ``unreadable``); ``counts`` tells whether
    the refusal counts as a failed login toward the lockout."""

    step: int | None
    reason: str | None = None
    message: str | None = None
    kind: str | None = None
    counts: bool = True

    @property
    def accepted(self) -> bool:
        return self.step is not None


@dataclass(frozen=True)
class Enrolment:
    """What the person copies into an authenticator app: shown during enrolment only."""

    secret: str
    uri: str
    account: str
    issuer: str


WRONG_CODE = "wrong one-time code"


def check_code(factor: SecondFactor, user: User, sealed: str, code: str, now: datetime,
               drift_steps: int) -> CodeVerdict:
    """Check ``code`` against a sealed secret of ``user``: accepted within ``drift_steps`` of
    now, refused when wrong, from another time (device clock off) or already used (replay).
    An accepted step is taken on the user (``totp_last_step``) and commits with the login."""
    try:
        secret = factor.unseal(user.id, sealed)
    except ValueError:
        return CodeVerdict(None, "the stored TOTP secret does not open (TOTP key changed?)",
                           "your second factor cannot be checked: ask an administrator to "
                           "reset it", "unreadable", counts=False)
    offset = factor.match(secret, code, now)
    if offset is None:
        return CodeVerdict(None, WRONG_CODE, WRONG_CODE, "wrong")
    if abs(offset) > drift_steps:
        seconds = offset * 30
        return CodeVerdict(None, f"one-time code of another time ({seconds:+d} s): device "
                                 "clock off",
                           "this code belongs to another time: set the clock of the device "
                           "with the authenticator app to automatic time and try again",
                           "clock")
    step = factor.step_at(now) + offset
    if not user.accept_code_step(step):
        return CodeVerdict(None, "one-time code already used (replay)",
                           "this code has already been used: wait for the next one",
                           "replay")
    return CodeVerdict(step)


def enrolment_for(factor: SecondFactor, user: User) -> Enrolment:
    """The pending secret of ``user`` as the person sees it (it must exist)."""
    assert user.totp_pending is not None
    secret = factor.unseal(user.id, user.totp_pending)
    return Enrolment(secret, factor.provisioning_uri(secret, user.username), user.username,
                     factor.issuer)


def ensure_pending(factor: SecondFactor, user: User) -> bool:
    """Give ``user`` a pending secret unless one is waiting already; True when made now."""
    if user.totp_pending is not None:
        try:
            factor.unseal(user.id, user.totp_pending)
            return False
        except ValueError:
            pass  # sealed with another key: make a new one
    user.totp_pending = factor.seal(user.id, factor.new_secret())
    return True


# -- voluntary enrolment of a logged-in user -----------------------------------------------------

def begin_enrolment(uow: UnitOfWork, factor: SecondFactor, clock: Clock,
                    who: Principal) -> Enrolment:
    """Show the caller a secret to put in their authenticator app (kept until confirmed)."""
    action = "auth.totp.enrol.begin"
    with uow:
        user = _self(uow, who, action)
        if user.has_second_factor:
            refuse(uow, who, action, Conflict("your account already has an authenticator app; "
                                              "an administrator can reset it"),
                   object_type=OBJECT, object_id=user.id, object_agency_id=user.agency_id)
        made = ensure_pending(factor, user)
        record(uow, who, action, object_type=OBJECT, object_id=user.id,
               object_agency_id=user.agency_id, detail={"new_secret": made}, now=clock())
        uow.commit()
        return enrolment_for(factor, user)


def pending_enrolment(uow: UnitOfWork, factor: SecondFactor, who: Principal) -> Enrolment | None:
    """The caller's enrolment in progress, if any (a read of their own account)."""
    with uow:
        user = uow.users.get(who.user_id)
        if user is None or user.has_second_factor or user.totp_pending is None:
            return None
        try:
            return enrolment_for(factor, user)
        except ValueError:
            return None


def confirm_enrolment(uow: UnitOfWork, factor: SecondFactor, clock: Clock, who: Principal,
                      code: str, drift_steps: int) -> None:
    """The first code from the app proves it holds the secret: from now on logins ask for it."""
    action = "auth.totp.enrol"
    now = clock()
    with uow:
        user = _self(uow, who, action)
        scope: dict[str, Any] = {"object_type": OBJECT, "object_id": user.id,
                                 "object_agency_id": user.agency_id}
        if user.has_second_factor:
            refuse(uow, who, action, Conflict("your account already has an authenticator app"),
                   **scope)
        if user.totp_pending is None:
            refuse(uow, who, action, InvalidInput("start the set-up first: no secret is "
                                                  "waiting for confirmation"), **scope)
        verdict = check_code(factor, user, user.totp_pending, code, now, drift_steps)
        if not verdict.accepted:
            refuse(uow, who, action, InvalidInput(verdict.message or WRONG_CODE, details=[
                {"field": "code", "reason": verdict.kind or "wrong"}]), **scope,
                internal_reason=verdict.reason)
        assert verdict.step is not None
        user.enrol_second_factor(user.totp_pending, verdict.step, now)
        record(uow, who, action, detail={"voluntary": not user.second_factor_required},
               now=now, **scope)
        uow.commit()


def reset_second_factor(cmd: commands.ResetSecondFactor, uow: UnitOfWork, clock: Clock) -> User:
    """An administrator of the same agency removes a user's authenticator app (lost phone): the
    user's sessions and tokens end, and the next login enrols a new app."""
    who, action = cmd.by, "user.totp.reset"
    now = clock()
    with uow:
        user = uow.users.get(cmd.user_id)
        if user is None or user.agency_id != who.agency_id:
            refuse(uow, who, action, NotFound(f"no user {cmd.user_id!r}"), object_type=OBJECT,
                   object_id=cmd.user_id, object_agency_id=user.agency_id if user else None,
                   internal_reason=None if user is None else "user of another agency")
        scope: dict[str, Any] = {"object_type": OBJECT, "object_id": user.id,
                                 "object_agency_id": user.agency_id}
        require(uow, who, who.can(Permission.USER_WRITE), action, **scope)
        if user.id == who.user_id:
            refuse(uow, who, action, InvalidInput("you cannot reset your own second factor: "
                                                  "ask another administrator"), **scope)
        had = user.has_second_factor or user.totp_pending is not None
        user.reset_second_factor()
        ended = uow.credentials.end_all_for_user(user.id, now)
        record(uow, who, action, detail={"username": user.username, "had_second_factor": had,
                                         "credentials_ended": ended}, now=now, **scope)
        uow.commit()
        return user


def _self(uow: UnitOfWork, who: Principal, action: str) -> User:
    user = uow.users.get(who.user_id)
    if user is None:
        refuse(uow, who, action, NotFound("no such account"), object_type=OBJECT,
               object_id=who.user_id)
    return user
