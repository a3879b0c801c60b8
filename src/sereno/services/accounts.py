"""Logins, console sessions, bearer tokens, and the management of user accounts."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sereno.domain import commands, events
from sereno.domain.access import ALL_SCOPES, Permission, Principal, parse_roles
from sereno.domain.audit import AuditRecord, Outcome
from sereno.domain.errors import (
    AccountLocked,
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    NotFound,
)
from sereno.domain.users import (
    ApiToken,
    LockoutPolicy,
    User,
    WebSession,
    validate_password,
    validate_username,
)
from sereno.services.audit import Clock, record, refuse, require
from sereno.services.unit_of_work import UnitOfWork

OBJECT = "user"


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str | None, password: str) -> bool: ...


@dataclass(frozen=True)
class AuthPolicy:
    """Session and token lifetimes and the lockout rule, from the settings."""

    lockout: LockoutPolicy = LockoutPolicy()
    session_idle: timedelta = timedelta(minutes=30)
    session_max: timedelta = timedelta(hours=12)
    token_ttl: timedelta = timedelta(minutes=60)
    token_max_ttl: timedelta = timedelta(hours=12)


@dataclass(frozen=True)
class IssuedToken:
    """A bearer token as handed to the client, once."""

    access_token: str
    expires_in: int
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class IssuedSession:
    """A console session as handed to the browser, once."""

    cookie_value: str
    csrf_token: str
    max_age: int


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret: what the database keeps instead of the secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def principal_for(user: User, *, channel: str, address: str | None,
                  scopes: frozenset[str] | None = None, purpose: str | None = None) -> Principal:
    """The caller a verified credential stands for."""
    return Principal(user_id=user.id, username=user.username, agency_id=user.agency_id,
                     roles=user.role_set, channel=channel, address=address, scopes=scopes,
                     purpose=purpose)


def check_password(uow: UnitOfWork, hasher: PasswordHasher, policy: AuthPolicy, clock: Clock,
                   username: str, password: str, *, channel: str,
                   address: str | None) -> User:
    """Verify a login; counts failures, locks the account after too many, audits every try."""
    now = clock()
    with uow:
        user = uow.users.by_username(username.strip().lower()[:64])
        if user is not None and user.is_locked(now):
            _audit_login(uow, user, username, channel, address, Outcome.DENIED, "account locked",
                         now)
            uow.commit()
            raise AccountLocked("too many failed logins: the account is locked for a while")
        ok = hasher.verify(user.password_hash if user else None, password)
        if user is None or not ok or user.disabled:
            reason = ("unknown user" if user is None else
                      "account disabled" if ok else "wrong password")
            locked = False
            if user is not None and not ok:
                locked = user.record_failed_login(now, policy.lockout)
                if locked:
                    reason = "wrong password; account locked"
                    uow.emit(events.UserLockedOut(user.id, user.agency_id, user.username))
            _audit_login(uow, user, username, channel, address, Outcome.DENIED, reason, now)
            uow.commit()
            if locked:
                raise AccountLocked("too many failed logins: the account is locked for a while")
            raise AuthenticationFailed("wrong username or password")
        user.record_successful_login()
        _audit_login(uow, user, username, channel, address, Outcome.ALLOWED, None, now)
        uow.commit()
        return user


def _audit_login(uow: UnitOfWork, user: User | None, username: str, channel: str,
                 address: str | None, outcome: Outcome, reason: str | None,
                 now: datetime) -> None:
    uow.audit.add(AuditRecord(
        at=now, action="auth.login", outcome=outcome,
        actor_user_id=user.id if user else None,
        actor_username=user.username if user else username[:64],
        actor_agency_id=user.agency_id if user else None,
        actor_roles=",".join(sorted(user.roles)) if user else None,
        channel=channel, address=address, reason=reason,
    ))


def issue_token(uow: UnitOfWork, policy: AuthPolicy, clock: Clock, user: User,
                requested_scopes: str | None, ttl_minutes: int | None,
                *, address: str | None) -> IssuedToken:
    """A bearer token limited to the requested scopes that the user's roles allow."""
    who = principal_for(user, channel="api", address=address)
    role_scopes = {p.scope for p in who.permissions}
    if requested_scopes:
        asked = set(requested_scopes.split())
        unknown = asked - ALL_SCOPES
        if unknown:
            raise InvalidInput(f"unknown scope(s): {', '.join(sorted(unknown))}")
        granted = asked & role_scopes
    else:
        granted = role_scopes
    ttl = policy.token_ttl if ttl_minutes is None else timedelta(minutes=ttl_minutes)
    if ttl <= timedelta(0) or ttl > policy.token_max_ttl:
        raise InvalidInput(f"token lifetime must be 1 to "
                           f"{int(policy.token_max_ttl.total_seconds() // 60)} minutes")
    secret = secrets.token_urlsafe(32)
    now = clock()
    token = ApiToken(id=str(uuid.uuid4()), user_id=user.id, token_hash=digest(secret),
                     scopes=sorted(granted), created_at=now, expires_at=now + ttl)
    with uow:
        uow.credentials.add(token)
        record(uow, who, "auth.token.issue", object_type="token", object_id=token.id,
               object_agency_id=user.agency_id, detail={"scopes": token.scopes}, now=now)
        uow.commit()
    return IssuedToken(secret, int(ttl.total_seconds()), tuple(token.scopes))


def open_session(uow: UnitOfWork, policy: AuthPolicy, clock: Clock, user: User,
                 *, address: str | None) -> IssuedSession:
    """A console session: a random cookie value and a CSRF token bound to it."""
    secret = secrets.token_urlsafe(32)
    now = clock()
    session = WebSession(id=str(uuid.uuid4()), user_id=user.id, token_hash=digest(secret),
                         csrf_token=secrets.token_urlsafe(32), created_at=now, last_seen_at=now,
                         expires_at=now + policy.session_max)
    with uow:
        uow.credentials.add(session)
        record(uow, principal_for(user, channel="web", address=address), "auth.session.open",
               object_type="session", object_id=session.id, object_agency_id=user.agency_id,
               now=now)
        uow.commit()
    return IssuedSession(secret, session.csrf_token, int(policy.session_max.total_seconds()))


def authenticate_token(uow: UnitOfWork, clock: Clock, secret: str, *, address: str | None,
                       purpose: str | None) -> Principal:
    """The caller behind a bearer token, or ``AuthenticationFailed``."""
    with uow:
        token = uow.credentials.token_by_hash(digest(secret))
        if token is None or not token.usable(clock()):
            raise AuthenticationFailed("the token is unknown, expired or revoked")
        user = uow.users.get(token.user_id)
        if user is None or user.disabled:
            raise AuthenticationFailed("the token's account is disabled")
        return principal_for(user, channel="api", address=address,
                             scopes=frozenset(token.scopes), purpose=purpose)


@dataclass(frozen=True)
class SessionContext:
    """A verified console session: who, and the CSRF token its forms must carry."""

    principal: Principal
    csrf_token: str
    session_id: str


def authenticate_session(uow: UnitOfWork, policy: AuthPolicy, clock: Clock, secret: str,
                         *, address: str | None, purpose: str | None) -> SessionContext:
    """The caller behind a console cookie; slides the idle timeout forward."""
    now = clock()
    with uow:
        session = uow.credentials.session_by_hash(digest(secret))
        if session is None or not session.usable(now, policy.session_idle):
            raise AuthenticationFailed("your session has expired; please log in again")
        user = uow.users.get(session.user_id)
        if user is None or user.disabled:
            raise AuthenticationFailed("the session's account is disabled")
        if now - session.last_seen_at > timedelta(seconds=30):  # spare a write per request
            session.last_seen_at = now
            uow.commit()
        return SessionContext(principal_for(user, channel="web", address=address,
                                            purpose=purpose),
                              session.csrf_token, session.id)


def revoke_token(uow: UnitOfWork, clock: Clock, who: Principal, secret: str) -> None:
    """Revoke the caller's own bearer token at once."""
    with uow:
        token = uow.credentials.token_by_hash(digest(secret))
        if token is not None and token.user_id == who.user_id and token.revoked_at is None:
            token.revoked_at = clock()
        record(uow, who, "auth.token.revoke", object_type="token",
               object_id=token.id if token else None, object_agency_id=who.agency_id)
        uow.commit()


def close_session(uow: UnitOfWork, clock: Clock, who: Principal, session_id: str) -> None:
    """Log out: the cookie stops working at once."""
    with uow:
        session = uow.credentials.session_by_id(session_id)
        if session is not None and session.ended_at is None:
            session.ended_at = clock()
        record(uow, who, "auth.session.close", object_type="session", object_id=session_id,
               object_agency_id=who.agency_id)
        uow.commit()


# -- account management -------------------------------------------------------------------------

def list_users(uow: UnitOfWork, who: Principal) -> list[User]:
    """The accounts of the caller's own agency; never another agency's."""
    action = "user.list"
    with uow:
        require(uow, who, who.can(Permission.USER_READ), action, object_type=OBJECT)
        found = list(uow.users.list_for_agency(who.agency_id))
        record(uow, who, action, object_type=OBJECT, object_agency_id=who.agency_id,
               detail={"count": len(found)})
        uow.commit()
        return found


def get_user(uow: UnitOfWork, who: Principal, user_id: str) -> User:
    """One account of the caller's agency (anybody may read their own)."""
    action = "user.read"
    with uow:
        user = _own_agency_user(uow, who, user_id, action)
        if user.id != who.user_id:
            require(uow, who, who.can(Permission.USER_READ), action, object_type=OBJECT,
                    object_id=user_id, object_agency_id=user.agency_id)
        record(uow, who, action, object_type=OBJECT, object_id=user.id,
               object_agency_id=user.agency_id)
        uow.commit()
        return user


def create_user(cmd: commands.CreateUser, uow: UnitOfWork, hasher: PasswordHasher,
                clock: Clock) -> User:
    """An administrator creates an account in their own agency (the agency is never asked)."""
    who, action = cmd.by, "user.create"
    with uow:
        require(uow, who, who.can(Permission.USER_WRITE), action, object_type=OBJECT)
        try:
            username = validate_username(cmd.username)
            validate_password(cmd.password)
            roles = parse_roles(cmd.roles)
            if not roles:
                raise InvalidInput("a user needs at least one role")
            if not 0 < len(cmd.display_name.strip()) <= 200:
                raise InvalidInput("display_name must be 1 to 200 characters")
        except (InvalidInput, ValueError) as error:
            problem = error if isinstance(error, InvalidInput) else InvalidInput(str(error))
            refuse(uow, who, action, problem, object_type=OBJECT)
        if uow.users.by_username(username) is not None:
            refuse(uow, who, action, Conflict(f"username {username!r} is taken"),
                   object_type=OBJECT)
        user = User(id=str(uuid.uuid4()), agency_id=who.agency_id, username=username,
                    display_name=cmd.display_name.strip(), password_hash=hasher.hash(cmd.password),
                    roles=sorted(r.value for r in roles), created_at=clock())
        uow.users.add(user)
        record(uow, who, action, object_type=OBJECT, object_id=user.id,
               object_agency_id=user.agency_id, detail={"username": username,
                                                        "roles": user.roles})
        uow.commit()
        return user


def update_user(cmd: commands.UpdateUser, uow: UnitOfWork, hasher: PasswordHasher,
                clock: Clock) -> User:
    """Change display name, roles, disabled flag or password of an own-agency account."""
    who, action = cmd.by, "user.update"
    allowed = {"display_name", "roles", "disabled", "password"}
    with uow:
        user = _own_agency_user(uow, who, cmd.user_id, action)
        require(uow, who, who.can(Permission.USER_WRITE), action, object_type=OBJECT,
                object_id=user.id, object_agency_id=user.agency_id)
        unknown = sorted(set(cmd.changes) - allowed)
        try:
            if unknown:
                raise InvalidInput(f"fields not editable: {', '.join(unknown)}")
            if "roles" in cmd.changes:
                roles = parse_roles(cmd.changes["roles"])
                if not roles:
                    raise InvalidInput("a user needs at least one role")
                if user.id == who.user_id and "admin" not in {r.value for r in roles}:
                    raise InvalidInput("you cannot remove your own admin role")
                user.roles = sorted(r.value for r in roles)
            if "display_name" in cmd.changes:
                name = str(cmd.changes["display_name"]).strip()
                if not 0 < len(name) <= 200:
                    raise InvalidInput("display_name must be 1 to 200 characters")
                user.display_name = name
            if "disabled" in cmd.changes:
                if user.id == who.user_id and cmd.changes["disabled"]:
                    raise InvalidInput("you cannot disable your own account")
                user.disabled = bool(cmd.changes["disabled"])
            if "password" in cmd.changes:
                user.password_hash = hasher.hash(validate_password(cmd.changes["password"]))
        except (InvalidInput, ValueError) as error:
            problem = error if isinstance(error, InvalidInput) else InvalidInput(str(error))
            refuse(uow, who, action, problem, object_type=OBJECT, object_id=user.id,
                   object_agency_id=user.agency_id)
        record(uow, who, action, object_type=OBJECT, object_id=user.id,
               object_agency_id=user.agency_id, detail={"changed": sorted(cmd.changes)},
               now=clock())
        uow.commit()
        return user


def unlock_user(cmd: commands.UnlockUser, uow: UnitOfWork, clock: Clock) -> User:
    """An administrator lifts a lockout before it runs out."""
    who, action = cmd.by, "user.unlock"
    with uow:
        user = _own_agency_user(uow, who, cmd.user_id, action)
        require(uow, who, who.can(Permission.USER_WRITE), action, object_type=OBJECT,
                object_id=user.id, object_agency_id=user.agency_id)
        user.unlock()
        record(uow, who, action, object_type=OBJECT, object_id=user.id,
               object_agency_id=user.agency_id, now=clock())
        uow.commit()
        return user


def _own_agency_user(uow: UnitOfWork, who: Principal, user_id: str, action: str) -> User:
    user = uow.users.get(user_id)
    if user is None or user.agency_id != who.agency_id:
        refuse(uow, who, action, NotFound(f"no user {user_id!r}"), object_type=OBJECT,
               object_id=user_id, object_agency_id=user.agency_id if user else None,
               internal_reason=None if user is None else "user of another agency")
    return user
